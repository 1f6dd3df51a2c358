"""The desk: lookup by identity number with 1,000,000 petitioners stored, and registration with repeat detection
beside its two baselines in the same run — pgbench running intake's own registration statements, and
registration with detection off.

    python bench/lookup_bench.py [--petitioners 1000000] [--seconds 15] [--lookups 3000]

Needs PostgreSQL and Kafka (`deploy/dev up`). Works in a database of its own (xinfang_bench_lookup, dropped at
the end) and topics of its own. The petitioners are bulk-loaded with COPY (matters, their blind indexes) under the
master key the intake process runs with; the lookups go through intake's HTTP API as a terminal sends them.
Registrations: wrk (bench/register.lua with XINFANG_PEOPLE: a person of their own per request, every tenth a repeat),
detection off and on, twice each, alternating; then an open loop at half the capacity measured with detection on.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import asyncpg
from common import ROOT, percentile, run, save
from intake_bench import offered, person_body, wrk

from intake import desk, store
from intake.domain.identifiers import check_character
from intake.domain.model import PetitionState
from intake.keyring import Keyring
from support.intake import BUREAU, VILLAGE, VILLAGE_CODE, Intake, identity_number, intake_env
from support.kafka import delete_run_topics, run_settings
from support.process import ServiceProcess, free_port
from xinfang.county import load_county
from xinfang.settings import CommonSettings

DATABASE = "xinfang_bench_lookup"
SCHEMA = "intake"
MASTER = b"k" * 32  # what support.intake.intake_env gives the process
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CHUNK = 50_000


def bulk_id_number(i: int) -> str:
    """The i-th bulk petitioner's identity number (region 361499: none of the API's people)."""
    day, seq = i % 20_000, i // 20_000
    first17 = f"361499{1940 + day // 336:04d}{day % 336 // 28 + 1:02d}{day % 28 + 1:02d}{seq:03d}"
    return first17 + check_character(first17)


def bulk_phone(i: int) -> str:
    return f"139{i:08d}"


async def load(dsn: str, county, count: int) -> float:
    """``count`` matters of one petitioner each, with the petitioner's two blind index rows, by COPY."""
    keyring, places = Keyring(MASTER, "aes-gcm"), [j.code for j in county.jurisdictions if j.tier == "village"]
    now = datetime(2025, 6, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
    try:
        for low in range(0, count, CHUNK):
            matters, indexes = [], []
            for i in range(low, min(low + CHUNK, count)):
                pid, ref, place = uuid.UUID(int=i + 1), f"bulk{i:010d}", places[i % len(places)]
                unit = county.unit_for(place, "village").id
                state = PetitionState(petition_id=str(pid), receipt_no=f"2025-361402-B{i:07d}", status="accepted",
                                      jurisdiction=place, category="labour", registered_unit=unit, registered_at=now,
                                      holder_unit=unit, holder_tier="village", last_fact_at=now, petitioner_refs=(ref,))
                matters.append((pid, state.receipt_no, place, "labour", "accepted", unit, unit, "0" * 64, 1,
                                store.state_to_json(state).decode()))
                indexes.append(("id_number", keyring.digest("id_number", bulk_id_number(i)), ref, pid))
                indexes.append(("phone", keyring.digest("phone", bulk_phone(i)), ref, pid))
            await conn.copy_records_to_table("petitions", schema_name=SCHEMA, records=matters, columns=[
                "petition_id", "receipt_no", "jurisdiction", "category", "status", "holder_unit", "registered_unit",
                "head_hash", "version", "state"])
            await conn.copy_records_to_table("blind_indexes", schema_name=SCHEMA, records=indexes,
                                             columns=["kind", "digest", "ref", "petition_id"])
        # vacuumed (the insert-triggered autovacuum of a million new rows otherwise runs during the first measured
        # runs) and the load's dirty pages and WAL flushed now, not by a checkpoint in the middle of them (one landed
        # in the first wrk run at 21:56 UTC: 422/s against 569/s for the same code a minute later)
        await conn.execute("VACUUM (ANALYZE) petitions")
        await conn.execute("VACUUM (ANALYZE) blind_indexes")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def lookups(url: str, tokens: list[str], bodies: list[dict], clients: int) -> tuple[list[float], dict]:
    """Each body looked up once by identity number, ``clients`` at a time; latencies and the answers' sizes."""
    latencies: list[float] = []
    outcomes = {"found": 0, "none": 0, "errors": 0}
    queue = list(enumerate(bodies))
    async with aiohttp.ClientSession(url) as http:
        async def client() -> None:
            while queue:
                n, body = queue.pop()
                started = time.perf_counter()
                async with http.post("/v1/lookups/id-number", json=body,
                                     headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"}) as r:
                    answer = await r.json() if r.status == 200 else None
                latencies.append(time.perf_counter() - started)
                outcomes["errors" if answer is None else "found" if answer["matters"] else "none"] += 1
        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, outcomes


# ---- pgbench: the statements intake sends for one registration with detection on ------------------------------

def begin_statement(year: int) -> str:
    """IntakeService._begin for a registration with detection on (no transaction lock: the write takes it; the
    candidate repeats of one person with both identifiers in the same round trip), its parameters inlined."""
    candidates = desk.candidates_column(
        "'{id_number,phone}'", "ARRAY[sha256((:r::text || 'i')::bytea), sha256((:r::text || 'p')::bytea)]")
    return ("SELECT l.locked, k.request_hash, k.status, k.body, p.state, p.version, p.head_hash, "
            f"CASE WHEN k.request_hash IS NULL AND l.locked THEN nextval('receipt_{year}') END AS serial, "
            f"{candidates} AS candidates "
            "FROM (SELECT CASE WHEN NULL::bigint IS NULL THEN true ELSE pg_try_advisory_xact_lock(NULL::bigint) END AS locked) l "
            "LEFT JOIN idempotency_keys k ON k.terminal_id = 't-pgbench' AND k.key = 'k' || :r::text "
            "LEFT JOIN petitions p ON p.petition_id = md5(:r::text)::uuid")


def write_statement(sizes: dict, state_json: str) -> str:
    """store's insert of a new matter (its exact text), each parameter replaced by a value of the size intake sends."""
    ref = "md5(:r::text || 'ref')"
    values = {
        1: "ARRAY[md5(:r::text || 'e')::uuid]", 2: "ARRAY[md5(:r::text)::uuid]", 3: "'{1}'::int[]",
        4: "'{petition.registered.v1}'::text[]", 5: "ARRAY[now()]", 6: "ARRAY[now()]",
        7: f"ARRAY[convert_to(repeat('x', {sizes['event']}), 'UTF8')]", 8: "'t-pgbench'::text", 9: "'k' || :r::text",
        10: "sha256(:r::text::bytea)", 11: "201", 12: f"convert_to(repeat('x', {sizes['answer']}), 'UTF8')",
        13: "'aes-gcm'", 14: f"ARRAY[{ref}]", 15: "ARRAY[sha256(:r::text::bytea) || sha256(:r::text::bytea)]",
        16: f"ARRAY[repeat('n', {sizes['field']})]", 17: f"ARRAY[repeat('i', {sizes['field']})]",
        18: f"ARRAY[repeat('p', {sizes['field']})]", 19: "ARRAY[NULL::text]",
        20: "'2026-361402-P' || :r::text", 21: "NULL::text", 22: f"'{VILLAGE_CODE}'", 23: "'labour'", 24: "'registered'",
        25: "NULL::text", 26: "NULL::text", 27: f"'{VILLAGE}'", 28: "NULL::timestamptz", 29: f"'{'0' * 64}'",
        30: "'" + state_json.replace("'", "''") + "'", 31: "NULL::bigint",
        32: "'{id_number,phone}'::text[]",
        33: "ARRAY[sha256((:r::text || 'i')::bytea), sha256((:r::text || 'p')::bytea)]", 34: f"ARRAY[{ref}, {ref}]"}
    return re.sub(r"\$(\d+)", lambda m: f"({values[int(m.group(1))]})", store.write_statement(new_matter=True))


def pgbench(dsn: str, script: str, seconds: int, clients: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "register.sql"
        path.write_text(script)
        out = run([str(PG_BIN / "pgbench"), "-n", "-M", "prepared", "-f", str(path), "-c", str(clients), "-j", "2",
                   "-T", str(seconds), dsn], env={**os.environ, "PGOPTIONS": f"-c search_path={SCHEMA}"}).stdout
    return float(next(line for line in out.splitlines() if line.startswith("tps")).split()[2])


async def sizes_of(dsn: str) -> tuple[dict, str]:
    """How big what intake wrote for a registration is (the event, its answer, an encrypted field), and a state."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT avg(length(body))::int FROM events WHERE type LIKE 'petition.registered.%') AS event,
                      (SELECT avg(length(body))::int FROM idempotency_keys) AS answer,
                      (SELECT avg(length(name))::int FROM petitioners WHERE ref NOT LIKE 'bulk%') AS field,
                      (SELECT state::text FROM petitions WHERE receipt_no NOT LIKE '%-B%' LIMIT 1) AS state""")
    finally:
        await conn.close()
    return {k: row[k] for k in ("event", "answer", "field")}, row["state"]


def drained(dsn: str, timeout: float = 120) -> float:
    """Wait until the relay has published the outbox (the saturating run before leaves a backlog of thousands of
    events, whose publishing would otherwise share the machine with the next measurement); how long it took."""
    async def wait() -> float:
        conn = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
        started = time.monotonic()
        try:
            while await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox)"):
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"the outbox was not drained in {timeout:.0f} s")
                await asyncio.sleep(0.2)
        finally:
            await conn.close()
        return round(time.monotonic() - started, 1)

    return asyncio.run(wait())


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--petitioners", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--lookups", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="intake worker processes")
    args = parser.parse_args()
    base = CommonSettings()
    server = base.database_url.rsplit("/", 1)[0]
    dsn = f"{server}/{DATABASE}"
    run([str(PG_BIN / "psql"), f"{server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE}"])
    run([str(PG_BIN / "psql"), f"{server}/postgres", "-qc", f"CREATE DATABASE {DATABASE}"])
    settings = run_settings(base.model_copy(update={"database_url": dsn}), f"benchlookup{uuid.uuid4().hex[:6]}")
    folder = Path(tempfile.mkdtemp())
    county_file = folder / "county.yaml"  # the demo county, lookups at the most a county may allow a terminal
    county_file.write_text((ROOT / "deploy" / "counties" / "demo.yaml").read_text(encoding="utf-8").replace(
        "lookups_per_minute: 30 ", "lookups_per_minute: 600"), encoding="utf-8")
    county = load_county(county_file)
    assert county.lookups_per_minute == 600

    def start(detection: bool) -> ServiceProcess:
        port = free_port()
        env = intake_env(settings, SCHEMA, port, XINFANG_LOG_LEVEL="WARNING", XINFANG_WORKERS=str(args.workers),
                         XINFANG_COUNTY_FILE=str(county_file), XINFANG_REPEAT_DETECTION=str(detection).lower())
        return ServiceProcess("intake", env, port, folder / f"intake-{detection}.log").start()

    figures: dict = {"petitioners_stored": args.petitioners, "loadavg_at_start": loadavg()}
    rng = random.Random(7)
    try:
        proc = start(True)
        try:
            figures["bulk_load_s"] = round(asyncio.run(load(dsn, county, args.petitioners)), 1)
            intake = Intake(proc, settings, SCHEMA)
            registrar = intake.terminal(VILLAGE)
            people = [person_body(rng) for _ in range(200)]
            for body in people:  # registered through the API: found with their names
                r = intake.http.post("/v1/petitions", json=body, headers={
                    "Authorization": f"Bearer {registrar}", "Idempotency-Key": uuid.uuid4().hex})
                assert r.status_code == 201, r.text
            desks = [("registrar",), ("handler",), ("supervisor",), ("registrar", "handler"),
                     ("registrar", "supervisor"), ("handler", "supervisor")]
            tokens = [intake.terminal(BUREAU, roles) for roles in desks]  # 600 lookups a minute each
            asked = [{"id_number": bulk_id_number(rng.randrange(args.petitioners))} for _ in range(args.lookups // 2)]
            asked += [{"id_number": p["petitioners"][0]["id_number"]} for p in rng.choices(people, k=args.lookups // 4)]
            asked += [{"id_number": identity_number(rng, "361498")} for _ in range(args.lookups // 4)]
            rng.shuffle(asked)
            figures["loadavg_before_lookups"] = loadavg()
            latencies, outcomes = asyncio.run(lookups(proc.url, tokens, asked, 4))
            intake.producer.close()
            figures.update({"lookups": len(latencies), "lookup_clients": 4, **{f"lookups_{k}": v for k, v in outcomes.items()},
                            "lookup_p50_ms": round(percentile(latencies, 50) * 1000, 2),
                            "lookup_p99_ms": round(percentile(latencies, 99) * 1000, 2)})
        finally:
            proc.stop()
        rates: dict[str, list[float]] = {"off": [], "on": []}
        p99s: dict[str, list[float]] = {"off": [], "on": []}
        for n, detection in enumerate([False, True, False, True]):
            proc = start(detection)
            try:
                driver = Intake(proc, settings, SCHEMA)
                token = driver.terminal(VILLAGE)
                driver.producer.close()
                os.environ["XINFANG_RUN"] = str(n)  # register.lua: the people of each run apart
                figures[f"drained_before_wrk_{n}_s"] = drained(dsn)
                figures[f"loadavg_before_wrk_{n}"] = loadavg()
                rate, _p50, p99, bad = wrk(proc.url, token, args.seconds, args.concurrency)
                assert bad == 0, f"{bad} registrations refused"
                rates["on" if detection else "off"].append(rate)
                p99s["on" if detection else "off"].append(p99)
                if n == 3:  # detection on: latency at half the capacity just measured
                    capacity = sum(rates["on"]) / len(rates["on"])
                    figures["drained_before_open_loop_s"] = drained(dsn)
                    figures["loadavg_before_open_loop"] = loadavg()
                    half = offered(proc.proc.pid, proc.url, token, args.seconds, round(capacity / 2),
                                   lambda: person_body(rng))
                    figures.update({f"half_capacity_{k}": v for k, v in half.items()})
            finally:
                proc.stop()
        sizes, state_json = asyncio.run(sizes_of(dsn))
        script = "\\set r random(1, 1000000000000000)\n" + "\n".join(
            s.replace("\n", " ") + ";" for s in (begin_statement(datetime.now(county.zone).year),
                                                 write_statement(sizes, state_json))) + "\n"
        figures["loadavg_before_pgbench"] = loadavg()
        ceiling = pgbench(dsn, script, int(args.seconds), args.concurrency)
    finally:
        delete_run_topics(settings)
        run([str(PG_BIN / "psql"), f"{server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"])
    on, off = sum(rates["on"]) / 2, sum(rates["off"]) / 2
    figures.update({
        "registrations_per_s_detection_on": round(on, 1), "registrations_per_s_detection_off": round(off, 1),
        "wrk_runs": {"off": rates["off"], "on": rates["on"]}, "wrk_p99_ms": p99s,
        "intake_workers": args.workers, "wrk_clients": args.concurrency,
        "pgbench_registration_tps": round(ceiling, 1), "pgbench_statement_sizes": sizes,
        "fraction_of_pgbench": round(on / ceiling, 3), "detection_cost": round(1 - on / off, 3),
        "loadavg_at_end": loadavg(),
        "targets": {"lookup_p99_ms": "<= 20 with 1,000,000 stored", "fraction_of_pgbench": ">= 0.25",
                    "detection_cost": "<= 0.10", "half_capacity_p99_ms": "<= 100"},
    })
    save("lookup", figures)


if __name__ == "__main__":
    main()
