"""Impossible dates and sizes, and extensions against the rules, refused by the running intake: each refusal is
problem+json naming the field, and nothing is stored (the event store, the matters and the petitioners unchanged)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from support.intake import BUREAU, VILLAGE, VILLAGE_CODE, matter, ndjson, post_import
from xinfang.events.catalogue import DeadlineChanged

PROBLEM = "application/problem+json"


def person() -> list[dict]:
    return [{"name": "赵六", "phone": "13900000000"}]


def registration(**overrides) -> dict:
    body = {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "拖欠工资",
            "head_count": 2, "petitioners": person()}
    body.update(overrides)
    return body


def refused(response, status: int, field: str, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["errors"][0]["field"] == field and problem["detail_zh"] and problem["detail_en"], problem
    if code is not None:
        assert problem["code"] == code, problem
    return problem


async def test_registrations_dated_beyond_the_offline_window_or_before_the_year_1000_are_refused(intake):
    before = await intake.stored()
    now = datetime.now(timezone.utc)
    for when in ("0999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+08:00", "1826-05-01T09:00:00+08:00",
                 (now - timedelta(days=7, minutes=5)).isoformat()):
        r = intake.post("/v1/petitions", registration(occurred_at=when))
        problem = refused(r, 422, "occurred_at", "refused.outside_offline_window")
        assert "imports" in problem["detail_en"]
    assert await intake.stored() == before


async def test_a_registration_ahead_of_intakes_clock_is_refused_a_little_ahead_is_taken_as_received(intake):
    before = await intake.stored()
    ahead = (datetime.now(timezone.utc) + timedelta(minutes=10)).isoformat()
    refused(intake.post("/v1/petitions", registration(occurred_at=ahead)), 422, "occurred_at",
            "refused.occurred_in_future")
    assert await intake.stored() == before
    sent = datetime.now(timezone.utc) + timedelta(seconds=30)  # a phone whose clock runs half a minute fast
    pid = intake.register(occurred_at=sent.isoformat())["petition_id"]
    registered_at = datetime.fromisoformat(intake.get(f"/v1/petitions/{pid}").json()["registered_at"])
    assert registered_at < sent and registered_at <= datetime.now(timezone.utc)


def test_a_registration_days_back_within_the_window_keeps_its_time(intake):
    when = datetime.now(timezone.utc) - timedelta(days=6)
    pid = intake.register(occurred_at=when.isoformat())["petition_id"]
    assert datetime.fromisoformat(intake.get(f"/v1/petitions/{pid}").json()["registered_at"]) == when


async def test_a_head_count_above_the_countys_bound_is_refused_for_registrations_and_visits(intake):
    before = await intake.stored()
    problem = refused(intake.post("/v1/petitions", registration(head_count=2001)), 422, "head_count",
                      "refused.head_count")
    assert "2000" in problem["detail_en"]
    assert await intake.stored() == before
    pid = intake.register(head_count=2000)["petition_id"]
    before = await intake.stored()
    refused(intake.post(f"/v1/petitions/{pid}/visits", {"channel": "visit", "head_count": 2001}), 422, "head_count")
    assert await intake.stored() == before
    assert intake.get(f"/v1/petitions/{pid}").json()["head_count"] == 2000


async def test_a_visit_dated_before_its_matters_first_batch_is_refused(intake):
    registered = datetime.now(timezone.utc) - timedelta(days=2)
    pid = intake.register(occurred_at=registered.isoformat())["petition_id"]
    before = await intake.stored()
    early = {"channel": "visit", "head_count": 1, "occurred_at": (registered - timedelta(hours=1)).isoformat()}
    problem = refused(intake.post(f"/v1/petitions/{pid}/visits", early), 422, "occurred_at", "refused.before_previous")
    assert "first batch" in problem["detail_en"]
    assert await intake.stored() == before
    later = {**early, "occurred_at": (registered + timedelta(hours=1)).isoformat()}
    assert intake.post(f"/v1/petitions/{pid}/visits", later).json()["batches"] == 2


async def test_an_action_dated_before_the_step_it_follows_is_refused(intake):
    registered = datetime.now(timezone.utc) - timedelta(days=2)
    pid = intake.register(occurred_at=registered.isoformat())["petition_id"]
    intake.route(pid, VILLAGE, "village")
    before = await intake.stored()
    early = {"action": "accept", "occurred_at": (registered - timedelta(minutes=1)).isoformat()}
    problem = refused(intake.post(f"/v1/petitions/{pid}/actions", early), 422, "occurred_at",
                      "refused.before_previous")
    assert "procedure" in problem["detail_en"]
    assert await intake.stored() == before
    accepted = registered + timedelta(hours=3)
    assert intake.post(f"/v1/petitions/{pid}/actions", {"action": "accept", "occurred_at": accepted.isoformat()}
                       ).json()["status"] == "accepted"
    reply = {"action": "reply", "decision": "support", "resolved": True, "facts": "已查明", "grounds": "已支付",
             "occurred_at": (accepted - timedelta(minutes=1)).isoformat()}
    refused(intake.post(f"/v1/petitions/{pid}/actions", reply), 422, "occurred_at", "refused.before_previous")


async def test_extension_days_above_the_tiers_limit_are_refused_naming_the_limit(intake):
    pid = intake.register()["petition_id"]
    intake.route(pid, VILLAGE, "village")
    assert intake.post(f"/v1/petitions/{pid}/actions", {"action": "accept"}).status_code == 200
    before = await intake.stored()
    r = intake.post(f"/v1/petitions/{pid}/actions", {"action": "extend", "days": 4, "reason": "情况复杂"})
    problem = refused(r, 422, "days", "refused.days")
    assert "3 working days" in problem["detail_en"]  # the demo county's village rooms extend by at most 3
    assert await intake.stored() == before
    assert intake.get(f"/v1/petitions/{pid}").json()["extended"] is False


async def test_an_extension_after_the_handling_limit_passed_is_refused_with_the_reason(intake):
    now = datetime.now(timezone.utc)
    pid = intake.register(occurred_at=(now - timedelta(hours=1)).isoformat())["petition_id"]
    intake.route(pid, VILLAGE, "village")
    accept = {"action": "accept", "occurred_at": (now - timedelta(minutes=10)).isoformat()}
    assert intake.post(f"/v1/petitions/{pid}/actions", accept).status_code == 200
    passed = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    intake.send_routing(pid, DeadlineChanged(unit=VILLAGE, stage="handle", due_at=passed, reason="accepted"))
    intake.wait_for(pid, lambda m: any(d["stage"] == "handle" for d in m["due"]))
    before = await intake.stored()
    r = intake.post(f"/v1/petitions/{pid}/actions", {"action": "extend", "days": 2, "reason": "来不及"})
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "refused.handle_due_passed" and "before it passes" in r.json()["detail_en"]
    assert await intake.stored() == before
    # an extension approved while the limit ran (an offline supervisor's, dated before the due) is granted
    approved = (datetime.now(timezone.utc) - timedelta(minutes=2)).isoformat()
    granted = intake.post(f"/v1/petitions/{pid}/actions",
                          {"action": "extend", "days": 2, "reason": "及时批准", "occurred_at": approved})
    assert granted.status_code == 200 and granted.json()["extended"] is True


async def test_imports_before_the_countys_history_from_or_too_large_are_refused_by_line_and_field(intake):
    before = await intake.stored()
    old = matter("old-1999", batches=[{"occurred_at": "1999-12-31T23:59:00+08:00", "channel": "visit",
                                       "head_count": 1, "unit": VILLAGE}], actions=[])
    ancient = matter("old-0999", batches=[{"occurred_at": "0999-06-01T09:00:00+08:00", "channel": "visit",
                                           "head_count": 1, "unit": VILLAGE}], actions=[])
    crowd = matter("old-crowd")
    crowd["batches"][1]["head_count"] = 2001
    late = matter("old-late-accept")
    late["actions"][0]["occurred_at"] = "2019-02-11T09:00:00+08:00"  # accepted before its first batch
    r = post_import(intake, ndjson(old, ancient, crowd, late), unit=BUREAU)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["outcome"], x["field"]) for x in results] == [
        ("refused", "batches.0.occurred_at"), ("refused", "batches.0.occurred_at"),
        ("refused", "batches.1.head_count"), ("refused", "actions.0.occurred_at")]  # the accept before the batch
    assert "history_from" in results[0]["detail"] and "2000-01-01" in results[1]["detail"]
    assert await intake.stored() == before
