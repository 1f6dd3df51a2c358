"""The dashboard in headless Chromium (Playwright driving Debian's chromium) against a real reporting service and
PostgreSQL, fed through Kafka with two synthetic county years and the two planted hotspots of support.hotspots.
What the page shows is compared with what the API answers for the same parameters: every card and every chart's
series after each change of period, place and category; the matters a click lists with the drill-down; the ranks
with /v1/assessment; the hotspot list with /v1/hotspots. The doors: no token, a wrong token, a revoked one, a
place outside the token's scope, a handler's token on the assessment. Screenshots go to the test's tmp folder
(the path is printed)."""
from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest

from support.browser import chromium
from support.hotspots import CST, RISING_VILLAGE, serving
from support.reporting import plant_terminal
from support.tokens import client, wait_known
from support.waiting import until

BUREAU = "xft_dashboard-bureau-supervisor-" + "b" * 24
TOWNSHIP = "xft_dashboard-township-supervisor-" + "t" * 24  # 城关街道
HANDLER = "xft_dashboard-room-handler-" + "h" * 24          # 东门社区's room
REVOKED = "xft_dashboard-revoked-auditor-" + "r" * 24
CHENGGUAN, QINGSHI = "361402001000", "361402101000"
CHARTS = ("volume", "tiers", "categories", "breaches", "rates", "yoy")
CARDS = ("cases", "batches", "persons", "collective_batches", "repeat_batches", "skip_level_batches",
         "resolution_rate", "timely_acceptance_rate", "on_time_completion_rate", "satisfaction_rate")
RATES = ("resolution_rate", "timely_acceptance_rate", "on_time_completion_rate", "satisfaction_rate",
         "participation_rate", "first_time_resolution_rate")
YOY = ("cases", "batches", "persons", "collective_batches", "resolved")


