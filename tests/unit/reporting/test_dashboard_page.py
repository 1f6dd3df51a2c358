"""The dashboard page as written by the service: no figure and no token in it, the county's places and categories
for the pickers, one script source (the local ECharts), and the county file's text unable to end the script."""
from __future__ import annotations

import json
import re

from reporting.dashboard import page
from support.reporting import DEMO
from xinfang.county import load_county


def config_of(text: str) -> dict:
    return json.loads(re.search(r"const CONFIG = (.*?);</script>", text).group(1))


def test_the_page_carries_the_places_and_categories_for_the_pickers_and_no_figure():
    county = load_county(DEMO)
    text = page(county, "2025", "361402001000")
    config = config_of(text)
    assert (config["year"], config["jurisdiction"], config["county"]["code"]) == ("2025", "361402001000", county.code)
    assert {p["code"]: p["parent"] for p in config["places"]} == {j.code: j.parent for j in county.jurisdictions}
    assert [c["code"] for c in config["categories"]] == [k.code for k in county.categories]
    assert re.findall(r'<script src="([^"]+)"', text) == ["/static/echarts.min.js"]
    assert "http://" not in text and "https://" not in text  # no CDN
    assert "城关街道 2025年" in text and "__" not in text  # every placeholder filled


def test_an_unknown_place_opens_the_county_and_a_name_cannot_end_the_script():
    county = load_county(DEMO)
    assert config_of(page(county, None, "999"))["jurisdiction"] is None
    renamed = county.model_copy(update={"categories": [county.categories[0].model_copy(
        update={"name": "</script><script>alert(1)</script>"})]})
    text = page(renamed, "2025", None)
    assert "</script><script>alert(1)" not in text and config_of(text)["categories"][0]["name"].startswith("</script>")
