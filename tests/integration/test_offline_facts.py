"""An offline terminal's facts win, and dues that are met are gone — intake, escalation and reporting as processes.

A village room accepts a matter 2 s after it was registered (inside the 4 s limit) and replies at 3 s,
on a terminal that syncs between 4.5 s and 12 s later, after the deadline: meanwhile escalation warned,
reported it overdue and escalated it (to the township, perhaps the county).  Twenty such matters run side
by side with random sync delays.  Whatever the delay, the events that stand (every routing event but the
withdrawn ones and the withdrawals) and the final states are the same, and reporting counts the
acceptance as timely with no overdue notice and no escalation.
"""
from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import orjson
import pytest
import yaml

from support.kafka import delete_run_topics, read_all, run_settings
from support.process import ROOT
from support.system import ADMIN, System
from support.tokens import client
from support.waiting import until
from xinfang.vocabulary import PAUSED_LABEL

MATTERS = 20
VILLAGE, ROOM, STATION = "361501100201", "room.361501100201", "station.361501100000"
OTHER_VILLAGE, OTHER_ROOM = "361501100202", "room.361501100202"
STANDING = ("assigned", "deadline_changed", "closed")
ERRONEOUS = {"deadline_warning", "overdue", "escalated"}


def short(event_type: str) -> str:
    return event_type.removeprefix("petition.").rsplit(".v", 1)[0]  # assigned, escalated, deadline_changed are .v2


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


@pytest.fixture(scope="module")
def system(settings, kafka_bootstrap, tmp_path_factory):
    folder = tmp_path_factory.mktemp("offline")
    county = yaml.safe_load((ROOT / "tests" / "fixtures" / "county_fast.yaml").read_text())
    for limits in county["time_limits"].values():  # accept in 4 s as before; handling long enough to watch
        limits["handle"] = {"amount": 60, "unit": "seconds"}
    (folder / "county.yaml").write_text(yaml.safe_dump(county, allow_unicode=True))
    run = run_settings(settings, uuid.uuid4().hex[:8])
    sys_ = System(run, settings.database_url, folder, county=folder / "county.yaml").start()
    yield sys_
    sys_.stop()
    delete_run_topics(run, f"escalation-{sys_.run}")


class Terminal:
    def __init__(self, system: System, unit: str, roles: tuple[str, ...] = ("registrar", "handler")) -> None:
        self.http = httpx.Client(base_url=system.procs["intake"].url, timeout=30)
        r = self.http.post("/v1/terminals", headers={"Authorization": f"Bearer {ADMIN}"},
                           json={"unit_id": unit, "name": f"离线终端 {unit}", "roles": list(roles)})
        r.raise_for_status()
        self.headers = {"Authorization": f"Bearer {r.json()['token']}"}

    def post(self, path: str, body: dict) -> httpx.Response:
        return self.http.post(path, json=body, headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex})

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers)

    def register(self, jurisdiction: str) -> tuple[str, datetime]:
        r = self.post("/v1/petitions", {"channel": "visit", "jurisdiction": jurisdiction, "category": "labour",
                                        "summary": "拖欠工资", "head_count": 1, "petitioners": [{"name": "张三"}]})
        assert r.status_code == 201, r.text
        pid = r.json()["petition_id"]
        return pid, datetime.fromisoformat(self.get(f"/v1/petitions/{pid}").json()["registered_at"])

    def wait_for(self, pid: str, done, what: str, timeout: float = 60) -> dict:
        last: dict = {}

        def matter() -> dict | None:
            last["body"] = self.get(f"/v1/petitions/{pid}").json()
            return last["body"] if done(last["body"]) else None

        return until(matter, lambda: f"{what} of {pid}: {last['body']}", timeout=timeout, every=0.2)


def routing_by_matter(system: System, pids: set[str]) -> dict[str, list[dict]]:
    by_pid: dict[str, list[dict]] = {pid: [] for pid in pids}
    for record in read_all(system.settings.kafka_bootstrap, system.settings.topic_routing):
        envelope = orjson.loads(record.value)
        if envelope["subject"] in by_pid:
            by_pid[envelope["subject"]].append(envelope)
    return by_pid


