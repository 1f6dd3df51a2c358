"""Drive a real intake process: terminals of the demo county, requests, and routing facts as escalation would send them."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone

import httpx

from support.process import ROOT, ServiceProcess
from support.waiting import until
from xinfang.events import CloudEvent, chain_head, next_link
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
        chain = self.routing_heads.setdefault(petition_id, [])
        seq, prev = next_link(chain_head(chain) if chain else None)
        basis = self.get(f"/v1/petitions/{petition_id}", unit=viewer).json()["version"]
        due = [Due(stage="accept", due_at="2030-01-01T00:00:00.000000Z", warn_at="2029-12-31T00:00:00.000000Z")]
        if kind == "assigned":
            data = Assigned(unit=unit, tier=tier, jurisdiction=VILLAGE_CODE, rule="test", stage="accept", due=due,
                            basis_seq=basis + 100)
        else:
            data = ReviewAssigned(kind=kind, unit=unit, tier=tier, due=due, basis_seq=basis + 100)
        now = datetime.now(timezone.utc)
        event = CloudEvent.seal(event_id=str(uuid.uuid4()), source="/xinfang/361402/escalation",
                                type=f"petition.{'assigned' if kind == 'assigned' else 'review_assigned'}.v1",
                                subject=petition_id, recorded=now, occurred=now, actor="system:escalation",
                                seq=seq, prevhash=prev, data=data.model_dump(mode="json"))
        chain.append(event.envelope())
        self.producer.send(self.settings.topic_routing, key=petition_id.encode(), value=event.to_json()).get(10)
        until(lambda: self.get(f"/v1/petitions/{petition_id}", unit=viewer).json()["holder_unit"] == unit,
              f"intake applied the routing of {petition_id} to {unit}", timeout=10, every=0.05)


def intake_env(settings, schema: str, port: int, **extra) -> dict[str, str]:
    return {
        "XINFANG_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "XINFANG_DATABASE_URL": settings.database_url,
        "XINFANG_INTAKE_SCHEMA": schema, "XINFANG_INTAKE_PORT": str(port), "XINFANG_ADMIN_TOKEN": ADMIN,
        "XINFANG_MASTER_KEY": base64.b64encode(b"k" * 32).decode(),
        "XINFANG_TOPIC_EVENTS": settings.topic_events, "XINFANG_TOPIC_ROUTING": settings.topic_routing,
        "XINFANG_TOPIC_DEADLETTER": settings.topic_deadletter, "XINFANG_PARTITIONS": str(settings.partitions),
        "XINFANG_COUNTY_FILE": str(ROOT / "deploy" / "counties" / "demo.yaml"),
        "XINFANG_RATE_LIMIT_PER_MINUTE": "100000", **extra}
