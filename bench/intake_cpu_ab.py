"""Intake's CPU per registration, this code beside another commit's, in alternating pairs (A/B).

    git worktree add /tmp/base <commit>
    python bench/intake_cpu_ab.py --base /tmp/base [--pairs 4] [--seconds 8] [--concurrency 16] [--rate 120]

Needs PostgreSQL and Kafka (as bench/intake_bench.py). Starts one intake process of each code (one worker each,
a scratch schema each, repeat detection on), warms both up, then runs wrk against them in turn, the order swapped
every pair, and reports intake's CPU (the process and its workers, ``intake_bench.cpu_seconds``) per registration
of each run. ``--rate``: an open loop at that many registrations a second instead (``intake_bench.open_loop``):
what a registration costs moves with the rate (the relay's batches, the event loop's wake-ups are shared by fewer
registrations at a lower one), so pairs at one fixed rate below both codes' capacity compare the code alone; the
closed loop's rates follow whatever else the machine runs. The open loops run against both at once, so that
both share the same machine in every pair; wrk runs against one and then the other.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import uuid
from pathlib import Path

from common import save
from intake_bench import closed_loop, cpu_seconds, open_loop, wrk

from support.intake import VILLAGE, Intake, intake_env
from support.kafka import run_settings
from support.postgres import test_database
from support.process import ServiceProcess, free_port
from xinfang.settings import CommonSettings


def start(root: Path, settings, workers: int) -> tuple[ServiceProcess, str]:
    schema = f"intake_ab_{uuid.uuid4().hex[:6]}"
    port = free_port()
    log = Path(tempfile.mkdtemp()) / "intake.log"
    proc = ServiceProcess("intake", intake_env(settings, schema, port, XINFANG_LOG_LEVEL="WARNING",
                                               XINFANG_WORKERS=str(workers),
                                               PYTHONPATH=f"{root / 'shared'}:{root / 'services'}"), port, log).start()
    token = Intake(proc, settings, schema).terminal(VILLAGE)
    asyncio.run(closed_loop(proc.url, token, 3, 8))  # warm up
    return proc, token


async def side_by_side(procs: dict, seconds: float, rate: float) -> dict:
    runs = await asyncio.gather(*(open_loop(proc.url, token, seconds, rate) for proc, token in procs.values()))
    return dict(zip(procs, runs, strict=True))


def figures(cpu0: tuple[float, float], cpu1: tuple[float, float], done: float, rate: float, bad: int) -> dict:
    return {"cpu_ms_per_registration": round((cpu1[0] - cpu0[0]) * 1000 / done, 3),
            "registrations_per_s": round(rate, 1), "non_2xx": bad, "machine_busy_cpu_s": round(cpu1[1] - cpu0[1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="a worktree of the commit to compare with")
    parser.add_argument("--head", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the code measured against it (default: this worktree's)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate", type=float, default=None, help="an open loop at this rate instead of wrk")
    args = parser.parse_args()
    base = CommonSettings()
    settings = run_settings(base.model_copy(update={"database_url": test_database(base.database_url)}),
                            f"ab{uuid.uuid4().hex[:6]}")
    procs = {}
    try:
        procs["base"] = start(args.base.resolve(), settings, args.workers)
        procs["head"] = start(args.head.resolve(), settings, args.workers)
        pairs = []
        for i in range(args.pairs):
            pair = {}
            if args.rate:  # both at once: the same machine for both, whatever else it runs meanwhile
                cpu0 = {name: cpu_seconds(proc.proc.pid) for name, (proc, _) in procs.items()}
                runs = asyncio.run(side_by_side(procs, args.seconds, args.rate))
                for name, (ok, bad, _latencies) in runs.items():
                    cpu1 = cpu_seconds(procs[name][0].proc.pid)
                    pair[name] = figures(cpu0[name], cpu1, ok + bad, (ok + bad) / args.seconds, bad)
            for n, name in enumerate(() if args.rate else ("base", "head") if i % 2 == 0 else ("head", "base")):
                proc, token = procs[name]
                os.environ["XINFANG_RUN"] = str(1 + 2 * i + n)  # people of their own in every run
                cpu0 = cpu_seconds(proc.proc.pid)
                rate, _p50, _p99, bad = wrk(proc.url, token, args.seconds, args.concurrency)
                pair[name] = figures(cpu0, cpu_seconds(proc.proc.pid), rate * int(args.seconds), rate, bad)
            print(pair, flush=True)
            pairs.append(pair)
    finally:
        for proc, _ in procs.values():
            proc.stop()
    before = [p["base"]["cpu_ms_per_registration"] for p in pairs]
    after = [p["head"]["cpu_ms_per_registration"] for p in pairs]
    save("intake_cpu_ab", {
        "base": str(args.base), "head": str(args.head), "pairs": pairs, "workers": args.workers,
        "load": f"open loop at {args.rate}/s" if args.rate else f"wrk, {args.concurrency} clients",
        "seconds": args.seconds, "loadavg_at_end": os.getloadavg(),
        "cpu_ms_per_registration_mean": {"base": round(sum(before) / len(before), 3),
                                         "head": round(sum(after) / len(after), 3)},
        "change": round(sum(after) / sum(before) - 1, 3)})


if __name__ == "__main__":
    main()
