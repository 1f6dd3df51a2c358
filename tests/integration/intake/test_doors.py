"""The doors of the terminal API against the real intake and PostgreSQL: outside its scope a terminal learns nothing
(404 as for no matter), no token means 401 whatever the body, a flood of bogus tokens from one address is refused
before any look-up and counted (not listed) in the access log, and every receipt number is a matter's or void.

The source address of a request is its peer's: intake believes X-Forwarded-For only from the proxies named in
XINFANG_FORWARDED_ALLOW_IPS (none by default), so these tests send from other loopback addresses (127.0.0.2, …)
bound as the client's local address — and a forged X-Forwarded-For must not move the flood to another source.
"""
from __future__ import annotations

import concurrent.futures
import secrets
import time
import uuid

import asyncpg
import httpx
import orjson
import pytest

from intake import store
from support.intake import (
    ADMIN,
    OTHER_VILLAGE,
    OTHER_VILLAGE_CODE,
    VILLAGE,
    VILLAGE_CODE,
    failed_authentications,
    start_intake,
)
from support.process import ROOT

PROBLEM = "application/problem+json"
LIMIT = 20


@pytest.fixture(scope="module")
def intake(settings, kafka_bootstrap, pg_dsn, tmp_path_factory):
    """With the default limit on failed authentications (20 a minute), on a schema of its own."""
    service = start_intake(settings, pg_dsn, tmp_path_factory.mktemp("doors"),
                           XINFANG_AUTH_FAILURES_PER_MINUTE=str(LIMIT))
    yield service
    service.proc.stop()
    service.producer.close()


