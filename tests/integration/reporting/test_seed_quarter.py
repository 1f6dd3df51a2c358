"""The seed's quarter reproduced through the real path: the seed's import records posted as NDJSON to a
running intake's POST /v1/imports, its relay publishing the events to the run's petition.events, a
running escalation worker routing each imported matter (petition.routing), the running reporting
service projecting both, and the figures, exports, drill-downs and the written summary read over HTTP."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
import zipfile

import orjson
import pytest
from kafka import TopicPartition

from support.audit import audit_on
from support.intake import BUREAU, Intake, intake_env
from support.kafka import delete_run_topics, read_all, run_settings
from support.process import ServiceProcess, free_port
from support.reporting import DEMO, drop_schema, start_reporting, wait_projected
from support.seed import AS_OF, EXPECTED, intake_events, ndjson, routing_facts, seed_records, through_review
from support.tokens import client, wait_known
from xinfang.kafka import sync_consumer, sync_producer

SEED_TEXT_PARTS = ("共发生上访案件176件，受理群众来访212批次、820人次，已解决143件，解决率81.25%，"
                   "群众来访同比(180批次)上升17.78%，人数同比(976人次)下降15.98%。其中，发生集体访26件、39批次、508人次，")
GARBAGE = [("events", b"bad-key", b"{not json"), ("routing", b"bad-2", orjson.dumps({"specversion": "1.0"}))]


def records_on(bootstrap: str, topic: str) -> int:
    """How many records a topic holds (intake's relay and escalation, at least once, write no
    transaction markers: offsets are records)."""
    consumer = sync_consumer(bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def escalation_process(topics, app_id: str, folder) -> ServiceProcess:
    port = free_port()
    return ServiceProcess("escalation", {
        "XINFANG_KAFKA_BOOTSTRAP": topics.kafka_bootstrap, "XINFANG_TOPIC_EVENTS": topics.topic_events,
        "XINFANG_TOPIC_ROUTING": topics.topic_routing, "XINFANG_TOPIC_DEADLETTER": topics.topic_deadletter,
        "XINFANG_TOPIC_TERMINALS": topics.topic_terminals,
        "XINFANG_PARTITIONS": str(topics.partitions), "XINFANG_COUNTY_FILE": str(DEMO),
        "XINFANG_ESCALATION_APP_ID": app_id, "XINFANG_ESCALATION_PORT": str(port),
        "XINFANG_ESCALATION_DATA_DIR": str(folder / "escalation"), "XINFANG_ESCALATION_INSTANCE_ID": f"{app_id}-w1",
        "XINFANG_ESCALATION_SESSION_TIMEOUT": "6", "XINFANG_ESCALATION_COMMIT_INTERVAL": "0.5"},
        port=port, log=folder / "escalation.log")


@pytest.fixture(scope="module")
def seeded(settings, kafka_bootstrap, test_db, tmp_path_factory):
    """A reporting service that has projected the seed quarter imported through a real intake and routed by a
    real escalation worker, plus two unreadable records put on the topics by hand."""
    run = uuid.uuid4().hex[:8]
    topics = run_settings(settings.model_copy(update={"database_url": test_db}), f"repseed{run}")
    schema, intake_schema, app_id = f"rep_seed_{run}", f"intake_seed_{run}", f"esc-seed-{run}"
    logs = tmp_path_factory.mktemp("seed")
    port = free_port()
    intake_proc = ServiceProcess("intake", intake_env(topics, intake_schema, port), port=port,
                                 log=logs / "intake.log")
    escalation = escalation_process(topics, app_id, logs)
    reporting, intake, http = None, None, None
    try:
        intake_proc.launch()  # the three come up side by side
        escalation.launch()
        reporting = start_reporting(topics, test_db, schema, logs / "reporting.log")
        intake = Intake(intake_proc.wait_ready(timeout=60), topics, intake_schema)
        escalation.wait_ready(timeout=90)
        auditor = intake.terminal(BUREAU, ("auditor",))  # the county bureau's auditor
        http = client(reporting.url, auditor)

        records = seed_records(run)
        token = intake.terminal(BUREAU, ("registrar", "handler", "supervisor"))  # the county bureau's supervisor
        r = intake.http.post("/v1/imports", content=ndjson(records), timeout=300, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex,
            "Content-Type": "application/x-ndjson"})
        assert r.status_code == 200, r.text
        summary = r.json()
        assert (summary["created"], summary["existing"], summary["refused"]) == (len(records), 0, 0), [
            x for x in summary["results"] if x["outcome"] != "created"][:5]
        # intake writes one event per batch and per action of each matter (registered, visit_recorded, …), and
        # the termination a re-review's reply brings
        events = intake_events(records)
        ids = {x["external_id"]: x["petition_id"] for x in summary["results"]}

        producer = sync_producer(topics)
        try:
            for role, key, value in GARBAGE:
                topic = topics.topic_events if role == "events" else topics.topic_routing
                producer.send(topic, key=key, value=value)
            producer.flush(30)
        finally:
            producer.close()
        # escalation routes each imported matter to the unit that registered it, each review to the reviewer the
        # import named, and closes what ended — with no due time, no warning, no escalation
        facts = routing_facts(records)
        routed = read_all(topics.kafka_bootstrap, topics.topic_routing, expect=facts + 1, timeout=120)
        assert len(routed) == facts + 1, f"{len(routed) - 1} routing facts for {len(records)} matters, not {facts}"
        assert records_on(topics.kafka_bootstrap, topics.topic_events) == events + 1  # nothing lost or doubled
        total = events + facts + len(GARBAGE)
        asyncio.run(wait_projected(test_db, schema, total, timeout=180))
        yield {"http": http, "settings": topics, "schema": schema, "records": records, "total": total,
               "intake": intake, "auditor": auditor, "logs": logs, "ids": ids}
    finally:
        if http is not None:
            http.close()
        if reporting is not None:
            reporting.stop()
        escalation.stop()
        intake_proc.stop()
        if intake is not None:
            intake.http.close()
            intake.producer.close()
        asyncio.run(drop_schema(test_db, schema, intake_schema))
        delete_run_topics(topics, app_id)  # the run's topics and the escalation worker's own ones


def test_the_seed_quarter_figures_as_of_14_april_2019(seeded):
    r = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "as_of": AS_OF})
    assert r.status_code == 200, r.text
    figures = r.json()["figures"]
    for key in ("cases", "batches", "persons", "resolved", "collective_cases", "collective_batches",
                "collective_persons", "collective_resolved"):
        assert figures[key]["value"] == EXPECTED[key], key
    assert figures["resolution_rate"]["value"] == "81.25"
    assert figures["collective_resolution_rate"]["value"] == "84.62"
    assert figures["batches"]["yoy"] == {"value": 180, "change_percent": "17.78", "direction": "上升",
                                         "text": "上升17.78%", "note": None}
    assert figures["persons"]["yoy"]["text"] == "下降15.98%" and figures["persons"]["yoy"]["value"] == 976
    assert figures["collective_batches"]["yoy"]["text"] == "下降25%"
    assert figures["collective_batches"]["yoy"]["value"] == EXPECTED["last_year_collective_batches"]
    assert figures["repeat_batches"]["value"] == 212 - 176
    # imported history carries no deadlines (escalation routes an import without a due time and never
    # escalates it retroactively), so no acceptance fell due: the timely-acceptance rate has no denominator
    assert figures["accept_due"]["value"] == 0 and figures["accepted_on_time"]["value"] == 0
    assert figures["timely_acceptance_rate"]["value"] is None
    # the quarter's local-time edges: 23:30 on 31 December 2018 is the quarter before (not 2019Q1), 07:00 on
    # 1 January (still 2018 in UTC) is 2019Q1, 00:30 on 1 April (31 March in UTC) is not
    assert figures["cases"]["mom"]["value"] == 1


def test_the_audit_report_of_14_april_2019_reproduces_the_seed_from_the_imported_history(seeded, test_db):
    """The auditor's CLI replays the topics into a scratch schema and counts as of 14 April 2019 (occurred time):
    the history was recorded today, so the old meaning of --as-of (what was recorded by then) counted nothing."""
    done = audit_on(seeded["settings"], test_db, DEMO, seeded["schema"], "report", "--quarter", "2019Q1",
                    "--as-of", AS_OF, "--scratch", f"audit_{seeded['schema']}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    figures = report["stats"]["figures"]
    assert {key: figures[key]["value"] for key in ("cases", "batches", "persons", "resolved", "collective_cases",
                                                     "collective_batches", "collective_persons",
                                                     "collective_resolved")} == \
        {key: EXPECTED[key] for key in ("cases", "batches", "persons", "resolved", "collective_cases",
                                        "collective_batches", "collective_persons", "collective_resolved")}
    assert (figures["resolution_rate"]["value"], figures["collective_resolution_rate"]["value"]) == ("81.25", "84.62")
    assert (figures["batches"]["yoy"]["text"], figures["persons"]["yoy"]["text"],
            figures["collective_batches"]["yoy"]["text"]) == ("上升17.78%", "下降15.98%", "下降25%")
    served = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "as_of": AS_OF}).json()
    assert figures == served["figures"]  # the CLI and the service: one count, two ways to ask


def test_a_resolution_reached_through_a_review_imported_in_one_line_counts(seeded):
    reviewed = [seeded["ids"][x] for x in through_review(seeded["records"]) if "-2019-" in x]
    assert reviewed
    resolved = seeded["http"].get("/v1/stats/drilldown", params={"quarter": "2019Q1", "as_of": AS_OF,
                                                                  "figure": "resolved", "limit": 5000}).json()
    assert resolved["total"] == 143
    assert set(reviewed) <= {m["petition_id"] for m in resolved["matters"]}
    matter = seeded["intake"].get(f"/v1/petitions/{reviewed[0]}", unit=BUREAU).json()
    assert matter["status"] == "reviewed" and matter["resolved"] is True and matter["imported"]
    assert matter["holder_unit"].startswith("station.")  # the reviewer the domain named: the tier above the room


def test_resolutions_after_the_report_date_count_once_they_happened(seeded):
    later = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "as_of": "2019-06-30"}).json()
    assert later["figures"]["resolved"]["value"] > EXPECTED["resolved"]
    assert later["figures"]["cases"]["value"] == EXPECTED["cases"]


def test_the_written_summary_says_what_the_seed_says(seeded):
    r = seeded["http"].get("/v1/reports/summary", params={"quarter": "2019Q1", "as_of": AS_OF})
    assert r.status_code == 200, r.text
    text = r.json()["text"]
    assert text.startswith("2019年第一季度，全区" + SEED_TEXT_PARTS), text
    assert text.endswith("同比下降25%，已解决22件，解决率84.62%。")
    docx = seeded["http"].get("/v1/reports/summary", params={"quarter": "2019Q1", "as_of": AS_OF, "format": "docx"})
    assert docx.status_code == 200
    xml = zipfile.ZipFile(io.BytesIO(docx.content)).read("word/document.xml").decode()
    assert "解决率81.25%" in xml and 'w:eastAsia="仿宋"' in xml


def test_exports_csv_with_bom_and_xlsx(seeded):
    r = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "as_of": AS_OF, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    row = next(line for line in table if line[:2] == ["解决率", "resolution_rate"])
    assert row[2] == "81.25"
    x = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "as_of": AS_OF, "format": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(x.content)).active
    values = {r[1]: r[2] for r in sheet.iter_rows(values_only=True) if len(r) > 2}
    assert values["cases"] == 176 and values["resolution_rate"] == 81.25


def test_drilldown_lists_the_matters_behind_a_figure(seeded):
    r = seeded["http"].get("/v1/stats/drilldown", params={"quarter": "2019Q1", "as_of": AS_OF,
                                                           "figure": "collective_resolved"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 22 and len(body["matters"]) == 22 and body["sums"] == {"contribution": 22}
    assert set(body["matters"][0]) == {"petition_id", "receipt_no", "registered_at", "jurisdiction", "category",
                                       "channel", "batches", "persons", "contribution", "merged"}
    assert all(m["merged"] == [] for m in body["matters"])  # no merge (并单) in the seed quarter
    # every figure of the seed quarter: the rows' contributions sum to it (a rate's to both its parts)
    figures = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1"}).json()["figures"]
    for key, figure in figures.items():
        rows = seeded["http"].get("/v1/stats/drilldown", params={"quarter": "2019Q1", "figure": key,
                                                                  "limit": 5000}).json()["matters"]
        if figure["unit"] == "%":
            assert (sum(m["numerator"] for m in rows), sum(m["denominator"] for m in rows)) == \
                (figure["numerator"], figure["denominator"]), key
        else:
            assert sum(m["contribution"] for m in rows) == figure["value"], key
    cases = seeded["http"].get("/v1/stats/drilldown", params={"quarter": "2019Q1", "figure": "cases",
                                                               "limit": 5000}).json()["matters"]
    # each case with its batches and persons in the quarter: 176 cases, 212 batches, 820 persons (was 176, 0)
    assert (len(cases), sum(m["batches"] for m in cases), sum(m["persons"] for m in cases)) == (176, 212, 820)


def test_known_at_before_the_import_knows_nothing_and_as_of_counts_what_had_happened(seeded):
    before = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "known_at": "2026-01-01"}).json()
    assert before["figures"]["batches"]["value"] == 0
    assert before["figures"]["resolution_rate"]["value"] is None
    assert before["figures"]["resolution_rate"]["note"]["zh"].startswith("分母为0")
    # on 15 January: only what had happened by then
    early = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "as_of": "2019-01-15"}).json()
    assert 0 < early["figures"]["batches"]["value"] < 212
    assert early["figures"]["resolved"]["value"] < 143


def test_jurisdiction_roll_up_and_unit(seeded, county):
    whole = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "compare": "yoy"}).json()
    towns = [j.code for j in county.jurisdictions if j.tier == "township"]
    parts = [seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "jurisdiction": code}).json()
             for code in towns]
    assert sum(p["figures"]["batches"]["value"] for p in parts) == whole["figures"]["batches"]["value"]
    village = seeded["records"][0]["jurisdiction"]  # a village the seed has matters in
    one = seeded["http"].get("/v1/stats", params={"quarter": "2019Q1", "unit": f"room.{village}"}).json()
    assert one["units"][0]["unit"] == f"room.{village}"
    assert one["units"][0]["received"] == one["figures"]["cases"]["value"]


@pytest.mark.parametrize("params, field", [
    ({"quarter": "2026Q5"}, "quarter"), ({"month": "2026-13"}, "month"), ({"from": "2026-01-01"}, "to"),
    ({}, "period"), ({"year": "2026", "jurisdiction": "999999"}, "jurisdiction"),
    ({"year": "2026", "channel": "fax"}, "channel"), ({"year": "2026", "as_of": "yesterday"}, "as_of"),
    ({"year": "2026", "format": "pdf"}, "format"), ({"year": "2026", "compare": "wow"}, "compare"),
])
def test_bad_parameters_are_422_problems_naming_the_field(seeded, params, field):
    r = seeded["http"].get("/v1/stats", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["errors"][0]["field"] == field and body["detail_zh"] and body["detail_en"]


def test_unreadable_records_went_to_the_dead_letter_topic_and_the_rest_was_projected(seeded):
    # intake (routing) and escalation (events) dead-letter what they cannot read as well: count reporting's
    letters = read_all(seeded["settings"].kafka_bootstrap, seeded["settings"].topic_deadletter, expect=2)
    mine = [orjson.loads(r.value) for r in letters]
    reasons = sorted(x["reason"] for x in mine if x["consumer"] == f"reporting-{seeded['schema']}")
    assert len(reasons) == 2 and any("not JSON" in r for r in reasons) and any("CloudEvent" in r for r in reasons)


def test_health_and_metrics(seeded):
    assert seeded["http"].get("/livez").status_code == 200
    ready = seeded["http"].get("/readyz").json()
    assert ready["status"] == "ok" and ready["consumer_assigned"]
    metrics = seeded["http"].get("/metrics").text
    assert "reporting_events_projected_total" in metrics and "reporting_consumer_lag" in metrics
    projected = sum(float(line.split()[-1]) for line in metrics.splitlines()
                    if line.startswith("reporting_events_projected_total{"))
    assert projected == seeded["total"] - 2


def test_dashboard_signs_in_renders_every_chart_and_signs_out_in_headless_chromium(seeded):
    """Playwright drives Debian's chromium (executable_path; never `playwright install`)."""
    import re
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed for the dashboard test: apt-get install -y chromium"
    page_text = seeded["http"].get("/v1/dashboard", params={"year": "2019"}).text
    assert "信访统计看板" in page_text and re.findall(r'<script src="([^"]+)"', page_text) == ["/static/echarts.min.js"]
    assert "http://" not in page_text and "https://" not in page_text  # no CDN
    assert len(seeded["http"].get("/static/echarts.min.js").content) > 500_000
    intake = seeded["intake"]
    token = intake.terminal(BUREAU, ("auditor", "supervisor"))  # the browser's own: revoked below
    wait_known(str(seeded["http"].base_url).rstrip("/"), token)
    terminal = intake.terminal_id(token)  # before playwright's event loop runs in this thread
    url = str(seeded["http"].base_url).rstrip("/") + "/v1/dashboard?year=2019"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            seen: list[str] = []
            page.on("request", lambda request: seen.append(request.url))
            page.goto(url)
            page.wait_for_selector("#signin:not(.hidden)")  # no token yet: the sign-in, no figure
            assert page.locator("body").get_attribute("data-rendered") == "0"
            page.fill("#token", "xft_not-a-real-token")
            page.click("#signin button")
            page.wait_for_function("document.getElementById('error').textContent.includes('令牌无效或已吊销')")
            assert page.evaluate("sessionStorage.getItem('xinfang.terminal_token')") is None
            page.fill("#token", token)
            page.click("#signin button")
            page.wait_for_selector('body[data-rendered="6"]', timeout=30_000)
            assert int(page.locator("body").get_attribute("data-points")) >= 20
            for chart in ("volume", "tiers", "categories", "breaches", "rates", "yoy"):
                assert page.locator(f"#{chart} svg path").count() >= 3, chart
            # the cards: 2019's batches are the seed quarter's and the matter of 1 April, 00:30
            assert f"{EXPECTED['batches'] + 1}批次" in page.inner_text("#cards")
            assert page.evaluate("sessionStorage.getItem('xinfang.terminal_token')") == token
            assert page.evaluate("document.cookie") == "" and not [u for u in seen if token in u]  # never in a URL
            # revoked at intake: the next load signs the page out and says why
            intake.revoke(terminal)
            deadline = time.monotonic() + 10
            while not page.locator("#signin:not(.hidden)").count():
                assert time.monotonic() < deadline, "the page did not sign out after the revocation"
                page.reload()
                page.wait_for_load_state("networkidle")
            assert "令牌无效或已吊销" in page.inner_text("#error")
            assert page.evaluate("sessionStorage.getItem('xinfang.terminal_token')") is None
            # sign-out
            page.fill("#token", seeded["auditor"])
            page.click("#signin button")
            page.wait_for_selector('body[data-rendered="6"]', timeout=30_000)
            page.click("#signout")
            page.wait_for_selector("#signin:not(.hidden)")
            assert page.evaluate("sessionStorage.length") == 0 and "已退出登录" in page.inner_text("#error")
        finally:
            browser.close()
    assert token not in (seeded["logs"] / "reporting.log").read_text(errors="replace")  # never in a log

