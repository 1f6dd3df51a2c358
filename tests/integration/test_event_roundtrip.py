"""A CloudEvent produced through the project's helper reads back byte-identical with kcat and kafka-python."""
from __future__ import annotations

import subprocess
import uuid
from datetime import datetime, timezone

from support.kafka import read_all, run_settings
from xinfang.events import GENESIS_HASH, CloudEvent, verify_chain
from xinfang.events.catalogue import Registered
from xinfang.kafka import SYNC_PRODUCER_DEFAULTS, sync_producer


def chained_event(subject: str) -> CloudEvent:
    now = datetime.now(timezone.utc)
    data = Registered(receipt_no="2026-361402-0000001", batch_id="b1", channel="visit", jurisdiction="361402001001",
                      category="labour", summary="拖欠工资（集体）", head_count=12, unit="room.361402001001",
                      tier="village").model_dump(mode="json")
    return CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361402/intake", type="petition.registered.v1",
                              subject=subject, recorded=now, occurred=now, actor="terminal:t-1", seq=1,
                              prevhash=GENESIS_HASH, data=data)


def test_producer_defaults_are_acks_all_and_idempotent():
    assert SYNC_PRODUCER_DEFAULTS["acks"] == "all" and SYNC_PRODUCER_DEFAULTS["enable_idempotence"] is True


def test_kcat_and_kafka_python_read_the_same_bytes_and_the_hash_verifies(settings, kafka_bootstrap, tmp_path):
    run = run_settings(settings, uuid.uuid4().hex[:8])
    subject = str(uuid.uuid4())
    event = chained_event(subject)
    producer = sync_producer(run)
    metadata = producer.send(run.topic_events, key=subject.encode(), value=event.to_json()).get(timeout=30)
    producer.close()

    out = tmp_path / "kcat.bin"
    with out.open("wb") as handle:
        subprocess.run(["kcat", "-C", "-b", run.kafka_bootstrap, "-t", run.topic_events, "-p", str(metadata.partition),
                        "-o", str(metadata.offset), "-c", "1", "-e", "-q", "-f", "%s"], stdout=handle, check=True, timeout=60)
    by_kcat = out.read_bytes()
    by_python = read_all(run.kafka_bootstrap, run.topic_events, expect=1, key=subject.encode())[0].value
    assert by_kcat == by_python == event.to_json()
    back = CloudEvent.from_json(by_kcat)
    assert back.hash_ok() and verify_chain([back.envelope()]) == []
    assert "拖欠工资（集体）" in by_kcat.decode("utf-8")
