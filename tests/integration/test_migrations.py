"""The migration runner against the real PostgreSQL (deploy/pg.sh)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from xinfang.migrations import MigrationError, advisory_lock_key, load_migrations, migrate, migrate_dsn

ROOT = Path(__file__).resolve().parents[2]

# 0001 sleeps while holding the lock, so that the concurrency test really overlaps the two runs;
# its CREATE TABLE (no IF NOT EXISTS) and INSERT would fail or double-count if applied twice.
M1 = """
CREATE TABLE petition (id uuid PRIMARY KEY, summary text NOT NULL);
CREATE TABLE applied_log (note text NOT NULL);
INSERT INTO applied_log VALUES ('0001');
SELECT pg_sleep(0.3);
"""
M2 = """
ALTER TABLE petition ADD COLUMN head_count integer NOT NULL DEFAULT 1;
INSERT INTO applied_log VALUES ('0002');
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


@pytest.fixture
async def schema(pg_dsn, unique_prefix):
    name = f"mig_{unique_prefix}"
    yield name
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def conn(pg_dsn):
    c = await asyncpg.connect(pg_dsn)
    yield c
    await c.close()


async def test_applies_in_order_once_and_records_each(conn, schema, tmp_path):
    folder = write(tmp_path / "m", {"0001_create.sql": M1, "0002_head_count.sql": M2})

    result = await migrate(conn, schema, folder)

    assert result.applied == ("0001_create.sql", "0002_head_count.sql")
    assert result.already_applied == 0
    rows = await conn.fetch(f'SELECT version, name, checksum FROM "{schema}".schema_migrations ORDER BY version')
    expected = load_migrations(folder)
    assert [(r["version"], r["name"], r["checksum"]) for r in rows] == [
        (1, "create", expected[0].checksum),
        (2, "head_count", expected[1].checksum),
    ]
    # Unqualified names in the files landed in the schema (search_path), and the connection's own
    # search_path is back to what it was.
    assert await conn.fetchval(f'SELECT count(*) FROM "{schema}".applied_log') == 2
    assert "mig_" not in await conn.fetchval("SHOW search_path")


async def test_rerun_is_a_no_op(conn, schema, tmp_path):
    folder = write(tmp_path / "m", {"0001_create.sql": M1, "0002_head_count.sql": M2})
    await migrate(conn, schema, folder)

    again = await migrate(conn, schema, folder)

    assert again.applied == ()
    assert again.already_applied == 2
    assert not again.changed
    assert await conn.fetchval(f'SELECT count(*) FROM "{schema}".applied_log') == 2


async def test_new_file_is_applied_after_the_old_ones(conn, schema, tmp_path):
    folder = write(tmp_path / "m", {"0001_create.sql": M1})
    await migrate(conn, schema, folder)
    write(folder, {"0002_head_count.sql": M2})

    result = await migrate(conn, schema, folder)

    assert result.applied == ("0002_head_count.sql",)
    assert result.already_applied == 1


async def test_two_concurrent_runners_apply_each_migration_exactly_once(pg_dsn, schema, tmp_path):
    folder = write(tmp_path / "m", {"0001_create.sql": M1, "0002_head_count.sql": M2})
    c1, c2 = await asyncpg.connect(pg_dsn), await asyncpg.connect(pg_dsn)
    try:
        r1, r2 = await asyncio.gather(migrate(c1, schema, folder), migrate(c2, schema, folder))
    finally:
        await c1.close()
        await c2.close()

    # One runner did all the work, the other waited for the lock and found nothing to do.
    assert sorted([r1.applied, r2.applied]) == [(), ("0001_create.sql", "0002_head_count.sql")]
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval(f'SELECT count(*) FROM "{schema}".schema_migrations') == 2
        notes = await conn.fetch(f'SELECT note FROM "{schema}".applied_log ORDER BY note')
        assert [r["note"] for r in notes] == ["0001", "0002"]
    finally:
        await conn.close()


async def test_changed_checksum_is_refused_with_a_clear_message(conn, schema, tmp_path):
    folder = write(tmp_path / "m", {"0001_create.sql": M1})
    await migrate(conn, schema, folder)
    write(folder, {"0001_create.sql": M1 + "\n-- edited after the fact\n", "0002_head_count.sql": M2})

    with pytest.raises(MigrationError) as info:
        await migrate(conn, schema, folder)

    message = str(info.value)
    assert schema in message
    assert "0001_create.sql was changed after it was applied" in message
    assert "new migration" in message
    # Refused means nothing else was applied either.
    assert await conn.fetchval(f'SELECT count(*) FROM "{schema}".schema_migrations') == 1


async def test_applied_file_missing_from_the_folder_is_refused(conn, schema, tmp_path):
    folder = write(tmp_path / "m", {"0001_create.sql": M1, "0002_head_count.sql": M2})
    await migrate(conn, schema, folder)
    (folder / "0002_head_count.sql").unlink()

    with pytest.raises(MigrationError, match=r"version 0002 \(head_count\) is recorded as applied but its file is missing"):
        await migrate(conn, schema, folder)


async def test_a_failing_migration_is_rolled_back_entirely(pg_dsn, conn, schema, tmp_path):
    broken = "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;"
    folder = write(tmp_path / "m", {"0001_create.sql": M1, "0002_broken.sql": broken})

    with pytest.raises(MigrationError, match="0002_broken.sql failed and was rolled back"):
        await migrate(conn, schema, folder)

    assert await conn.fetchval(f'SELECT max(version) FROM "{schema}".schema_migrations') == 1
    assert await conn.fetchval("SELECT to_regclass($1)", f"{schema}.half_done") is None
    # The lock was released: another session (advisory locks are re-entrant within one) gets it.
    other = await asyncpg.connect(pg_dsn)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", advisory_lock_key(schema))
    finally:
        await other.close()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_short.sql": "SELECT 1"}, "must be named NNNN_lower_case_name.sql"),
        ({"0001_Upper.sql": "SELECT 1"}, "must be named NNNN_lower_case_name.sql"),
        ({"0001_a.sql": "SELECT 1", "0001_b.sql": "SELECT 1"}, "version 1 is also used by"),
    ],
)
def test_badly_named_or_duplicate_files_are_refused(tmp_path, files, message):
    folder = write(tmp_path / "m", files)
    with pytest.raises(MigrationError, match=message):
        load_migrations(folder)


def test_lock_key_is_stable_and_distinct_per_schema():
    assert advisory_lock_key("intake") == advisory_lock_key("intake")
    assert advisory_lock_key("intake") != advisory_lock_key("reporting")
    assert -(2**63) <= advisory_lock_key("intake") < 2**63


async def test_cli_applies_then_reports_up_to_date(pg_dsn, schema, tmp_path):
    folder = write(tmp_path / "m", {"0001_create.sql": M1})
    env = {**os.environ, "PYTHONPATH": str(ROOT / "shared")}
    cmd = [sys.executable, "-m", "xinfang.migrations", "--dsn", pg_dsn, "--schema", schema, "--dir", str(folder)]

    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)

    assert first.returncode == 0, first.stderr
    assert f"{schema}: applied 0001_create.sql" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "up to date (1 applied, no change)" in second.stdout


async def test_migrate_dsn_opens_and_closes_its_own_connection(pg_dsn, schema, tmp_path):
    folder = write(tmp_path / "m", {"0001_create.sql": M1})
    result = await migrate_dsn(pg_dsn, schema, folder)
    assert result.applied == ("0001_create.sql",)
