"""The audit names each kind of tampering with the history on the real topics: rewritten, dropped, injected."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import orjson
from kafka import KafkaProducer

from support.kafka import run_settings
from support.process import ROOT
from xinfang.events import CloudEvent, chain_head, next_link
from xinfang.events.envelope import hash_of

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def history(matters: int = 20, length: int = 5) -> list[dict]:
    events = []
    for m in range(matters):
        subject, chain = str(uuid.uuid4()), []
        for n in range(length):
            seq, prev = next_link(chain_head(chain) if chain else None)
            event = CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361402/intake",
                                       type="petition.accepted.v1", subject=subject, recorded=T0 + timedelta(minutes=n),
                                       occurred=T0, actor="unit:room.1", seq=seq, prevhash=prev,
                                       data={"unit": "room.1", "note": f"{m}-{n}"})
            chain.append(event.envelope())
        events.extend(chain)
    return events


def publish(bootstrap: str, topic: str, envelopes: list[dict]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for envelope in envelopes:
        producer.send(topic, key=envelope["subject"].encode(), value=orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS))
    producer.flush()
    producer.close()


def audit(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}",
           "XINFANG_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "XINFANG_TOPIC_EVENTS": settings.topic_events,
           "XINFANG_TOPIC_ROUTING": settings.topic_routing, "XINFANG_PARTITIONS": str(settings.partitions)}
    return subprocess.run([sys.executable, "-m", "reporting.audit", *args], capture_output=True, text=True,
                          env=env, timeout=180)


def test_an_intact_history_verifies_clean(settings, kafka_bootstrap):
    run = run_settings(settings, uuid.uuid4().hex[:8])
    publish(run.kafka_bootstrap, run.topic_events, history())
    done = audit(run, "verify-integrity")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)["integrity"]
    assert report["events"] == 100 and report["chains"] == 20 and report["findings"] == []


def test_a_rewritten_a_dropped_and_an_injected_event_are_each_named(settings, kafka_bootstrap):
    run = run_settings(settings, uuid.uuid4().hex[:8])
    events = history()
    rewritten = dict(events[7], data={"unit": "room.1", "note": "改写 rewritten"})  # content changed, hash not
    dropped = events[13]
    injected = dict(events[24], id=str(uuid.uuid4()), data={"unit": "room.1", "note": "伪造 forged"})
    injected["hash"] = hash_of(injected)  # a forger recomputes the hash, but cannot take seq 5 from the real event
    tampered = [rewritten if e is events[7] else e for e in events if e is not dropped] + [injected]
    publish(run.kafka_bootstrap, run.topic_events, tampered)
    done = audit(run, "verify-integrity")
    assert done.returncode == 1, done.stdout + done.stderr
    findings = json.loads(done.stdout)["integrity"]["findings"]
    named = {(f["kind"], f["event_id"] or f["subject"]) for f in findings}
    assert ("altered", events[7]["id"]) in named
    assert ("missing", dropped["subject"]) in {(f["kind"], f["subject"]) for f in findings}
    assert ("injected", injected["id"]) in named
    assert {f["kind"] for f in findings} == {"altered", "missing", "injected"}


def test_a_routing_event_on_the_intake_topic_is_injected(settings, kafka_bootstrap):
    run = run_settings(settings, uuid.uuid4().hex[:8])
    events = history(matters=1, length=2)
    foreign = dict(events[0], source="/xinfang/361402/escalation", id=str(uuid.uuid4()))
    foreign["hash"] = hash_of(foreign)
    publish(run.kafka_bootstrap, run.topic_events, events + [foreign])
    done = audit(run, "verify-integrity")
    assert done.returncode == 1
    kinds = [(f["kind"], f["event_id"]) for f in json.loads(done.stdout)["integrity"]["findings"]]
    assert kinds == [("injected", foreign["id"])]
