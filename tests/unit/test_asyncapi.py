"""The published AsyncAPI document is the one generated from the catalogue (its validity against the
official schema, which npm installs, is checked in tests/integration/test_asyncapi.py)."""
import json

from xinfang.events.asyncapi import build
from xinfang.settings import ROOT


def test_published_document_is_current():
    published = ROOT / "docs" / "asyncapi.json"
    assert json.loads(published.read_text()) == json.loads(json.dumps(build())), \
        "regenerate: python -m xinfang.events.asyncapi"