@pytest.fixture(scope="module")
def served(settings, kafka_bootstrap, test_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard")
    room = f"room.{RISING_VILLAGE}"
    terminals = [("t-dash-bureau", "bureau.361402", ["supervisor"], BUREAU),
                 ("t-dash-township", f"station.{CHENGGUAN}", ["supervisor"], TOWNSHIP),
                 ("t-dash-handler", room, ["handler"], HANDLER), ("t-dash-revoked", "bureau.361402", ["auditor"], REVOKED)]
    with serving(settings, test_db, folder, "dash", terminals) as world:
        assert world["county"].jurisdiction(RISING_VILLAGE).unit == room
        url = world["reporting"].url
        for token in (TOWNSHIP, HANDLER, REVOKED):
            wait_known(url, token)
        shots = folder / "screenshots"
        shots.mkdir()
        print(f"\ndashboard screenshots: {shots}")
        with client(url, BUREAU) as http, chromium() as browser:
            yield {**world, "http": http, "url": url, "browser": browser, "shots": shots}


def api(served, path: str, token: str = BUREAU, **params) -> dict:
    r = served["http"].get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


@contextlib.contextmanager
def opened(served, token: str | None, **params):
    """A new tab on the dashboard (the address's parameters), signed in with ``token`` if given; closed after."""
    page = served["browser"].new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{served['url']}/v1/dashboard" + (f"?{urlencode(params)}" if params else ""))
        page.wait_for_selector("#signin:not(.hidden)")
        if token:
            page.fill("#token", token)
            page.click("#signin button")
        yield page
    finally:
        page.close()


def shown(page, state: str, view: str = "overview", timeout: float = 60_000) -> None:
    """Until the page has rendered the view for the API query ``state``."""
    page.wait_for_selector(f'body[data-view="{view}"][data-state="{state}"]', timeout=timeout)
    if view == "overview":
        assert page.locator("body").get_attribute("data-rendered") == str(len(CHARTS))


def series_of(page, chart: str) -> list[list]:
    return page.evaluate("""id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series.map(
        s => s.data.map(v => (v !== null && typeof v === "object") ? [v.name, v.value] : v))""", chart)


def rate_number(value: str | None) -> float:
    return 0 if value is None else float(value)


def assert_overview_is_the_api(served, page, params: dict) -> dict:
    """Every card and every chart's series equals /v1/stats and /v1/stats/series for ``params``."""
    stats = api(served, "/v1/stats", **params, compare="yoy,mom")
    series = api(served, "/v1/stats/series", **params, compare="yoy,mom")
    F = stats["figures"]
    cards = {key: page.get_attribute(f'#cards [data-figure="{key}"]', "data-value") for key in CARDS}
    assert cards == {key: "" if F[key]["value"] is None else str(F[key]["value"]) for key in CARDS}
    months, last = series["months"], series["last_year"]
    assert series_of(page, "volume") == [[m["batches"] for m in months], [m["batches"] for m in last],
                                         [m["persons"] for m in months], [m["persons"] for m in last]]
    assert series_of(page, "tiers") == [[[t["name"], t["batches"]] for t in series["by_tier"]]]
    assert series_of(page, "categories") == [[c["cases"] for c in series["by_category"]][::-1]]
    assert series_of(page, "breaches") == [[m["overdue"] for m in months], [m["escalated"] for m in months]]
    assert series_of(page, "rates") == [[rate_number(F[k]["value"]) for k in RATES],
                                        [rate_number(F[k]["yoy"]["value"]) for k in RATES]]
    assert series_of(page, "yoy") == [[F[k]["value"] for k in YOY], [F[k]["yoy"]["value"] for k in YOY]]
    assert sum(F[k]["value"] for k in YOY) > 0  # real figures, not an empty page compared with an empty answer
    return stats


def drilled(page, query: dict) -> list[str]:
    """The receipt numbers the drill-down panel lists, once it shows ``query``."""
    try:
        page.wait_for_selector(f'body[data-drill="{urlencode(query)}"]', timeout=30_000)
    except Exception as exc:  # noqa: BLE001 — re-raised with what the page shows instead
        raise AssertionError(f"the drill-down panel shows {page.get_attribute('body', 'data-drill')!r}, "
                             f"not {urlencode(query)!r}") from exc
    return page.locator("#drilltable tr[data-receipt]").evaluate_all("rows => rows.map(r => r.dataset.receipt)")


def receipts(doc: dict) -> list[str]:
    return [m["receipt_no"] for m in doc["matters"]]


def test_period_place_and_category_changes_update_every_chart_to_the_figures_of_the_api(served):
    with opened(served, BUREAU, year="2025") as page:
        shown(page, "year=2025")
        stats = assert_overview_is_the_api(served, page, {"year": "2025"})
        assert stats["figures"]["cases"]["value"] >= 1500
        page.screenshot(path=served["shots"] / "1-county-2025.png", full_page=True)
        page.select_option("#kind", "month")
        shown(page, "month=2025-01")
        page.select_option("#sub", "10")
        shown(page, "month=2025-10")
        assert_overview_is_the_api(served, page, {"month": "2025-10"})
        page.select_option("#place", CHENGGUAN)  # county → township
        shown(page, f"month=2025-10&jurisdiction={CHENGGUAN}")
        assert_overview_is_the_api(served, page, {"month": "2025-10", "jurisdiction": CHENGGUAN})
        page.select_option("#place", RISING_VILLAGE)  # township → village
        state = f"month=2025-10&jurisdiction={RISING_VILLAGE}"
        shown(page, state)
        assert_overview_is_the_api(served, page, {"month": "2025-10", "jurisdiction": RISING_VILLAGE})
        assert page.locator("#place").is_disabled()  # a village has no place below
        page.select_option("#category", "labour")
        shown(page, state + "&category=labour")
        labour = assert_overview_is_the_api(served, page, {"month": "2025-10", "jurisdiction": RISING_VILLAGE,
                                                           "category": "labour"})
        assert labour["figures"]["cases"]["value"] >= 24  # the planted letters
        page.screenshot(path=served["shots"] / "2-village-october-labour.png", full_page=True)
        page.select_option("#kind", "quarter")
        shown(page, f"quarter=2025Q1&jurisdiction={RISING_VILLAGE}&category=labour")
        page.select_option("#sub", "Q4")
        shown(page, f"quarter=2025Q4&jurisdiction={RISING_VILLAGE}&category=labour")
        page.click(f'#crumbs button[data-code="{CHENGGUAN}"]')  # back up to the township
        shown(page, f"quarter=2025Q4&jurisdiction={CHENGGUAN}&category=labour")
        assert_overview_is_the_api(served, page, {"quarter": "2025Q4", "jurisdiction": CHENGGUAN, "category": "labour"})
        assert "view" not in page.url and "jurisdiction=361402001000" in page.url  # the state is in the address
        assert BUREAU not in page.url and page.evaluate("document.cookie") == ""


def test_a_click_on_a_card_or_a_bar_lists_exactly_the_matters_of_the_drill_down(served):
    params = {"month": "2025-10", "jurisdiction": RISING_VILLAGE}
    with opened(served, BUREAU, **params) as page:
        shown(page, urlencode(params))
        page.click('#cards [data-figure="cases"]')
        want = api(served, "/v1/stats/drilldown", figure="cases", limit=500, **params)
        assert drilled(page, {**params, "figure": "cases", "limit": 500}) == receipts(want) and want["total"] >= 24
        page.click('#cards [data-figure="satisfaction_rate"]')
        want = api(served, "/v1/stats/drilldown", figure="satisfaction_rate", limit=500, **params)
        assert drilled(page, {**params, "figure": "satisfaction_rate", "limit": 500}) == receipts(want)
        assert f"共 {want['total']} 件事项" in page.inner_text("#drillsums")
        # a real click on the category chart's labour bar: the cases of that category
        names = [c["category"] for c in api(served, "/v1/stats/series", **params)["by_category"]]
        index = names.index("labour")
        box = page.locator("#categories").bounding_box()
        x, y = page.evaluate("""i => { const c = echarts.getInstanceByDom(document.getElementById('categories'));
            const data = c.getOption().series[0].data; const j = data.length - 1 - i;
            return c.convertToPixel({seriesIndex: 0}, [data[j] / 2, j]); }""", index)
        page.mouse.click(box["x"] + x, box["y"] + y)
        want = api(served, "/v1/stats/drilldown", figure="cases", category="labour", limit=500, **params)
        got = drilled(page, {"month": "2025-10", "jurisdiction": RISING_VILLAGE, "category": "labour",
                             "figure": "cases", "limit": 500})
        assert got == receipts(want) and len(got) >= 24
        rows = page.locator("#drilltable tr[data-receipt]").first.inner_text()
        assert "劳动和社会保障" in rows and "东门社区" in rows  # category and place by name; no person anywhere
        page.screenshot(path=served["shots"] / "3-drill-down.png", full_page=True)


def test_the_tier_slices_and_the_breach_bars_list_the_matters_behind_them(served):
    """The charts of the series that are not /v1/stats' figures drill down too: a tier's slice to the batches
    registered at that tier, a month's bar to its overdue notices or escalations — each drill-down's sum the
    chart's number."""
    params = {"year": "2025"}
    series = api(served, "/v1/stats/series", **params)
    for t in series["by_tier"]:
        doc = api(served, "/v1/stats/drilldown", figure="batches", tier=t["tier"], limit=1, **params)
        assert doc["sums"]["contribution"] == t["batches"] and doc["tier"] == t["tier"], t
    assert sum(m["overdue"] for m in series["months"]) > 0 and sum(m["escalated"] for m in series["months"]) > 0
    for m in series["months"]:
        for figure, key in (("overdue_notices", "overdue"), ("escalations", "escalated")):
            doc = api(served, "/v1/stats/drilldown", figure=figure, month=m["month"], limit=1)
            assert doc["sums"]["contribution"] == m[key], (figure, m)
    refused = served["http"].get("/v1/stats/drilldown", params={"figure": "cases", "tier": "village", **params},
                                 headers={"Authorization": f"Bearer {BUREAU}"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "tier"
    with opened(served, BUREAU, **params) as page:
        shown(page, urlencode(params))
        tier = series["by_tier"][0]["tier"]
        page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('tiers')).trigger('click',
            {componentType: 'series', seriesType: 'pie', seriesIndex: 0, dataIndex: 0})""")
        want = api(served, "/v1/stats/drilldown", figure="batches", tier=tier, limit=500, **params)
        assert drilled(page, {**params, "figure": "batches", "limit": 500, "tier": tier}) == receipts(want)
        assert want["total"] > 0 and "登记" in page.inner_text("#drilltitle")
        # a real click on the overdue bar of the month with most overdue notices
        i = max(range(len(series["months"])), key=lambda n: series["months"][n]["overdue"])
        month = series["months"][i]
        page.locator("#breaches").scroll_into_view_if_needed()  # below the drill-down panel: a click in view
        box = page.locator("#breaches").bounding_box()
        x, y = page.evaluate("""i => { const bar = echarts.getInstanceByDom(document.getElementById('breaches'))
            .getModel().getSeriesByIndex(0).getData().getItemLayout(i);  // the overdue bar, beside the escalations'
            return [bar.x + bar.width / 2, bar.y + bar.height / 2]; }""", i)
        page.mouse.click(box["x"] + x, box["y"] + y)
        want = api(served, "/v1/stats/drilldown", figure="overdue_notices", month=month["month"], limit=500)
        got = drilled(page, {"month": month["month"], "figure": "overdue_notices", "limit": 500})
        assert got == receipts(want) and want["sums"]["contribution"] == month["overdue"] > 0
        page.screenshot(path=served["shots"] / "3b-drill-down-overdue.png", full_page=True)

def test_the_assessment_page_ranks_as_the_api_and_each_cell_lists_its_matters(served):
    with opened(served, BUREAU, view="assessment", quarter="2025Q4") as page:
        shown(page, "quarter=2025Q4", "assessment")
        doc = api(served, "/v1/assessment", quarter="2025Q4")
        rows = page.locator("#ranking tr[data-key]").evaluate_all(
            "rows => rows.map(r => [r.dataset.key, Number(r.dataset.rank)])")
        assert rows == [[r["unit"], r["rank"]] for r in doc["units"]] and len(rows) > 10
        page.screenshot(path=served["shots"] / "4-assessment.png", full_page=True)
        page.select_option("#rankby", "jurisdictions")
        page.wait_for_selector(f'#ranking tr[data-key="{CHENGGUAN}"]')
        rows = page.locator("#ranking tr[data-key]").evaluate_all(
            "rows => rows.map(r => [r.dataset.key, Number(r.dataset.rank)])")
        assert rows == [[r["jurisdiction"], r["rank"]] for r in doc["jurisdictions"]]
        first = doc["jurisdictions"][0]
        link = first["indicators"]["on_time_completion_rate"]["drilldown"][0]
        page.click(f'#ranking tr[data-key="{first["jurisdiction"]}"] td[data-indicator="on_time_completion_rate"] a')
        query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&")) | {"limit": "500"}
        want = api(served, "/v1/stats/drilldown", **query)
        assert drilled(page, query) == receipts(want)
        # the place picker ranks below the place picked
        page.select_option("#place", CHENGGUAN)
        shown(page, f"quarter=2025Q4&jurisdiction={CHENGGUAN}", "assessment")
        below = api(served, "/v1/assessment", quarter="2025Q4", jurisdiction=CHENGGUAN)
        rows = page.locator("#ranking tr[data-key]").evaluate_all("rows => rows.map(r => r.dataset.key)")
        assert rows == [r["jurisdiction"] for r in below["jurisdictions"]]


def test_the_hotspot_list_names_the_planted_rise_with_its_matters_and_a_flat_month_none(served):
    with opened(served, BUREAU, view="hotspots", month="2025-10") as page:
        shown(page, "month=2025-10", "hotspots")
        doc = api(served, "/v1/hotspots", month="2025-10")
        item = page.locator(f'#rising details[data-jurisdiction="{RISING_VILLAGE}"]')
        item.locator("summary").click()
        [want] = [h for h in doc["rising"] if h["jurisdiction"] == RISING_VILLAGE]
        assert item.locator("li").evaluate_all("xs => xs.map(x => x.dataset.receipt)") == receipts(want)
        assert {f"HOT-R-{n:03d}" for n in range(24)} <= set(receipts(want))
        shown_kinds = page.locator("#hotspots details").evaluate_all("xs => xs.map(x => x.dataset.jurisdiction)")
        assert shown_kinds == [h["jurisdiction"] for h in doc["rising"]] + [h["jurisdiction"] for h in doc["collective"]]
        page.screenshot(path=served["shots"] / "5-hotspots.png", full_page=True)
        page.select_option("#category", "market")  # the rising list is filtered by the category picked
        page.wait_for_selector('body[data-state="month=2025-10&category=market"]')
        assert page.locator("#rising details").count() == len([h for h in doc["rising"] if h["category"] == "market"])
        page.select_option("#category", "")
        page.select_option("#sub", "06")
        shown(page, "month=2025-06", "hotspots")
        assert page.locator("#hotspots details").count() == 0 and "无" in page.inner_text("#rising")


def test_the_doors_no_token_a_wrong_or_revoked_token_and_a_place_outside_the_scope(served):
    with opened(served, None) as page:
        assert page.locator("body").get_attribute("data-rendered") == "0" and page.locator("#app.hidden").count()
        asked = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        assert any("echarts" in u for u in asked) and not [u for u in asked if "/v1/" in u]  # no token: nothing asked
        page.fill("#token", "xft_not-a-real-token")
        page.click("#signin button")
        page.wait_for_function("document.getElementById('error').textContent.includes('令牌无效或已吊销')")
        assert page.evaluate("sessionStorage.getItem('xinfang.terminal_token')") is None
        assert page.locator("#cards .card").count() == 0
        # a token revoked since the page signed in: signed out with the reason
        page.fill("#token", REVOKED)
        page.click("#signin button")
        shown(page, f"year={datetime.now(CST).year}")
        plant_terminal(served["topics"], "t-dash-revoked", "bureau.361402", ["auditor"], REVOKED,
                       revoked_at=datetime.now(timezone.utc))

        def signed_out() -> bool:  # each reload asks again, until reporting has read the revocation
            page.click('nav button[data-view="overview"]')
            page.wait_for_selector('body[data-state^="year="], #signin:not(.hidden)')
            return page.locator("#signin:not(.hidden)").count() == 1

        until(signed_out, "the page signed out after the revocation", timeout=30)
        assert "令牌无效或已吊销" in page.inner_text("#error")
        assert page.evaluate("sessionStorage.getItem('xinfang.terminal_token')") is None
    # a township's supervisor: its township is the top; another township is a message, not a sign-out
    with opened(served, TOWNSHIP, month="2025-10") as page:
        shown(page, "month=2025-10")
        assert page.locator("#crumbs button").evaluate_all("bs => bs.map(b => b.dataset.code)") == [CHENGGUAN]
        assert_overview_is_the_api(served, page, {"month": "2025-10", "jurisdiction": CHENGGUAN})
        page.goto(f"{served['url']}/v1/dashboard?month=2025-10&jurisdiction={QINGSHI}")
        page.wait_for_selector('body[data-error="404"]')
        assert "不在本终端的辖区" in page.inner_text("#error") and page.locator("#signin.hidden").count()
        assert page.locator("#cards .card").count() == 0
        page.screenshot(path=served["shots"] / "6-out-of-scope.png", full_page=True)
    # a handler reads its own unit: no place picker; the assessment is not for its role
    with opened(served, HANDLER, month="2025-10") as page:
        shown(page, "month=2025-10")
        assert page.locator("#placebox.hidden").count() and page.inner_text("#unitname")
        page.click('nav button[data-view="assessment"]')
        page.wait_for_selector('body[data-error="404"]')
        assert "不在本终端的辖区或权限内" in page.inner_text("#error") and "督办" in page.inner_text("#who")
    assert all(token not in served["log"].read_text(errors="replace") for token in (BUREAU, TOWNSHIP, HANDLER))
