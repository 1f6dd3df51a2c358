"""GET /v1/stats and its drill-downs as CSV (UTF-8 with a BOM, so Excel reads the Chinese) and as XLSX (openpyxl).

Cells are safe against formula injection: a text cell that a spreadsheet would take for a formula
(starting with = + - @, a tab or a carriage return) is written with a leading apostrophe.
Names of places, units and categories come from configuration files that people edit.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from reporting import figures as f

BOM = "\ufeff"
RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    """Numbers pass; text that could start a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(RISKY):
        return "'" + value
    return value


def rows(doc: dict[str, Any]) -> list[list[Any]]:
    """The stats document as a table: a header block, the figures, then the units."""
    figures, comparisons = doc["figures"], doc["comparisons"]
    scope = doc["scope"]
    table: list[list[Any]] = [
        ["统计期间 period", doc["period"]["label"], doc["period"]["from"], doc["period"]["to"]],
        ["区划 jurisdiction", scope["jurisdiction"]["name"], scope["jurisdiction"]["code"]],
    ]
    if scope.get("unit"):
        table.append(["承办单位 unit", scope["unit"]["name"], scope["unit"]["id"]])
    if scope.get("category"):
        table.append(["类别 category", scope["category"]["name"], scope["category"]["code"]])
    if scope.get("channel"):
        table.append(["渠道 channel", scope["channel"]])
    table.append([])
    header = ["指标", "figure", "本期 value"]
    for name in comparisons:
        zh = "同比" if name == "yoy" else "环比"
        header += [f"{zh}期 {name} value", f"{zh}变化 {name} change"]
    table.append(header)
    for figure in f.FIGURES:
        entry = figures[figure.key]
        value = entry["value"]
        line = [figure.zh, figure.key, _number(value)]
        for name in comparisons:
            line += [_number(entry[name]["value"]), entry[name]["text"] or ""]
        table.append(line)
    table.append([])
    table.append(["承办单位", "unit", "层级 tier", *[u.zh for u in f.UNIT_FIGURES]])
    for unit in doc["units"]:
        table.append([unit["name"], unit["unit"], unit["tier"], *[_number(unit[u.key]) for u in f.UNIT_FIGURES]])
    return table


def drill_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """A drill-down document as a table: a header block, the columns (Chinese over English), every matter, and
    the sums of the contributions (the figure's counts) as the last line."""
    scope, columns = doc["scope"], doc["columns"]
    table: list[list[Any]] = [
        ["指标 figure", doc["label"], doc["figure"]],
        ["统计期间 period", doc["period"]["label"], doc["period"]["from"], doc["period"]["to"]],
        ["区划 jurisdiction", scope["jurisdiction"]["name"], scope["jurisdiction"]["code"]],
    ]
    if scope.get("unit"):
        table.append(["承办单位 unit", scope["unit"]["name"], scope["unit"]["id"]])
    for key, zh in (("as_of", "截至（发生）as of"), ("known_at", "截至（记录）known at")):
        if doc.get(key):
            table.append([zh, doc[key]])
    table.append([])
    table.append([c["label"] for c in columns])
    table.append([c["key"] for c in columns])
    for matter in doc["matters"]:
        table.append([matter[c["key"]] for c in columns])
    sums = [doc["sums"].get(c["key"], "") for c in columns]
    sums[0] = f"合计 total ({doc['total']})"
    table.append(sums)
    if doc["kind"] == "rate":
        table.append([f"{doc['label']} {doc['figure']} (%)", _number(doc["sums"]["value"])])
    return table


def assessment_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """The assessment as a table: a header block, then the units and the places, each with rank, rank change,
    score, veto and every indicator."""
    indicators = doc["indicators"]
    table: list[list[Any]] = [
        ["统计期间 period", doc["period"]["label"], doc["period"]["from"], doc["period"]["to"]],
        ["上期 previous period", doc["previous"]["label"]],
        ["区划 jurisdiction", doc["jurisdiction"]["name"], doc["jurisdiction"]["code"]],
        ["权重 weights", *[f"{i['label']} {i['weight']}" for i in indicators]],
        ["一票否决 vetoes", *[f"{v['indicator']} < {v['below']}%" for v in doc["vetoes"]]],
    ]
    for key, zh in (("units", "单位 unit"), ("jurisdictions", "区划 jurisdiction")):
        table.append([])
        table.append(["排名 rank", "上期排名 previous", "变化 change", zh, "名称 name", "得分 score",
                      "否决 veto", *[i["label"] for i in indicators]])
        for row in doc[key]:
            table.append([row["rank"], row["previous_rank"], row["rank_change"], row.get("unit") or row["jurisdiction"],
                          row["name"], _number(row["score"]), "、".join(row["vetoed"]),
                          *[_number(row["indicators"][i["key"]]["value"]) for i in indicators]])
    return table


def _number(value: Any) -> Any:
    """Rates travel as decimal strings in JSON; in a spreadsheet they are numbers."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def to_csv(table: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in table:
        writer.writerow([safe(cell) for cell in line])
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(table: Iterable[list[Any]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "统计"
    for line in table:
        sheet.append([safe(cell) for cell in line])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 30
    sheet["A1"].font = Font(bold=True)
    book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
