"""The unit tier runs with no server and no npm: a unit test asking for a broker or a database is refused
at collection (those tests belong in tests/integration)."""
from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
INFRASTRUCTURE = {"kafka_bootstrap", "pg_dsn", "test_db"}


def pytest_collection_modifyitems(config, items):
    wrong = [f"{item.nodeid} uses {sorted(INFRASTRUCTURE & set(item.fixturenames))}" for item in items
             if HERE in Path(item.path).parents and INFRASTRUCTURE & set(getattr(item, "fixturenames", ()))]
    if wrong:
        raise pytest.UsageError("unit tests need no Kafka and no PostgreSQL; move these to tests/integration: "
                                + "; ".join(wrong))
