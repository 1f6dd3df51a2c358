"""Write docs/benchmarks.md from the figures the benchmarks saved in var/bench/*.json."""
from __future__ import annotations

import json
import sys

from common import RESULTS, ROOT, machine

TITLES = {
    "intake": "Intake 受理 — registrations (bench/intake_bench.py)",
    "escalation": "Escalation 督办 — deadlines (bench/escalation_bench.py)",
    "escalation_back_dated": "Escalation 督办 — a year's back-dated matters beside live ones "
                             "(bench/escalation_bench.py --scenario back-dated)",
    "reporting": "Reporting 统计 — projection and /v1/stats (bench/reporting_bench.py)",
    "audit": "Audit 审计 — replay against kcat (bench/audit_bench.py)",
    "drilldown": "Drill-down 明细 and the audit report — a county-year, beside the base commit (bench/drilldown_bench.py)",
    "e2e": "End to end — registration to /v1/stats (bench/e2e_bench.py)",
    "receipt": "Receipt numbers 受理编号 — sequence against a counter row (bench/receipt_bench.py)",
    "offline_facts": "Offline facts — what keeping sent breaches for withdrawal costs (bench/offline_facts_bench.py)",
    "notices": "Notices 书面告知 — a notice made as PDF and DOCX (bench/notices_bench.py)",
    "portal": "The petitioner's page 信访人查询 — the query under an open loop, the page's first render "
              "(bench/portal_bench.py)",
    "lookup": "Lookup at the desk 接待查询 — 1,000,000 petitioners, repeat detection (bench/lookup_bench.py)",
    "import": "Imports 历史导入 — matters per second through POST /v1/imports, beside the baseline's "
              "(bench/import_bench.py)",
    "apidocs": "API pages and request ids — X-Request-Id, /docs, /redoc, the OpenAPI documents (bench/apidocs_bench.py)",
    "suite": "Test suite 测试 — wall time of CI's run beside a baseline commit's (bench/suite_bench.py)",
    "mirror": "Mirroring 市级汇聚 — county append to city append through MirrorMaker 2 (bench/mirror_bench.py)",
    "terminal": "Web terminal 终端页面 — worklist and registration form (bench/terminal_bench.py)",
    "merge": "Merging 并单 — a merge at intake, /v1/stats with 1 % merged matters (bench/merge_bench.py)",
}


NOTES = ROOT / "bench" / "notes.md"  # written by hand: what changed between rounds, and why targets are missed


def flat(figures: dict, prefix: str = "") -> dict:
    """Nested figures as one row each: ``{"delay": {"p99": 1}}`` → ``{"delay.p99": 1}``."""
    out: dict = {}
    for key, value in figures.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def render() -> str:
    m = machine()
    lines = ["# 性能基准 Benchmarks", "",
             "Every figure below was measured on this machine by the scripts in `bench/`, each beside its baseline "
             "from the same run. Reproduce all of them with `bash bench/run` (PostgreSQL and Kafka are started "
             "if needed), or one with `python bench/<name>_bench.py`.", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
             f"Linux {m['kernel']}. The benchmarks share the two cores with PostgreSQL, Kafka and their own load "
             "generators.", ""]
    for name, title in TITLES.items():
        path = RESULTS / f"{name}.json"
        lines += [f"## {title}", ""]
        if not path.exists():
            lines += ["Not measured in this run.", ""]
            continue
        figures = json.loads(path.read_text())
        targets = figures.pop("targets", {})
        notes = figures.pop("notes", None)
        lines += [f"Measured {figures.pop('at')[:19].replace('T', ' ')} UTC.", "", "| figure | value | target |",
                  "|---|---|---|"]
        figures.pop("machine", None)
        figures.pop("benchmark", None)
        targets = flat(targets)
        for key, value in flat(figures).items():
            lines.append(f"| {key} | {value} | {targets.get(key, '')} |")
        if notes:
            lines += ["", notes]
        lines.append("")
    if NOTES.exists():
        lines += [NOTES.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text(render())
    print(out, file=sys.stderr)
