"""Reporting in city mode over two counties mirrored by MirrorMaker 2 (real brokers, real MM2, a real service).

Two county brokers of the test's own, each holding its county's petition.events and petition.routing (real chained
events of two years, for two county codes under one city: tests/support/city.py), a city broker, MirrorMaker 2 from
the configuration generated from the city file, and the reporting service in city mode on the city's Kafka. Each
county's own figures come from a county-mode projection of that county's own broker (reporting.replay, the audit's
driver) into a schema of its own, asked in-process. For every figure of the test periods: the city's figure for a
county (and for each of its townships) is the county's own, and the city's total is the sum of the two; a record
mirrored twice counts once; every endpoint refuses no token and a wrong token (401) and a scope outside the
city-issued terminal's (404).
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg
import httpx
import orjson
import pytest

from reporting.assessment import assessment
from reporting.city import deployment
from reporting.periods import parse_period
from reporting.replay import replay
from reporting.settings import ReportingSettings
from reporting.stats import Reporter, Request
from reporting.store import pool
from support.broker import PrivateBroker
from support.city import county_file
from support.county_year import county_year
from support.history import History, publish, utc
from support.kafka import read_all
from support.mirror import Load, Mirror, city_file, holding, mirrored_records
from support.problems import assert_problem
from support.process import ROOT, ServiceProcess, free_port
from support.reporting import drop_schema, reporting_env
from support.tokens import wait_known
from support.waiting import until, until_async
from xinfang.city import issue_token, load_city_tree
from xinfang.county import load_county
from xinfang.events import catalogue as c
from xinfang.kafka import sync_producer
from xinfang.settings import CommonSettings
from xinfang.terminals import lifecycle_event, token_hash
from xinfang.topics import provision

COUNTIES = {"east": 2, "west": 3}  # alias → county number (region code 3614nn000000)
CODE = {alias: f"3614{n:02d}000000" for alias, n in COUNTIES.items()}
TOPICS = ("petition.events", "petition.routing")
PERIODS = ({"year": "2026"}, {"quarter": "2026Q2"}, {"month": "2025-11"})
ENDPOINTS = [
    ("/v1/stats", {}), ("/v1/stats", {"format": "csv"}), ("/v1/stats", {"format": "xlsx"}),
    ("/v1/stats/drilldown", {"figure": "cases"}), ("/v1/stats/series", {}),
    ("/v1/reports/summary", {}), ("/v1/reports/summary", {"format": "text"}),
    ("/v1/reports/summary", {"format": "docx"}),
]  # /v1/dashboard is a page that holds no figure (it reads these with the browser's token): no token asked


INTAKE_URL = {alias: f"https://intake.{alias}.example:8001" for alias in COUNTIES}  # each county's terminal API
AT = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


def to_the_city(history: History, village: str, due_days: int, closed: bool = False) -> str:
    """A matter of ``village`` (a county's), escalated from its township's station to the city bureau."""
    pid, station = str(uuid.uuid4()), f"station.{village[:9]}000"
    history.add("events", pid, c.Registered(receipt_no=f"R-{pid[:8]}", batch_id="b0", channel="visit",
                                            jurisdiction=village, category="labour", summary="拖欠工资", head_count=1,
                                            unit=f"room.{village}", tier="village"), AT)
    history.add("routing", pid, c.Assigned(unit=station, tier="township", jurisdiction=village, rule="r",
                                           stage="handle"), AT)
    due = AT + timedelta(days=due_days)
    history.add("routing", pid, c.Escalated(from_unit=station, from_tier="township", to_unit="city.361400",
                                            to_tier="city", stage="handle", reason="越级上报",
                                            due=[c.Due(stage="handle", due_at=utc(due),
                                                       warn_at=utc(due - timedelta(days=1)))]),
                AT + timedelta(hours=1))
    if closed:
        history.add("routing", pid, c.Closed(reason="replied"), AT + timedelta(hours=2))
    return pid


def settings_of(bootstrap: str) -> CommonSettings:
    return CommonSettings(kafka_bootstrap=bootstrap, partitions=3)


async def positions(dsn: str, schema: str) -> dict[tuple[str, int], int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(f'SELECT topic, partition, next_offset FROM "{schema}".offsets')
        queued = await conn.fetchval(f'SELECT count(*) FROM "{schema}".refresh_queue')
    except asyncpg.UndefinedTableError:
        return {}
    finally:
        await conn.close()
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows} if queued == 0 else {}


async def projected_past(dsn: str, schema: str, last: dict[tuple[str, int], int], timeout: float = 180) -> None:
    """Until the schema has projected every record up to ``last`` (offset per mirrored topic and partition) and
    recomputed the matters they touched (the offsets, not a count: transaction markers take offsets too)."""
    async def done() -> bool:
        stored = await positions(dsn, schema)
        return bool(stored) and all(stored.get(tp, 0) > offset for tp, offset in last.items())

    await until_async(done, f"{schema} past {len(last)} mirrored partitions' last records", timeout, every=0.2)


def last_offsets(records) -> dict[tuple[str, int], int]:
    last: dict[tuple[str, int], int] = {}
    for r in records:
        last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), -1), r.offset)
    return last


@pytest.fixture(scope="module")
def city(test_db, tmp_path_factory):
    root = tmp_path_factory.mktemp("city")
    run = uuid.uuid4().hex[:8]
    schema, own = f"rep_city_{run}", {alias: f"rep_{alias}_{run}" for alias in COUNTIES}
    served = {alias: f"rep_{alias}_svc_{run}" for alias in COUNTIES}  # each county's own reporting service
    nodes = {name: PrivateBroker(root / name) for name in (*COUNTIES, "city")}
    mm2 = service = None
    county_services: dict[str, ServiceProcess] = {}
    try:
        for node in nodes.values():
            node.start(wait=False)
        for node in nodes.values():
            node.start_wait(180)
        for node in nodes.values():  # each county's topics; the city's dead letters and its own terminals
            provision(settings_of(node.bootstrap))
        files = {alias: county_file(root / f"{alias}.yaml", n) for alias, n in COUNTIES.items()}
        counties = {alias: load_county(path) for alias, path in files.items()}
        counts: dict[tuple[str, str], int] = {}
        held: dict[str, list[str]] = {}  # per county: a matter the city bureau holds, and one it held (closed)
        for alias, n in COUNTIES.items():
            history = county_year(counties[alias], 2025, 40, seed=n)
            county_year(counties[alias], 2026, 60, seed=10 + n, history=history)
            held[alias] = [to_the_city(history, f"3614{n:02d}001001", due_days=30 - 10 * n),  # west's sooner
                           to_the_city(history, f"3614{n:02d}101201", due_days=5, closed=True)]
            publish(settings_of(nodes[alias].bootstrap), history)
            counts[alias, "petition.events"], counts[alias, "petition.routing"] = history.count("events"), \
                history.count("routing")
        county_tokens = {alias: f"xft_city-audit-{alias}-" + "a" * 24 for alias in COUNTIES}
        for alias, n in COUNTIES.items():  # each county's own reporting, and an auditor's terminal of its bureau
            producer = sync_producer(settings_of(nodes[alias].bootstrap))
            try:
                producer.send(CommonSettings().topic_terminals, key=f"audit-{alias}".encode(), value=lifecycle_event(
                    f"audit-{alias}", f"bureau.3614{n:02d}", ["auditor"], token_hash(county_tokens[alias]),
                    datetime.now(timezone.utc), None, f"/xinfang/3614{n:02d}/intake").to_json()).get(30)
            finally:
                producer.close()
            port = free_port()
            county_services[alias] = ServiceProcess("reporting", reporting_env(
                settings_of(nodes[alias].bootstrap), test_db, served[alias], port, XINFANG_COUNTY_FILE=str(files[alias])),
                port=port, log=root / f"reporting-{alias}.log").launch()
        entries = {alias: {"county_file": str(path), "intake_url": INTAKE_URL[alias],
                           "reporting_url": county_services[alias].url} for alias, path in files.items()}
        port = free_port()
        city_path = city_file(root / "city.yaml", nodes["city"].bootstrap,
                              {alias: nodes[alias].bootstrap for alias in COUNTIES}, fields=entries,
                              reporting_url=f"http://127.0.0.1:{port}")
        mm2 = Mirror(city_path, tmp_path_factory.mktemp("mirror")).start()
        env = reporting_env(settings_of(nodes["city"].bootstrap), test_db, schema, port,
                            XINFANG_REPORTING_MODE="city", XINFANG_CITY_FILE=str(city_path))
        service = ServiceProcess("reporting", env, port=port, log=root / "reporting.log").launch()
        mirrored = [r for (alias, topic), n in counts.items()
                    for r in mirrored_records(nodes["city"].bootstrap, f"{alias}.{topic}", expect=n, timeout=180)]
        assert len(mirrored) == sum(counts.values())
        asyncio.run(projected_past(test_db, schema, last_offsets(mirrored)))
        service.wait_ready(120)
        for alias in COUNTIES:  # each county's own figures: a county-mode projection of its own broker
            asyncio.run(replay(settings_of(nodes[alias].bootstrap), test_db, own[alias]))
            county_records = [r for topic in TOPICS for r in mirrored_records(
                nodes[alias].bootstrap, topic, expect=counts[alias, topic], timeout=60)]
            asyncio.run(projected_past(test_db, served[alias], last_offsets(county_records)))
            county_services[alias].wait_ready(120)
            wait_known(county_services[alias].url, county_tokens[alias])
        city_model, tree = load_city_tree(city_path)
        tokens = {name: issue_token(city_model, tree, unit, roles, CommonSettings())[1] for name, unit, roles in (
            ("city", "city.361400", ["supervisor"]), ("east", "bureau.361402", ["auditor"]),
            ("west_station", "station.361403001000", ["supervisor"]))}
        for token in tokens.values():
            wait_known(service.url, token)
        yield {"url": service.url, "dsn": test_db, "schema": schema, "own": own, "counties": counties,
               "nodes": nodes, "tokens": tokens, "mirrored": mirrored, "held": held, "city_file": city_path,
               "county_tokens": county_tokens, "root": root, "mm2": mm2, "served": served,
               "services": county_services, "city_service": service}
    finally:
        if service is not None:
            service.stop()
        for proc in county_services.values():
            proc.stop()
        if mm2 is not None:
            mm2.stop()
        for node in nodes.values():
            node.stop()
        asyncio.run(drop_schema(test_db, schema, *own.values(), *served.values()))


def ask(city, path: str, params: dict, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{city['url']}{path}", params=params, headers=headers, timeout=60)


def city_stats(city, **params) -> dict:
    r = ask(city, "/v1/stats", params, city["tokens"]["city"])
    assert r.status_code == 200, r.text
    return r.json()


async def own_stats(city, alias: str, jurisdiction: str | None = None, **period) -> dict:
    """The county's own figures, from its own broker's projection (county mode, its own county file)."""
    return await schema_stats(city["dsn"], city["own"][alias], city["counties"][alias], jurisdiction, **period)


async def schema_stats(dsn: str, schema: str, tree, jurisdiction: str | None = None, **period) -> dict:
    """/v1/stats' document for a projection schema over a county's (or the city's) tree, asked in-process."""
    connections = await pool(dsn)
    try:
        reporter = Reporter(connections, schema, tree)
        return await reporter.stats(Request(period=parse_period(**period), jurisdiction=jurisdiction))
    finally:
        await connections.close()


def values(doc: dict) -> dict[str, object]:
    """Every figure of a stats document: the value, each comparison's, and a rate's numerator and denominator."""
    found: dict[str, object] = {}
    for key, entry in doc["figures"].items():
        found[key] = entry["value"]
        for name in ("yoy", "mom"):
            if name in entry:
                found[f"{key}.{name}"] = entry[name]["value"]
        for part in ("numerator", "denominator"):
            if part in entry:
                found[f"{key}.{part}"] = entry[part]
    return found


def additive(doc: dict) -> dict[str, int]:
    """What adds up over counties: the counts (in every period) and the rates' numerators and denominators."""
    return {k: v for k, v in values(doc).items() if isinstance(v, int) and not isinstance(v, bool)}


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: next(iter(p.values())))
async def test_each_countys_figures_in_the_city_are_its_own_and_the_city_is_their_sum(city, period):
    own = {alias: await own_stats(city, alias, **period) for alias in COUNTIES}
    assert all(doc["figures"]["cases"]["value"] > 0 for doc in own.values()), "both counties registered matters"
    total = city_stats(city, **period)
    assert total["scope"]["jurisdiction"]["code"] == "361400000000"
    for alias in COUNTIES:
        mine = city_stats(city, jurisdiction=CODE[alias], **period)
        assert values(mine) == values(own[alias]), f"{alias}: the city's figures differ from the county's own"
        assert mine["units"] == own[alias]["units"], f"{alias}: per-unit figures differ"
    sums = {k: sum(additive(own[a])[k] for a in COUNTIES) for k in additive(own["east"])}
    assert additive(total) == sums
    assert len(additive(total)) > 20  # every count and every rate's parts, not a handful


async def test_below_each_county_its_townships_figures_are_its_own(city):
    for alias, county in city["counties"].items():
        townships = [j.code for j in county.jurisdictions if j.tier == "township"]
        assert len(townships) == 4
        for code in townships:
            own = await own_stats(city, alias, jurisdiction=code, year="2026")
            mine = city_stats(city, jurisdiction=code, year="2026")
            assert mine["scope"]["jurisdiction"]["name"] == county.jurisdiction(code).name
            assert values(mine) == values(own), f"{alias} township {code}"
            assert mine["units"] == own["units"]


async def test_a_record_mirrored_twice_counts_once(city):
    registered = [r for r in city["mirrored"] if r.topic == "east.petition.events"
                  and orjson.loads(r.value)["type"] == "petition.registered.v1"
                  and "2026-02" <= orjson.loads(r.value)["occurred"][:7] <= "2026-11"]
    record = registered[len(registered) // 2]
    before = city_stats(city, year="2026")
    producer = sync_producer(settings_of(city["nodes"]["city"].bootstrap))
    try:  # by hand, as an at-least-once copier's retry would: the same bytes again, in the same partition
        sent = producer.send(record.topic, key=record.key, value=record.value, partition=record.partition).get(30)
    finally:
        producer.close()
    await projected_past(city["dsn"], city["schema"], {(record.topic, record.partition): sent.offset})
    assert values(city_stats(city, year="2026")) == values(before)
    own = await own_stats(city, "east", year="2026")
    assert values(city_stats(city, jurisdiction=CODE["east"], year="2026")) == values(own)
    conn = await asyncpg.connect(city["dsn"])
    try:
        assert await conn.fetchval(f'SELECT count(*) FROM "{city["schema"]}".matters WHERE event_id = $1',
                                   orjson.loads(record.value)["id"]) == 1
    finally:
        await conn.close()


@pytest.mark.parametrize("path,params", ENDPOINTS, ids=[f"{p}{q.get('format', '')}" for p, q in ENDPOINTS])
def test_every_endpoint_answers_the_citys_terminals_as_their_scope_allows(city, path, params):
    tokens, params = city["tokens"], {"year": "2026", **params}
    for token in (None, "not-a-token", "xft_" + "x" * 43):
        assert_problem(ask(city, path, params, token), 401)
    for code in ("361400000000", CODE["east"], CODE["west"], "361403001000"):  # the city bureau: everywhere
        r = ask(city, path, {**params, "jurisdiction": code}, tokens["city"])
        assert r.status_code == 200, (path, code, r.text[:300])
    # a county bureau's terminal: its own county, not the other one, not the city as a whole
    assert ask(city, path, {**params, "jurisdiction": CODE["east"]}, tokens["east"]).status_code == 200
    for token, code in ((tokens["east"], CODE["west"]), (tokens["east"], "361400000000"),
                        (tokens["east"], "361403001000"), (tokens["west_station"], CODE["west"]),
                        (tokens["west_station"], CODE["east"]), (tokens["west_station"], "361403101000")):
        assert_problem(ask(city, path, {**params, "jurisdiction": code}, token), 404)


def test_the_definitions_need_a_citys_token(city):
    assert_problem(ask(city, "/v1/stats/definitions", {}, None), 401)
    assert_problem(ask(city, "/v1/stats/definitions", {}, "xft_" + "x" * 43), 401)
    assert ask(city, "/v1/stats/definitions", {}, city["tokens"]["west_station"]).status_code == 200


def test_a_county_terminal_without_a_place_reads_its_own_county_in_the_city(city):
    r = ask(city, "/v1/stats", {"year": "2026"}, city["tokens"]["east"])
    assert r.status_code == 200
    assert r.json()["scope"]["jurisdiction"]["code"] == CODE["east"]
    assert values(r.json()) == values(city_stats(city, jurisdiction=CODE["east"], year="2026"))


def test_the_city_worklist_lists_what_the_city_holds_in_every_county_soonest_due_first(city):
    r = ask(city, "/v1/city/worklist", {}, city["tokens"]["city"])
    assert r.status_code == 200, r.text
    doc = r.json()
    open_ones = [city["held"]["west"][0], city["held"]["east"][0]]  # west's due 10 days sooner; the closed ones gone
    assert doc["total"] == 2 and [m["petition_id"] for m in doc["matters"]] == open_ones
    west, east = doc["matters"]
    assert west["county"] == {"alias": "west", "code": CODE["west"], "name": "测试县2"}
    assert west["unit"] == "city.361400" and west["stage"] == "handle"
    assert west["due_at"] < east["due_at"]
    assert east["act_at"] == f"{INTAKE_URL['east']}/v1/petitions/{east['petition_id']}"
    # a county's bureau sees its county's; a township's station its township's; outside is 404, unknown 422
    mine = ask(city, "/v1/city/worklist", {}, city["tokens"]["east"]).json()
    assert [m["petition_id"] for m in mine["matters"]] == [city["held"]["east"][0]]
    station = ask(city, "/v1/city/worklist", {}, city["tokens"]["west_station"]).json()
    assert [m["petition_id"] for m in station["matters"]] == [city["held"]["west"][0]]
    assert ask(city, "/v1/city/worklist", {"jurisdiction": CODE["west"]}, city["tokens"]["city"]).json()["total"] == 1
    assert_problem(ask(city, "/v1/city/worklist", {"jurisdiction": CODE["west"]}, city["tokens"]["east"]), 404)
    assert_problem(ask(city, "/v1/city/worklist", {"jurisdiction": "361499000000"}, city["tokens"]["city"]), 422)
    for token in (None, "xft_" + "x" * 43):
        assert_problem(ask(city, "/v1/city/worklist", {}, token), 401)


def city_audit(city, *args: str, city_path=None) -> tuple[int, dict]:
    """python -m reporting.audit city-verify on the test's city file; (exit code, its JSON)."""
    tokens = city["root"] / "audit-tokens.yaml"
    tokens.write_text("".join(f"{k}: {v}\n" for k, v in {"city": city["tokens"]["city"],
                                                          **city["county_tokens"]}.items()), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "reporting.audit", "city-verify", str(city_path or city["city_file"]),
                           "--tokens", str(tokens), *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}"})
    assert done.stdout, done.stderr[-3000:]
    return done.returncode, orjson.loads(done.stdout)


def test_the_city_audit_finds_each_countys_copy_whole_and_its_figures_the_countys_own(city):
    record = next(r for r in city["mirrored"] if r.topic == "west.petition.routing")
    producer = sync_producer(settings_of(city["nodes"]["city"].bootstrap))
    try:  # one record copied twice, as an at-least-once copier may: named, harmless
        producer.send(record.topic, key=record.key, value=record.value, partition=record.partition).get(30)
    finally:
        producer.close()
    known_at = datetime.now(timezone.utc).isoformat()
    code, doc = city_audit(city, "--year", "2026", "--known-at", known_at)
    assert code == 0 and doc["consistent"], orjson.dumps(doc)[:3000]
    assert [c["alias"] for c in doc["counties"]] == list(COUNTIES)
    for county in doc["counties"]:
        for copy in county["records"]:
            assert copy["county_records"] > 0 and not {"missing", "injected"} & set(copy["findings_by_kind"]), copy
        assert county["integrity"]["chains"] > 0
        assert not set(county["integrity"]["findings_by_kind"]) - {"duplicate"}, county["integrity"]
        assert len(county["figures"]) == 5  # the county and its four townships, each compared
        assert all(f["figures"] > 20 and f["differences"] == [] for f in county["figures"]), county["figures"]
    west = next(c for c in doc["counties"] if c["alias"] == "west")
    routing = next(c for c in west["records"] if c["topic"] == "petition.routing")
    duplicated = [f["event_id"] for f in routing["findings"] if f["kind"] == "duplicate"]
    assert orjson.loads(record.value)["id"] in duplicated


def test_the_city_audit_names_records_the_city_lacks_or_the_county_never_held(city):
    # a city file with the two counties' brokers swapped: each county's copy in the city is none of "its" records
    text = city["city_file"].read_text(encoding="utf-8")
    east, west = city["nodes"]["east"].bootstrap, city["nodes"]["west"].bootstrap
    wrong = city["root"] / "city-swapped.yaml"
    wrong.write_text(text.replace(east, "EAST").replace(west, east).replace("EAST", west), encoding="utf-8")
    code, doc = city_audit(city, "--no-figures", city_path=wrong)
    assert code == 1 and not doc["consistent"]
    for county in doc["counties"]:
        for copy in county["records"]:
            kinds = copy["findings_by_kind"]
            assert kinds["missing"] == copy["county_records"] > 0, copy["findings_by_kind"]  # none of them copied
            assert kinds["injected"] == copy["city_records"] > 0  # and none of the copy ever held by "its" county
            assert all(f["detail"].startswith(f"{county['alias']}: ") for f in copy["findings"])
            missing = next(f for f in copy["findings"] if f["kind"] == "missing")
            assert missing["event_id"] and missing["subject"] and f"{copy['topic']}[" in missing["detail"]


def test_the_city_audit_refuses_a_wrong_token_and_a_bad_period_as_usage(city):
    bad = subprocess.run([sys.executable, "-m", "reporting.audit", "city-verify", str(city["city_file"]),
                          "--year", "20x6"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}"})
    assert bad.returncode == 2 and "year" in bad.stderr, bad.stderr
    tokens = city["root"] / "wrong-tokens.yaml"
    tokens.write_text(f"city: {city['tokens']['city']}\neast: xft_{'x' * 43}\nwest: xft_{'y' * 43}\n", encoding="utf-8")
    wrong = subprocess.run([sys.executable, "-m", "reporting.audit", "city-verify", str(city["city_file"]),
                            "--tokens", str(tokens), "--year", "2026", "--no-townships"], capture_output=True,
                           text=True, timeout=600, env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}"})
    assert wrong.returncode == 2 and "401" in wrong.stderr and "east" in wrong.stderr, wrong.stderr[-2000:]


def city_cli(city, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xinfang.city", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}"})


def test_a_city_terminal_revoked_by_the_city_bureau_is_refused_at_once_and_only_it(city):
    path = str(city["city_file"])
    issued = city_cli(city, "issue-token", path, "--unit", "city.361400", "--roles", "supervisor")
    assert issued.returncode == 0, issued.stderr
    printed = dict(line.split(" ", 1) for line in issued.stdout.splitlines())
    terminal, token = printed["terminal"], printed["token"]
    wait_known(city["url"], token)
    assert ask(city, "/v1/stats", {"year": "2026"}, token).status_code == 200
    listed = city_cli(city, "terminals", path)
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith(terminal + "\t"))
    assert line.split("\t")[1:3] == ["city.361400", "supervisor"] and "created" in line

    revoked = city_cli(city, "revoke-token", path, terminal)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    started = datetime.now(timezone.utc)
    until(lambda: ask(city, "/v1/stats", {"year": "2026"}, token).status_code == 401,
          "the revoked city terminal refused", timeout=10, every=0.05)
    print(f"\ncity terminal refused {(datetime.now(timezone.utc) - started).total_seconds():.2f} s after the "
          "revocation was acknowledged")
    assert_problem(ask(city, "/v1/stats", {"year": "2026"}, token), 401)
    # the other city terminals keep working; the listing says it is revoked; twice changes nothing
    assert ask(city, "/v1/stats", {"year": "2026"}, city["tokens"]["city"]).status_code == 200
    assert f"{terminal}\t-\t-\trevoked" in city_cli(city, "terminals", path).stdout
    again = city_cli(city, "revoke-token", path, terminal)
    assert again.returncode == 0 and "already revoked" in again.stdout, again.stdout + again.stderr
    unknown = city_cli(city, "revoke-token", path, "city-00000000-0000-0000-0000-000000000000")
    assert unknown.returncode == 1 and "no terminal" in unknown.stderr, unknown.stderr


async def test_the_citys_assessment_ranks_every_countys_units_on_that_countys_own_figures(city):
    """考核 at city level: the city bureau's assessment ranks the units and places of both counties; each unit's
    and each place's indicators are those of its county's own assessment (ranks differ: they are the city's)."""
    r = ask(city, "/v1/assessment", {"year": "2026"}, city["tokens"]["city"])
    assert r.status_code == 200, r.text[:500]
    doc = r.json()
    assert doc["jurisdiction"]["code"] == "361400000000"
    in_city = {row["unit"]: row["indicators"] for row in doc["units"]}
    places = {row["jurisdiction"]: row["indicators"] for row in doc["jurisdictions"]}
    assert {CODE["east"], CODE["west"]} <= set(places)
    for alias, county in city["counties"].items():
        connections = await pool(city["dsn"])
        try:
            own = await assessment(Reporter(connections, city["own"][alias], county),
                                   Request(period=parse_period(year="2026"), jurisdiction=county.code))
        finally:
            await connections.close()
        units = {row["unit"]: row["indicators"] for row in own["units"]}
        assert len(units) > 10
        for unit, cells in units.items():
            assert {k: v["value"] for k, v in in_city[unit].items()} == {k: v["value"] for k, v in cells.items()}, \
                f"{alias} {unit}: the city's assessment differs from the county's own"
        for row in own["jurisdictions"]:
            assert {k: v["value"] for k, v in places[row["jurisdiction"]].items()} == \
                {k: v["value"] for k, v in row["indicators"].items()}, f"{alias} {row['jurisdiction']}"
    # a county bureau's terminal ranks its own county only; a township station's terminal is not the bureau's
    east = ask(city, "/v1/assessment", {"year": "2026"}, city["tokens"]["east"])
    assert east.status_code == 200 and east.json()["jurisdiction"]["code"] == CODE["east"]
    assert all(row["unit"] in {u.id for u in city["counties"]["east"].units} for row in east.json()["units"])
    assert_problem(ask(city, "/v1/assessment", {"year": "2026", "jurisdiction": CODE["west"]},
                       city["tokens"]["east"]), 404)
    assert_problem(ask(city, "/v1/assessment", {"year": "2026"}, None), 401)


def test_the_citys_bulletin_holds_the_citys_figures_and_ranks_every_countys_units(city):
    """月通报 at city level: the city bureau's bulletin for a month is the city's figures and the city's ranking of
    both counties' units; a county bureau's terminal gets its own county's, never the other's."""
    import io

    import docx

    month = {"month": "2026-05"}
    r = ask(city, "/v1/bulletin", {**month, "format": "docx"}, city["tokens"]["city"])
    assert r.status_code == 200, r.text[:500]
    word = docx.Document(io.BytesIO(r.content))
    stats, ranking = city_stats(city, **month), ask(city, "/v1/assessment", month, city["tokens"]["city"]).json()
    rows = {row.cells[0].text: row.cells[1].text for row in word.tables[0].rows[1:]}
    cases = stats["figures"]["cases"]
    assert rows[cases["label"]] == f"{cases['value']}{cases['unit']}" and cases["value"] > 0
    ranked = [row.cells[1].text for row in word.tables[1].rows[1:]]
    assert ranked == [u["name"] for u in ranking["units"]]
    ids = {u["unit"] for u in ranking["units"]}
    assert all(ids & {u.id for u in county.units if u.tier != "city"} for county in city["counties"].values()), \
        "both counties' units ranked in the city"
    east = ask(city, "/v1/bulletin", {**month, "format": "docx"}, city["tokens"]["east"])
    assert east.status_code == 200
    east_rows = {row.cells[0].text: row.cells[1].text for row in docx.Document(io.BytesIO(east.content)).tables[0].rows[1:]}
    mine = city_stats(city, jurisdiction=CODE["east"], **month)["figures"]["cases"]
    assert east_rows[cases["label"]] == f"{mine['value']}{mine['unit']}"
    assert_problem(ask(city, "/v1/bulletin", {**month, "jurisdiction": CODE["west"]}, city["tokens"]["east"]), 404)
    assert_problem(ask(city, "/v1/bulletin", month, None), 401)


def test_after_mirrormaker_killed_and_the_citys_and_a_countys_kafka_down_a_minute_the_figures_add_up(city):
    """The faults of the acceptance, in one drill under load, then the figures: MirrorMaker 2 SIGKILLed and
    restarted, the city's Kafka stopped 60 s, one county's Kafka stopped 60 s, the counties writing throughout;
    afterwards every figure of the city for a county is that county's own (its own reporting, live through the
    drill, and a replay of its own broker), the city's total their sum, and a fresh replay of the city's mirrored
    topics equals the city's live tables — nothing lost, nothing counted twice. Last in the module: it adds matters."""
    nodes, mm2 = city["nodes"], city["mm2"]
    before = {alias: city_stats(city, jurisdiction=CODE[alias], year="2026")["figures"]["cases"]["value"]
              for alias in COUNTIES}
    seeds = iter(range(40, 60))

    def load(alias: str, matters: int, rate: float) -> Load:
        history = county_year(city["counties"][alias], 2026, matters, seed=next(seeds))
        started = Load(settings_of(nodes[alias].bootstrap), history, rate)
        started.start()
        return started

    loads = [load(alias, 60, 30) for alias in COUNTIES]  # ~16 s each: MirrorMaker killed in the middle
    until(lambda: all(x.sent > 100 for x in loads), "the load flowing", 60, every=0.2)
    assert all(x.is_alive() for x in loads), "the load ended before the kill: no drill under load"
    mm2.kill()  # SIGKILL under load, then started again
    mm2.start()
    for x in loads:
        x.done(300)
    nodes["city"].stop()  # the city's Kafka down: MirrorMaker and the city's reporting cannot reach it
    loads = [load(alias, 80, 10) for alias in COUNTIES]  # ~64 s each: the counties write through the outage
    time.sleep(60)  # the drill itself: the city's Kafka stays down a minute
    assert all(x.sent > 300 for x in loads), "the counties did not write while the city was down"
    nodes["city"].start(timeout=120)
    for x in loads:
        x.done(300)
    nodes["west"].stop()  # one county's Kafka down (its own reporting loses it too); the other county writes on
    east = load("east", 80, 10)
    time.sleep(60)  # the drill itself: the county's Kafka stays down a minute
    assert east.sent > 300, "east did not write while west was down"
    nodes["west"].start(timeout=120)
    east.done(300)

    tail = {}  # each county's records, and the city's copy of them once whole
    for alias in COUNTIES:
        for topic in TOPICS:
            county = read_all(nodes[alias].bootstrap, topic)
            ids = {orjson.loads(r.value)["id"] for r in county}
            remote = f"{alias}.{topic}"
            copy = until(lambda remote=remote, ids=ids: holding(nodes["city"].bootstrap, remote, ids),
                         f"every {alias} {topic} event in the city", 300, every=1)
            tail[alias, topic] = (county, copy)
    asyncio.run(projected_past(city["dsn"], city["schema"],
                               last_offsets([r for _, copy in tail.values() for r in copy]), timeout=300))
    for alias in COUNTIES:  # each county's own: its live reporting (through its outage) and a replay of its broker
        asyncio.run(projected_past(city["dsn"], city["served"][alias], last_offsets(
            [r for topic in TOPICS for r in tail[alias, topic][0]]), timeout=300))
        asyncio.run(replay(settings_of(nodes[alias].bootstrap), city["dsn"], city["own"][alias]))
    fresh = city["schema"] + "_fresh"
    _, tree, roles, _ = deployment(ReportingSettings(reporting_mode="city", city_file=str(city["city_file"])))
    asyncio.run(replay(settings_of(nodes["city"].bootstrap), city["dsn"], fresh, roles=roles))
    try:
        for period in PERIODS:
            own = {alias: asyncio.run(own_stats(city, alias, **period)) for alias in COUNTIES}
            total = city_stats(city, **period)
            assert values(total) == values(asyncio.run(schema_stats(city["dsn"], fresh, tree, **period))), \
                f"{period}: the city's live figures differ from a fresh replay of its mirrored topics"
            for alias in COUNTIES:
                mine = city_stats(city, jurisdiction=CODE[alias], **period)
                assert values(mine) == values(own[alias]), f"{period} {alias}: the city's figures differ from its own"
                assert mine["units"] == own[alias]["units"]
            assert additive(total) == {k: sum(additive(own[a])[k] for a in COUNTIES) for k in additive(own["east"])}
        after = {alias: city_stats(city, jurisdiction=CODE[alias], year="2026")["figures"]["cases"]["value"]
                 for alias in COUNTIES}
        assert all(after[a] > before[a] for a in COUNTIES), (before, after)  # the drill's matters are counted
        known_at = datetime.now(timezone.utc).isoformat()
        code, doc = city_audit(city, "--year", "2026", "--known-at", known_at, "--no-townships")
        assert code == 0 and doc["consistent"], orjson.dumps(doc)[:3000]  # each county's service agrees as well
    finally:
        asyncio.run(drop_schema(city["dsn"], fresh))

