"""The summary paragraph, the DOCX and the exports, from a figures document — no database."""
import csv
import io
import zipfile

from openpyxl import load_workbook

from reporting import exports, summary
from reporting.stats import figures_doc

CURRENT = {"cases": 176, "batches": 212, "persons": 820, "repeat_batches": 36, "skip_level_batches": 3,
           "collective_cases": 26, "collective_batches": 39, "collective_persons": 508, "resolved": 143,
           "collective_resolved": 22, "accept_due": 176, "accepted_on_time": 170, "handle_due": 150,
           "replied_on_time": 140, "replied": 160, "evaluated": 100, "satisfied": 90, "first_time_resolved": 120}
LAST_YEAR = {**{k: 0 for k in CURRENT}, "batches": 180, "persons": 976, "collective_batches": 52, "cases": 150}
SEED = ("全区共发生上访案件176件，受理群众来访212批次、820人次，已解决143件，解决率81.25%，群众来访同比(180批次)上升17.78%，"
        "人数同比(976人次)下降15.98%。其中，发生集体访26件、39批次、508人次，同比下降25%，已解决22件，解决率84.62%。")


def test_the_paragraph_is_the_seeds():
    figures = figures_doc({"current": CURRENT, "yoy": LAST_YEAR})
    assert summary.paragraph(figures, "临溪区") == SEED
    assert summary.paragraph(figures, "临溪区", "2026年第一季度") == "2026年第一季度，" + SEED


def test_place_words():
    assert summary.place_word("临溪区") == "全区" and summary.place_word("某县") == "全县"
    assert summary.place_word("城关街道") == "全街道" and summary.place_word("青石镇") == "全镇"


def test_an_empty_period_still_reads():
    empty = {k: 0 for k in CURRENT}
    text = summary.paragraph(figures_doc({"current": empty, "yoy": empty}), "临溪区")
    assert "解决率无（分母为0）" in text and "本期未发生集体访" in text


def test_docx_sets_the_east_asian_font():
    figures = figures_doc({"current": CURRENT, "yoy": LAST_YEAR})
    blob = summary.docx("临溪区信访工作情况", SEED, figures)
    document = zipfile.ZipFile(io.BytesIO(blob))
    xml = document.read("word/document.xml").decode()
    styles = document.read("word/styles.xml").decode()
    assert "解决率81.25%" in xml and 'w:eastAsia="仿宋"' in xml and 'w:eastAsia="仿宋"' in styles


def _doc(name: str = "临溪区") -> dict:
    return {"figures": figures_doc({"current": CURRENT, "yoy": LAST_YEAR}), "comparisons": {"yoy": {}},
            "scope": {"jurisdiction": {"code": "361402000000", "name": name}, "unit": None, "category": None,
                      "channel": None},
            "period": {"label": "2026年第一季度", "from": "2026-01-01", "to": "2026-03-31"},
            "units": [{"unit": "room.x", "name": "=HYPERLINK(\"http://evil\")", "tier": "village",
                       **{k: 1 for k in ("received", "accept_due", "accepted_on_time", "handle_due", "replied_on_time",
                                         "overdue", "escalated_away", "evaluated", "satisfied")},
                       "timely_acceptance_rate": "100.00", "on_time_completion_rate": "100.00",
                       "satisfaction_rate": "100.00"}]}


def test_csv_has_a_bom_and_defuses_formulas():
    blob = exports.to_csv(exports.rows(_doc("+cmd|' /C calc'!A0")))
    assert blob.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(blob.decode("utf-8-sig"))))
    cells = [cell for line in table for cell in line]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert "'=HYPERLINK(\"http://evil\")" in cells and "'+cmd|' /C calc'!A0" in cells
    assert ["解决率", "resolution_rate", "81.25", "", "上升81.25个百分点"] in table or any(
        line[:3] == ["解决率", "resolution_rate", "81.25"] for line in table)
    assert any(line[:4] == ["来访批次", "batches", "212", "180"] and line[4] == "上升17.78%" for line in table)


def test_xlsx_never_holds_a_formula():
    book = load_workbook(io.BytesIO(exports.to_xlsx(exports.rows(_doc()), "t")))
    cells = [cell for row in book.active.iter_rows() for cell in row if cell.value is not None]
    assert not any(cell.data_type == "f" for cell in cells)
    assert any(cell.value == "'=HYPERLINK(\"http://evil\")" for cell in cells)
    assert any(cell.value == 81.25 for cell in cells)
