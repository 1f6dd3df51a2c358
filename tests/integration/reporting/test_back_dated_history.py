"""History recorded long after it happened, as imported history is: two synthetic county years (2018, then 2019)
recorded an hour apart today, projected by a running reporting service. The audit CLI's two clocks give the
figures /v1/stats gives — a known-at before the records were written counts nothing, one after them everything —
and for every figure of a period the drill-down's contributions sum to the figure, in JSON, CSV and XLSX."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest
from openpyxl import load_workbook

from support.audit import audit_on
from support.county_year import county_year
from support.history import History, publish
from support.kafka import delete_run_topics, run_settings
from support.reporting import DEMO, drop_schema, plant_terminal, start_reporting, wait_projected
from support.tokens import client

AUDITOR = "xft_back-dated-history-auditor-" + "a" * 24
AS_OF = "2019-04-14"  # the end of that local day, as /v1/stats reads a date


@pytest.fixture(scope="module")
def served(settings, kafka_bootstrap, test_db, tmp_path_factory, county):
    run = uuid.uuid4().hex[:8]
    topics = run_settings(settings.model_copy(update={"database_url": test_db}), f"repback{run}")
    schema = f"rep_back_{run}"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    first, second = now - timedelta(hours=2), now - timedelta(hours=1)  # when each year was imported
    history = History(recorded=first)
    county_year(county, 2018, 200, seed=12, history=history)
    history.recorded = second
    county_year(county, 2019, 250, seed=11, history=history)
    plant_terminal(topics, "t-back-auditor", county.jurisdiction(county.code).unit, ["auditor"], AUDITOR)
    publish(topics, history)
    reporting, http = None, None
    try:
        reporting = start_reporting(topics, test_db, schema, tmp_path_factory.mktemp("back") / "reporting.log")
        asyncio.run(wait_projected(test_db, schema, history.count(), timeout=180))
        http = client(reporting.url, AUDITOR)
        yield {"http": http, "topics": topics, "dsn": test_db, "schema": schema, "first": first, "second": second,
               "run": run, "events": history.count()}
    finally:
        if http is not None:
            http.close()
        if reporting is not None:
            reporting.stop()
        asyncio.run(drop_schema(test_db, schema, *(f"audit_{kind}_{run}" for kind in ("r", "v", "p"))))
        delete_run_topics(topics)


def cli(served, command: str, *args: str, scratch: str = "r") -> dict:
    done = audit_on(served["topics"], served["dsn"], DEMO, served["schema"], command, *args,
                    "--scratch" if command != "replay" else "--schema", f"audit_{scratch}_{served['run']}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)


def stats(served, **params) -> dict:
    r = served["http"].get("/v1/stats", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def values(figures: dict, comparison: str | None = None) -> dict:
    return {k: (v[comparison] if comparison else v)["value"] for k, v in figures.items()}


def options(clocks: dict[str, str]) -> list[str]:
    return [part for name, moment in clocks.items() for part in (f"--{name.replace('_', '-')}", moment)]


@pytest.mark.parametrize("case", ["as_of", "known_before", "known_between", "known_after", "both"])
def test_the_audit_report_gives_the_figures_of_v1_stats_by_either_clock_and_both(served, case):
    between = (served["first"] + timedelta(seconds=1)).isoformat()  # 2018 recorded, 2019 not yet
    period, clocks = {
        "as_of": ({"quarter": "2019Q1"}, {"as_of": AS_OF}),
        "known_before": ({"year": "2019"}, {"known_at": (served["first"] - timedelta(seconds=1)).isoformat()}),
        "known_between": ({"year": "2019"}, {"known_at": between}),
        "known_after": ({"year": "2019"}, {"known_at": (served["second"] + timedelta(seconds=1)).isoformat()}),
        "both": ({"quarter": "2019Q1"}, {"as_of": AS_OF, "known_at": between}),
    }[case]
    kind, code = next(iter(period.items()))
    report = cli(served, "report", *options(clocks), f"--{kind}", code)
    served_doc = stats(served, **period, **clocks)
    assert report["stats"]["figures"] == served_doc["figures"]
    assert report["stats"]["units"] == served_doc["units"]
    assert report["replay"]["records"] == served["events"]  # both topics read to their end, whatever the clocks

    figures, everything = values(report["stats"]["figures"]), stats(served, **period)["figures"]
    outcomes = ("replied", "evaluated", "resolved")
    if case == "as_of":
        # the bug: the broker held nothing in 2019, so the report of 14 April replayed 0 records and counted 0
        assert figures["cases"] > 0 and figures["batches"] > figures["cases"]
        assert sum(figures[k] for k in outcomes) < sum(values(everything)[k] for k in outcomes)  # not after 14 April
    if case == "known_before":
        assert all(value in (0, None) for value in figures.values())
    if case in ("known_between", "both"):
        assert figures["cases"] == 0 < values(everything)["cases"]  # the year itself not known yet …
        assert values(report["stats"]["figures"], "yoy")["cases"] > 0  # … the year before it was
    if case == "known_between":
        assert values(report["stats"]["figures"], "yoy") == values(everything, "yoy")
    if case == "known_after":
        assert figures == values(everything) and values(report["stats"]["figures"], "yoy") == values(everything, "yoy")


def test_a_replay_holds_what_the_clocks_admit_and_verify_compares_by_them(served):
    async def matters(schema: str) -> int:
        conn = await asyncpg.connect(served["dsn"])
        try:
            return await conn.fetchval(f'SELECT count(*) FROM "{schema}".matters')
        finally:
            await conn.close()

    before = (served["first"] - timedelta(seconds=1)).isoformat()
    replayed = cli(served, "replay", "--known-at", before, scratch="p")["replay"]
    assert replayed["records"] == served["events"] and replayed["known_at"] == before
    assert asyncio.run(matters(f"audit_p_{served['run']}")) == 0
    cli(served, "replay", "--as-of", AS_OF, scratch="p")
    by_then = stats(served, **{"from": "2012-01-01", "to": AS_OF, "as_of": AS_OF})["figures"]["cases"]["value"]
    assert 0 < asyncio.run(matters(f"audit_p_{served['run']}")) == by_then

    # mid-2018 by occurred time, and only the import of 2018 by recorded time: both clocks cut
    between = (served["second"] - timedelta(seconds=1)).isoformat()
    verified = cli(served, "verify", "--live", served["schema"], "--as-of", "2018-06-30", "--known-at", between,
                   scratch="v")
    assert verified["tables"] == {} and verified["figure_differences"] == [] and verified["figures_compared"] > 0
    assert verified["integrity"]["findings"] == [] and verified["as_of"].startswith("2018-06-30T23:59:59")
    assert verified["replay"]["records"] == served["events"]


def drilled(served, figure: str, params: dict, limit: int = 5000) -> tuple[dict, list[dict]]:
    """The first page of a figure's drill-down and every row, page by page."""
    rows, offset, first = [], 0, None
    while True:
        r = served["http"].get("/v1/stats/drilldown", params={**params, "figure": figure, "limit": limit,
                                                              "offset": offset})
        assert r.status_code == 200, r.text
        page = r.json()
        first = first or page
        rows += page["matters"]
        offset += limit
        if offset >= page["total"]:
            return first, rows


