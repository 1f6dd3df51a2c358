"""Every endpoint and refusal path of the terminal API, over HTTP, against the real PostgreSQL and Kafka."""
from __future__ import annotations

import concurrent.futures
import uuid
from datetime import datetime, timezone

import orjson

from support.intake import ADMIN, BUREAU, OTHER_VILLAGE, OTHER_VILLAGE_CODE, TOWNSHIP, VILLAGE, VILLAGE_CODE
from support.kafka import envelopes, read_all
from support.waiting import until
from xinfang.events import GENESIS_HASH, CloudEvent, verify_chain
from xinfang.events.catalogue import Assigned

PROBLEM = "application/problem+json"


def test_registration_is_stored_published_encrypted_and_chained(intake):
    reg = intake.register()
    assert reg["receipt_no"].startswith("2026-361402-") and reg["status"] == "registered"
    got = intake.get(f"/v1/petitions/{reg['petition_id']}")
    assert got.status_code == 200
    person = got.json()["petitioners"][0]
    assert person["name"] == "张三" and person["id_number"] == "36140219800101123X"
    records = read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, expect=1,
                       key=reg["petition_id"].encode())
    assert len(records) == 1
    assert b"36140219800101123X" not in records[0].value and "张三".encode() not in records[0].value
    envelope = orjson.loads(records[0].value)
    assert envelope["type"] == "petition.registered.v1" and envelope["seq"] == 1
    assert verify_chain([envelope]) == []


def test_idempotency_key_semantics(intake):
    body = {"channel": "letter", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "重试",
            "head_count": 1, "petitioners": [{"name": "李四"}]}
    key = uuid.uuid4().hex
    first = intake.post("/v1/petitions", body, key=key)
    again = intake.post("/v1/petitions", body, key=key)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = intake.post("/v1/petitions", {**body, "summary": "另一内容"}, key=key)
    assert other.status_code == 422 and other.headers["content-type"] == PROBLEM
    assert other.json()["code"] == "idempotency.mismatch"
    token = intake.terminal(VILLAGE)
    missing = intake.http.post("/v1/petitions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency.missing"
    # keys are scoped per terminal: another terminal may use the same key for its own request
    assert intake.post("/v1/petitions", body, unit=TOWNSHIP, key=key).json()["petition_id"] != first.json()["petition_id"]


def test_concurrent_retries_with_one_key_make_one_matter(intake):
    body = {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "并发重试",
            "head_count": 2, "petitioners": [{"name": "王五"}]}
    key, token = uuid.uuid4().hex, intake.terminal(VILLAGE)

    def send(_):
        return intake.http.post("/v1/petitions", json=body,
                                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert len({a.json()["petition_id"] for a in answers if a.status_code == 201}) == 1
    assert all(a.json()["code"] == "idempotency.in_flight" for a in answers if a.status_code == 409)


def test_the_full_lifecycle_over_http(intake):
    pid = intake.register()["petition_id"]
    act = lambda body, unit=VILLAGE: intake.post(f"/v1/petitions/{pid}/actions", body, unit)  # noqa: E731
    refused = act({"action": "accept"})
    assert refused.status_code == 409 and refused.json()["code"] == "refused.status"
    intake.route(pid, VILLAGE, "village")
    assert act({"action": "accept"}).json()["status"] == "accepted"
    assert act({"action": "suspend", "reason": "听证"}).json()["suspended"] is True
    assert act({"action": "reply", "decision": "support", "resolved": True, "facts": "已查明", "grounds": "x"}).status_code == 409
    assert act({"action": "resume"}).json()["suspended"] is False
    assert act({"action": "extend", "days": 3, "reason": "情况复杂"}).json()["extended"] is True  # a village's most
    again = act({"action": "extend", "days": 2, "reason": "再延"})
    assert again.status_code == 409 and "once" in again.json()["detail_en"]
    assert act({"action": "reply", "decision": "explain", "resolved": False,
                "facts": "已查明", "grounds": "已解释"}).json()["status"] == "replied"
    assert act({"action": "evaluate", "satisfaction": "dissatisfied"}).status_code == 200
    assert act({"action": "request_review", "reason": "不服"}).json()["status"] == "review_requested"
    intake.route(pid, TOWNSHIP, "township", kind="review")
    reply = {"action": "reply_review", "decision": "explain", "resolved": False, "facts": "已查明", "grounds": "维持"}
    assert act(reply, TOWNSHIP).json()["status"] == "reviewed"
    assert act({"action": "request_recheck", "reason": "仍不服"}).json()["status"] == "recheck_requested"
    intake.route(pid, BUREAU, "county", kind="recheck")
    final = act({"action": "reply_recheck", "decision": "reject", "resolved": False,
                 "facts": "已查明", "grounds": "终结"}, BUREAU)
    assert final.json()["status"] == "terminated"
    assert act({"action": "withdraw"}).status_code == 409
    records = read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, expect=12, key=pid.encode())
    chain = envelopes(records)
    assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1)) and verify_chain(chain) == []
    assert chain[-1]["type"] == "petition.terminated.v1"


