"""A city over private county brokers, mirrored by MirrorMaker 2 as deploy/mirror.sh runs it.

:func:`city_file` writes a city file for brokers of the test's own; :class:`Mirror` starts MirrorMaker 2 through
``deploy/mirror.sh`` (the configuration generated from that file, with the tests' short intervals), SIGKILLs it
as in a crash, and stops it. :func:`mirrored_records` reads what arrived in the city; :func:`heartbeat_of` and
:func:`checkpoint_of` decode MirrorMaker's own records (Kafka's protocol types: int16-length strings, big-endian).
"""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path

import orjson

from support.history import History
from support.kafka import read_all
from support.process import ROOT, free_port
from support.waiting import until
from xinfang.kafka import sync_producer
from xinfang.settings import CommonSettings

MIRROR_SH = ROOT / "deploy" / "mirror.sh"
# MirrorMaker's defaults look for new topics and groups every 10 minutes and checkpoint every minute: a test
# (and a benchmark) cannot wait that long; and its own topics with fewer partitions start faster.
QUICK = {"refresh.topics.interval.seconds": "2", "refresh.groups.interval.seconds": "2",
         "emit.checkpoints.interval.seconds": "1", "emit.heartbeats.interval.seconds": "1",
         "sync.topic.configs.interval.seconds": "5", "offset.lag.max": "10",
         "offset.storage.partitions": "3", "status.storage.partitions": "1"}


def city_file(path: Path, city: str, counties: dict[str, str], exactly_once: bool = True,
              fields: dict[str, dict[str, str]] | None = None, reporting_url: str | None = None) -> Path:
    """A city file (the demo city's codes) for a city broker and counties {alias: bootstrap}; the internal REST
    listener on a free port; ``fields``: more of each county's entry, {alias: {"county_file": …, "intake_url": …}}
    (what the city's reporting needs)."""
    lines = ['code: "361400000000"', "name: 测试市", f"kafka: {{bootstrap: \"{city}\", replication_factor: 1}}",
             f"mirror: {{exactly_once: {str(exactly_once).lower()}, listener: \"http://127.0.0.1:{free_port()}\"}}",
             *([f'reporting_url: "{reporting_url}"'] if reporting_url else []), "counties:"]
    for n, (alias, bootstrap) in enumerate(counties.items()):
        own = "".join(f', {key}: "{value}"' for key, value in (fields or {}).get(alias, {}).items())
        lines.append(f'  - {{alias: {alias}, code: "3614{n + 2:02d}000000", name: 测试县{n + 1}, bootstrap: "{bootstrap}"'
                     f'{own}}}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Mirror:
    """MirrorMaker 2 for one city file, in a folder of the test's own (its pid file, log and properties there)."""

    def __init__(self, city: Path, folder: Path, topics: tuple[str, str] = ("petition.events", "petition.routing"),
                 overrides: dict[str, str] | None = None) -> None:
        self.city, self.folder = city, folder
        self.sets = [arg for key, value in {**QUICK, **(overrides or {})}.items() for arg in ("--set", f"{key}={value}")]
        self.env = {**os.environ, "XINFANG_TOPIC_EVENTS": topics[0], "XINFANG_TOPIC_ROUTING": topics[1]}

    def _run(self, command: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(MIRROR_SH), command, "--city", str(self.city), "--dir", str(self.folder),
                               *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    def start(self) -> Mirror:
        """Start and wait until every county flow's connectors run (deploy/mirror.sh start waits for that)."""
        done = self._run("start", *self.sets)
        if done.returncode != 0:
            log = self.folder / "mirror.log"
            tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
            raise RuntimeError(f"deploy/mirror.sh start failed:\n{done.stderr}\n--- {log}:\n{tail}")
        return self

    @property
    def pid(self) -> int:
        return int((self.folder / "mirror.pid").read_text())

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no last commit, as in a crash."""
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        until(lambda: not Path(f"/proc/{pid}").exists(), f"MirrorMaker pid {pid} gone", 30)

    def stop(self) -> None:
        self._run("stop", timeout=90)

    def status(self) -> subprocess.CompletedProcess:
        """deploy/mirror.sh status: exit 0 when the process runs and every county flow with it."""
        return self._run("status", timeout=60)


def mirrored_records(city_bootstrap: str, topic: str, expect: int | None = None, timeout: float = 120.0) -> list:
    """Every record of a mirrored topic in the city, waiting up to ``timeout`` for at least ``expect``."""
    until(lambda: _exists(city_bootstrap, topic), f"{topic} in the city", timeout, every=0.5)
    return read_all(city_bootstrap, topic, expect=expect, timeout=timeout)


def holding(bootstrap: str, topic: str, ids: set[str]) -> list:
    """The topic's records once they hold every one of the event ``ids`` (else nothing: an ``until`` condition)."""
    records = read_all(bootstrap, topic)
    return records if ids <= {orjson.loads(r.value)["id"] for r in records} else []


def _exists(bootstrap: str, topic: str) -> bool:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        return topic in admin.list_topics()
    finally:
        admin.close()


def _string(data: bytes, at: int) -> tuple[str, int]:
    (length,) = struct.unpack_from(">h", data, at)
    return data[at + 2:at + 2 + length].decode(), at + 2 + length


def heartbeat_of(record) -> tuple[str, str, int]:
    """(source alias, target alias, epoch ms) of a record of the ``heartbeats`` topic."""
    source, at = _string(record.key, 0)
    target, _ = _string(record.key, at)
    _, millis = struct.unpack_from(">hq", record.value, 0)
    return source, target, millis


def checkpoint_of(record) -> tuple[str, str, int, int, int]:
    """(group, remote topic, partition, county offset, city offset) of a record of ``<alias>.checkpoints.internal``."""
    group, at = _string(record.key, 0)
    topic, at = _string(record.key, at)
    (partition,) = struct.unpack_from(">i", record.key, at)
    _, upstream, downstream = struct.unpack_from(">hqq", record.value, 0)
    return group, topic, partition, upstream, downstream


class Load(threading.Thread):
    """Produces a county's history to its topics at ``rate`` events per second (keyed by petition id), in a
    thread: the traffic a drill kills MirrorMaker under, and the benchmark's."""

    def __init__(self, settings: CommonSettings, history: History, rate: float) -> None:
        super().__init__(daemon=True)
        self.settings, self.history, self.rate = settings, history, rate
        self.sent, self.error = 0, None

    def run(self) -> None:
        topics = {"events": self.settings.topic_events, "routing": self.settings.topic_routing}
        producer = sync_producer(self.settings)
        try:
            start = time.monotonic()
            for n, (role, event) in enumerate(self.history.events):
                producer.send(topics[role], key=event.subject.encode(), value=event.to_json())
                self.sent = n + 1
                ahead = start + self.sent / self.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)  # pacing the load (a rate), not waiting for a condition
            producer.flush(60)
        except Exception as exc:  # noqa: BLE001 — handed to the test, which fails on it
            self.error = exc
        finally:
            producer.close()

    def done(self, timeout: float) -> int:
        """Wait for the thread; raise what it raised; the number of events sent."""
        self.join(timeout)
        if self.is_alive():
            raise TimeoutError(f"load still producing after {timeout}s ({self.sent} sent)")
        if self.error:
            raise self.error
        return self.sent
