"""Counties of the demo city for the city's tests and benchmark: the demo county's file under other codes.

:func:`county_file` writes county number ``n`` (region code ``3614nn000000``; 2 is the demo county itself): the
demo county's places, units and categories with its codes, its names and its departments' ids its own, as a
neighbouring county's own file would have them (a unit id is a county's own in the city: xinfang.city.city_tree).
"""
from __future__ import annotations

from pathlib import Path

from xinfang.settings import DEMO_COUNTY


def county_file(path: Path, n: int) -> Path:
    text = Path(DEMO_COUNTY).read_text(encoding="utf-8")
    if n != 2:
        text = (text.replace("361402", f"3614{n:02d}").replace("临溪区", f"测试{n}县")
                .replace("dept.", f"dept{n:02d}."))
    path.write_text(text, encoding="utf-8")
    return path