def standing(events: list[dict]) -> tuple[str, ...]:
    withdrawn = {e["data"]["withdrawn_id"] for e in events if e["type"] == "petition.routing_withdrawn.v1"}
    return tuple(short(e["type"]) for e in events
                 if e["type"] != "petition.routing_withdrawn.v1" and e["id"] not in withdrawn)


def test_twenty_offline_acceptances_synced_after_the_deadline_end_the_same_whatever_the_delay(system):
    room = Terminal(system, ROOM)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    matters = [room.register(VILLAGE) for _ in range(MATTERS)]
    for pid, _ in matters:
        room.wait_for(pid, lambda b: b["holder_unit"] == ROOM, "the first assignment")
    syncs = sorted(((at + timedelta(seconds=rng.uniform(4.5, 12.0)), pid, at) for pid, at in matters),
                   key=lambda s: s[0])
    for sync_at, pid, at in syncs:
        # the scenario itself, not a stand-in for a condition: the terminal comes online at its chosen instant
        time.sleep(max(0.0, (sync_at - datetime.now(timezone.utc)).total_seconds()))
        r = room.post(f"/v1/petitions/{pid}/actions", {"action": "accept", "occurred_at": iso(at + timedelta(seconds=2))})
        assert r.status_code == 200, f"seed {seed}: {r.text}"  # the room held it at 2 s, whoever holds it now
        r = room.post(f"/v1/petitions/{pid}/actions", {
            "action": "reply", "decision": "support", "resolved": True, "facts": "已查明", "grounds": "已补发工资",
            "occurred_at": iso(at + timedelta(seconds=3))})
        assert r.status_code == 200, f"seed {seed}: {r.text}"

    pids = {pid for pid, _ in matters}
    last: dict = {}

    def settled():  # escalation has withdrawn what it sent in error and closed each matter when the review window passed
        last["by_pid"] = routing_by_matter(system, pids)
        return all(standing(events) == STANDING for events in last["by_pid"].values())

    until(settled, lambda: f"seed {seed}: {Counter(standing(e) for e in last['by_pid'].values())}", timeout=90, every=0.5)
    by_pid = last["by_pid"]
    for events in by_pid.values():
        types = Counter(short(e["type"]) for e in events)
        sent = types["deadline_warning"] + types["overdue"] + types["escalated"]
        assert sent >= 2 and types["routing_withdrawn"] == sent, f"seed {seed}: {types}"  # every one withdrawn
        withdrawn = [e["data"] for e in events if e["type"] == "petition.routing_withdrawn.v1"]
        assert {short(w["withdrawn_type"]) for w in withdrawn} <= ERRONEOUS
        assert withdrawn[-1]["unit"] == ROOM  # the last one undone gives it back to the unit that met the due
        assert len({e["id"] for e in events}) == len(events)

    # the final states: intake's holder and dues, escalation's matter (its page needs a supervisor's token)
    supervisor = Terminal(system, system.reader_unit, ("supervisor",)).headers["Authorization"].removeprefix("Bearer ")
    escalation = client(system.procs["escalation"].url, supervisor, path="/timers")
    finals = set()
    for pid in pids:
        body = room.wait_for(pid, lambda b: b["holder_unit"] == ROOM and b["status"] == "replied",
                             "intake to follow the withdrawals")
        matter = escalation.get(f"/matters/{pid}").json()
        finals.add((body["holder_unit"], body["holder_tier"], body["status"], tuple(body["due"]),
                    matter["unit"], matter["tier"], matter["closed"], matter["clock"]))
    assert finals == {(ROOM, "village", "replied", (), ROOM, "village", "review_window_passed", None)}, finals
    assert not pids & {w["petition_id"] for w in room.get("/v1/worklist").json()}  # replied: nothing left to do

    # reporting, caught up with both topics, counts every acceptance as timely and nothing withdrawn
    records = len(read_all(system.settings.kafka_bootstrap, system.settings.topic_events)) + \
        len(read_all(system.settings.kafka_bootstrap, system.settings.topic_routing))
    reporting = system.reporting()  # the county bureau auditor's token
    today = datetime.now(timezone(timedelta(hours=8))).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat(), "jurisdiction": VILLAGE}
    seen: dict = {}

    def caught_up() -> dict | None:
        seen["figures"] = reporting.get("/v1/stats", params=period).json()
        metrics = httpx.get(f"{system.procs['reporting'].url}/metrics", timeout=10).text
        seen["projected"] = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                                if line.startswith("reporting_events_projected_total{"))
        done = seen["projected"] >= records and seen["figures"]["figures"]["accepted_on_time"]["value"] == MATTERS
        return seen["figures"] if done else None

    figures = until(caught_up, lambda: f"reporting caught up: {seen['projected']} of {records} projected, "
                                       f"{seen['figures']}", timeout=60, every=0.5)
    values = {k: figures["figures"][k]["value"] for k in
              ("cases", "accept_due", "accepted_on_time", "handle_due", "replied_on_time", "resolved")}
    assert values == {"cases": MATTERS, "accept_due": MATTERS, "accepted_on_time": MATTERS, "handle_due": MATTERS,
                      "replied_on_time": MATTERS, "resolved": MATTERS}, values
    units = {u["unit"]: u for u in figures["units"]}
    assert sum(u["overdue"] for u in units.values()) == 0 and sum(u["escalated_away"] for u in units.values()) == 0
    assert units[ROOM]["accept_due"] == units[ROOM]["accepted_on_time"] == MATTERS
    assert all(u["accept_due"] == 0 for unit, u in units.items() if unit != ROOM)  # no due of a withdrawn escalation
    months = reporting.get("/v1/stats/series", params=period).json()["months"]
    assert sum(m["overdue"] for m in months) == 0 and sum(m["escalated"] for m in months) == 0