def test_decline_transfer_objection_and_withdrawal(intake):
    declined = intake.register()["petition_id"]
    intake.route(declined, VILLAGE, "village")
    r = intake.post(f"/v1/petitions/{declined}/actions", {"action": "decline", "reason": "属诉讼事项", "redirect": "court"})
    assert r.json()["status"] == "declined"
    moved = intake.register()["petition_id"]
    intake.route(moved, VILLAGE, "village")
    r = intake.post(f"/v1/petitions/{moved}/actions", {"action": "transfer", "reason": "属住建职责", "category": "housing"})
    assert r.json()["status"] == "transferred" and r.json()["holder_unit"] is None
    objected = intake.register()["petition_id"]
    intake.route(objected, VILLAGE, "village")
    r = intake.post(f"/v1/petitions/{objected}/actions", {"action": "object", "reason": "非本单位职责"})
    assert r.json()["status"] == "objected"
    gone = intake.register()["petition_id"]
    withdrawn = intake.post(f"/v1/petitions/{gone}/actions", {"action": "withdraw", "reason": "已自行协商"})
    assert withdrawn.json()["status"] == "withdrawn"


def test_visits_add_batches(intake):
    pid = intake.register(head_count=2)["petition_id"]
    r = intake.post(f"/v1/petitions/{pid}/visits", {"channel": "visit", "head_count": 7, "petitioners": [{"name": "赵六"}]})
    assert r.status_code == 201 and r.json()["batches"] == 2 and r.json()["head_count"] == 9


def test_scope_other_village_sees_nothing_and_cannot_act(intake):
    pid = intake.register()["petition_id"]
    assert intake.get(f"/v1/petitions/{pid}", unit=OTHER_VILLAGE).status_code == 404
    r = intake.post(f"/v1/petitions/{pid}/actions", {"action": "withdraw"}, unit=OTHER_VILLAGE)
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM  # as if it did not exist (test_doors.py)
    assert intake.get(f"/v1/petitions/{pid}", unit=TOWNSHIP).status_code == 200  # the township above sees it
    foreign = intake.post("/v1/petitions", {"channel": "visit", "jurisdiction": OTHER_VILLAGE_CODE, "category": "labour",
                                            "summary": "x", "head_count": 1, "petitioners": [{"name": "甲"}]})
    assert foreign.status_code == 403


def test_roles_and_holder_are_enforced(intake):
    pid = intake.register()["petition_id"]
    intake.route(pid, VILLAGE, "village")
    registrar_only = intake.post(f"/v1/petitions/{pid}/actions", {"action": "accept"}, roles=("registrar",))
    assert registrar_only.status_code == 403 and registrar_only.json()["code"] == "refused.role"
    assert intake.post(f"/v1/petitions/{pid}/actions", {"action": "accept"}, unit=TOWNSHIP).status_code == 200


def test_two_concurrent_actions_one_wins_the_other_gets_409(intake):
    pid = intake.register()["petition_id"]
    intake.route(pid, VILLAGE, "village")
    token = intake.terminal(VILLAGE)

    def accept(_):
        return intake.http.post(f"/v1/petitions/{pid}/actions", json={"action": "accept"},
                                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(accept, range(2)), key=lambda a: a.status_code)
    assert [a.status_code for a in answers] == [200, 409]
    assert answers[1].json()["detail_zh"] and answers[1].headers["content-type"] == PROBLEM


