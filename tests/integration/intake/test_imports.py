"""Imports of history: back-dated, idempotent per external id, marked imported, line-level errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone

from support.intake import BUREAU, VILLAGE, matter, ndjson, post_import
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
         "resolved": True, "opinion": "未受理先答复"}])
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
