"""The AsyncAPI 3 document generated from the catalogue is valid against the official schema.

The schema is npm's @asyncapi/specs (node_modules, installed by `deploy/dev setup`), so this test
lives with the tests that need an installed environment, not in the unit tier."""
import copy
import json

import jsonschema
import pytest

from xinfang.events import CATALOGUE
from xinfang.events.asyncapi import build
from xinfang.settings import ROOT

SCHEMA = ROOT / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0-without-$id.json"


@pytest.fixture(scope="module")
def validator():
    assert SCHEMA.exists(), "run `deploy/dev setup` (npm ci installs @asyncapi/specs)"
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_generated_document_is_valid_asyncapi_3(validator):
    document = build()
    errors = [e.message for e in validator.iter_errors(document)]
    assert errors == []
    messages = document["components"]["messages"]
    assert len(messages) == len(CATALOGUE)
    assert set(document["channels"]) == {"petitionEvents", "petitionRouting", "terminals"}
    assert document["channels"]["terminals"]["bindings"]["kafka"]["topicConfiguration"] == {"cleanup.policy": ["compact"]}


def test_the_validator_rejects_a_broken_document(validator):
    document = copy.deepcopy(build())
    document["operations"]["publish_petitionEvents"]["action"] = "shout"
    assert list(validator.iter_errors(document))
