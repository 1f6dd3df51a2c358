"""reporting's written documents (the summary, the bulletin) as DOCX and PDF: one layout for both, on the system's
typesetting (``xinfang.typeset``: GB/T 9704 page, the embedded Ming font, Chinese line breaking).

A document is plain data — a title, an optional document number (文号) under it, headings, paragraphs and tables,
and at the foot the issuing unit and the date — with the moment it is dated at.  Rendered again from the same data
it is the same bytes: the PDF's dates and /ID come from that moment and the metadata, the DOCX's core properties
and zip entry times are that moment.

Tables are written small (小五, 9 pt) and cell by cell without per-cell paragraph objects (a bulletin ranks every
unit of a county: 500 rows), their header repeated on each page.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from xinfang.typeset import (
    BODY_PT,
    CANNOT_START,
    DOCX_BODY_FONT,
    DOCX_TITLE_FONT,
    LINE_PT,
    MARGINS_MM,
    MM,
    TITLE_PT,
    a4,
    docx_a4,
    docx_paragraph,
    page_foot,
    pdf_font,
    zip_at,
)

TABLE_PT = 9  # 小五: a unit's name of 13 characters fits its column
PAD = 3  # a table cell's padding, each side
HEADING_PT = BODY_PT


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    """Rows of text under a header; ``widths`` the columns' shares of the text width (equal when empty)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()


Block = Heading | Paragraph | Table


@dataclass(frozen=True)
class Written:
    """A document as printed: everything in it, and the moment it is dated at (aware)."""

    title: str
    blocks: tuple[Block, ...]
    at: datetime
    number: str | None = None  # 文号, centred under the title
    signed: str | None = None  # the issuing unit, at the foot
    dated: str | None = None  # the document's date (成文日期), under it
    subject: str = ""
    keywords: str = ""
    identifier: str = field(default="")


def _widths(table: Table, total: float) -> list[float]:
    shares = list(table.widths) or [1.0] * len(table.header)
    return [total * s / sum(shares) for s in shares]


def _wrapped(text: str, width: float, measure) -> str:
    """A cell's text broken into lines that fit ``width`` (a cell of plain lines costs a tenth of a Paragraph's
    CJK breaking: 500 ranked units in 0.3 s, not 1.6), no line starting with a closing mark (标点避头)."""
    if measure(text) <= width:
        return text
    lines, line = [], ""
    for char in text:
        if line and measure(line + char) > width and char not in CANNOT_START:
            lines.append(line)
            line = ""
        line += char
    return "\n".join([*lines, line])


