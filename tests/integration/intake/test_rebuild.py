"""``python -m intake.rebuild`` against the real service's tables: the fold of each matter's events and the routing
facts it applied is the state the live path stored; a corrupted row is named by --check and repaired."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

import asyncpg
import orjson
import pytest

from intake import store
from intake.app import MIGRATIONS
from intake.rebuild import fold, run
from support.intake import TOWNSHIP, VILLAGE
from support.process import ROOT
from support.waiting import until_async
from xinfang.migrations import migrate


@pytest.fixture(scope="module")
def matters(intake) -> dict[str, str]:
    """Matters registered and handled through the API, routed as escalation would: name → petition id."""
    act = lambda pid, body, unit=VILLAGE: intake.post(f"/v1/petitions/{pid}/actions", body, unit)  # noqa: E731
    made = {name: intake.register()["petition_id"] for name in ("reviewed", "rerouted", "objected", "withdrawn")}
    pid = made["reviewed"]
    intake.route(pid, VILLAGE, "village")
    assert act(pid, {"action": "accept"}).status_code == 200
    assert intake.post(f"/v1/petitions/{pid}/visits", {"channel": "visit", "head_count": 2,
                                                       "petitioners": [{"name": "赵六"}]}).status_code == 201
    assert act(pid, {"action": "reply", "decision": "explain", "resolved": False,
                     "facts": "已查明", "grounds": "已解释"}).status_code == 200
    assert act(pid, {"action": "request_review", "reason": "不服"}).status_code == 200
    intake.route(pid, TOWNSHIP, "township", kind="review")
    assert act(pid, {"action": "reply_review", "decision": "explain", "resolved": False, "facts": "已查明", "grounds": "维持"},
               TOWNSHIP).status_code == 200
    pid = made["rerouted"]
    intake.route(pid, VILLAGE, "village")
    assert act(pid, {"action": "transfer", "reason": "属住建职责", "category": "housing"}).status_code == 200
    intake.route(pid, VILLAGE, "village")  # routed again after the transfer
    assert act(pid, {"action": "accept"}).status_code == 200
    pid = made["objected"]
    intake.route(pid, VILLAGE, "village")
    assert act(pid, {"action": "object", "reason": "非本单位职责"}).status_code == 200
    assert act(made["withdrawn"], {"action": "withdraw", "reason": "已自行协商"}).status_code == 200
    return made


@pytest.fixture
async def db(intake):
    conn = await asyncpg.connect(intake.settings.database_url, server_settings={"search_path": intake.schema})
    yield conn
    await conn.close()


def rebuild(intake, *args: str) -> tuple[int, dict]:
    """The command as an operator runs it, with the service's environment."""
    done = subprocess.run([sys.executable, "-m", "intake.rebuild", *args], cwd=ROOT, env=intake.proc.env,
                          capture_output=True, timeout=120)
    assert done.stderr.strip(), "progress goes to stderr"
    assert all(json.loads(line) for line in done.stderr.splitlines() if line.strip())
    return done.returncode, json.loads(done.stdout)


async def history(db, pid: str) -> tuple[list, list]:
    own = [r["body"] for r in await db.fetch("SELECT body FROM events WHERE petition_id = $1 ORDER BY seq",
                                             uuid.UUID(pid))]
    routing = [(r["after_seq"], r["body"]) for r in await db.fetch(
        "SELECT after_seq, body FROM routing_events WHERE petition_id = $1 ORDER BY after_seq, seq", uuid.UUID(pid))]
    return own, routing


async def test_the_fold_of_every_matter_is_exactly_the_state_the_service_stored(intake, matters, db):
    for name, pid in matters.items():
        row = await db.fetchrow("SELECT state, head_hash, routing_unkept_seq FROM petitions WHERE petition_id = $1",
                                uuid.UUID(pid))
        own, routing = await history(db, pid)
        state, head = fold(pid, own, routing)
        assert state == store.state_from_json(row["state"]), name
        assert orjson.loads(store.state_to_json(state)) == orjson.loads(row["state"]), name  # to the byte's meaning
        assert head == row["head_hash"] and row["routing_unkept_seq"] == 0
    assert len((await history(db, matters["reviewed"]))[1]) == 2  # the routing facts were kept
    code, summary = rebuild(intake, "--check")
    assert code == 0, summary
    assert summary["mode"] == "check" and summary["differ"] == 0 and summary["matters"] >= len(matters)


