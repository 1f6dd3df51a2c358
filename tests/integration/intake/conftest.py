"""A real intake process per test module, on its own schema and topics, with terminals of the demo county."""
from __future__ import annotations

import uuid

import pytest

from support.intake import Intake, intake_env
from support.kafka import run_settings
from support.process import ServiceProcess, free_port


@pytest.fixture(scope="module")
def intake(settings, kafka_bootstrap, test_db, tmp_path_factory):
    run = uuid.uuid4().hex[:8]
    base = run_settings(settings.model_copy(update={"database_url": test_db}), run)
    schema = f"intake_{run}"
    proc = ServiceProcess("intake", intake_env(base, schema, free_port()),
                          port=0, log=tmp_path_factory.mktemp("intake") / "intake.log")
    proc.port = int(proc.env["XINFANG_INTAKE_PORT"])
    proc.start()
    service = Intake(proc, base, schema)
    yield service
    proc.stop()
    service.producer.close()


