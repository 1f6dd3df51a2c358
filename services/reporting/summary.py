"""The written report: the paragraph the seed's bureau wrote by hand, generated from the figures,
and the same as a Word document (python-docx, with an East-Asian font so Word shows the Chinese).

全区共发生上访案件176件，受理群众来访212批次、820人次，已解决143件，解决率81.25%，群众来访同比(180批次)
上升17.78%，人数同比(976人次)下降15.98%。其中，发生集体访26件、39批次、508人次，同比下降25%，已解决22件，
解决率84.62%。
"""
from __future__ import annotations

import io
from typing import Any

from reporting import figures as f

SUFFIXES = ("街道", "社区", "区", "县", "市", "镇", "乡", "村")
FONT = "仿宋"  # the font of official documents (公文: 仿宋_GB2312); Word substitutes when absent


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


def docx(title: str, text: str, figures: dict[str, Any]) -> bytes:
    """A Word document: the title, the paragraph and a table of every figure, in an East-Asian font."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    styles = [document.styles["Normal"], document.styles["Title"], document.styles["Table Grid"]]
    for style in styles:
        style.font.name = FONT
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), FONT)
    document.styles["Normal"].font.size = Pt(14)

    heading = document.add_paragraph(style="Title")
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(heading, title, qn)
    body = document.add_paragraph()
    body.paragraph_format.first_line_indent = Pt(28)
    _run(body, text, qn)

    table = document.add_table(rows=1, cols=4, style="Table Grid")
    for cell, label in zip(table.rows[0].cells, ("指标", "本期", "同比", "同比变化"), strict=True):
        _run(cell.paragraphs[0], label, qn)
    for figure in f.FIGURES:
        entry = figures[figure.key]
        now = entry["text"] if figure.kind == "rate" else f"{entry['value']}{figure.unit_zh}"
        yoy = entry.get("yoy") or {}
        before = yoy.get("value")
        before = "" if before is None else (f"{before}%" if figure.kind == "rate" else f"{before}{figure.unit_zh}")
        cells = table.add_row().cells
        for cell, value in zip(cells, (figure.zh, now or "—", before, yoy.get("text") or "—"), strict=True):
            _run(cell.paragraphs[0], value, qn)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _run(paragraph, text: str, qn) -> None:
    run = paragraph.add_run(text)
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)  # noqa: SLF001
