"""Drive a real escalation worker: its own topics, app id and RocksDB folder; intake events in, routing read back."""
from __future__ import annotations

import os
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import httpx
import orjson
from kafka import TopicPartition

from support.kafka import delete_run_topics, run_settings
from support.process import ROOT, ServiceProcess, free_port
from support.waiting import until
from xinfang.events import GENESIS_HASH, CloudEvent
from xinfang.events.catalogue import EventData, NoticeIssued, Registered, event_type_of
from xinfang.kafka import sync_consumer, sync_producer
from xinfang.terminals import lifecycle_event, token_hash

FAST_COUNTY = ROOT / "tests" / "fixtures" / "county_fast.yaml"
ONE_STEP_COUNTY = ROOT / "tests" / "fixtures" / "escalation_county.yaml"
VILLAGE, ROOM, STATION = "361501100201", "room.361501100201", "station.361501100000"
BUREAU, CITY = "bureau.361501", "city.361500"
STAFF_TOKEN = "xft_escalation-test-supervisor-" + "s" * 20  # a supervisor of the bureau (Run publishes it)
HANDLER_TOKEN = "xft_escalation-test-handler-" + "h" * 20
EAST_TOKEN = "xft_escalation-test-east-" + "e" * 20  # a supervisor of 东镇's station: matter A's township
WEST_TOKEN = "xft_escalation-test-west-" + "w" * 20  # a supervisor of 西镇's station: another township


def terminal_event(terminal_id: str, token: str, roles: list[str], revoked: bool = False,
                   unit: str = BUREAU) -> CloudEvent:
    """A terminal's lifecycle event as intake publishes it to xinfang.terminals."""
    return lifecycle_event(terminal_id, unit, roles, token_hash(token), utcnow(), utcnow() if revoked else None,
                           "/xinfang/361501/intake")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def registered(category: str = "labour", head_count: int = 1, imported: bool = False, unit: str = ROOM,
               tier: str = "village") -> Registered:
    return Registered(receipt_no="2026-361501-0000001", batch_id="b1", channel="visit", jurisdiction=VILLAGE,
                      category=category, summary="拖欠工资", head_count=head_count, unit=unit, tier=tier,
                      imported=imported)


def notice_issued(basis_seq: int, kind: str = "opinion", unit: str = ROOM, delivery: str = "post") -> NoticeIssued:
    """Intake's record of a written notice delivered to the petitioner (the document itself left out)."""
    return NoticeIssued(notice_id="0" * 32, kind=kind, unit=unit, delivery=delivery, basis_seq=basis_seq,
                        title="信访处理意见书", body=["{facts}", "{grounds}"], fields={"facts": "已查明", "grounds": "答复"},
                        pdf_sha256="0" * 64, docx_sha256="0" * 64)


