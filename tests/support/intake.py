"""Drive a real intake process: terminals of the demo county, requests, and routing facts as escalation would send them."""
from __future__ import annotations

import asyncio
import base64
import random
import re
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg
import httpx
import orjson

from support.kafka import run_settings
from support.postgres import test_database
from support.process import ROOT, ServiceProcess, free_port
from support.waiting import until, until_async
from xinfang.events import CloudEvent, chain_head, event_type_of, next_link
from xinfang.events.catalogue import Assigned, Due, ReviewAssigned
from xinfang.kafka import sync_producer

ADMIN = "test-admin-token-" + "x" * 24
VILLAGE = "room.361402001001"        # 东门社区 under 城关街道
OTHER_VILLAGE = "room.361402001002"  # 西门社区, same township
TOWNSHIP = "station.361402001000"    # 城关街道
BUREAU = "bureau.361402"
VILLAGE_CODE, OTHER_VILLAGE_CODE = "361402001001", "361402001002"


class Intake:
    """The running service and the terminals the tests act through."""

    def __init__(self, proc: ServiceProcess, settings, schema: str) -> None:
        self.proc, self.settings, self.schema = proc, settings, schema
        self.http = httpx.Client(base_url=proc.url, timeout=30)
        self.tokens: dict[str, str] = {}
        self.routing_heads: dict[str, list[dict]] = {}
        self.producer = sync_producer(settings)

    def terminal(self, unit: str, roles=("registrar", "handler", "supervisor")) -> str:
        key = f"{unit}:{','.join(roles)}"
        if key not in self.tokens:
            r = self.http.post("/v1/terminals", json={"unit_id": unit, "name": f"测试终端 {unit}", "roles": list(roles)},
                               headers={"Authorization": f"Bearer {ADMIN}"})
            assert r.status_code == 201, r.text
            self.tokens[key] = r.json()["token"]
        return self.tokens[key]

    def terminal_id(self, token: str) -> str:
        """The id of the terminal of ``token`` (from intake's database: a test knows only the token)."""

        import asyncpg

        from xinfang.terminals import token_hash

        async def find() -> str:
            conn = await asyncpg.connect(self.settings.database_url)
            try:
                return await conn.fetchval(f'SELECT id FROM "{self.schema}".terminals WHERE token_hash = $1',
                                           token_hash(token))
            finally:
                await conn.close()

        return asyncio.run(find())

    def revoke(self, terminal_id: str) -> None:
        r = self.http.delete(f"/v1/terminals/{terminal_id}", headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 204, r.text

    def post(self, path: str, body: dict, unit: str = VILLAGE, key: str | None = None, **kw) -> httpx.Response:
        token = kw.pop("token", None) or self.terminal(unit, kw.pop("roles", ("registrar", "handler", "supervisor")))
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key or uuid.uuid4().hex}
        return self.http.post(path, json=body, headers=headers)

    def get(self, path: str, unit: str = VILLAGE, **params) -> httpx.Response:
        return self.http.get(path, params=params, headers={"Authorization": f"Bearer {self.terminal(unit)}"})

    def register(self, unit: str = VILLAGE, **overrides) -> dict:
        body = {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "拖欠工资三个月",
                "head_count": 3, "petitioners": [{"name": "张三", "id_number": "36140219800101123X",
                                                  "phone": "13800000000", "address": "东门社区1号"}]}
        body.update(overrides)
        r = self.post("/v1/petitions", body, unit)
        assert r.status_code == 201, r.text
        return r.json()

    def route(self, petition_id: str, unit: str, tier: str, kind: str = "assigned", viewer: str = BUREAU) -> None:
        """Act as escalation: put a routing fact on petition.routing and wait until intake applied it."""
        matter = self.get(f"/v1/petitions/{petition_id}", unit=viewer).json()
        basis = matter["version"]
        # escalation dates the first assignment at the registration's occurred time (facts by occurred time)
        occurred = (datetime.fromisoformat(matter["registered_at"])
                    if kind == "assigned" and matter["holder_unit"] is None else None)
        due = [Due(stage="accept", due_at="2030-01-01T00:00:00.000000Z", warn_at="2029-12-31T00:00:00.000000Z")]
        if kind == "assigned":
            data = Assigned(unit=unit, tier=tier, jurisdiction=VILLAGE_CODE, rule="test", stage="accept", due=due,
                            basis_seq=basis + 100)
        else:
            data = ReviewAssigned(kind=kind, unit=unit, tier=tier, due=due, basis_seq=basis + 100)
        self.send_routing(petition_id, data, occurred)
        self.wait_for(petition_id, lambda matter: matter["holder_unit"] == unit, viewer,
                      f"intake did not apply the routing of {petition_id} to {unit}")

    def send_routing(self, petition_id: str, data, occurred: datetime | None = None) -> None:
        """Put one routing fact on petition.routing, chained after those sent before, as escalation would (occurred
        now unless given)."""
        chain = self.routing_heads.setdefault(petition_id, [])
        seq, prev = next_link(chain_head(chain) if chain else None)
        now = datetime.now(timezone.utc)
        event = CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361402/escalation",
                                   type=event_type_of(data), subject=petition_id, recorded=now, occurred=occurred or now,
                                   actor="system:escalation", seq=seq, prevhash=prev, data=data.model_dump(mode="json"))
        chain.append(event.envelope())
        self.producer.send(self.settings.topic_routing, key=petition_id.encode(), value=event.to_json()).get(10)

    def wait_for(self, petition_id: str, condition, viewer: str = BUREAU, why: str = "", timeout: float = 10) -> dict:
        """Poll the matter until ``condition(matter)`` holds (within ``timeout`` seconds)."""
        last: dict = {}

        def reached():
            last["matter"] = self.get(f"/v1/petitions/{petition_id}", unit=viewer).json()
            return last["matter"] if condition(last["matter"]) else None

        return until(reached, lambda: why or f"{petition_id} reaching the condition: {last.get('matter')}",
                     timeout=timeout, every=0.05)

    async def stored(self) -> dict[str, int]:
        """How many events, matters and petitioners intake's database holds: a refusal stores none."""
        conn = await asyncpg.connect(self.settings.database_url, server_settings={"search_path": self.schema})
        try:
            row = await conn.fetchrow("SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM petitions)"
                                      " AS petitions, (SELECT count(*) FROM petitioners) AS petitioners")
        finally:
            await conn.close()
        return dict(row)


