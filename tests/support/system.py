"""The whole system as processes — intake, escalation, reporting — on one run's topics and schemas.

For end-to-end tests and fault drills: start it, load it, kill one service with SIGKILL and bring
it back, then check the invariants: no acknowledged registration lost, nothing counted twice
(the statistics equal a fresh replay), no duplicate escalation.
"""
from __future__ import annotations

import asyncio
import base64
import threading
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import orjson

from support.kafka import read_all
from support.process import ROOT, ServiceProcess, free_port
from support.tokens import client
from support.waiting import until, until_async
from xinfang.county import load_county

FAST_COUNTY = ROOT / "tests" / "fixtures" / "county_fast.yaml"
ADMIN = "drill-admin-token-" + "y" * 24
VILLAGES = ["361501100201", "361501100202", "361501101201"]


class System:
    def __init__(self, settings, dsn: str, folder: Path, county: Path = FAST_COUNTY,
                 terminal_unit: str = "bureau.361501") -> None:
        run = uuid.uuid4().hex[:8]
        self.settings, self.dsn, self.folder, self.run = settings, dsn, folder, run
        self.intake_schema, self.reporting_schema = f"intake_{run}", f"reporting_{run}"
        common = {"XINFANG_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "XINFANG_TOPIC_EVENTS": settings.topic_events,
                  "XINFANG_TOPIC_ROUTING": settings.topic_routing, "XINFANG_TOPIC_DEADLETTER": settings.topic_deadletter,
                  "XINFANG_TOPIC_TERMINALS": settings.topic_terminals,
                  "XINFANG_PARTITIONS": str(settings.partitions), "XINFANG_COUNTY_FILE": str(county),
                  "XINFANG_DATABASE_URL": dsn, "XINFANG_REPLICATION_FACTOR": str(settings.replication_factor),
                  "XINFANG_MIN_INSYNC_REPLICAS": str(settings.min_insync_replicas)}
        ports = {name: free_port() for name in ("intake", "escalation", "reporting")}
        self.procs = {
            "intake": ServiceProcess("intake", {**common, "XINFANG_INTAKE_SCHEMA": self.intake_schema,
                                                "XINFANG_INTAKE_PORT": str(ports["intake"]), "XINFANG_ADMIN_TOKEN": ADMIN,
                                                "XINFANG_MASTER_KEY": base64.b64encode(b"m" * 32).decode(),
                                                "XINFANG_RATE_LIMIT_PER_MINUTE": "1000000"},
                                     ports["intake"], folder / "intake.log"),
            "escalation": ServiceProcess("escalation", {**common, "XINFANG_ESCALATION_APP_ID": f"escalation-{run}",
                                                        "XINFANG_ESCALATION_PORT": str(ports["escalation"]),
                                                        "XINFANG_ESCALATION_DATA_DIR": str(folder / "escalation"),
                                                        # the least the setting allows: after a SIGKILL the group
                                                        # waits this long for the dead member before it rebalances
                                                        "XINFANG_ESCALATION_SESSION_TIMEOUT": "6"},
                                         ports["escalation"], folder / "escalation.log"),
            "reporting": ServiceProcess("reporting", {**common, "XINFANG_REPORTING_SCHEMA": self.reporting_schema,
                                                      "XINFANG_REPORTING_PORT": str(ports["reporting"]),
                                                      "XINFANG_CONSUMER_GROUP": f"reporting-{run}"},
                                        ports["reporting"], folder / "reporting.log"),
        }
        self.token: str | None = None
        self.reader: str | None = None
        self.terminal_unit = terminal_unit
        county_file = load_county(county)
        self.reader_unit = county_file.unit_for(county_file.code, "county").id

    def start(self) -> System:
        for proc in self.procs.values():  # side by side: none needs another to start
            proc.launch()
        for proc in self.procs.values():
            proc.wait_ready(timeout=90)
        r = httpx.post(f"{self.procs['intake'].url}/v1/terminals", headers={"Authorization": f"Bearer {ADMIN}"},
                       json={"unit_id": self.terminal_unit, "name": "演练终端", "roles": ["registrar", "handler"]})
        r.raise_for_status()
        self.token = r.json()["token"]
        r = httpx.post(f"{self.procs['intake'].url}/v1/terminals", headers={"Authorization": f"Bearer {ADMIN}"},
                       json={"unit_id": self.reader_unit, "name": "审计终端", "roles": ["auditor"]})
        r.raise_for_status()
        self.reader = r.json()["token"]  # reads the whole county's figures in reporting
        return self

    def reporting(self) -> httpx.Client:
        """A client of reporting with the county bureau auditor's token (once reporting knows it)."""
        return client(self.procs["reporting"].url, self.reader)

    def restart(self, name: str) -> None:
        """SIGKILL one service and start it again at once (kill waits until the process is gone)."""
        self.procs[name].kill()
        self.procs[name].start(timeout=120)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()