def pdf(doc: Written) -> bytes:
    """The document as a PDF on A4 with its font embedded."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph as P
    from reportlab.platypus import Spacer
    from reportlab.platypus import Table as T

    font = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=BODY_PT, leading=LINE_PT, wordWrap="CJK",
                          firstLineIndent=2 * BODY_PT)
    flat = ParagraphStyle("flat", parent=body, firstLineIndent=0)
    title = ParagraphStyle("title", parent=flat, fontSize=TITLE_PT, leading=LINE_PT * 1.5, alignment=TA_CENTER,
                           spaceAfter=LINE_PT / 2)
    number = ParagraphStyle("number", parent=flat, alignment=TA_CENTER, spaceAfter=LINE_PT / 2)
    signed = ParagraphStyle("signed", parent=flat, alignment=TA_RIGHT, rightIndent=4 * BODY_PT)
    width = A4[0] - (MARGINS_MM["left"] + MARGINS_MM["right"]) * MM
    story: list = [P(escape(doc.title), title)]
    if doc.number:
        story.append(P(escape(doc.number), number))
    for block in doc.blocks:
        if isinstance(block, Heading):
            story.append(P(escape(block.text), flat))
        elif isinstance(block, Paragraph):
            story.append(P(escape(block.text), body))
        else:
            widths = _widths(block, width)
            cells = [[_wrapped(text, w - 2 * PAD, lambda t: stringWidth(t, font, TABLE_PT))
                      for text, w in zip(row, widths, strict=True)] for row in (block.header, *block.rows)]
            grid = T(cells, colWidths=widths, repeatRows=1)
            grid.setStyle([("FONT", (0, 0), (-1, -1), font, TABLE_PT, TABLE_PT * 1.3),
                           ("LEFTPADDING", (0, 0), (-1, -1), PAD), ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
                           ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                           ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (0, 0), (-1, -1), "CENTER")])
            story += [Spacer(1, LINE_PT / 4), grid, Spacer(1, LINE_PT / 2)]
    if doc.signed or doc.dated:
        story.append(Spacer(1, 2 * LINE_PT))
        story += [P(escape(text), signed) for text in (doc.signed, doc.dated) if text]
    fixed = page_foot(font, doc.at, lambda canvas: f"— {canvas.getPageNumber()} —")
    out = io.BytesIO()
    document = a4(out, font, title=doc.title, author=doc.signed or "", subject=doc.subject,
                  keywords=doc.keywords or doc.identifier)
    document.build(story, onFirstPage=fixed, onLaterPages=fixed)
    return out.getvalue()


def docx(doc: Written) -> bytes:
    """The document as a Word document on A4 (宋体 title, 仿宋 text), its times fixed to ``doc.at``."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    docx_a4(document)
    for name in ("Normal", "Table Grid"):
        style = document.styles[name]
        style.font.name = DOCX_BODY_FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), DOCX_BODY_FONT)
    normal = document.styles["Normal"]
    normal.font.size, normal.paragraph_format.line_spacing = Pt(BODY_PT), Pt(LINE_PT)
    normal.paragraph_format.space_after = Pt(0)

    def line(text: str, *, face: str = DOCX_BODY_FONT, **layout) -> None:
        _, run = docx_paragraph(document, text, **layout)
        run.font.name = face
        run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), face)

    line(doc.title, size=TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, face=DOCX_TITLE_FONT)
    if doc.number:
        line(doc.number, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    for block in doc.blocks:
        if isinstance(block, Heading):
            line(block.text, indent=False)
        elif isinstance(block, Paragraph):
            line(block.text)
        else:
            _docx_table(document, block)
    if doc.signed or doc.dated:
        document.add_paragraph()
        document.add_paragraph()
        for text in (doc.signed, doc.dated):
            if text:
                line(text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False, right=4 * BODY_PT)

    props = document.core_properties
    props.title, props.author, props.last_modified_by = doc.title, doc.signed or "", doc.signed or ""
    props.subject, props.identifier, props.keywords = doc.subject, doc.identifier, doc.keywords
    props.comments, props.category = "", doc.subject
    utc = doc.at.astimezone(timezone.utc).replace(tzinfo=None)  # W3CDTF in UTC, as Word writes it
    props.created = props.modified = props.last_printed = utc
    props.revision, props.language = 1, "zh-CN"
    out = io.BytesIO()
    document.save(out)
    return zip_at(out.getvalue(), doc.at)


def _docx_table(document, table: Table) -> None:
    """The table, its rows written as XML runs (python-docx's cell objects cost ~1 ms a cell: 5 s for 500 rows)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    grid = document.add_table(rows=1, cols=len(table.header), style="Table Grid")
    body, empty = grid._tbl, grid.rows[0]._tr  # noqa: SLF001  (the XML: python-docx has no public bulk row API)
    body.remove(empty)
    size = int(TABLE_PT * 2)  # half-points
    run_props = (f'<w:rPr><w:rFonts w:ascii="{DOCX_BODY_FONT}" w:hAnsi="{DOCX_BODY_FONT}" '
                 f'w:eastAsia="{DOCX_BODY_FONT}"/><w:sz w:val="{size}"/></w:rPr>')
    para_props = '<w:pPr><w:spacing w:line="300" w:lineRule="auto"/><w:ind w:firstLine="0"/><w:jc w:val="center"/></w:pPr>'

    def row_xml(cells: tuple[str, ...]) -> str:
        return (f'<w:tr {nsdecls("w")}>' + "".join(
            f'<w:tc><w:p>{para_props}<w:r>{run_props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>'
            for text in cells) + "</w:tr>")

    header_row = parse_xml(row_xml(table.header))
    header_row.insert(0, parse_xml(f'<w:trPr {nsdecls("w")}><w:tblHeader/></w:trPr>'))
    body.append(header_row)
    for row in table.rows:
        body.append(parse_xml(row_xml(row)))


__all__ = ["Block", "Heading", "Paragraph", "Table", "Written", "docx", "pdf"]
