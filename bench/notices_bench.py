"""Written notices: how long a notice takes to make, as PDF and as DOCX (target: a PDF in ≤ 200 ms at p95).

    python bench/notices_bench.py [--renders 300] [--requests 100] [--no-http]

Two measures, one after the other:
- ``render``: the document alone (compose.fill + render.pdf / render.docx of the longest default notice, the
  信访处理意见书, and of the receipt slip), in this process, after the font is loaded once (``font_load_ms``: the
  first document a process makes pays it);
- ``http``: through a real intake (PostgreSQL and Kafka from `deploy/dev up`), one client after another: downloading
  an issued notice (read the matter's events, decrypt the petitioner, render, check the SHA-256 the event recorded)
  and issuing one (compose, render both formats, hash, write the event).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import percentile, save

TARGET_MS = 200


def spread(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {"p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1), "n": len(ms)}


def render_figures(renders: int) -> dict:
    from intake.domain.model import evolve
    from intake.notices import compose, render
    from xinfang.county import load_county
    from xinfang.events.catalogue import Accepted, Petitioner, Registered, Replied
    from xinfang.settings import ROOT

    county = load_county(ROOT / "deploy" / "counties" / "demo.yaml")
    room = "room.361402001001"
    at = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
    facts = [Registered(receipt_no="2026-361402-0000123", batch_id="b1", channel="visit", jurisdiction="361402001001",
                        category="labour", summary="拖欠工资三个月，多次讨要未果。" * 4, head_count=1, unit=room,
                        tier="village", petitioners=[Petitioner(ref="p1", name="enc:aes-gcm:k:AA:BB")]),
             Accepted(unit=room),
             Replied(unit=room, decision="explain", resolved=False,
                     facts="已查明", grounds="经调查核实，该企业因资金周转困难拖欠工资，"
                     "现已承诺于本月底前足额支付，镇劳动保障所将跟踪督促。" * 6)]
    state, history = None, []
    for seq, data in enumerate(facts, 1):
        when = at + timedelta(days=seq)
        state, history = evolve(state, data, when, seq), [*history, (seq, when, data)]
    people = {"p1": {"name": "张三", "address": "东门社区1号"}}
    started = time.perf_counter()
    render.pdf_font()
    figures: dict = {"font_load_ms": round((time.perf_counter() - started) * 1000, 1)}
    for kind in ("opinion", "receipt"):
        draft = compose.draft(county, state, history, kind)
        for fmt, renderer in render.RENDERERS.items():
            times = []
            for i in range(renders):
                started = time.perf_counter()
                notice = compose.fill(county, draft, notice_id=f"{i:032x}", issued_at=at, people=people,
                                      query_code="K7QM-3XPD-9T2A")
                renderer(notice, county.zone)
                times.append(time.perf_counter() - started)
            figures[f"{kind}_{fmt}"] = spread(times)
    return figures


def http_figures(requests: int) -> dict:
    from support.intake import VILLAGE, start_intake
    from xinfang.settings import CommonSettings

    settings = CommonSettings()
    intake = start_intake(settings, settings.database_url, Path(tempfile.mkdtemp(prefix="notices-bench-")))
    try:
        pid = intake.register()["petition_id"]
        intake.route(pid, VILLAGE, "village")
        for body in ({"action": "accept"}, {"action": "reply", "decision": "explain", "resolved": False,
                                            "facts": "已查明", "grounds": "经调查核实，企业已承诺于本月底前支付。" * 10}):
            assert intake.post(f"/v1/petitions/{pid}/actions", body).status_code == 200
        token = intake.terminal(VILLAGE)
        headers = {"Authorization": f"Bearer {token}"}
        issue_times, issued = [], None
        for _ in range(max(10, requests // 3)):
            started = time.perf_counter()
            r = intake.post(f"/v1/petitions/{pid}/notices", {"kind": "opinion", "delivery": "desk"})
            issue_times.append(time.perf_counter() - started)
            assert r.status_code == 201, r.text
            issued = r.json()
        figures: dict = {"issue_pdf_and_docx": spread(issue_times)}
        for fmt in ("pdf", "docx"):
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                r = intake.http.get(issued[fmt], headers=headers)
                times.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text
            figures[f"download_{fmt}"] = spread(times)
        return figures
    finally:
        intake.proc.stop()
        intake.producer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=300)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--no-http", action="store_true", help="the documents alone, no intake")
    args = parser.parse_args()
    figures: dict = {"load_average_before": round(os.getloadavg()[0], 1), "render": render_figures(args.renders)}
    if not args.no_http:
        figures["http"] = http_figures(args.requests)
    figures["targets"] = {"render": {f"{k}_pdf": {"p95_ms": f"≤ {TARGET_MS}"} for k in ("opinion", "receipt")},
                          "http": {"download_pdf": {"p95_ms": f"≤ {TARGET_MS}"}}}
    figures["notes"] = ("One A4 page each. `render`: one process, one core, the font (AR PL UMing CN, 21 MB) loaded "
                        "before; `http`: one client, each request after the last, through intake on this machine "
                        "(download: events read, petitioner decrypted, document made again and checked against its "
                        "recorded SHA-256; issue: both documents made and hashed, the event written).")
    figures["load_average_after"] = round(os.getloadavg()[0], 1)
    save("notices", figures)


if __name__ == "__main__":
    main()
