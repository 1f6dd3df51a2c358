"""Receipt numbers: why intake draws them from a sequence (and voids the unused) instead of a counter row.

    python bench/receipt_bench.py [--seconds 8] [--clients 32]

Needs PostgreSQL (`deploy/dev up`). On a scratch schema, ``--clients`` connections register as fast as they go,
each drawing a number and writing a row the way intake does (draw, then a one-statement write):
- ``sequence``: nextval, then the write — what intake does; a number whose write fails is recorded void;
- ``counter_row``: BEGIN; UPDATE the year's counter row RETURNING; the write; COMMIT — gapless by construction,
  but the row lock is held until the commit, so registrations of a county and year commit one after another.
Intake registers about 1,150 a second on this machine (docs/benchmarks.md): a ceiling below that is a regression.
"""
from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import asyncpg
from common import save

from xinfang.settings import CommonSettings


async def measure(seconds: float, clients: int) -> dict:
    dsn = CommonSettings().database_url.rsplit("/", 1)[0] + "/xinfang_test"
    schema = "receipt_bench_" + uuid.uuid4().hex[:6]
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"""CREATE SCHEMA {schema}; CREATE TABLE {schema}.m (no bigint PRIMARY KEY, body text);
                            CREATE SEQUENCE {schema}.seq; CREATE TABLE {schema}.counter (year int PRIMARY KEY, last bigint);
                            INSERT INTO {schema}.counter VALUES (2026, 0)""")
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)

    async def sequence(conn) -> None:
        n = await conn.fetchval(f"SELECT nextval('{schema}.seq')")
        await asyncio.sleep(0)  # the Python work between drawing and writing (the events' chain)
        await conn.execute(f"INSERT INTO {schema}.m VALUES ($1, 'x')", n + 10**12)

    async def counter_row(conn) -> None:
        async with conn.transaction():
            n = await conn.fetchval(f"UPDATE {schema}.counter SET last = last + 1 WHERE year = 2026 RETURNING last")
            await asyncio.sleep(0)
            await conn.execute(f"INSERT INTO {schema}.m VALUES ($1, 'x')", n)

    figures: dict = {"clients": clients}
    try:
        for name, register in (("sequence", sequence), ("counter_row", counter_row)):
            done, end = 0, time.monotonic() + seconds

            async def client(register=register, end=end) -> None:
                nonlocal done
                async with pool.acquire() as conn:
                    while time.monotonic() < end:
                        await register(conn)
                        done += 1

            await asyncio.gather(*(client() for _ in range(clients)))
            figures[f"{name}_registrations_per_s"] = round(done / seconds)
    finally:
        await pool.close()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
    figures["counter_row_fraction_of_sequence"] = round(
        figures["counter_row_registrations_per_s"] / figures["sequence_registrations_per_s"], 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    save("receipt", asyncio.run(measure(args.seconds, args.clients)))


if __name__ == "__main__":
    main()
