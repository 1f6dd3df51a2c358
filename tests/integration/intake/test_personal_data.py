"""Personal data: encrypted in Kafka and PostgreSQL, erasable, seen only within scope, every access logged."""
from __future__ import annotations

import random
import subprocess
import uuid

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.intake import ADMIN, OTHER_VILLAGE, TOWNSHIP, VILLAGE, failed_authentications
from support.kafka import envelopes, read_all
from xinfang.events import verify_chain

PG_BIN = "/usr/lib/postgresql/15/bin"


def unique_id_number() -> str:
    return "3614021980" + "".join(random.choice("0123456789") for _ in range(7)) + "X"


def test_an_id_number_is_never_plain_in_kafka_or_in_a_pg_dump(intake, tmp_path):
    number, phone = unique_id_number(), "139" + "".join(random.choice("0123456789") for _ in range(8))
    pid = intake.register(petitioners=[{"name": "独一无二的名字", "id_number": number, "phone": phone}])["petition_id"]
    assert intake.post(f"/v1/petitions/{pid}/visits", {"channel": "visit", "head_count": 1, "petitioners": [
        {"name": "第二人", "id_number": number}]}).status_code == 201
    read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, expect=2, key=pid.encode())
    dumped = b""
    for topic in (intake.settings.topic_events, intake.settings.topic_routing, intake.settings.topic_deadletter):
        dumped += subprocess.run(["kcat", "-C", "-b", intake.settings.kafka_bootstrap, "-t", topic, "-e", "-q"],
                                 capture_output=True, timeout=60, check=True).stdout
    assert pid.encode() in dumped  # the matter is there; its petitioner is not
    dsn = intake.settings.database_url
    dumped_db = subprocess.run([f"{PG_BIN}/pg_dump", "--data-only", dsn], capture_output=True, timeout=120, check=True).stdout
    assert pid.encode() in dumped_db
    for secret in (number, phone, "独一无二的名字"):
        assert secret.encode() not in dumped, f"{secret} in Kafka"
        assert secret.encode() not in dumped_db, f"{secret} in pg_dump"


