"""Drill-down rows: every figure has them, each row says what it contributes, the export sums them."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

from reporting import exports
from reporting.figures import BY_KEY, EVENT_FIGURES, FIGURES, drill_columns
from reporting.periods import Period
from reporting.queries import AT_TIER, CONTRIBUTIONS, DRILL, drill_sql
from reporting.stats import drill_doc, period_doc
from support.reporting import DEMO
from xinfang.county import load_county

COUNTY = load_county(DEMO)


def test_every_figure_of_v1_stats_can_be_drilled_down_and_every_rate_by_both_its_parts():
    assert set(DRILL) == {f.key for f in FIGURES} | {f.key for f in EVENT_FIGURES}
    for figure in FIGURES:
        if figure.kind == "count":
            assert figure.key in CONTRIBUTIONS
        else:
            assert figure.numerator in CONTRIBUTIONS and figure.denominator in CONTRIBUTIONS
        for now in (False, True):
            assert {"limit", "offset"} <= set(drill_sql("s", figure.key, now).names)


def test_the_columns_name_the_matters_period_and_the_contributions_in_chinese_and_english():
    count = [c.key for c in drill_columns(BY_KEY["cases"])]
    assert count[-3:] == ["batches", "persons", "contribution"]
    rate = drill_columns(BY_KEY["resolution_rate"])
    assert [c.key for c in rate][-2:] == ["numerator", "denominator"]
    assert rate[-2].zh == "计入分子已解决（件）" and rate[-1].zh == "计入分母上访案件（件）"
    assert rate[-2].en == "counted in the numerator, resolved"
    assert all(c.zh and c.en for f in FIGURES for c in drill_columns(f))


def row(pid: str, batches: int, persons: int, contribution=None, numerator=None, denominator=None, **sums) -> dict:
    return {"petition_id": pid, "receipt_no": f"R-{pid}", "occurred_at": datetime(2019, 1, 5, tzinfo=timezone.utc),
            "jurisdiction": "361402001001", "category": "labour", "channel": "visit", "batches": batches,
            "persons": persons, "contribution": contribution, "numerator": numerator, "denominator": denominator,
            "total": 2, "merged": [], **sums}


def doc(figure: str, rows: list[dict]) -> dict:
    quarter = Period(date(2019, 1, 1), date(2019, 3, 31), "quarter")
    return drill_doc(BY_KEY[figure], rows, 500, 0, COUNTY) | {
        "period": period_doc(quarter, COUNTY), "as_of": "2019-04-14T23:59:59.999999+08:00", "known_at": None,
        "scope": {"jurisdiction": {"code": COUNTY.code, "name": "示范县"}, "unit": None}}


def test_a_count_drill_down_carries_each_matters_contribution_and_their_sum():
    # a visit of three persons on a case: one case, three persons — no longer "1 batch, 0 persons"
    rows = [row("a", 1, 3, 1, contribution_sum=2), row("b", 2, 7, 1, contribution_sum=2)]
    body = doc("cases", rows)
    assert body["sums"] == {"contribution": 2} and body["total"] == 2
    assert [(m["batches"], m["persons"], m["contribution"]) for m in body["matters"]] == [(1, 3, 1), (2, 7, 1)]
    assert "numerator" not in body["matters"][0]


def test_a_rate_drill_down_lists_its_denominators_matters_with_both_parts():
    rows = [row("a", 1, 3, None, 1, 1, numerator_sum=1, denominator_sum=2),
            row("b", 1, 1, None, 0, 1, numerator_sum=1, denominator_sum=2)]
    body = doc("resolution_rate", rows)
    assert body["sums"] == {"numerator": 1, "denominator": 2, "value": "50.00"}
    assert [(m["numerator"], m["denominator"]) for m in body["matters"]] == [(1, 1), (0, 1)]
    assert doc("resolution_rate", [])["sums"] == {"numerator": 0, "denominator": 0, "value": None}


def test_the_export_has_chinese_and_english_headings_every_row_and_the_sums():
    body = doc("persons", [row("a", 1, 3, 3, contribution_sum=10), row("=b", 2, 7, 7, contribution_sum=10)])
    table = list(csv.reader(io.StringIO(exports.to_csv(exports.drill_rows(body)).decode("utf-8-sig"))))
    assert table[0] == ["指标 figure", "来访人次", "persons"]
    assert ["截至（发生）as of", "2019-04-14T23:59:59.999999+08:00"] in table
    headings = next(i for i, line in enumerate(table) if line and line[0] == "事项编号")
    assert table[headings][-3:] == ["本期批次", "本期人次", "计入来访人次（人次）"]
    assert table[headings + 1][-1] == "contribution"
    assert table[headings + 3][0] == "'=b"  # formula-safe
    assert table[-1][0] == "合计 total (2)" and table[-1][-1] == "10"
    rate = doc("resolution_rate", [row("a", 1, 3, None, 1, 1, numerator_sum=1, denominator_sum=1)])
    assert exports.drill_rows(rate)[-1] == ["解决率 resolution_rate (%)", 100.0]


def test_the_series_events_and_a_tiers_batches_are_drilled_down_by_their_own_statements():
    for figure in EVENT_FIGURES:  # the dashboard's chart of overdue notices and escalations
        for now in (False, True):
            sql = drill_sql("s", figure.key, now)
            assert {"limit", "offset", "unit", "channel"} <= set(sql.names)
            assert ("breaches" if figure.key == "overdue_notices" else "holdings") in sql.sql
    for figure in AT_TIER:  # the tier chart's slice: batches (or persons) registered at that tier
        for now in (False, True):
            assert "tier" in drill_sql("s", figure, now, tier=True).names
            assert "tier" not in drill_sql("s", figure, now).names
