"""Two hotspots planted in two flat synthetic county years (support.county_year), for the hotspot and dashboard
tests: in October 2025, 24 letters about wages from one village, eight collective visits on another village within
five days. The test county's thresholds are the demo county's raised to the generator's noise: its 1,500 matters a
year make about 10 a month per category in the county (a month with twice the month before and the year before
happens by chance: June's 19 markets, against 6 and 9), and its later batches about one collective visit a month
in each village — so the test county warns at 20 matters, and at eight collective visits within 30 days."""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from support.county_year import county_year
from support.history import History, publish
from support.kafka import delete_run_topics, run_settings
from support.reporting import DEMO, drop_schema, plant_terminal, start_reporting, wait_projected
from xinfang.county import County, load_county
from xinfang.events import catalogue as c

CST = timezone(timedelta(hours=8))
RISING_VILLAGE, COLLECTIVE_VILLAGE = "361402001001", "361402101201"  # 东门社区 (城关街道), 青石村 (青石镇)


def hotspot_county(folder: Path) -> tuple[Path, County]:
    """The demo county with the hotspot thresholds raised to the generator's noise, written into ``folder``."""
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    doc["hotspots"] = {**doc["hotspots"], "rise_min": 20, "collective_visits": 8}
    path = folder / "county.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path, load_county(path)


def plant(history: History, county: County) -> dict[str, list[str]]:
    """The two hotspots of October 2025; the petition ids planted for each."""
    planted: dict[str, list[str]] = {"rising": [], "collective": []}
    room = county.unit(county.jurisdiction(RISING_VILLAGE).unit)
    for n in range(24):
        pid = str(uuid.uuid4())
        history.add("events", pid, c.Registered(
            receipt_no=f"HOT-R-{n:03d}", batch_id=f"hr{n}", channel="letter", jurisdiction=RISING_VILLAGE,
            category="labour", summary="欠薪", head_count=1, unit=room.id, tier=room.tier),
            datetime(2025, 10, 3 + n, 10, tzinfo=CST))
        planted["rising"].append(pid)
    room = county.unit(county.jurisdiction(COLLECTIVE_VILLAGE).unit)
    categories = [k.code for k in county.categories if not k.law_related]
    for n in range(8):
        pid = str(uuid.uuid4())
        history.add("events", pid, c.Registered(
            receipt_no=f"HOT-C-{n:03d}", batch_id=f"hc{n}", channel="visit", jurisdiction=COLLECTIVE_VILLAGE,
            category=categories[n % len(categories)], summary="集体访", head_count=20, unit=room.id, tier=room.tier),
            datetime(2025, 10, 20, 9, tzinfo=CST) + timedelta(hours=15 * n))
        planted["collective"].append(pid)
    return planted


def two_years(county: County) -> tuple[History, dict[str, list[str]]]:
    """2024 and 2025, 1,500 matters each, with the two hotspots planted."""
    history = History()
    county_year(county, 2024, 1500, seed=21, history=history)
    county_year(county, 2025, 1500, seed=22, history=history)
    return history, plant(history, county)


@contextlib.contextmanager
def serving(settings, dsn: str, folder: Path, name: str, terminals: list[tuple[str, str, list[str], str]]):
    """A real reporting service (the hotspot county) that has projected the two years, with ``terminals``
    (id, unit, roles, token) planted on its terminals topic: a dict of the service, the county, the history, the
    planted ids, the topics and the service's log."""
    path, county = hotspot_county(folder)
    run = uuid.uuid4().hex[:8]
    topics = run_settings(settings.model_copy(update={"database_url": dsn}), f"rep{name}{run}")
    schema = f"rep_{name}_{run}"
    history, planted = two_years(county)
    for terminal in terminals:
        plant_terminal(topics, *terminal)
    publish(topics, history)
    reporting = None
    try:
        reporting = start_reporting(topics, dsn, schema, folder / "reporting.log", XINFANG_COUNTY_FILE=str(path))
        asyncio.run(wait_projected(dsn, schema, history.count(), timeout=240))
        yield {"reporting": reporting, "county": county, "history": history, "planted": planted, "topics": topics,
               "log": folder / "reporting.log"}
    finally:
        if reporting is not None:
            reporting.stop()
        asyncio.run(drop_schema(dsn, schema))
        delete_run_topics(topics)