def test_erasure_destroys_the_key_everywhere_and_the_chain_still_verifies(intake):
    pid = intake.register(petitioners=[{"name": "要删除的人", "id_number": unique_id_number()}])["petition_id"]
    ref = intake.get(f"/v1/petitions/{pid}").json()["petitioners"][0]["ref"]
    headers = {"Authorization": f"Bearer {ADMIN}", "Idempotency-Key": uuid.uuid4().hex}
    assert intake.http.post(f"/v1/petitions/{pid}/petitioners/{ref}/erasure",
                            headers={"Authorization": f"Bearer {intake.terminal(VILLAGE)}",
                                     "Idempotency-Key": "x"}).status_code == 403
    r = intake.http.post(f"/v1/petitions/{pid}/petitioners/{ref}/erasure", headers=headers)
    assert r.status_code == 200, r.text
    person = intake.get(f"/v1/petitions/{pid}").json()["petitioners"][0]
    assert person["erased"] and person["name"] is None and person["id_number"] is None
    chain = envelopes(read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, expect=2, key=pid.encode()))
    assert chain[-1]["type"] == "petition.personal_data_erased.v1" and verify_chain(chain) == []
    again = intake.http.post(f"/v1/petitions/{pid}/petitioners/{ref}/erasure",
                             headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert again.status_code == 409


def test_an_accusation_is_never_shown_to_the_accused_unit(intake):
    pid = intake.register(category="accusation", accused_unit=TOWNSHIP, summary="检举某街道干部")["petition_id"]
    assert intake.get(f"/v1/petitions/{pid}", unit=TOWNSHIP).status_code == 404
    assert intake.get(f"/v1/petitions/{pid}", unit=VILLAGE).status_code == 200  # the registering room
    intake.route(pid, "dept.jwjw", "county", viewer=VILLAGE)
    assert intake.get(f"/v1/petitions/{pid}", unit="dept.jwjw").status_code == 200
    assert intake.get(f"/v1/petitions/{pid}", unit=TOWNSHIP).status_code == 404
    r = intake.post(f"/v1/petitions/{pid}/actions", {"action": "withdraw"}, unit=TOWNSHIP)
    assert r.status_code == 404


async def test_reads_of_personal_data_and_refusals_are_logged(intake):
    pid = intake.register()["petition_id"]
    intake.get(f"/v1/petitions/{pid}")
    intake.get(f"/v1/petitions/{pid}", unit=OTHER_VILLAGE)
    intake.post(f"/v1/petitions/{pid}/actions", {"action": "withdraw"}, unit=OTHER_VILLAGE)
    intake.http.get("/v1/units", headers={"Authorization": "Bearer xft_forged"})
    conn = await asyncpg.connect(intake.settings.database_url)
    try:
        rows = await conn.fetch(f"SELECT unit_id, action, outcome FROM {intake.schema}.access_log WHERE petition_id = $1",
                                uuid.UUID(pid))
        forged = await failed_authentications(conn, intake.schema)  # counted, flushed within seconds
    finally:
        await conn.close()
    seen = {(r["unit_id"], r["outcome"]) for r in rows}
    assert (VILLAGE, "allowed") in seen and (OTHER_VILLAGE, "refused") in seen
    assert sum(1 for r in rows if r["unit_id"] == OTHER_VILLAGE) >= 2 and forged >= 1


def test_fuzzed_auth_headers_never_crash_and_never_leak_another_village(intake):
    secret = intake.register(summary="只属于东门社区的事项")
    pid = secret["petition_id"]
    outsider = intake.terminal(OTHER_VILLAGE)
    revoked = intake.http.post("/v1/terminals", json={"unit_id": VILLAGE, "name": "x", "roles": ["registrar"]},
                               headers={"Authorization": f"Bearer {ADMIN}"}).json()
    intake.http.delete(f"/v1/terminals/{revoked['id']}", headers={"Authorization": f"Bearer {ADMIN}"})
    headers = st.one_of(
        st.text(max_size=80), st.just(f"Bearer {outsider}"), st.just(f"Bearer {revoked['token']}"),
        st.just(f"bearer  {outsider}"), st.builds(lambda t: f"Bearer {t}", st.text(max_size=60)),
        st.just(f"Bearer {outsider[:-1]}"), st.just(f"Basic {outsider}"))
    paths = st.sampled_from([f"/v1/petitions/{pid}", "/v1/worklist", f"/v1/petitions/{pid}/actions"])

    @given(header=headers, path=paths, body=st.one_of(st.none(), st.binary(max_size=200),
                                                      st.just(b'{"action":"withdraw"}')))
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def probe(header, path, body):
        try:
            request_headers = {"Authorization": header, "Idempotency-Key": uuid.uuid4().hex,
                               "Content-Type": "application/json"}
        except Exception:  # noqa: BLE001
            return
        try:
            if path.endswith("/actions"):
                r = intake.http.post(path, content=body or b"", headers=request_headers)
            else:
                r = intake.http.get(path, headers=request_headers)
        except (httpx.LocalProtocolError, UnicodeEncodeError):
            return  # a header the client itself cannot send
        assert r.status_code < 500, r.text
        answer = r.text
        if r.headers.get("content-type", "").startswith("application/problem+json"):
            answer = answer.replace(path, "")  # a problem names the caller's own request path (instance)
        assert pid not in answer and secret["receipt_no"] not in answer and "只属于东门社区" not in answer

    probe()



def test_the_audit_timeline_masks_personal_data_and_shows_erasure(intake):
    import json
    import os
    import sys

    from support.process import ROOT

    pid = intake.register(petitioners=[{"name": "时间线上的人", "id_number": unique_id_number()}])["petition_id"]
    ref = intake.get(f"/v1/petitions/{pid}").json()["petitioners"][0]["ref"]
    read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, expect=1, key=pid.encode())
    s = intake.settings
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}", "XINFANG_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
           "XINFANG_TOPIC_EVENTS": s.topic_events, "XINFANG_TOPIC_ROUTING": s.topic_routing,
           "XINFANG_PARTITIONS": str(s.partitions), "XINFANG_INTAKE_URL": intake.proc.url,
           "XINFANG_TERMINAL_TOKEN": intake.terminal(VILLAGE)}

    def timeline(*extra):
        done = subprocess.run([sys.executable, "-m", "reporting.audit", "timeline", pid, *extra], capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["events"]

    masked = timeline()[0]["data"]
    assert masked["petitioners"][0]["name"] == "***" and "时间线上的人" not in json.dumps(masked, ensure_ascii=False)
    assert masked["summary"] == "***" and "拖欠工资" not in json.dumps(masked, ensure_ascii=False)  # content, too
    revealed = timeline("--reveal")[0]["data"]
    assert revealed["petitioners"][0]["name"] == "时间线上的人" and revealed["summary"] == "拖欠工资三个月"
    # a terminal that may not see the matter gets neither: intake refuses, the timeline prints nothing
    outsider = subprocess.run([sys.executable, "-m", "reporting.audit", "timeline", pid, "--reveal"],
                              capture_output=True, text=True, timeout=120,
                              env={**env, "XINFANG_TERMINAL_TOKEN": intake.terminal("room.361402101201")})
    assert outsider.returncode == 1 and "拖欠工资" not in outsider.stdout and "时间线上的人" not in outsider.stdout
    r = intake.http.post(f"/v1/petitions/{pid}/petitioners/{ref}/erasure",
                         headers={"Authorization": f"Bearer {ADMIN}", "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 200
    read_all(intake.settings.kafka_bootstrap, intake.settings.topic_events, expect=2, key=pid.encode())
    events = timeline("--reveal")
    assert events[0]["data"]["petitioners"][0]["name"] == "erased"
    assert events[-1]["type"] == "petition.personal_data_erased.v1"