class Load:
    """Registrations from a few terminals at a steady rate; each retried with its key until acknowledged."""

    def __init__(self, system: System, rate: float = 20.0, clients: int = 4) -> None:
        self.system, self.rate, self.clients = system, rate, clients
        self.acknowledged: dict[str, str] = {}  # Idempotency-Key → petition id
        self.retries = 0
        self.refused: list[str] = []
        self.id = uuid.uuid4().hex[:6]  # each load its own Idempotency-Keys
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _client(self, n: int) -> None:
        http = httpx.Client(base_url=self.system.procs["intake"].url, timeout=10)
        i = 0
        while not self._stop.is_set():
            key, i = f"drill-{self.id}-{n}-{i}", i + 1
            body = {"channel": "visit", "jurisdiction": VILLAGES[i % 3], "category": "labour", "summary": "演练",
                    "head_count": 1 + i % 9, "petitioners": [{"name": "演练人"}]}
            while True:  # a terminal retries until it has its answer: that is when a registration counts
                try:
                    http.base_url = self.system.procs["intake"].url
                    r = http.post("/v1/petitions", json=body,
                                  headers={"Authorization": f"Bearer {self.system.token}", "Idempotency-Key": key})
                    if r.status_code == 201:
                        self.acknowledged[key] = r.json()["petition_id"]
                        break
                    if r.status_code not in (409, 500, 503):  # anything but "in flight" or "restarting" is a defect
                        self.refused.append(r.text)
                        break
                except httpx.TransportError:
                    pass
                self.retries += 1
                if self._stop.wait(0.3):
                    return
            self._stop.wait(self.clients / self.rate)

    def more(self, count: int, timeout: float = 60) -> int:
        """Wait until ``count`` more registrations than now are acknowledged; the number acknowledged then."""
        target = len(self.acknowledged) + count
        return until(lambda: len(self.acknowledged) >= target and len(self.acknowledged),
                     lambda: f"{count} more registrations acknowledged ({len(self.acknowledged)} of {target})",
                     timeout, every=0.05)

    def __enter__(self) -> Load:
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)


def check_invariants(system: System, acknowledged: set[str], timeout: float = 120) -> dict:
    """No acknowledged registration lost; statistics equal a fresh replay; no duplicate escalation."""
    settings = system.settings
    system.procs["escalation"].stop()  # no new routing facts while the tables are compared
    until(lambda: not httpx.get(f"{system.procs['intake'].url}/readyz").json().get("outbox_lag"),
          "intake's outbox published to the end", timeout, every=0.2)
    events = read_all(settings.kafka_bootstrap, settings.topic_events, expect=len(acknowledged), timeout=timeout)
    registered = Counter()
    for record in events:
        envelope = orjson.loads(record.value)
        if envelope["type"] == "petition.registered.v1":
            registered[envelope["subject"]] += 1
    lost = acknowledged - set(registered)
    assert not lost, f"{len(lost)} acknowledged registrations are not on {settings.topic_events}"
    ids = Counter(orjson.loads(r.value)["id"] for r in events)
    routing = read_all(settings.kafka_bootstrap, settings.topic_routing)
    escalations = Counter()
    for record in routing:
        envelope = orjson.loads(record.value)
        if envelope["type"] == "petition.escalated.v2":
            d = envelope["data"]
            escalations[(envelope["subject"], d["stage"], d["from_unit"], d["to_unit"])] += 1
    breach_ids: dict[tuple, set] = {}
    for record in routing:
        envelope = orjson.loads(record.value)
        if envelope["type"] == "petition.escalated.v2":
            d = envelope["data"]
            breach_ids.setdefault((envelope["subject"], d["stage"], d["from_unit"], d["to_unit"]), set()).add(envelope["id"])
    doubled = {k: v for k, v in breach_ids.items() if len(v) > 1}
    assert not doubled, f"the same breach escalated under different ids: {list(doubled.items())[:3]}"
    differences = asyncio.run(_replay_differences(system, len(events) + len(routing)))
    assert differences == {}, f"reporting differs from a fresh replay: {differences}"
    return {"registered": len(registered), "events": len(events), "duplicate_deliveries": sum(n - 1 for n in ids.values()),
            "routing": len(routing), "escalations": sum(escalations.values())}


async def _replay_differences(system: System, records: int) -> dict:
    from reporting.replay import replay
    from reporting.store import differences

    conn = await asyncpg.connect(system.dsn)
    try:
        async def caught_up() -> bool:  # the live service has projected both topics to their ends
            sql = f'SELECT coalesce(sum(next_offset), 0) FROM "{system.reporting_schema}".offsets'
            return await conn.fetchval(sql) >= records

        await until_async(caught_up, f"reporting projected the {records} records of both topics", 120, every=0.2)
        scratch = f"replay_{system.run}"
        await conn.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
        await replay(system.settings, system.dsn, scratch)
        return await differences(conn, system.reporting_schema, scratch)
    finally:
        await conn.close()
