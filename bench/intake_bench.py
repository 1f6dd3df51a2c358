"""Intake: registrations per second, latency at a fixed offered rate, and PostgreSQL's ceiling beside it.

    python bench/intake_bench.py [--seconds 20] [--rate 500] [--concurrency 32]

Needs `deploy/dev up` (PostgreSQL and Kafka). Starts its own intake process on a scratch schema and
topics. Each registration is of a person of its own (register.lua with XINFANG_PEOPLE, person_body). The
baseline in the same run: pgbench with a one-row INSERT transaction at the same client count and duration, on
the same server: what PostgreSQL alone commits per second here.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import aiohttp
from common import percentile, run, save

from support.intake import VILLAGE, VILLAGE_CODE, Intake, identity_number, intake_env, mobile
from support.kafka import run_settings
from support.postgres import test_database
from support.process import ServiceProcess, free_port
from xinfang.settings import CommonSettings

BODY = {"channel": "visit", "jurisdiction": VILLAGE_CODE, "category": "labour", "summary": "拖欠工资",
        "head_count": 3, "petitioners": [{"name": "张三", "id_number": "36140219800101123X", "phone": "13800000000"}]}
_people = random.Random(7)


def person_body(rng: random.Random = _people) -> dict:
    """A registration of a person of their own (valid identity number, phone): with repeat detection on, one body
    sent again and again would be one person with thousands of matters, each registration reading 20 of them."""
    return {**BODY, "petitioners": [{"name": "张三", "id_number": identity_number(rng), "phone": mobile(rng)}]}


async def closed_loop(url: str, token: str, seconds: float, concurrency: int,
                      body: Callable[[], dict] = person_body) -> tuple[int, int, list[float]]:
    """As fast as it goes: ``concurrency`` clients each sending the next request when answered."""
    ok = errors = 0
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(url, headers={"Authorization": f"Bearer {token}"}) as http:
        async def client() -> None:
            nonlocal ok, errors
            while time.monotonic() < deadline:
                started = time.perf_counter()
                async with http.post("/v1/petitions", json=body(), headers={"Idempotency-Key": uuid.uuid4().hex}) as r:
                    await r.read()
                    latencies.append(time.perf_counter() - started)
                    ok, errors = (ok + 1, errors) if r.status == 201 else (ok, errors + 1)
        await asyncio.gather(*(client() for _ in range(concurrency)))
    return ok, errors, latencies


async def open_loop(url: str, token: str, seconds: float, rate: float,
                    body: Callable[[], dict] = person_body, lags: list[float] | None = None) -> tuple[int, int, list[float]]:
    """A fixed offered rate: requests start on schedule whether or not earlier ones finished (``lags``: how late
    after its scheduled time each request's task began — the load generator's own share of the latency)."""
    ok = errors = 0
    latencies: list[float] = []
    async with aiohttp.ClientSession(url, headers={"Authorization": f"Bearer {token}"},
                                     connector=aiohttp.TCPConnector(limit=2000)) as http:
        async def one(scheduled: float) -> None:
            nonlocal ok, errors
            if lags is not None:
                lags.append(time.perf_counter() - scheduled)
            try:
                async with http.post("/v1/petitions", json=body(), headers={"Idempotency-Key": uuid.uuid4().hex}) as r:
                    await r.read()
            except aiohttp.ClientError:
                errors += 1
                return
            latencies.append(time.perf_counter() - scheduled)  # from the scheduled start: no coordinated omission
            ok, errors = (ok + 1, errors) if r.status == 201 else (ok, errors + 1)

        tasks, start, n = [], time.perf_counter(), int(seconds * rate)
        for i in range(n):
            at = start + i / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(at)))
        await asyncio.gather(*tasks)
    return ok, errors, latencies


def wrk(url: str, token: str, seconds: float, concurrency: int) -> tuple[float, float, float, int]:
    """Closed loop with wrk (a C client, so the load generator does not eat the server's CPU)."""
    script = str(Path(__file__).parent / "register.lua")
    out = run(["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", script, url],
              env={"XINFANG_PEOPLE": "1", **os.environ, "XINFANG_TERMINAL_TOKEN": token}).stdout
    rate = float(next(line for line in out.splitlines() if line.startswith("Requests/sec")).split()[1])
    def ms(label: str) -> float:
        text = next(line for line in out.splitlines() if line.strip().startswith(label)).split()[1]
        if text.endswith("ms"):
            return float(text[:-2])
        return float(text[:-1]) * 1000 if text.endswith("s") else float(text[:-2]) / 1000
    bad = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    return rate, ms("50%"), ms("99%"), bad


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds used so far by a process with its children (the uvicorn workers), and by the whole machine
    (busy time of all cores: intake, PostgreSQL, Kafka, wrk and anything else running)."""
    tick = os.sysconf("SC_CLK_TCK")
    def own(p: int) -> int:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    kids = [int(k) for t in Path(f"/proc/{pid}/task").iterdir()
            for k in (t / "children").read_text().split()]
    busy = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (own(pid) + sum(own(k) for k in kids)) / tick, (sum(busy) - busy[3] - busy[4]) / tick


def offered(proc_pid: int, url: str, token: str, seconds: float, rate: float,
            body: Callable[[], dict] = person_body) -> dict:
    """One open-loop run with the machine's CPU beside it: how busy all cores were, and what the Python load
    generator (this process, on the same two cores) spent a request."""
    lags: list[float] = []
    pauses: list[float] = []  # the load generator's own garbage collections (each stops every request it has)
    started: list[float] = []

    def collecting(phase: str, _info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pauses.append(time.perf_counter() - started[0])

    gc.callbacks.append(collecting)
    cpu0, own0, t0 = cpu_seconds(proc_pid), time.process_time(), time.monotonic()
    try:
        ok, errors, latencies = asyncio.run(open_loop(url, token, seconds, rate, body, lags))
    finally:
        gc.callbacks.remove(collecting)
    cpu1, own1, t1 = cpu_seconds(proc_pid), time.process_time(), time.monotonic()
    return {"rate_per_s": rate, "ok": ok, "errors": errors, "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "machine_busy": round((cpu1[1] - cpu0[1]) / ((t1 - t0) * os.cpu_count()), 2),
            "client_cpu_ms_per_request": round((own1 - own0) * 1000 / max(ok + errors, 1), 2),
            "client_start_lag_p50_ms": round(percentile(lags, 50) * 1000, 1),
            "client_start_lag_p99_ms": round(percentile(lags, 99) * 1000, 1),
            "client_gc_pauses": len(pauses), "client_gc_max_ms": round(max(pauses, default=0) * 1000, 1),
            "client_gc_total_ms": round(sum(pauses) * 1000, 1)}


def pgbench(dsn: str, seconds: int, clients: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "insert.sql"
        script.write_text("INSERT INTO bench_pgbench (id, body) VALUES (gen_random_uuid(), 'x');\n")
        run(["psql", dsn, "-qc",
             "DROP TABLE IF EXISTS bench_pgbench; CREATE TABLE bench_pgbench (id uuid PRIMARY KEY, body text)"])
        out = run(["pgbench", "-n", "-f", str(script), "-c", str(clients), "-j", "2", "-T", str(seconds), dsn]).stdout
        run(["psql", dsn, "-qc", "DROP TABLE bench_pgbench"])
    return float(next(line for line in out.splitlines() if line.startswith("tps")).split()[2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="intake worker processes")
    args = parser.parse_args()
    base = CommonSettings()
    dsn = test_database(base.database_url)
    settings = run_settings(base.model_copy(update={"database_url": dsn}), f"bench{uuid.uuid4().hex[:6]}")
    schema = f"intake_bench_{uuid.uuid4().hex[:6]}"
    port = free_port()
    log = Path(tempfile.mkdtemp()) / "intake.log"
    proc = ServiceProcess("intake", intake_env(settings, schema, port, XINFANG_LOG_LEVEL="WARNING",
                                                   XINFANG_WORKERS=str(args.workers)), port, log).start()
    try:
        token = Intake(proc, settings, schema).terminal(VILLAGE)
        asyncio.run(closed_loop(proc.url, token, 3, 8))  # warm up
        cpu0 = cpu_seconds(proc.proc.pid)
        throughput, p50, p99, errors = wrk(proc.url, token, args.seconds, args.concurrency)
        cpu1 = cpu_seconds(proc.proc.pid)
        done = throughput * int(args.seconds)
        at_rate = offered(proc.proc.pid, proc.url, token, args.seconds, args.rate)
        light = round(throughput * 0.6)  # 60 % of wrk's rate; the Python generator's own CPU comes on top
        at_light = offered(proc.proc.pid, proc.url, token, args.seconds, light)
        ceiling = pgbench(dsn, int(args.seconds), args.concurrency)
    finally:
        proc.stop()
    save("intake", {
        "registrations_per_s": round(throughput, 1), "intake_workers": args.workers,
        "closed_loop_clients": args.concurrency,
        "closed_loop_client": "wrk", "closed_loop_errors": errors, "closed_loop_p50_ms": p50, "closed_loop_p99_ms": p99,
        **{f"offered_{k}": v for k, v in at_rate.items()},
        **{f"offered_60pct_{k}": v for k, v in at_light.items()},
        "closed_loop_cpu_ms_per_registration": {"intake": round((cpu1[0] - cpu0[0]) * 1000 / done, 2),
                                                "machine": round((cpu1[1] - cpu0[1]) * 1000 / done, 2),
                                                "cores": os.cpu_count()},
        "pgbench_one_row_insert_tps": round(ceiling, 1),
        "fraction_of_pgbench": round(throughput / ceiling, 3),
        "targets": {"registrations_per_s": ">= 1000", "offered_p99_ms": "<= 100 at 500/s"},
    })


if __name__ == "__main__":
    main()