PERIODS = [{"year": "2019"}, {"quarter": "2019Q1", "as_of": AS_OF}, {"year": "2019", "jurisdiction": "361402001000"},
           {"month": "2019-03", "unit": "station.361402001000"}]


@pytest.mark.parametrize("params", PERIODS, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_for_every_figure_the_drill_down_contributions_sum_to_the_figure(served, params):
    figures = stats(served, **params)["figures"]
    if params == {"year": "2019"}:  # the year exercises every kind of figure
        assert all(figures[k]["value"] > 0 for k in ("skip_level_batches", "collective_cases", "collective_resolved",
                                                    "accept_due", "handle_due", "evaluated", "first_time_resolved"))
    for key, figure in figures.items():
        body, rows = drilled(served, key, params)
        assert body["total"] == len(rows) == len({m["petition_id"] for m in rows}), key
        assert all(m["batches"] >= 0 and m["persons"] >= m["batches"] for m in rows), key
        if figure["unit"] == "%":
            assert sum(m["numerator"] for m in rows) == figure["numerator"] == body["sums"]["numerator"], key
            assert sum(m["denominator"] for m in rows) == figure["denominator"] == body["sums"]["denominator"], key
            assert body["sums"]["value"] == figure["value"], key
        else:
            assert sum(m["contribution"] for m in rows) == figure["value"] == body["sums"]["contribution"], key
    cases = drilled(served, "cases", params)[1]
    assert all(m["contribution"] == 1 and m["batches"] >= 1 and m["persons"] >= 1 for m in cases)  # not "1, 0"
    persons = drilled(served, "persons", params)[1]
    assert all(m["contribution"] == m["persons"] for m in persons)
    assert sum(m["batches"] for m in persons) == figures["batches"]["value"]


def test_pages_add_up_to_the_whole(served):
    whole = drilled(served, "persons", {"year": "2019"})[1]
    paged = drilled(served, "persons", {"year": "2019"}, limit=37)[1]
    assert paged == whole and len(whole) > 37


@pytest.mark.parametrize("figure", ["collective_persons", "resolution_rate"])
def test_the_drill_down_exports_hold_every_row_and_the_sums(served, figure):
    params = {"year": "2019", "figure": figure}
    value = stats(served, year="2019")["figures"][figure]
    body, rows = drilled(served, figure, {"year": "2019"})
    r = served["http"].get("/v1/stats/drilldown", params={**params, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content[:3] == b"\xef\xbb\xbf"
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    keys = next(i for i, line in enumerate(table) if line and line[0] == "petition_id")
    assert table[keys - 1][0] == "事项编号" and table[keys][-1] == ("denominator" if value["unit"] == "%" else "contribution")
    assert [line[0] for line in table[keys + 1:keys + 1 + len(rows)]] == [m["petition_id"] for m in rows]
    total = table[keys + 1 + len(rows)]
    assert total[0] == f"合计 total ({len(rows)})"
    x = served["http"].get("/v1/stats/drilldown", params={**params, "format": "xlsx"})
    assert x.status_code == 200
    sheet = [line for line in load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True)]
    if value["unit"] == "%":
        assert [int(total[-2]), int(total[-1])] == [value["numerator"], value["denominator"]]
        assert sheet[-1][1] == float(value["value"])
    else:
        assert int(total[-1]) == value["value"] == body["sums"]["contribution"]
        assert sheet[-1][len(body["columns"]) - 1] == value["value"]
