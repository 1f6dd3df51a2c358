"""Reporting against the real broker and database: per-run topics, a schema of its own in xinfang_test,
and the service as a real process (python -m reporting)."""
from __future__ import annotations

import uuid

import pytest

from support.kafka import delete_run_topics, run_settings
from support.reporting import DEMO
from xinfang.county import load_county


@pytest.fixture(scope="session")
def county():
    return load_county(DEMO)


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def topics(settings, kafka_bootstrap, run_id):
    """Settings with this test's own topics (3 partitions), provisioned, and deleted afterwards."""
    made = run_settings(settings, f"rep{run_id}")
    yield made
    delete_run_topics(made)