def client_from(intake, address: str) -> httpx.Client:
    return httpx.Client(base_url=intake.proc.url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


def without_instance(response: httpx.Response) -> dict:
    body = response.json()
    assert body.pop("instance") == response.url.path  # a problem names the caller's own request, nothing more
    return body


def test_outside_its_scope_a_matter_answers_as_one_that_does_not_exist(intake):
    pid, nothing = intake.register()["petition_id"], str(uuid.uuid4())
    answers = {}
    for name, matter in (("foreign", pid), ("missing", nothing)):
        answers[name, "read"] = intake.get(f"/v1/petitions/{matter}", unit=OTHER_VILLAGE)
        answers[name, "act"] = intake.post(f"/v1/petitions/{matter}/actions", {"action": "withdraw"}, unit=OTHER_VILLAGE)
        answers[name, "visit"] = intake.post(f"/v1/petitions/{matter}/visits", {"channel": "visit", "head_count": 1,
                                                                              "petitioners": [{"name": "乙"}]},
                                             unit=OTHER_VILLAGE)
    for (name, what), r in answers.items():
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM, (name, what, r.text)
    bodies = {key: without_instance(r) for key, r in answers.items()}
    assert len({orjson.dumps(b) for b in bodies.values()}) == 1, bodies
    header_names = {key: sorted(set(r.headers) - {"date", "x-request-id"}) for key, r in answers.items()}
    assert len({tuple(h) for h in header_names.values()}) == 1, header_names
    assert intake.get(f"/v1/petitions/{pid}").status_code == 200  # the registering village still sees it


def test_without_a_valid_token_the_body_is_never_read(intake):
    http = client_from(intake, "127.0.0.4")
    not_json = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    for path in ("/v1/petitions", f"/v1/petitions/{uuid.uuid4()}/actions", "/v1/terminals"):
        bare = http.post(path, content=b'{"channel": "visit", broken', headers=not_json)
        assert bare.status_code == 401 and bare.headers["content-type"] == PROBLEM, (path, bare.text)
        assert bare.json()["code"] == "auth.missing" and bare.headers["www-authenticate"] == "Bearer"
        bogus = http.post(path, content=b"\xff not json", headers={**not_json, "Authorization": "Bearer xft_bogus"})
        assert bogus.status_code == (403 if path == "/v1/terminals" else 401), (path, bogus.text)
    token = intake.terminal(VILLAGE)
    parsed = http.post("/v1/petitions", content=b"{broken", headers={**not_json, "Authorization": f"Bearer {token}"})
    assert parsed.status_code == 422 and parsed.json()["errors"][0]["type"] == "json_invalid"  # then, and only then


async def test_a_flood_of_bogus_tokens_is_limited_before_the_look_up_and_counted_not_listed(intake):
    flooded, other = "127.0.0.3", "127.0.0.2"
    cached = intake.terminal(VILLAGE)  # a terminal working from the flooded address, its token already known
    attacker, neighbour = client_from(intake, flooded), client_from(intake, other)
    assert attacker.get("/v1/units", headers={"Authorization": f"Bearer {cached}"}).status_code == 200
    fresh = intake.http.post("/v1/terminals", json={"unit_id": OTHER_VILLAGE, "name": "邻村", "roles": ["registrar"]},
                             headers={"Authorization": f"Bearer {ADMIN}"}).json()["token"]
    unused = intake.http.post("/v1/terminals", json={"unit_id": VILLAGE, "name": "新终端", "roles": ["registrar"]},
                              headers={"Authorization": f"Bearer {ADMIN}"}).json()["token"]
    conn = await asyncpg.connect(intake.settings.database_url)
    try:
        rows_before = await conn.fetchval(f"SELECT count(*) FROM {intake.schema}.access_log")
        started, statuses, retry_after, sent = time.monotonic(), [], set(), [0]

        def bogus(http: httpx.Client) -> httpx.Response:
            sent[0] += 1  # a forged X-Forwarded-For, believed from no proxy, changes nothing
            return http.get("/v1/worklist", headers={"Authorization": f"Bearer xft_{secrets.token_urlsafe(32)}",
                                                     "X-Forwarded-For": f"10.9.{sent[0] // 250}.{sent[0] % 250}"})

        for _ in range(1000):
            r = bogus(attacker)
            statuses.append(r.status_code)
            assert r.headers["content-type"] == PROBLEM
            if r.status_code == 429:
                assert r.json()["code"] == "rate_limited" and r.json()["detail_en"]
                retry_after.add(int(r.headers["retry-after"]))
        elapsed = time.monotonic() - started
        # the first LIMIT are looked up and refused; then refused before the look-up (a bucket refilled 1 per 3 s)
        assert statuses[:LIMIT] == [401] * LIMIT and statuses[LIMIT] == 429
        assert statuses.count(401) <= LIMIT + 1 + elapsed * LIMIT / 60 and set(statuses) == {401, 429}
        assert retry_after and min(retry_after) >= 1
        # another address is not affected, even with a token never seen before (a look-up)
        assert neighbour.get("/v1/units", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
        # from the flooded address a known token still works; an unknown one waits like the bogus ones (asked right
        # after a bogus token was looked up and refused: the allowance then takes 3 s to come back)
        assert attacker.get("/v1/units", headers={"Authorization": f"Bearer {cached}"}).status_code == 200
        while bogus(attacker).status_code != 401:
            assert time.monotonic() < started + 120
        assert attacker.get("/v1/units", headers={"Authorization": f"Bearer {unused}"}).status_code == 429
        counted = await failed_authentications(conn, intake.schema, flooded, at_least=sent[0] + 1)
        assert counted == sent[0] + 1
        rows = await conn.fetch(f"""SELECT at, outcome, count FROM {intake.schema}.access_log
                                    WHERE action = 'authenticate' AND source = $1""", flooded)
        assert len(rows) <= 4 and {r["outcome"] for r in rows} == {"refused", "limited"}  # two outcomes × minutes
        assert sum(r["count"] for r in rows if r["outcome"] == "refused") >= statuses.count(401) + 1
        assert await conn.fetchval(f"SELECT count(*) FROM {intake.schema}.access_log") - rows_before <= 6
        assert not await conn.fetchval(f"SELECT count(*) FROM {intake.schema}.access_log WHERE source LIKE '10.9.%'")
    finally:
        await conn.close()


async def test_receipt_numbers_have_no_gaps_with_refusals_and_races_mixed_in(intake):
    body = {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "拖欠工资",
            "head_count": 1, "petitioners": [{"name": "丙"}]}
    refusals = [{"jurisdiction": OTHER_VILLAGE_CODE}, {"category": "nope"}, {"head_count": 0}]
    token = intake.terminal(VILLAGE)
    created = []
    for i in range(30):
        r = intake.post("/v1/petitions", {**body, **refusals[i % 3]})
        assert r.status_code in (403, 422), r.text
        key = uuid.uuid4().hex
        first, retry = (intake.post("/v1/petitions", body, key=key) for _ in range(2))
        assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
        created.append(first.json()["receipt_no"])
        if i % 10 == 0:  # eight at once with one key: one matter; the others' numbers, if drawn, are void
            key = uuid.uuid4().hex

            def send(_, key=key):
                return intake.http.post("/v1/petitions", json=body,
                                        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                racing = list(pool.map(send, range(8)))
            assert {r.status_code for r in racing} <= {201, 409}
            created += sorted({r.json()["receipt_no"] for r in racing if r.status_code == 201})
    refused_import = {"external_id": f"old-{uuid.uuid4().hex}", "jurisdiction": VILLAGE_CODE, "category": "labour",
                      "summary": "旧系统", "batches": [{"occurred_at": "2019-02-11T09:30:00+08:00", "channel": "visit",
                                                      "head_count": 1, "unit": VILLAGE, "petitioners": [{"name": "丁"}]}],
                      "actions": [{"action": "evaluate", "occurred_at": "2019-02-12T09:00:00+08:00", "unit": VILLAGE,
                                   "satisfaction": "satisfied"}]}  # evaluated before any reply: refused
    imported = intake.http.post("/v1/imports", content=orjson.dumps(refused_import) + b"\n", headers={
        "Authorization": f"Bearer {intake.terminal('bureau.361402')}", "Idempotency-Key": uuid.uuid4().hex,
        "Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200 and imported.json()["refused"] == 1, imported.text
    assert len(set(created)) == len(created) >= 33

    async def series():
        conn = await asyncpg.connect(intake.settings.database_url)
        try:
            return await conn.fetch(f"SELECT receipt_no, outcome, reason FROM {intake.schema}.receipt_numbers")
        finally:
            await conn.close()

    numbers = await series()
    assert set(created) <= {r["receipt_no"] for r in numbers if r["outcome"] == "used"}
    by_year: dict[str, list[int]] = {}
    for r in numbers:
        year, _, serial = r["receipt_no"].split("-")
        by_year.setdefault(year, []).append(int(serial))
        assert r["outcome"] == "used" or r["reason"]
    for year, serials in by_year.items():
        assert sorted(serials) == list(range(1, len(serials) + 1)), (year, sorted(serials))
    voids = [r for r in numbers if r["outcome"] == "void"]
    assert all(not r["reason"].startswith("登记被拒绝") for r in voids if r["receipt_no"].startswith("2026"))
    # a refused import draws no number: its history is decided before one is drawn, as a registration is
    assert not any(r["receipt_no"].startswith("2019-") for r in numbers)


async def test_a_number_whose_registration_never_committed_is_voided_with_the_reason(intake):
    receipt = intake.register()["receipt_no"]
    prefix = receipt.rsplit("-", 1)[0] + "-"
    conn = await asyncpg.connect(intake.settings.database_url, server_settings={"search_path": intake.schema})
    try:
        lost = await conn.fetchval(f"SELECT nextval('receipt_{receipt[:4]}')")  # as a process killed before writing
        assert await store.void_unused(conn, prefix, lost) == 1
        assert await store.void_unused(conn, prefix, lost) == 0  # once
        row = await conn.fetchrow("SELECT outcome, reason FROM receipt_numbers WHERE receipt_no = $1",
                                  f"{prefix}{lost:07d}")
        assert row["outcome"] == "void" and "never committed" in row["reason"]
        assert await conn.fetchval("SELECT outcome FROM receipt_numbers WHERE receipt_no = $1", receipt) == "used"
    finally:
        await conn.close()


def operations_with_a_token() -> list[tuple[str, str]]:
    """Every operation of the published terminal API that asks for a terminal's token, its path filled in."""
    doc = orjson.loads((ROOT / "docs" / "intake-openapi.json").read_bytes())
    found = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete") and operation.get("security", doc.get("security")):
                filled = path.replace("{petition_id}", str(uuid.uuid4()))
                for name in ("terminal_id", "ref", "notice", "draft"):
                    filled = filled.replace("{" + name + "}", uuid.uuid4().hex)
                found.append((method, filled))
    return found


def test_a_revoked_terminals_token_is_refused_on_every_operation_that_takes_one(intake):
    # last in the module: its 25 addresses' failed authentications are counted in the access log a moment later
    token = intake.terminal(VILLAGE, ("registrar", "handler", "supervisor", "auditor"))
    http = client_from(intake, "127.0.0.5")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    assert http.get("/v1/me", headers=headers).status_code == 200  # known, and cached, before it is revoked
    intake.revoke(intake.terminal_id(token))
    operations = operations_with_a_token()
    assert len(operations) >= 20, operations
    for i, method_path in enumerate(operations):  # each from an address of its own: 20 failures a minute each
        method, path = method_path
        with client_from(intake, f"127.0.9.{10 + i}") as other:
            r = other.request(method.upper(), path, headers=headers, json={} if method != "get" else None)
        assert r.status_code in (401, 403) and r.headers["content-type"] == PROBLEM, (method, path, r.status_code,
                                                                                       r.text[:200])
        assert r.json()["code"].startswith("auth."), (method, path, r.text[:200])