def test_the_worklist_shows_only_open_dues_and_a_paused_matter_as_paused(system):
    room = Terminal(system, OTHER_ROOM)
    accepted, _ = room.register(OTHER_VILLAGE)
    paused, _ = room.register(OTHER_VILLAGE)
    for pid in (accepted, paused):
        body = room.wait_for(pid, lambda b: b["holder_unit"] == OTHER_ROOM, "the first assignment")
        assert [d["stage"] for d in body["due"]] == ["accept"]
        assert room.post(f"/v1/petitions/{pid}/actions", {"action": "accept"}).status_code == 200
    for pid in (accepted, paused):
        body = room.wait_for(pid, lambda b: [d["stage"] for d in b["due"]] == ["handle"], "the handling due")
    assert room.post(f"/v1/petitions/{paused}/actions", {"action": "suspend", "reason": "听证"}).status_code == 200
    seen: dict = {}

    def listed() -> dict | None:
        items = seen["items"] = {w["petition_id"]: w for w in room.get("/v1/worklist").json()}
        return items if paused in items and items[paused]["suspended"] and accepted in items else None

    items = until(listed, lambda: f"the worklist showing {accepted} and {paused} suspended: {seen['items']}",
                  timeout=30, every=0.2)
    handle_due = room.get(f"/v1/petitions/{accepted}").json()["due"][0]["due_at"]
    assert datetime.fromisoformat(items[accepted]["next_due_at"]) == datetime.fromisoformat(handle_due)
    assert items[accepted]["due_label"] is None
    assert items[paused]["next_due_at"] is None and items[paused]["due_label"] == PAUSED_LABEL
    assert next(iter(items)) == accepted  # what is due comes before what is paused


def test_back_dating_beyond_the_offline_window_is_refused_naming_occurred_at(system):
    room = Terminal(system, OTHER_ROOM)
    pid, _ = room.register(OTHER_VILLAGE)
    room.wait_for(pid, lambda b: b["holder_unit"] == OTHER_ROOM, "the first assignment")
    old = datetime.now(timezone.utc) - timedelta(days=8)
    r = room.post(f"/v1/petitions/{pid}/actions", {"action": "accept", "occurred_at": iso(old)})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["errors"][0]["field"] == "occurred_at" and "offline window" in problem["detail_en"]
    assert room.get(f"/v1/petitions/{pid}").json()["status"] == "assigned"  # nothing stored
