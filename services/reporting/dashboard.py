"""The dashboard page: ECharts from the npm package, served by this service (no CDN: county
networks are often cut off from the internet).  The page holds no figure: it asks for the terminal's
token (kept in sessionStorage for this browser tab's session only — never in a URL, a cookie or a log)
and reads the figures with it.  Three views — 看板 (/v1/stats, /v1/stats/series), 考核排名 (/v1/assessment)
and 热点预警 (/v1/hotspots) — for a month, quarter or year, a place drilled from the token's top down to a
village, and a category; every card, every ranked cell and the charts' bars list their matters
(/v1/stats/drilldown).  The view, period, place and category are kept in the page's address (never the token).

The page and its script are ``templates/dashboard.html`` and ``templates/dashboard.js``; what it needs from the
county file (its places and categories: public, no figure) is written into it here.  When a view has finished
rendering, <body> carries data-state (the API query it showed), data-view, data-rendered and data-points — what
the browser test and the benchmark wait for.  A refused or revoked token signs the page out with a message
saying why; a place outside the token's scope is a message, the page stays signed in."""
from __future__ import annotations

import html
import json
from datetime import datetime
from functools import cache
from pathlib import Path

from reporting.figures import FIGURES
from xinfang.county import County
from xinfang.vocabulary import CHANNEL_LABELS, TIER_LABELS

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _template() -> str:
    script = (TEMPLATES / "dashboard.js").read_text(encoding="utf-8")
    return (TEMPLATES / "dashboard.html").read_text(encoding="utf-8").replace("__SCRIPT__", script)


def page(county: County, year: str | None, jurisdiction: str | None) -> str:
    """The dashboard HTML, opening on a year (default: this year, local time) and a jurisdiction (the page's own
    address may name a month, quarter, category and view instead: the script reads it)."""
    this_year = datetime.now(county.zone).year
    year = year or str(this_year)
    try:
        place = county.jurisdiction(jurisdiction).name if jurisdiction else county.name
    except KeyError:
        place, jurisdiction = county.name, None
    config = {"year": year, "this_year": this_year, "jurisdiction": jurisdiction,
              "county": {"code": county.code, "name": county.name},
              "places": [{"code": j.code, "name": j.name, "tier": j.tier, "parent": j.parent}
                         for j in county.jurisdictions],
              "categories": [{"code": k.code, "name": k.name} for k in county.categories],
              "channels": CHANNEL_LABELS, "tiers": TIER_LABELS, "figures": {f.key: f.zh for f in FIGURES}}
    text = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return _template().replace("__PLACE__", html.escape(f"{place} {year}年")).replace("__CONFIG__", text)
