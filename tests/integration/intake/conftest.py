"""A real intake process per test module, on its own schema and topics, with terminals of the demo county."""
from __future__ import annotations

import pytest

from support.intake import start_intake


@pytest.fixture(scope="module")
def intake(settings, kafka_bootstrap, pg_dsn, tmp_path_factory):
    service = start_intake(settings, pg_dsn, tmp_path_factory.mktemp("intake"))
    yield service
    service.proc.stop()
    service.producer.close()