class Run:
    """One test run's topics and worker environment."""

    def __init__(self, settings, tmp: Path, county: Path, partitions: int = 3, session_timeout: float = 6.0) -> None:
        self.id = uuid.uuid4().hex[:8]
        self.settings = run_settings(settings, self.id, partitions=partitions)
        self.tmp, self.county, self.partitions = tmp, county, partitions
        self.app_id = f"esc-test-{self.id}"
        self.session_timeout = session_timeout
        self.producer = sync_producer(self.settings)
        self.heads: dict[str, tuple[int, str]] = {}
        for event in (terminal_event("t-staff", STAFF_TOKEN, ["supervisor"]),
                      terminal_event("t-handler", HANDLER_TOKEN, ["handler"]),
                      terminal_event("t-east", EAST_TOKEN, ["supervisor"], unit=STATION),
                      terminal_event("t-west", WEST_TOKEN, ["supervisor"], unit="station.361501101000")):
            self.producer.send(self.settings.topic_terminals, key=event.subject.encode(), value=event.to_json())
        self.producer.flush(30)

    def worker(self, name: str = "w1") -> ServiceProcess:
        port = free_port()
        env = {
            "XINFANG_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
            "XINFANG_TOPIC_EVENTS": self.settings.topic_events, "XINFANG_TOPIC_ROUTING": self.settings.topic_routing,
            "XINFANG_TOPIC_DEADLETTER": self.settings.topic_deadletter,
            "XINFANG_TOPIC_TERMINALS": self.settings.topic_terminals, "XINFANG_PARTITIONS": str(self.partitions),
            "XINFANG_COUNTY_FILE": str(self.county), "XINFANG_ESCALATION_APP_ID": self.app_id,
            "XINFANG_ESCALATION_PORT": str(port), "XINFANG_ESCALATION_DATA_DIR": str(self.tmp / f"data-{name}"),
            "XINFANG_ESCALATION_SESSION_TIMEOUT": str(self.session_timeout),
            "XINFANG_ESCALATION_INSTANCE_ID": f"{self.app_id}-{name}",
            "XINFANG_ESCALATION_COMMIT_INTERVAL": "0.5",
            # ESC_LOG=DEBUG in the test's environment: the worker's logs in detail (tmp_path/<name>.log)
            "XINFANG_LOG_LEVEL": os.environ.get("ESC_LOG", "INFO"),
        }
        return ServiceProcess("escalation", env, port, self.tmp / f"{name}.log")

    # ---- intake's side ---------------------------------------------------------------------

    def send(self, pid: str, data: EventData, occurred: datetime | None = None, recorded: datetime | None = None,
             actor: str = "terminal:t-1") -> CloudEvent:
        """One intake event on the matter's chain (sent, not flushed)."""
        seq, prev = self.heads.get(pid, (0, GENESIS_HASH))
        recorded = recorded or utcnow()
        event = CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361501/intake", type=event_type_of(data),
                                   subject=pid, recorded=recorded, occurred=occurred or recorded, actor=actor,
                                   seq=seq + 1, prevhash=prev, data=data.model_dump(mode="json"))
        self.producer.send(self.settings.topic_events, key=pid.encode(), value=event.to_json())
        self.heads[pid] = (event.seq, event.hash)
        return event

    def send_raw(self, key: bytes | None, value: bytes) -> None:
        self.producer.send(self.settings.topic_events, key=key, value=value)

    def flush(self) -> None:
        self.producer.flush(30)

    def close(self) -> None:
        """Close the producer and delete this run's topics from the shared broker (faust's own ones too)."""
        self.producer.close()
        delete_run_topics(self.settings, self.app_id)


class Routing:
    """petition.routing (or any topic) read as it grows, from the beginning, with poll()."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = sync_consumer(bootstrap)
        parts = self.consumer.partitions_for_topic(topic) or set()
        self.tps = [TopicPartition(topic, p) for p in sorted(parts)]
        self.consumer.assign(self.tps)
        self.consumer.seek_to_beginning(*self.tps)
        self.records: list = []
        self.by_pid: dict[str, list[dict]] = defaultdict(list)

    def poll(self, seconds: float = 0.5) -> None:
        deadline = time.monotonic() + seconds
        while True:
            for batch in self.consumer.poll(timeout_ms=200, max_records=10000).values():
                for record in batch:
                    self.records.append(record)
                    if record.value:
                        envelope = orjson.loads(record.value)
                        self.by_pid[envelope.get("subject", "?")].append(envelope)
            if time.monotonic() >= deadline:
                return

    def wait(self, done, timeout: float, what: str = "") -> None:
        """Poll until ``done(self)`` holds; fail with ``what`` after ``timeout`` seconds."""
        def polled() -> bool:
            if done(self):
                return True
            self.poll(0.3)
            return done(self)

        until(polled, what, timeout, every=0)

    def types(self, pid: str) -> list[str]:
        return [e["type"].removeprefix("petition.").rsplit(".v", 1)[0] for e in self.by_pid[pid]]

    def close(self) -> None:
        self.consumer.close()


def get(worker: ServiceProcess, path: str, token: str | None = STAFF_TOKEN) -> httpx.Response:
    """GET a worker's page with a supervisor's token (once the worker has read the terminals topic)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def answered() -> httpx.Response | None:
        r = httpx.get(f"{worker.url}{path}", timeout=10, headers=headers)
        return None if r.status_code == 503 and r.json().get("code") == "auth.unavailable" else r

    return until(answered, f"{worker.url}{path} answering past 503 auth.unavailable (the terminals topic read)",
                 timeout=30, every=0.1)


def wait_ready(workers: list[ServiceProcess], partitions: int, timeout: float = 60.0) -> dict[int, list[int]]:
    """Wait until every worker is ready and together they own each partition exactly once."""
    def split() -> dict[int, list[int]] | None:
        try:
            answers = [get(w, "/readyz") for w in workers]
        except httpx.HTTPError:
            return None
        if not all(a.status_code == 200 for a in answers):
            return None
        owned = {i: a.json()["partitions"] for i, a in enumerate(answers)}
        return owned if sorted(p for ps in owned.values() for p in ps) == list(range(partitions)) else None

    return until(split, "workers ready with a clean partition split", timeout, every=0.2)
