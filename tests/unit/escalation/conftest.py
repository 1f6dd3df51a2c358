"""Counties for escalation's pure tests (no Kafka, no faust)."""
from __future__ import annotations

import pytest

from unit.escalation.helpers import ROOT
from xinfang.county import load_county


@pytest.fixture(scope="session")
def fast():
    """The fast test county: every limit 4 s (handle 6 s), warning at 80 %, grace 1 s."""
    return load_county(ROOT / "tests" / "fixtures" / "county_fast.yaml")


@pytest.fixture(scope="session")
def demo():
    return load_county(ROOT / "deploy" / "counties" / "demo.yaml")