async def test_check_names_a_corrupted_row_and_the_rebuild_repairs_it(intake, matters, db):
    pid = uuid.UUID(matters["rerouted"])
    before = await db.fetchrow("SELECT state, version FROM petitions WHERE petition_id = $1", pid)
    await db.execute("""UPDATE petitions SET holder_unit = 'room.361402001002',
                            state = jsonb_set(state, '{holder_unit}', '"room.361402001002"')
                        WHERE petition_id = $1""", pid)

    code, summary = rebuild(intake, "--check")
    assert code == 1
    assert summary["matters_named"]["differ"] == [{"petition_id": str(pid),
                                                   "fields": ["holder_unit", "column holder_unit"]}]
    code, summary = rebuild(intake)
    assert code == 0 and summary["rebuilt"] == 1, summary

    after = await db.fetchrow("SELECT state, version FROM petitions WHERE petition_id = $1", pid)
    assert orjson.loads(after["state"]) == orjson.loads(before["state"])
    assert after["version"] == before["version"] + 1  # a command that read the corrupted row decides again
    assert rebuild(intake, "--check")[0] == 0
    code, summary = rebuild(intake, "--petition", str(pid))
    assert code == 0 and (summary["matters"], summary["rebuilt"]) == (1, 0)  # nothing left to rewrite
    assert intake.get(f"/v1/petitions/{pid}").json()["holder_unit"] == VILLAGE


async def test_a_command_waiting_on_the_rebuild_decides_again_on_the_rebuilt_state(intake, db):
    pid = intake.register(head_count=3)["petition_id"]
    intake.route(pid, VILLAGE, "village")
    await db.execute("UPDATE petitions SET state = jsonb_set(state, '{head_count}', '99') WHERE petition_id = $1",
                     uuid.UUID(pid))
    own, routing = await history(db, pid)
    rebuilt, head = fold(pid, own, routing)
    async with db.transaction():  # what the rebuild does for one matter, held open while the command comes
        await db.fetchrow("SELECT 1 FROM petitions WHERE petition_id = $1 FOR UPDATE", uuid.UUID(pid))
        command = asyncio.create_task(asyncio.to_thread(
            intake.post, f"/v1/petitions/{pid}/actions", {"action": "accept"}))

        async def blocked() -> int:
            waiting = await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                                        db.get_server_pid())
            assert waiting or not command.done(), "the command finished without waiting on the row lock"
            return waiting

        await until_async(blocked, "the command waiting on the row lock", timeout=20, every=0.05)
        await store.replace_state(db, rebuilt, head)
    answer = await command
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    assert answer.json()["head_count"] == 3  # decided again on the rebuilt state, not the corrupted one
    code, summary = rebuild(intake, "--check", "--petition", pid)
    assert code == 0, summary


async def test_matters_routed_before_the_routing_facts_were_kept_are_named_and_left_alone(intake, unique_prefix,
                                                                                         tmp_path):
    first = tmp_path / "0001"
    first.mkdir()
    (first / "0001_event_store.sql").write_text((MIGRATIONS / "0001_event_store.sql").read_text())
    schema = f"intake_{unique_prefix}"
    conn = await asyncpg.connect(intake.settings.database_url, server_settings={"search_path": schema})
    try:
        await migrate(conn, schema, first)
        routed, unrouted = uuid.uuid4(), uuid.uuid4()
        for pid, routing_seq in ((routed, 2), (unrouted, 0)):
            await conn.execute(
                """INSERT INTO petitions (petition_id, receipt_no, jurisdiction, category, status, registered_unit,
                       head_hash, version, routing_seq, state)
                   VALUES ($1, $2, 'j', 'c', 'assigned', 'u', 'h', 3, $3, '{}')""",
                pid, str(pid), routing_seq)
        await migrate(conn, schema, MIGRATIONS)
        unkept = dict(await conn.fetch("SELECT petition_id, routing_unkept_seq FROM petitions"))
        assert unkept == {routed: 2, unrouted: 0}

        outcome = await run(conn, check=False, petition=routed)

        assert not outcome.clean and outcome.as_dict()["matters_named"]["routing_not_kept"] == [str(routed)]
        assert await conn.fetchval("SELECT version FROM petitions WHERE petition_id = $1", routed) == 3  # untouched
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def test_a_matter_stored_by_a_newer_intake_is_refused_with_503_and_left_as_it_is(intake, db):
    pid = intake.register()["petition_id"]
    await db.execute("UPDATE petitions SET state = jsonb_set(state, '{layout}', '99') WHERE petition_id = $1",
                     uuid.UUID(pid))
    answer = intake.get(f"/v1/petitions/{pid}")
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "stored_state.newer_layout"
    assert await db.fetchval("SELECT state->>'layout' FROM petitions WHERE petition_id = $1", uuid.UUID(pid)) == "99"
