"""The written report: the paragraph the seed's bureau wrote by hand, generated from the figures,
and the same as a Word document (``reporting.documents``: 仿宋 as the East-Asian font, so Word shows the Chinese).

全区共发生上访案件176件，受理群众来访212批次、820人次，已解决143件，解决率81.25%，群众来访同比(180批次)
上升17.78%，人数同比(976人次)下降15.98%。其中，发生集体访26件、39批次、508人次，同比下降25%，已解决22件，
解决率84.62%。
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from reporting import documents
from reporting import figures as f

SUFFIXES = ("街道", "社区", "区", "县", "市", "镇", "乡", "村")


def place_word(name: str) -> str:
    """全区 for 临溪区, 全县 for a county, 全镇, 全街道 …; a unit's own name otherwise."""
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return f"全{suffix}"
    return name


def _value(figures: dict[str, Any], key: str) -> Any:
    return figures[key]["value"]


def _rate_text(figures: dict[str, Any], key: str) -> str:
    entry = figures[key]
    return entry["text"] if entry["text"] is not None else "无（分母为0）"


def _yoy(figures: dict[str, Any], key: str, unit: str, subject: str) -> str:
    yoy = figures[key].get("yoy")
    if yoy is None:
        return ""
    if yoy["text"] is None:
        return f"{subject}同比({yoy['value']}{unit})无可比基数"
    return f"{subject}同比({yoy['value']}{unit}){yoy['text']}"


def paragraph(figures: dict[str, Any], place: str, period_label: str | None = None) -> str:
    """The summary paragraph from the figures of GET /v1/stats (with compare including yoy)."""
    v = lambda key: _value(figures, key)  # noqa: E731
    lead = f"{period_label}，" if period_label else ""
    text = (f"{lead}{place_word(place)}共发生上访案件{v('cases')}件，受理群众来访{v('batches')}批次、{v('persons')}人次，"
            f"已解决{v('resolved')}件，解决率{_rate_text(figures, 'resolution_rate')}")
    comparisons = [c for c in (_yoy(figures, "batches", "批次", "群众来访"), _yoy(figures, "persons", "人次", "人数")) if c]
    if comparisons:
        text += "，" + "，".join(comparisons)
    text += "。"
    if v("collective_cases") or v("collective_batches"):
        text += f"其中，发生集体访{v('collective_cases')}件、{v('collective_batches')}批次、{v('collective_persons')}人次"
        yoy = figures["collective_batches"].get("yoy")
        if yoy is not None:
            text += f"，同比{yoy['text']}" if yoy["text"] else "，上年同期无集体访"
        text += (f"，已解决{v('collective_resolved')}件，解决率{_rate_text(figures, 'collective_resolution_rate')}。")
    else:
        text += "本期未发生集体访。"
    return text


def figure_table(figures: dict[str, Any], compare: tuple[str, ...] = ("yoy",)) -> documents.Table:
    """Every figure this period and, per comparison (yoy: 同比, mom: 环比), the other period's value and the change."""
    names = {"yoy": ("同比", "同比变化"), "mom": ("上期", "环比变化")}
    header = ("指标", "本期", *(name for key in compare for name in names[key]))
    rows = []
    for figure in f.FIGURES:
        entry = figures[figure.key]
        now = entry["text"] if figure.kind == "rate" else f"{entry['value']}{figure.unit_zh}"
        cells = [figure.zh, now or "—"]
        for key in compare:
            other = entry.get(key) or {}
            before = other.get("value")
            before = "" if before is None else (f"{before}%" if figure.kind == "rate" else f"{before}{figure.unit_zh}")
            cells += [before, other.get("text") or "—"]
        rows.append(tuple(cells))
    return documents.Table(header, tuple(rows), (3, *[2] * (len(header) - 1)))


def docx(title: str, text: str, figures: dict[str, Any], at: datetime | None = None) -> bytes:
    """A Word document: the title, the paragraph and a table of every figure with its 同比, dated ``at`` (now)."""
    return documents.docx(documents.Written(title, (documents.Paragraph(text), figure_table(figures)),
                                            at or datetime.now(timezone.utc)))
