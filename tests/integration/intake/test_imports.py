"""Imports of history: back-dated, idempotent per external id, marked imported, line-level errors."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone

from support.intake import ADMIN, BUREAU, TOWNSHIP, VILLAGE, matter, ndjson, post_import
from support.kafka import envelopes, read_all
from support.process import ROOT


def test_import_is_back_dated_marked_and_idempotent_per_external_id(intake):
    ids = [f"old-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    r = post_import(intake, ndjson(*(matter(i) for i in ids)))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3
    pid = r.json()["results"][0]["petition_id"]
    got = intake.get(f"/v1/petitions/{pid}", unit=BUREAU).json()
    assert got["imported"] and got["status"] == "replied" and got["batches"] == 2 and got["head_count"] == 15
    assert datetime.fromisoformat(got["registered_at"]) == datetime(2019, 2, 11, 1, 30, tzinfo=timezone.utc)
    assert got["receipt_no"].startswith("2019-361402-")
    again = post_import(intake, ndjson(*(matter(i) for i in ids)))
    assert again.json()["existing"] == 3 and again.json()["created"] == 0
    chain = envelopes(read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, expect=5, key=pid.encode()))
    assert [e["type"].split(".")[1] for e in chain] == ["registered", "accepted", "visit_recorded", "replied", "evaluated"]
    assert chain[0]["data"]["imported"] is True and chain[0]["occurred"] < chain[0]["time"]
    assert chain[0]["actor"].startswith("import:")


def test_bad_lines_are_reported_and_the_others_imported(intake):
    good = matter(f"old-{uuid.uuid4().hex[:8]}")
    backwards = matter(f"old-{uuid.uuid4().hex[:8]}", actions=[
        {"action": "reply", "occurred_at": "2019-02-12T09:00:00+08:00", "unit": VILLAGE, "decision": "support",
         "resolved": True, "facts": "已查明", "grounds": "未受理先答复"}])
    body = ndjson(good) + b"{not json\n" + ndjson(backwards)
    r = post_import(intake, body).json()
    assert r["created"] == 1 and r["refused"] == 2
    outcomes = {x["line"]: x["outcome"] for x in r["results"]}
    assert outcomes == {1: "created", 2: "invalid", 3: "refused"}
    assert "accepted" in r["results"][2]["detail"] or "不能" in r["results"][2]["detail"]


def test_import_needs_a_supervisor_and_ndjson(intake):
    token = intake.terminal(VILLAGE, ("registrar",))
    r = intake.http.post("/v1/imports", content=ndjson(matter("x")), headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": "k", "Content-Type": "application/x-ndjson"})
    assert r.status_code == 403
    r = post_import(intake, ndjson(matter("y")))
    assert r.status_code == 200
    token = intake.terminal(BUREAU, ("registrar", "handler", "supervisor"))
    r = intake.http.post("/v1/imports", content=b"z", headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k2",
                                                            "Content-Type": "text/plain"})
    assert r.status_code == 415


def test_a_small_import_goes_as_json_through_the_same_lines(intake):
    token = intake.terminal(BUREAU, ("registrar", "handler", "supervisor"))
    headers = {"Authorization": f"Bearer {token}"}
    bare = intake.http.post("/v1/imports", json=matter("z"), headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert bare.status_code == 422 and [e["field"] for e in bare.json()["errors"]] == ["matters"]
    ids = [f"json-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    r = intake.http.post("/v1/imports", json={"matters": [matter(ids[0]), {"external_id": ids[1]}]},
                         headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 200 and (r.json()["created"], r.json()["refused"]) == (1, 1), r.text
    assert [(x["line"], x["outcome"]) for x in r.json()["results"]] == [(1, "created"), (2, "invalid")]
    again = post_import(intake, ndjson(matter(ids[0])))  # the same matter as NDJSON: the same idempotency per id
    assert again.json()["existing"] == 1


def test_the_same_key_replays_and_another_body_is_refused(intake):
    key = uuid.uuid4().hex
    body = ndjson(matter(f"old-{uuid.uuid4().hex[:8]}"))
    first = post_import(intake, body, key)
    assert post_import(intake, body, key).json() == first.json()
    assert post_import(intake, ndjson(matter("other")), key).status_code == 422


def test_cli_imports_a_file_with_a_progress_bar(intake, tmp_path):
    path = tmp_path / "history.ndjson"
    path.write_bytes(ndjson(*(matter(f"cli-{uuid.uuid4().hex[:8]}") for _ in range(25))))
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}",
           "XINFANG_TERMINAL_TOKEN": intake.terminal(BUREAU, ("registrar", "handler", "supervisor"))}
    done = subprocess.run([sys.executable, "-m", "intake.history_upload", str(path), "--url", intake.proc.url, "--chunk", "10"],
                          capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["created"] == 25
    assert "25/25" in done.stderr.decode()
    rerun = subprocess.run([sys.executable, "-m", "intake.history_upload", str(path), "--url", intake.proc.url, "--chunk", "10"],
                           capture_output=True, env=env, timeout=120)
    assert json.loads(rerun.stdout)["created"] == 25  # replayed from the Idempotency-Keys of the chunks


REVIEWED = [{"action": "accept", "occurred_at": "2019-02-12T09:00:00+08:00", "unit": VILLAGE},
            {"action": "reply", "occurred_at": "2019-03-20T09:00:00+08:00", "unit": VILLAGE, "decision": "explain",
             "resolved": False, "facts": "已查明", "grounds": "已解释"},
            {"action": "request_review", "occurred_at": "2019-03-22T09:00:00+08:00", "unit": VILLAGE, "reason": "不服"},
            {"action": "reply_review", "occurred_at": "2019-04-02T09:00:00+08:00", "unit": TOWNSHIP,
             "decision": "support", "resolved": False, "facts": "已查明", "grounds": "部分支持"},
            {"action": "request_recheck", "occurred_at": "2019-04-05T09:00:00+08:00", "unit": TOWNSHIP,
             "reason": "仍不服"},
            {"action": "reply_recheck", "occurred_at": "2019-04-20T09:00:00+08:00", "unit": BUREAU,
             "decision": "support", "resolved": True, "facts": "已查明", "grounds": "支持"},
            {"action": "evaluate", "occurred_at": "2019-04-25T09:00:00+08:00", "unit": VILLAGE,
             "satisfaction": "basically_satisfied"}]


def test_a_whole_history_with_review_and_re_review_imports_in_one_line(intake):
    r = post_import(intake, ndjson(matter(f"old-{uuid.uuid4().hex[:8]}", actions=REVIEWED)))
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    pid = r.json()["results"][0]["petition_id"]
    got = intake.get(f"/v1/petitions/{pid}", unit=BUREAU).json()
    assert got["status"] == "terminated" and got["resolved"] is True and got["imported"]
    chain = envelopes(read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, expect=10, key=pid.encode()))
    types = [e["type"] for e in chain]
    assert types[4:10] == ["petition.review_requested.v2", "petition.review_replied.v2", "petition.recheck_requested.v2",
                           "petition.recheck_replied.v2", "petition.terminated.v1", "petition.evaluated.v2"]
    # the domain named each reviewer: the township station above the room that replied, the bureau above it
    assert (chain[4]["data"]["unit"], chain[6]["data"]["unit"]) == (TOWNSHIP, BUREAU)
    assert chain[4]["occurred"] == "2019-03-22T01:00:00.000000Z" and chain[4]["actor"].startswith("import:")
    again = post_import(intake, ndjson(matter(chain[0]["data"]["external_id"], actions=REVIEWED))).json()
    assert again["existing"] == 1 and again["results"][0]["petition_id"] == pid


def _refusal(intake, record, unit=BUREAU) -> dict:
    """The answer to ``record`` on the second line, after a good one."""
    good = matter(f"old-{uuid.uuid4().hex[:8]}")
    good["batches"][1]["unit"] = VILLAGE  # the room's own: within a township's import too
    r = post_import(intake, ndjson(good, record), unit=unit)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["outcome"] == "created" and results[1]["outcome"] == "refused" and results[1]["line"] == 2
    return results[1]


def test_refusals_name_the_line_the_item_the_field_and_the_true_reason(intake):
    before = asyncio.run(intake.stored())
    unknown = _refusal(intake, matter(f"x-{uuid.uuid4().hex[:8]}", jurisdiction="361402999999"))
    assert unknown["field"] == "jurisdiction" and unknown["problem"]["code"] == "refused.unknown_jurisdiction"
    assert "county file has no such place" in unknown["problem"]["detail_en"] and "第2行" in unknown["problem"]["detail_zh"]
    outside = _refusal(intake, matter(f"x-{uuid.uuid4().hex[:8]}", jurisdiction="361402101201",
                                      batches=[{**matter("x")["batches"][0], "unit": "room.361402101201"}]),
                       unit=TOWNSHIP)  # 城关街道's station importing a village of 青石镇
    assert outside["problem"]["code"] == "refused.outside_importer" and outside["field"] == "batches.0.unit"
    assert "importing terminal" in outside["problem"]["detail_en"] and outside["problem"]["status"] == 403
    record = matter(f"x-{uuid.uuid4().hex[:8]}")
    record["batches"][1]["occurred_at"] = "2099-01-01T09:00:00+08:00"
    future = _refusal(intake, record)
    assert future["field"] == "batches.1.occurred_at" and future["item"] == "batches.1"
    assert "batches.1" in future["problem"]["detail_en"] and "lies in the future" in future["problem"]["detail_en"]
    early = matter(f"x-{uuid.uuid4().hex[:8]}", actions=[
        {"action": "reply", "occurred_at": "2019-02-12T09:00:00+08:00", "unit": VILLAGE, "decision": "support",
         "resolved": True, "facts": "已查明", "grounds": "o"},
        {"action": "accept", "occurred_at": "2019-02-13T09:00:00+08:00", "unit": VILLAGE}])
    backwards = _refusal(intake, early)
    assert backwards["item"] == "actions.0" and backwards["problem"]["status"] == 409
    assert backwards["problem"]["detail_en"].startswith(
        "line 2, actions.0 (reply at 2019-02-12T09:00:00+08:00): cannot reply: the matter is assigned and must first "
        "be accepted")
    assert asyncio.run(intake.stored())["petitions"] == before["petitions"] + 4  # the four good lines only


def test_the_admin_token_is_told_to_import_through_a_supervisor_terminal(intake):
    r = intake.http.post("/v1/imports", content=ndjson(matter("adm")), headers={
        "Authorization": f"Bearer {ADMIN}", "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "auth.admin_token" and "POST /v1/terminals" in r.json()["detail_en"]
    assert "supervisor terminal of the county bureau" in r.json()["detail_en"]
