"""The desk finds a person's matters by identity number or phone, within its scope, and registration names the
matters a new one may repeat — on blind indexes that erasure deletes.  A real intake process (demo county)."""
from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta

import asyncpg
import pytest

from intake import store
from intake.api.lookup_schemas import possible_repeat
from intake.desk import Found, possible_repeats
from intake.domain.identifiers import check_character
from intake.domain.repeats import may_repeat
from intake.keyring import Keyring
from intake.organisation import may_see
from support.intake import (
    ADMIN,
    BUREAU,
    OTHER_VILLAGE,
    OTHER_VILLAGE_CODE,
    TOWNSHIP,
    VILLAGE,
    identity_number,
    matter,
    mobile,
    ndjson,
    post_import,
)
from support.process import ROOT
from xinfang.county import load_county
from xinfang.problems import PROBLEM
from xinfang.terminals import token_hash

rng = random.Random()
ENDPOINTS = {"/v1/lookups/id-number": lambda p: {"id_number": p["id_number"]},
             "/v1/lookups/phone": lambda p: {"phone": p["phone"]},
             "/v1/petitions/repeat-check": lambda p: {"petitioners": [{"id_number": p["id_number"]}]}}


def assert_problem(response, status: int, code: str | None = None, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["detail_zh"] and problem["detail_en"], problem
    assert code is None or problem["code"] == code, problem
    assert field is None or problem["errors"][0]["field"] == field, problem


def person(name: str = "王小明") -> dict:
    return {"name": name, "id_number": identity_number(rng), "phone": mobile(rng)}


def desk(intake, unit: str, roles=("registrar", "handler")) -> str:
    """A new terminal of ``unit``: each test spends its own lookup allowance."""
    r = intake.http.post("/v1/terminals", json={"unit_id": unit, "name": f"接待台 {unit}", "roles": list(roles)},
                         headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def ask(intake, token: str, path: str, body: dict):
    return intake.http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def found(intake, token: str, **identifier) -> list[dict]:
    kind, = identifier
    r = ask(intake, token, f"/v1/lookups/{'id-number' if kind == 'id_number' else 'phone'}", identifier)
    assert r.status_code == 200, r.text
    return r.json()["matters"]


def test_a_person_is_found_by_identity_number_and_by_phone_in_any_written_form_with_the_names(intake):
    someone = person("王小明")
    first = intake.register(petitioners=[someone, person("旁人")])
    token = desk(intake, VILLAGE)
    by_id = found(intake, token, id_number=someone["id_number"].lower())
    assert [(m["petition_id"], m["receipt_no"], m["names"], m["matched_by"]) for m in by_id] == [
        (first["petition_id"], first["receipt_no"], ["王小明"], ["id_number"])]
    assert (by_id[0]["status"], by_id[0]["category"], by_id[0]["place"]) == ("registered", "labour", "东门社区")
    old_card = someone["id_number"][:6] + someone["id_number"][8:17]  # the 15 digits of a first-generation card
    assert [m["petition_id"] for m in found(intake, token, id_number=old_card)] == [first["petition_id"]]
    phone = someone["phone"]
    for written in (phone, f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}", f"0086-{phone}"):
        assert [m["petition_id"] for m in found(intake, token, phone=written)] == [first["petition_id"]]
    township = desk(intake, TOWNSHIP)  # the station above the room sees it too
    assert [m["names"] for m in found(intake, township, phone=phone)] == [["王小明"]]


def test_outside_the_scope_a_lookup_answers_exactly_as_for_a_person_never_registered(intake):
    someone = person()
    intake.register(petitioners=[someone])
    elsewhere, stranger = desk(intake, OTHER_VILLAGE), person()
    for path, body in ENDPOINTS.items():
        known, unknown = ask(intake, elsewhere, path, body(someone)), ask(intake, elsewhere, path, body(stranger))
        assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (200, unknown.content)
        assert known.json() in ({"matters": []}, {"possible_repeats": []})
    assert found(intake, desk(intake, VILLAGE), id_number=someone["id_number"])  # in scope it is there


async def test_an_erased_person_is_found_by_neither_identifier_and_their_index_rows_are_gone(intake):
    someone = person("要删除的人")
    pid = intake.register(petitioners=[someone])["petition_id"]
    ref = intake.get(f"/v1/petitions/{pid}").json()["petitioners"][0]["ref"]
    token = desk(intake, VILLAGE)
    assert found(intake, token, id_number=someone["id_number"]) and found(intake, token, phone=someone["phone"])
    r = intake.http.post(f"/v1/petitions/{pid}/petitioners/{ref}/erasure",
                         headers={"Authorization": f"Bearer {ADMIN}", "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 200, r.text
    assert found(intake, token, id_number=someone["id_number"]) == found(intake, token, phone=someone["phone"]) == []
    assert ask(intake, token, "/v1/petitions/repeat-check",
               {"petitioners": [{"id_number": someone["id_number"], "phone": someone["phone"]}]}).json() == {
        "possible_repeats": []}
    conn = await asyncpg.connect(intake.settings.database_url)
    try:
        assert await conn.fetchval(f"SELECT count(*) FROM {intake.schema}.blind_indexes WHERE ref = $1", ref) == 0
    finally:
        await conn.close()


def test_a_second_registration_of_the_same_person_lists_the_first_as_a_possible_repeat_and_is_not_refused(intake):
    someone = person("老李")
    first = intake.register(petitioners=[someone], category="housing")
    assert first["possible_repeats"] == []
    token = desk(intake, VILLAGE)
    checked = ask(intake, token, "/v1/petitions/repeat-check", {"petitioners": [{"phone": someone["phone"]}]})
    assert [(m["petition_id"], m["category"], m["place"], m["matched_by"]) for m in
            checked.json()["possible_repeats"]] == [(first["petition_id"], "housing", "东门社区", ["phone"])]
    key = uuid.uuid4().hex
    again = {"channel": "letter", "jurisdiction": "361402001001", "category": "labour", "summary": "又来了",
             "head_count": 1, "petitioners": [{"name": "老李", "id_number": someone["id_number"]}]}
    second = intake.post("/v1/petitions", again, key=key)
    assert second.status_code == 201, second.text
    repeats = second.json()["possible_repeats"]
    assert [(m["petition_id"], m["receipt_no"], m["category"], m["jurisdiction"], m["place"], m["matched_by"])
            for m in repeats] == [(first["petition_id"], first["receipt_no"], "housing", "361402001001", "东门社区",
                                   ["id_number"])]
    assert "names" not in repeats[0] and "老李" not in second.text  # the answer is kept with its key: no personal data
    assert intake.post("/v1/petitions", again, key=key).json() == second.json()  # a retry: the first answer
    third = intake.post("/v1/petitions", again)
    assert {m["petition_id"] for m in third.json()["possible_repeats"]} == {first["petition_id"],
                                                                           second.json()["petition_id"]}
    # registered in the next village, the same person's matters there are outside the room's scope: none listed
    there = intake.register(unit=OTHER_VILLAGE, jurisdiction=OTHER_VILLAGE_CODE, petitioners=[someone])
    assert there["possible_repeats"] == []


def test_a_closed_matter_older_than_the_repeat_window_is_found_but_not_offered_as_a_repeat(intake):
    someone = person("老王")
    line = matter(f"old-{uuid.uuid4().hex[:8]}")  # registered, replied and evaluated in 2019
    line["batches"][0]["petitioners"] = [someone]
    r = post_import(intake, ndjson(line))
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "created", r.text
    token = desk(intake, BUREAU)
    assert [m["status"] for m in found(intake, token, id_number=someone["id_number"])] == ["replied"]
    assert ask(intake, token, "/v1/petitions/repeat-check",
               {"petitioners": [{"id_number": someone["id_number"]}]}).json() == {"possible_repeats": []}


async def test_possible_repeats_read_from_the_columns_are_decided_and_shown_as_from_the_whole_state(intake):
    """desk.possible_repeats reads a few columns, not the state: at the window's edge, closed or open, merged, in
    scope or not, it offers what the whole stored state would, field for field."""
    someone = person("老赵")
    first, second = (intake.register(petitioners=[someone])["petition_id"] for _ in range(2))
    elsewhere = intake.register(unit=OTHER_VILLAGE, jurisdiction=OTHER_VILLAGE_CODE, petitioners=[someone])
    line = matter(f"edge-{uuid.uuid4().hex[:8]}")  # closed in 2019
    line["batches"][0]["petitioners"] = [someone]
    r = post_import(intake, ndjson(line))
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "created", r.text
    old = r.json()["results"][0]["petition_id"]
    r = intake.post(f"/v1/petitions/{second}/actions", {"action": "merge", "into": first, "reason": "重复登记"},
                    unit=BUREAU)
    assert r.status_code == 200 and r.json()["merged_into"] == first, r.text
    county, keyring = load_county(ROOT / "deploy" / "counties" / "demo.yaml"), Keyring(b"k" * 32, "aes-gcm")
    digests = [("id_number", keyring.digest("id_number", someone["id_number"])),
               ("phone", keyring.digest("phone", someone["phone"]))]
    conn = await asyncpg.connect(intake.settings.database_url, server_settings={"search_path": intake.schema})
    try:
        whole = {str(r["petition_id"]): store.state_from_json(r["state"]) for r in await conn.fetch(
            "SELECT petition_id, state FROM petitions WHERE petition_id = ANY($1::uuid[])",
            [first, second, elsewhere["petition_id"], old])}
        closed = whole[old].last_fact_at
        edge = closed + county.repeat_window  # the last moment the 2019 matter is still a possible repeat
        offered = {}
        for unit in (VILLAGE, OTHER_VILLAGE, TOWNSHIP, BUREAU):
            for now in (edge, edge + timedelta(microseconds=1)):
                found = await possible_repeats(conn, county, unit, digests, now)
                offered[unit, now] = {f.state.petition_id for f in found}
                assert {f.state.petition_id: possible_repeat(county, f) for f in found} == {
                    pid: possible_repeat(county, Found(state, ("id_number", "phone"), ()))
                    for pid, state in whole.items()
                    if may_see(county, unit, state) and may_repeat(state, now, county.repeat_window)}, (unit, now)
    finally:
        await conn.close()
    assert offered[VILLAGE, edge] == {first, old}  # open, and closed within the window; never the merged one
    assert offered[VILLAGE, edge + timedelta(microseconds=1)] == {first}  # closed just beyond the window
    assert offered[OTHER_VILLAGE, edge] == {elsewhere["petition_id"]}  # the room's own matters are out of its scope
    assert offered[BUREAU, edge] == {first, old, elsewhere["petition_id"]}


def test_an_identifier_in_no_valid_form_is_refused_naming_the_field_and_a_registration_never_is(intake):
    token = desk(intake, VILLAGE)
    first17 = identity_number(rng)[:17]
    wrong_check = first17 + next(c for c in "0123456789" if c != check_character(first17))
    assert_problem(ask(intake, token, "/v1/lookups/id-number", {"id_number": wrong_check}), 422,
                   "refused.id_number_check", field="id_number")
    assert_problem(ask(intake, token, "/v1/lookups/phone", {"phone": "+1 202 555 0100"}), 422, "refused.phone",
                   field="phone")
    assert_problem(ask(intake, token, "/v1/petitions/repeat-check",
                       {"petitioners": [{"phone": mobile(rng)}, {"id_number": "12345"}]}), 422,
                   "refused.id_number", field="petitioners.1.id_number")
    # registered with that number all the same (the clerk may have the card in hand): stored, not indexed
    intake.register(petitioners=[{"name": "号码有误", "id_number": wrong_check}])


@pytest.mark.parametrize("path", ENDPOINTS)
def test_without_a_token_with_a_wrong_one_or_without_a_desk_role_nothing_is_looked_up(intake, path):
    body = ENDPOINTS[path](person())
    assert_problem(intake.http.post(path, json=body), 401)
    assert_problem(intake.http.post(path, json=body, headers={"Authorization": "Bearer xft_wrong"}), 401,
                   "auth.invalid")
    assert_problem(intake.http.post(path, content=b"not json", headers={"Authorization": "Bearer xft_wrong"}), 401)
    auditor = desk(intake, BUREAU, roles=("auditor",))
    assert_problem(ask(intake, auditor, path, body), 403, "refused.role")


async def test_every_lookup_is_in_the_access_log_with_the_matters_it_showed_and_never_the_identifier(intake):
    someone = person()
    pid = intake.register(petitioners=[someone])["petition_id"]
    token = desk(intake, VILLAGE)
    found(intake, token, id_number=someone["id_number"])
    found(intake, token, phone=mobile(rng))  # nobody
    ask(intake, desk(intake, OTHER_VILLAGE), "/v1/lookups/phone", {"phone": someone["phone"]})  # out of scope
    conn = await asyncpg.connect(intake.settings.database_url)
    try:
        terminal = await conn.fetchval(f"SELECT id FROM {intake.schema}.terminals WHERE token_hash = $1", token_hash(token))
        rows = await conn.fetch(f"SELECT action, petition_id::text AS pid, outcome, detail FROM {intake.schema}.access_log"
                                " WHERE terminal_id = $1 ORDER BY id", terminal)
        everything = await conn.fetchval(f"SELECT string_agg(coalesce(detail, ''), ' ') FROM {intake.schema}.access_log")
        other = await conn.fetch(f"SELECT action, petition_id FROM {intake.schema}.access_log WHERE unit_id = $1 "
                                 "AND action LIKE 'lookup_%'", OTHER_VILLAGE)
    finally:
        await conn.close()
    assert [(r["action"], r["pid"], r["outcome"]) for r in rows] == [
        ("lookup_id_number", pid, "shown"), ("lookup_phone", None, "none")]
    assert ("lookup_phone", None) in {(r["action"], r["petition_id"]) for r in other}  # logged, showing nothing
    assert someone["id_number"] not in everything and someone["phone"] not in everything


def test_a_terminal_cannot_walk_the_identity_numbers_it_is_limited_per_minute(intake):
    token = desk(intake, VILLAGE)
    started, answers = time.monotonic(), []
    for _ in range(45):
        answers.append(ask(intake, token, "/v1/lookups/id-number", {"id_number": identity_number(rng)}))
    elapsed = time.monotonic() - started
    allowed = sum(r.status_code == 200 for r in answers)
    # the demo county's 30 a minute, refilled at half a lookup a second while the loop ran
    assert 30 <= allowed <= 30 + elapsed / 2 + 1, (allowed, elapsed)
    limited = next(r for r in answers if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    other = desk(intake, VILLAGE)  # another terminal has its own allowance
    assert ask(intake, other, "/v1/lookups/id-number", {"id_number": identity_number(rng)}).status_code == 200
