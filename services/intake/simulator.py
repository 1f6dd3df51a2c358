"""``python -m intake.simulator``: 终端模拟器 — a working day at the demo county's terminals.

Registers matters at village rooms, township stations and the county hall (some collective, some
coming back as repeat visits), and handles what lands on each unit's worklist: accept, reply,
sometimes a review request. Some units never get to theirs, so their deadlines pass and the
matters escalate. Most matters come in today, since the office opened at 08:30 (county time); a
share of them (``--backlog``) happened over the last days — terminals that sync late send
back-dated visits, within the county's offline window (7 days in the demo county; older history is
imported) — so the charts over time have something to show, and those whose limits have passed by
now are warned, marked overdue and escalated at once.

Everything goes through the terminal API like a real terminal: tokens, Idempotency-Keys, retries.
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import typer

from xinfang.calendar import DEFAULT_TZ
from xinfang.retry import retrying_blocking

log = logging.getLogger("intake.simulator")
app = typer.Typer(add_completion=False, help="终端模拟器 Terminal simulator for the demo county.")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "志强", "桂兰", "海燕", "卫东", "红梅", "国华", "丽娟", "德胜"]
SUMMARIES = {
    "labour": "工地拖欠农民工工资", "land": "征地补偿款未到位", "housing": "老旧小区加装电梯纠纷",
    "environment": "养殖场异味扰民", "civil": "低保资格认定有异议", "agriculture": "土地流转租金未付",
    "transport": "村道破损影响出行", "education": "学区划分意见", "health": "村卫生室服务时间",
    "suggestion": "建议增设公交站点", "market": "预付卡商家跑路",
}


class Terminal:
    def __init__(self, http: httpx.Client, unit: str, token: str) -> None:
        self.http, self.unit, self.token = http, unit, token

    def post(self, path: str, body: dict) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": uuid.uuid4().hex}
        # a village network drops requests: retry with the same key
        return retrying_blocking(lambda: self.http.post(path, json=body, headers=headers), f"POST {path}", log,
                                 attempts=5, retry_if=lambda exc: isinstance(exc, httpx.TransportError))

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path, headers={"Authorization": f"Bearer {self.token}"})


def person(rng: random.Random, area: str = "361402") -> dict:
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN),
            "id_number": (f"{area}{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                          f"{rng.randint(0, 9999):04d}"),
            "phone": f"13{rng.randint(100000000, 999999999)}"}


@app.command()
def main(url: str = typer.Option("http://127.0.0.1:8001", envvar="XINFANG_INTAKE_URL"),
         admin_token: str = typer.Option(..., envvar="XINFANG_ADMIN_TOKEN"),
         matters: int = typer.Option(300, help="matters to register"),
         days: int = typer.Option(6, help="the back-dated ones happened over the last N days (within the county's "
                                     "offline window, 7 days in the demo county)"),
         backlog: float = typer.Option(0.25, min=0, max=1, help="share of matters back-dated (synced late)"),
         seed: int = typer.Option(7), neglect: float = typer.Option(0.25, help="share of units that never handle"),
         bureau: str = typer.Option("bureau.361402", help="the county bureau's unit id (another county of the demo "
                                                          "city: bureau.361403)")) -> None:
    """Play a working day; prints what it did."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=30) as http:
        units = http.get("/v1/units", headers={"Authorization": f"Bearer {_terminal(http, admin_token, bureau)}"}).json()
        hall = next((u for u in units if u["id"] == bureau), None)
        if hall is None:
            raise typer.BadParameter(f"{bureau} 不是该县的单位 is not a unit of this county", param_hint="--bureau")
        rooms = [u for u in units if u["kind"] == "room"]
        stations = [u for u in units if u["kind"] == "station"]
        handlers = {u["id"]: Terminal(http, u["id"], _terminal(http, admin_token, u["id"])) for u in units
                    if u["kind"] in ("room", "station", "bureau", "department")}
        lazy = {unit for unit in handlers if rng.random() < neglect and not unit.startswith("bureau")}
        now = datetime.now(timezone.utc)
        local = now.astimezone(DEFAULT_TZ)  # the demo county's time
        opened = local.replace(hour=8, minute=30, second=0, microsecond=0)
        office = max((local - opened).total_seconds(), 3600.0)  # before 08:30: the last hour
        registered: list[tuple[str, Terminal]] = []
        stats = {"registered": 0, "collective": 0, "repeat_visits": 0, "accepted": 0, "replied": 0, "reviews": 0}
        for _ in range(matters):
            desk = rng.choices([rng.choice(rooms), rng.choice(stations), hall],
                               weights=[6, 3, 1])[0]
            place = desk["jurisdiction"] if desk["id"].startswith("room") else rng.choice(
                [r["jurisdiction"] for r in rooms
                 if desk["id"] == bureau or r["jurisdiction"].startswith(desk["jurisdiction"][:9])])
            collective = rng.random() < 0.12
            category = rng.choice(list(SUMMARIES))
            if rng.random() < backlog:
                when = now - timedelta(days=rng.uniform(1, days))
            else:
                when = now - timedelta(seconds=rng.uniform(60, office))
            terminal = handlers[desk["id"]]
            r = terminal.post("/v1/petitions", {
                "channel": rng.choice(["visit", "visit", "visit", "letter", "online", "phone"]), "jurisdiction": place,
                "category": category, "summary": SUMMARIES[category],
                "head_count": rng.randint(5, 40) if collective else rng.randint(1, 3),
                "petitioners": [person(rng, hall["jurisdiction"][:6]) for _ in range(1 if not collective else 2)],
                "occurred_at": when.isoformat()})
            if r.status_code != 201:
                print(f"登记被拒 refused: {r.status_code} {r.text[:200]}")
                continue
            stats["registered"] += 1
            stats["collective"] += collective
            registered.append((r.json()["petition_id"], terminal))
            if registered and rng.random() < 0.15:
                pid, desk_terminal = rng.choice(registered)
                visit = desk_terminal.post(f"/v1/petitions/{pid}/visits", {"channel": "visit", "head_count": rng.randint(1, 8)})
                stats["repeat_visits"] += visit.status_code == 201
        time.sleep(3)  # let escalation route them
        for unit, terminal in handlers.items():
            if unit in lazy:
                continue
            for item in terminal.get("/v1/worklist?limit=500").json():
                pid = item["petition_id"]
                if item["status"] == "assigned" and rng.random() < 0.85:
                    stats["accepted"] += terminal.post(f"/v1/petitions/{pid}/actions", {"action": "accept"}).status_code == 200
                    if rng.random() < 0.7:
                        answer = terminal.post(f"/v1/petitions/{pid}/actions", {
                            "action": "reply", "decision": rng.choice(["support", "explain", "reject"]),
                            "resolved": rng.random() < 0.8, "facts": "已调查核实",
                            "grounds": "依据有关规定答复信访人"})
                        stats["replied"] += answer.status_code == 200
                        if answer.status_code == 200 and rng.random() < 0.5:
                            terminal.post(f"/v1/petitions/{pid}/actions", {
                                "action": "evaluate",
                                "satisfaction": rng.choice(["satisfied", "basically_satisfied", "dissatisfied"])})
                        if answer.status_code == 200 and rng.random() < 0.08:
                            stats["reviews"] += terminal.post(f"/v1/petitions/{pid}/actions", {
                                "action": "request_review", "reason": "对答复不满意"}).status_code == 200
    print(stats)
    print(f"未办理的单位 units that let deadlines pass: {len(lazy)} — their matters escalate")


def _terminal(http: httpx.Client, admin_token: str, unit: str) -> str:
    r = http.post("/v1/terminals", json={"unit_id": unit, "name": f"模拟终端 {unit}",
                                          "roles": ["registrar", "handler", "supervisor"]},
                  headers={"Authorization": f"Bearer {admin_token}"})
    r.raise_for_status()
    return r.json()["token"]


if __name__ == "__main__":
    app()
