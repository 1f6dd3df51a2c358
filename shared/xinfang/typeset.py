"""What every printed document of the system shares (intake's notices, reporting's bulletin): the page after
GB/T 9704-2012 (党政机关公文格式), the embedded PDF font with Chinese line breaking, and the fixes that make a
document byte-identical when rendered again (PDF dates, zip entry times).

Layout: A4, margins 37 mm top, 28 mm left, 26 mm right, 35 mm bottom; the title in 二号 (22 pt), the text in 三号
(16 pt) on 22 lines a page, each paragraph indented two characters.

The PDF font is AR PL UMing CN (Debian's fonts-arphic-uming, a Ming/Song face: TrueType outlines, which ReportLab
embeds as a subset — it cannot embed CFF outlines such as Noto CJK's).  ReportLab and python-docx are imported by
the callers' renderers; this module imports ReportLab only when the font is first asked for.
"""
from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

FONT_FILE = Path("/usr/share/fonts/truetype/arphic/uming.ttc")
FONT_PACKAGE = "fonts-arphic-uming"
FONT = "notice-uming"  # the name the PDF registers it under
DOCX_TITLE_FONT, DOCX_BODY_FONT = "宋体", "仿宋"  # what Word and WPS on a county office's PC have
MM = 72 / 25.4
TITLE_PT, BODY_PT, LINE_PT = 22, 16, 28.9  # 二号, 三号; 225 mm of text height / 22 lines
MARGINS_MM = {"top": 37, "left": 28, "right": 26, "bottom": 35}
CREATOR = "xinfang 信访事项处理系统"
CANNOT_START = "，。、；：？！）》」』】〕〉”’…％"  # no line of a document starts with one of these (标点避头)
_font_lock = threading.Lock()


class FontMissing(RuntimeError):
    """The PDF font is not installed (Debian's fonts-arphic-uming)."""


@cache
def pdf_font() -> str:
    """The PDF font, registered with ReportLab once per process (about 60 ms: it reads the 21 MB collection)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not FONT_FILE.exists():
        raise FontMissing(f"{FONT_FILE} 不存在：请安装 {FONT_PACKAGE} the PDF font is missing: install {FONT_PACKAGE}")
    with _font_lock:
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))  # 0: AR PL UMing CN
        _no_line_starts_with(CANNOT_START)
    return FONT


def _no_line_starts_with(marks: str) -> None:
    """ReportLab's CJK line breaking keeps a character that may not start a line on the line before (it hangs in
    the margin), but its list is Japanese: it lacks the Chinese full-width comma, colon, semicolon, ? and ! — so a
    line could start with "，" (标点避头, GB/T 15834).  The list is a module constant each breaking reads at each
    line (textsplit's for a paragraph of one run of text, paragraph's copy for one of several); the documents add
    their marks to both (tests/unit/intake/test_notice_documents.py holds ReportLab to it)."""
    from reportlab.lib import textsplit
    from reportlab.platypus import paragraph

    for module in (textsplit, paragraph):
        missing = "".join(mark for mark in marks if mark not in module.ALL_CANNOT_START)
        module.ALL_CANNOT_START += missing


def pdf_date(moment: datetime) -> str:
    """PDF date text (ISO 32000 §7.9.4) of a moment, in its own offset (the county's, as the caller gives it)."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"D:{moment:%Y%m%d%H%M%S}{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def a4(out, font: str, *, title: str, author: str, subject: str, keywords: str):
    """A ReportLab document on A4 with the GB/T 9704 margins, invariant (no clock, an /ID from the metadata), the
    font as its initial one; its metadata the caller's."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    return SimpleDocTemplate(
        out, pagesize=A4, topMargin=MARGINS_MM["top"] * MM, leftMargin=MARGINS_MM["left"] * MM,
        rightMargin=MARGINS_MM["right"] * MM, bottomMargin=MARGINS_MM["bottom"] * MM, invariant=1,
        initialFontName=font, title=title, author=author, creator=CREATOR, subject=subject, keywords=keywords,
        lang="zh-CN")


def page_foot(font: str, moment: datetime, foot: Callable[[Any], str]) -> Callable[[Any, Any], None]:
    """ReportLab's page callback: the PDF's dates fixed to ``moment``, ``foot(canvas)`` centred at the page's foot."""
    def fixed(canvas, _doc) -> None:
        from reportlab.lib.pagesizes import A4

        canvas.setDateFormatter(lambda *_: pdf_date(moment))
        canvas.setFont(font, 9)
        canvas.drawCentredString(A4[0] / 2, 18 * MM, foot(canvas))

    return fixed


def docx_a4(document) -> None:
    """A python-docx document's section on A4 with the GB/T 9704 margins."""
    from docx.shared import Mm

    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.left_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["left"])
    section.right_margin, section.bottom_margin = Mm(MARGINS_MM["right"]), Mm(MARGINS_MM["bottom"])


def docx_paragraph(document, text: str, *, size: float = BODY_PT, align=None, indent: bool = True,
                   right: float = 0) -> tuple[Any, Any]:
    """A python-docx paragraph of one run: ``size`` pt, aligned, indented two characters unless not, ``right``
    pt kept free on the right (where the seal goes); the paragraph and its run."""
    from docx.shared import Pt

    p = document.add_paragraph()
    p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
    if right:
        p.paragraph_format.right_indent = Pt(right)
    run = p.add_run(text)
    run.font.size = Pt(size)
    return p, run


def zip_at(raw: bytes, moment: datetime) -> bytes:
    """The same zip with every entry dated ``moment`` (zipfile dates entries with the clock when it writes them)."""
    stamp = moment.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=stamp)
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, entry.external_attr
            target.writestr(fixed, source.read(entry))
    return out.getvalue()


__all__ = ["BODY_PT", "CANNOT_START", "CREATOR", "DOCX_BODY_FONT", "DOCX_TITLE_FONT", "FONT", "FONT_FILE",
           "FONT_PACKAGE", "LINE_PT", "MARGINS_MM", "MM", "TITLE_PT", "FontMissing", "a4", "docx_a4", "docx_paragraph",
           "page_foot", "pdf_date", "pdf_font", "zip_at"]