def held(intake: Intake, unit: str, due_in: timedelta, stage: str = "accept", **registration) -> dict:
    """A matter registered and assigned to ``unit`` (a village room) with its ``stage`` due ``due_in`` from now
    (negative: overdue already), as escalation would assign it; the registration's answer with ``due_at``."""
    matter = intake.register(**registration)
    pid = matter["petition_id"]
    due_at = datetime.now(timezone.utc) + due_in
    at = lambda moment: moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # noqa: E731
    data = Assigned(unit=unit, tier="village", jurisdiction=VILLAGE_CODE, rule="test", stage=stage,
                    due=[Due(stage=stage, due_at=at(due_at), warn_at=at(due_at - timedelta(hours=1)))], basis_seq=101)
    registered = datetime.fromisoformat(intake.get(f"/v1/petitions/{pid}", unit=BUREAU).json()["registered_at"])
    intake.send_routing(pid, data, registered)
    intake.wait_for(pid, lambda m: m["holder_unit"] == unit, why=f"intake did not apply the assignment of {pid}")
    return {**matter, "due_at": due_at}


async def failed_authentications(conn, schema: str, source: str | None = None, at_least: int = 1,
                                 timeout: float = 30) -> int:
    """The failed authentications intake's access log counts (from ``source``), once at least ``at_least``: each
    process adds its counts every few seconds."""
    async def counted() -> int | None:
        n = await conn.fetchval(
            f"""SELECT coalesce(sum(count), 0) FROM {schema}.access_log
                WHERE action = 'authenticate' AND ($1::text IS NULL OR source = $1)""", source)
        return n if n >= at_least else None

    return await until_async(counted, f"the access log counting {at_least} failed authentications", timeout, every=0.2)


def start_intake(settings, pg_dsn, log_dir, **extra):
    """A real intake process on its own schema and topics (``extra``: more XINFANG_* settings)."""
    run = uuid.uuid4().hex[:8]
    base = run_settings(settings.model_copy(update={"database_url": test_database(pg_dsn)}), run)
    schema = f"intake_{run}"
    proc = ServiceProcess("intake", intake_env(base, schema, free_port(), **extra), port=0, log=log_dir / "intake.log")
    proc.port = int(proc.env["XINFANG_INTAKE_PORT"])
    proc.start()
    return Intake(proc, base, schema)


