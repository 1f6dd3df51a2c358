"""Imports of history: matters per second through POST /v1/imports, this commit beside a baseline commit's.

    python bench/import_bench.py [--matters 2000] [--chunk 200] [--baseline 2972577]

Needs PostgreSQL and Kafka (`deploy/dev up`). For each commit (the baseline from a fresh clone) an intake process
of that code on a scratch schema and topics; one client posts the matters in chunks of ``--chunk`` lines, one
request after the other, as `python -m intake.history_upload` does. The matters are the same for both: two
batches, accepted, replied, evaluated (what the baseline's import could take: it refused any review). This
commit also imports the seed quarter (`tests/support/seed.py`: reviews, re-reviews, withdrawals), which the
baseline could not.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from common import save
from suite_bench import clone

from support.intake import BUREAU, Intake, intake_env, matter, ndjson
from support.kafka import run_settings
from support.postgres import test_database
from support.process import ROOT, ServiceProcess, free_port
from support.seed import intake_events, seed_records
from support.seed import ndjson as seed_ndjson
from xinfang.settings import CommonSettings


def post_all(url: str, token: str, bodies: list[bytes]) -> float:
    """Seconds to import every body, one request after the other; each must import every line."""
    with httpx.Client(base_url=url, timeout=600, headers={"Authorization": f"Bearer {token}",
                                                          "Content-Type": "application/x-ndjson"}) as http:
        started = time.perf_counter()
        for body in bodies:
            r = http.post("/v1/imports", content=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            r.raise_for_status()
            answer = r.json()
            assert answer["refused"] == 0, [x for x in answer["results"] if x["outcome"] != "created"][:3]
        return time.perf_counter() - started


def measure(code: Path, matters: int, chunk: int, with_seed: bool) -> dict:
    """Import throughput of the intake in ``code`` (a checkout: its shared/ and services/)."""
    base = CommonSettings()
    dsn = test_database(base.database_url)
    settings = run_settings(base.model_copy(update={"database_url": dsn}), f"bimp{uuid.uuid4().hex[:6]}")
    schema, port = f"intake_bimp_{uuid.uuid4().hex[:6]}", free_port()
    log = Path(tempfile.mkdtemp()) / "intake.log"
    proc = ServiceProcess("intake", intake_env(settings, schema, port, XINFANG_LOG_LEVEL="WARNING"), port, log)
    proc.env["PYTHONPATH"] = f"{code / 'shared'}:{code / 'services'}"
    proc.start(timeout=60)
    try:
        token = Intake(proc, settings, schema).terminal(BUREAU)
        run = uuid.uuid4().hex[:6]
        post_all(proc.url, token, [ndjson(*(matter(f"warm-{run}-{i}") for i in range(20)))])
        lines = [matter(f"bench-{run}-{i}") for i in range(matters)]
        bodies = [ndjson(*lines[i:i + chunk]) for i in range(0, matters, chunk)]
        seconds = post_all(proc.url, token, bodies)
        figures = {"matters_per_s": round(matters / seconds, 1), "events_per_s": round(matters * 6 / seconds, 1),
                   "ms_per_matter": round(seconds * 1000 / matters, 2)}
        if with_seed:
            seed = seed_records(run)
            took = post_all(proc.url, token, [seed_ndjson(seed[i:i + chunk]) for i in range(0, len(seed), chunk)])
            figures["seed_quarter"] = {"matters": len(seed), "events": intake_events(seed),
                                       "matters_per_s": round(len(seed) / took, 1)}
        return figures
    finally:
        proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matters", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=200)
    parser.add_argument("--baseline", default="2972577", help="the commit before imports ran through the runner")
    args = parser.parse_args()
    folder = clone(args.baseline)
    try:
        baseline = measure(folder, args.matters, args.chunk, with_seed=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    head = measure(ROOT, args.matters, args.chunk, with_seed=True)
    save("import", {"matters": args.matters, "chunk": args.chunk, "client": "one, sequential (as the upload CLI)",
                    "baseline_commit": args.baseline, "baseline": baseline, "head": head,
                    "head_vs_baseline": round(head["matters_per_s"] / baseline["matters_per_s"], 2),
                    "notes": "Each matter: two batches, accepted, replied, evaluated (6 events). Baseline: a second "
                             "pipeline (one round trip per batch for its petitioners, one write per fact). Head: "
                             "the command runner — the history decided once before its receipt number is drawn, "
                             "then one read and one write of all its events."})


if __name__ == "__main__":
    main()