def test_validation_errors_name_the_field_in_both_languages(intake):
    r = intake.post("/v1/petitions", {"channel": "fax", "jurisdiction": VILLAGE_CODE, "category": "labour",
                                      "summary": "x", "head_count": 0, "petitioners": [{"name": "甲", "id_number": "123"}]})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"channel", "head_count", "petitioners.0.id_number"} <= fields
    assert all(e["message_zh"] and e["message_en"] for e in r.json()["errors"])
    unknown = intake.post("/v1/petitions", {"channel": "visit", "jurisdiction": VILLAGE_CODE,
                                            "category": "nope", "summary": "x", "head_count": 1,
                                            "petitioners": [{"name": "甲"}]})
    assert unknown.status_code == 422 and unknown.json()["code"] == "refused.category"


def test_auth_terminals_and_revocation(intake):
    assert intake.http.get("/v1/units").status_code == 401
    assert intake.http.get("/v1/units", headers={"Authorization": "Bearer xft_nope"}).status_code == 401
    r = intake.http.post("/v1/terminals", json={"unit_id": VILLAGE, "name": "x", "roles": ["registrar"]},
                         headers={"Authorization": "Bearer not-the-admin"})
    assert r.status_code == 403
    created = intake.http.post("/v1/terminals", json={"unit_id": VILLAGE, "name": "临时", "roles": ["registrar"]},
                               headers={"Authorization": f"Bearer {ADMIN}"}).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert intake.http.get("/v1/categories", headers=auth).status_code == 200
    assert intake.http.delete(f"/v1/terminals/{created['id']}", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 204
    assert intake.http.get("/v1/categories", headers=auth).status_code == 401


def test_worklist_soonest_due_first_and_reference_data(intake):
    unit = "room.361402001003"
    r = intake.get("/v1/worklist", unit=unit)
    assert r.status_code == 200
    units = intake.get("/v1/units").json()
    assert any(u["id"] == BUREAU and u["tier"] == "county" for u in units)
    assert any(c["code"] == "labour" for c in intake.get("/v1/categories").json())


def test_routing_consumer_dead_letters_what_it_cannot_read_and_is_observed(intake):
    pid = intake.register()["petition_id"]
    intake.route(pid, VILLAGE, "village")
    bad_key = uuid.uuid4().hex.encode()
    intake.producer.send(intake.settings.topic_routing, key=bad_key, value=b'{"not": "an event"}').get(30)
    # well formed and chained, but about no matter intake could hold: dead-lettered, not retried for ever
    now = datetime.now(timezone.utc)
    stray = CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361402/escalation",
                               type="petition.assigned.v2", subject="not-a-petition", recorded=now, occurred=now,
                               actor="system:escalation", seq=1, prevhash=GENESIS_HASH,
                               data=Assigned(unit=VILLAGE, tier="village", jurisdiction=VILLAGE_CODE, rule="test",
                                          stage="accept", due=[], basis_seq=1).model_dump(mode="json"))
    stray_key = uuid.uuid4().hex.encode()
    intake.producer.send(intake.settings.topic_routing, key=stray_key, value=stray.to_json()).get(30)
    dead = read_all(intake.settings.kafka_bootstrap, intake.settings.topic_deadletter, expect=1, key=bad_key)
    assert len(dead) == 1 and b"unreadable routing event" in dead[0].value
    dead = read_all(intake.settings.kafka_bootstrap, intake.settings.topic_deadletter, expect=1, key=stray_key)
    assert len(dead) == 1 and b"not-a-petition" in dead[0].value
    later = intake.register()["petition_id"]
    intake.route(later, VILLAGE, "village")  # the consumer went on past both

    def value(text: str, name: str) -> float | None:
        lines = [line for line in text.splitlines() if line.startswith(name)]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines) if lines else None

    def caught_up() -> str:  # the lag is measured at most a second after the last batch
        text = intake.http.get("/metrics").text
        return text if value(text, "intake_routing_consumer_lag{") == 0 else ""

    text = until(caught_up, "intake's routing consumer lag measured as 0", timeout=10, every=0.1)
    assert value(text, "intake_routing_applied_total") >= 2
    assert value(text, "intake_routing_dead_letters_total") >= 2
    assert value(text, "intake_routing_consumer_lag{") == 0, text
    # the matter is held as routed, the bad record changed nothing
    assert intake.get(f"/v1/petitions/{pid}").json()["holder_unit"] == VILLAGE