def intake_env(settings, schema: str, port: int, **extra) -> dict[str, str]:
    return {
        "XINFANG_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "XINFANG_DATABASE_URL": settings.database_url,
        "XINFANG_INTAKE_SCHEMA": schema, "XINFANG_INTAKE_PORT": str(port), "XINFANG_ADMIN_TOKEN": ADMIN,
        "XINFANG_MASTER_KEY": base64.b64encode(b"k" * 32).decode(),
        "XINFANG_TOPIC_EVENTS": settings.topic_events, "XINFANG_TOPIC_ROUTING": settings.topic_routing,
        "XINFANG_TOPIC_DEADLETTER": settings.topic_deadletter,
        "XINFANG_TOPIC_TERMINALS": settings.topic_terminals, "XINFANG_PARTITIONS": str(settings.partitions),
        "XINFANG_COUNTY_FILE": str(ROOT / "deploy" / "counties" / "demo.yaml"),
        "XINFANG_RATE_LIMIT_PER_MINUTE": "100000", "XINFANG_AUTH_FAILURES_PER_MINUTE": "100000", **extra}


# ---- imports of history (POST /v1/imports) ------------------------------------------------------

def matter(external_id: str, resolved: bool = True, **overrides) -> dict:
    """One matter of the old system, from 2019: two batches, accepted, replied, evaluated."""
    record = {
        "external_id": external_id, "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "2019年欠薪",
        "batches": [{"occurred_at": "2019-02-11T09:30:00+08:00", "channel": "visit", "head_count": 12, "unit": VILLAGE,
                     "petitioners": [{"name": "老王", "id_number": "361402196001011234"}]},
                    {"occurred_at": "2019-03-01T10:00:00+08:00", "channel": "visit", "head_count": 3, "unit": BUREAU}],
        "actions": [{"action": "accept", "occurred_at": "2019-02-12T09:00:00+08:00", "unit": VILLAGE},
                    {"action": "reply", "occurred_at": "2019-03-20T09:00:00+08:00", "unit": VILLAGE,
                     "decision": "support", "resolved": resolved, "facts": "已查明", "grounds": "已督促企业支付"},
                    {"action": "evaluate", "occurred_at": "2019-03-25T09:00:00+08:00", "unit": VILLAGE,
                     "satisfaction": "satisfied"}]}
    record.update(overrides)
    return record


def ndjson(*records) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def post_import(intake: Intake, body: bytes, key: str | None = None, unit: str = BUREAU) -> httpx.Response:
    token = intake.terminal(unit, ("registrar", "handler", "supervisor"))
    return intake.http.post("/v1/imports", content=body, headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": key or uuid.uuid4().hex,
        "Content-Type": "application/x-ndjson"})


# ---- people found at the desk (blind indexes) ------------------------------------------------------

def identity_number(rng: random.Random, region: str = "361402") -> str:
    """A valid 18-character identity number (birth date in the 1900s, check character right), fresh per call."""
    from intake.domain.identifiers import check_character

    first17 = f"{region}19{rng.randint(40, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return first17 + check_character(first17)


def mobile(rng: random.Random) -> str:
    return f"13{rng.randint(0, 999_999_999):09d}"


# ---- the petitioner's receipt slip (the portal) -----------------------------------------------------------

def slip(intake, new_code: bool = False, pid: str | None = None) -> tuple[str, str, str]:
    """(petition id, receipt number, query code) of a matter whose receipt slip the desk printed."""
    if pid is None:
        registration = intake.register()
        pid = registration["petition_id"]
    r = intake.post(f"/v1/petitions/{pid}/notices", {"kind": "receipt", "delivery": "desk", "new_query_code": new_code})
    assert r.status_code == 201, r.text
    pdf = intake.http.get(r.json()["pdf"], headers={"Authorization": f"Bearer {intake.terminal(VILLAGE)}"}).content
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    text = re.sub(r"\s+", "", text)
    receipt_no = re.search(r"登记编号：(\d{4}-\d{6}-\d{7})", text).group(1)
    return pid, receipt_no, re.search(r"查询码：([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})", text).group(1)
