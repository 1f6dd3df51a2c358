"""督办单 as reporting counts them, against a real intake and reporting on their own topics: a township supervises a
village room's two overdue matters; the room then accepts one; reporting's GET /v1/supervision-notices lists the
notice with both matters and says that one — the accepted one — was answered since, and at what time. Known at a
moment before the acceptance, none was."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest

from support.intake import TOWNSHIP, VILLAGE, held, start_intake
from support.kafka import delete_run_topics
from support.problems import assert_problem
from support.reporting import drop_schema, start_reporting, wait_projected
from support.tokens import wait_known
from support.waiting import until


@pytest.fixture(scope="module")
def supervised(settings, kafka_bootstrap, pg_dsn, tmp_path_factory):
    logs = tmp_path_factory.mktemp("supervision")
    intake = start_intake(settings, pg_dsn, logs)
    schema = f"rep_sup_{uuid.uuid4().hex[:8]}"
    reporting = start_reporting(intake.settings, intake.settings.database_url, schema, logs / "reporting.log")
    try:
        first = held(intake, VILLAGE, -timedelta(days=2))
        second = held(intake, VILLAGE, -timedelta(days=1))
        r = intake.post("/v1/supervision-notices", {"unit": VILLAGE}, TOWNSHIP, roles=("supervisor",))
        assert r.status_code == 201, r.text
        notice, before_answer = r.json(), datetime.now(timezone.utc)
        accepted = intake.post(f"/v1/petitions/{second['petition_id']}/actions", {"action": "accept"}, VILLAGE)
        assert accepted.status_code == 200, accepted.text
        # 2 registrations, 2 assignments, 2 supervised, 1 accepted
        asyncio.run(wait_projected(intake.settings.database_url, schema, 7))
        token = intake.terminal(TOWNSHIP, ("supervisor",))
        wait_known(reporting.url, token)
        yield {"intake": intake, "reporting": reporting, "notice": notice, "token": token,
               "first": first, "second": second,
               "before_answer": before_answer}
    finally:
        reporting.stop()
        intake.proc.stop()
        intake.producer.close()
        asyncio.run(drop_schema(intake.settings.database_url, schema))
        delete_run_topics(intake.settings)


def read(world, token: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or world['token']}"} if token != "" else {}
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    return httpx.get(f"{world['reporting'].url}/v1/supervision-notices", headers=headers, timeout=30,
                     params={"from": day, "to": day, **params})


def test_the_notice_is_listed_with_its_matters_and_the_one_answered_since(supervised):
    def listed():
        r = read(supervised)
        notices = r.json().get("notices", []) if r.status_code == 200 else []
        return notices if notices and notices[0]["answered"] == 1 else None

    [notice] = until(listed, lambda: f"reporting's notices: {read(supervised).text}", timeout=30)
    assert notice["notice_id"] == supervised["notice"]["notice_id"]
    assert notice["number"] == supervised["notice"]["number"] and notice["listed"] == 2
    by_matter = {m["petition_id"]: m for m in notice["matters"]}
    assert set(by_matter) == {supervised["first"]["petition_id"], supervised["second"]["petition_id"]}
    assert by_matter[supervised["first"]["petition_id"]]["answered_at"] is None
    assert by_matter[supervised["second"]["petition_id"]]["answered_at"] is not None
    assert by_matter[supervised["second"]["petition_id"]]["receipt_no"] == supervised["second"]["receipt_no"]
    assert all("name" not in m and "petitioners" not in m for m in notice["matters"])  # matters, never persons


def test_known_at_the_notice_nothing_was_answered_yet(supervised):
    r = read(supervised, known_at=supervised["before_answer"].isoformat())
    assert r.status_code == 200, r.text
    [notice] = r.json()["notices"]
    assert notice["listed"] == 2 and notice["answered"] == 0


def test_the_doors_of_the_notices_list(supervised):
    assert_problem(read(supervised, token=""), 401)
    assert_problem(read(supervised, token="not-a-token-" + "z" * 30), 401)
    outside = supervised["intake"].terminal("station.361402101000", ("supervisor",))  # 青石镇
    wait_known(supervised["reporting"].url, outside)
    assert_problem(read(supervised, token=outside, jurisdiction="361402001001"), 404)
    assert read(supervised, token=outside).json()["notices"] == []  # its own scope holds none
