"""Fault drills on the running system: after each, no acknowledged registration is lost, nothing is
counted twice (the statistics equal a fresh replay), and no breach is escalated twice."""
from __future__ import annotations

import time
import uuid

from support.broker import PrivateBroker
from support.kafka import run_settings
from support.system import Load, System, check_invariants


def test_sigkill_each_service_in_turn_under_load(settings, kafka_bootstrap, test_db, tmp_path):
    run = run_settings(settings.model_copy(update={"database_url": test_db}), uuid.uuid4().hex[:8])
    system = System(run, test_db, tmp_path).start()
    try:
        with Load(system, rate=20) as load:
            time.sleep(3)
            for name in ("intake", "escalation", "reporting"):
                system.restart(name)
                time.sleep(3)
        assert load.refused == []
        figures = check_invariants(system, set(load.acknowledged.values()))
        assert figures["registered"] >= 100 and figures["escalations"] > 0, figures
    finally:
        system.stop()


def test_kafka_stopped_for_60_seconds(settings, test_db, tmp_path):
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    try:
        run = run_settings(settings.model_copy(update={"database_url": test_db, "kafka_bootstrap": broker.bootstrap}),
                           uuid.uuid4().hex[:8])
        system = System(run, test_db, tmp_path).start()
        try:
            with Load(system, rate=10) as load:
                time.sleep(2)
                broker.stop()
                stopped = time.monotonic()
                time.sleep(60)
                during = len(load.acknowledged)
                broker.start()
                time.sleep(5)
            assert load.refused == []
            assert during >= 300, f"registration must go on while Kafka is down: {during} acknowledged"
            assert time.monotonic() - stopped >= 60
            check_invariants(system, set(load.acknowledged.values()), timeout=180)
        finally:
            system.stop()
    finally:
        broker.stop()
