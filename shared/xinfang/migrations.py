"""Versioned SQL migrations for one PostgreSQL schema (asyncpg).

A migration folder holds ``NNNN_name.sql`` files (four or more digits, then a lower-case name).
:func:`migrate` applies, in version order, every file not yet recorded in
``<schema>.schema_migrations(version, name, checksum, applied_at)``; each file runs in its own
transaction together with the row that records it, so a failing file leaves nothing behind and
is retried at the next start. The SQL runs with ``search_path`` set to the schema (then
``public``), so files may use unqualified names. Statements that cannot run inside a transaction
(``CREATE INDEX CONCURRENTLY``, ``VACUUM``) are not supported.

Safety:

* All of it happens under a session-level ``pg_advisory_lock`` whose key is derived from the
  schema name: two service instances starting at once apply each file exactly once; the second
  waits, then finds nothing to do.
* An applied file whose content changed (SHA-256 of its bytes), or an applied version missing
  from the folder, stops the run with :class:`MigrationError`: history is fixed once applied;
  a change is a new file.

CLI::

    python -m xinfang.migrations --dsn postgresql://xinfang@127.0.0.1:5433/xinfang_intake \\
        --schema intake --dir services/intake/migrations
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

FILE_PATTERN = re.compile(r"^(?P<version>\d{4,})_(?P<name>[a-z0-9_]+)\.sql$")
SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationError(RuntimeError):
    """A migration folder or the recorded history is not in a state we may apply onto."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    sql: str
    checksum: str

    @property
    def label(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class MigrationResult:
    schema: str
    applied: tuple[str, ...]  # file names applied by this run, in order
    already_applied: int  # how many were applied before this run

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def advisory_lock_key(schema: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``, distinct per schema."""
    digest = hashlib.sha256(f"xinfang.migrations:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def load_migrations(directory: str | Path) -> list[Migration]:
    """Read and validate the folder: names, unique versions, UTF-8 content."""
    folder = Path(directory)
    if not folder.is_dir():
        raise MigrationError(f"migration folder {folder} does not exist")
    found: dict[int, Migration] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(
                f"{path}: migration files must be named NNNN_lower_case_name.sql (e.g. 0001_events.sql)"
            )
        version = int(match["version"])
        if version in found:
            raise MigrationError(f"{path}: version {version} is also used by {found[version].path.name}")
        raw = path.read_bytes()
        try:
            sql = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MigrationError(f"{path}: not UTF-8 ({exc})") from exc
        found[version] = Migration(version, match["name"], path, sql, hashlib.sha256(raw).hexdigest())
    return [found[v] for v in sorted(found)]


def _quote_schema(schema: str) -> str:
    if not SCHEMA_PATTERN.match(schema):
        raise MigrationError(f"schema name {schema!r} must match {SCHEMA_PATTERN.pattern}")
    return f'"{schema}"'


async def _acquire_lock(conn: asyncpg.Connection, key: int, schema: str, timeout: float) -> None:
    # Poll pg_try_advisory_lock instead of blocking in pg_advisory_lock: a stuck holder then gives
    # a clear error after `timeout` instead of a start-up that hangs forever, and the session's
    # settings (lock_timeout) stay untouched.
    deadline = time.monotonic() + timeout
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
        if time.monotonic() > deadline:
            raise MigrationError(
                f"schema {schema}: another migration run has held the advisory lock {key} "
                f"for more than {timeout:.0f}s"
            )
        await asyncio.sleep(0.05)


async def migrate(
    conn: asyncpg.Connection,
    schema: str,
    directory: str | Path,
    *,
    lock_timeout: float = 120.0,
) -> MigrationResult:
    """Apply the pending migrations of ``directory`` to ``schema`` over ``conn``."""
    quoted = _quote_schema(schema)
    migrations = load_migrations(directory)
    key = advisory_lock_key(schema)
    await _acquire_lock(conn, key, schema, lock_timeout)
    try:
        async with conn.transaction():
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
            await conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {quoted}.schema_migrations (
                        version    integer PRIMARY KEY,
                        name       text        NOT NULL,
                        checksum   text        NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())"""
            )
        rows = await conn.fetch(f"SELECT version, name, checksum FROM {quoted}.schema_migrations ORDER BY version")
        applied = {row["version"]: row for row in rows}
        by_version = {m.version: m for m in migrations}

        problems = []
        for version, row in applied.items():
            current = by_version.get(version)
            if current is None:
                problems.append(
                    f"version {version:04d} ({row['name']}) is recorded as applied but its file is "
                    f"missing from {directory}"
                )
            elif current.checksum != row["checksum"]:
                problems.append(
                    f"{current.label} was changed after it was applied (recorded checksum "
                    f"{row['checksum'][:12]}…, file now {current.checksum[:12]}…); applied migrations "
                    f"are history: restore the file and put the change in a new migration"
                )
        if problems:
            raise MigrationError(f"schema {schema}: refusing to migrate:\n  - " + "\n  - ".join(problems))

        done: list[str] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            try:
                async with conn.transaction():
                    # SET LOCAL: the search path ends with the transaction, so the caller's
                    # connection comes back as it was.
                    await conn.execute(f"SET LOCAL search_path TO {quoted}, public")
                    await conn.execute(migration.sql)
                    await conn.execute(
                        f"INSERT INTO {quoted}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(
                    f"schema {schema}: {migration.label} failed and was rolled back: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            done.append(migration.label)
        return MigrationResult(schema, tuple(done), len(applied))
    finally:
        # If the connection broke, the server already dropped the session lock with it.
        if not conn.is_closed():
            await conn.execute("SELECT pg_advisory_unlock($1)", key)


async def migrate_dsn(dsn: str, schema: str, directory: str | Path, **kwargs) -> MigrationResult:
    """Open a connection for the run, then close it."""
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn, schema, directory, **kwargs)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xinfang.migrations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="PostgreSQL DSN, e.g. postgresql://xinfang@127.0.0.1:5433/xinfang_intake")
    parser.add_argument("--schema", required=True, help="schema the migrations belong to")
    parser.add_argument("--dir", required=True, type=Path, help="folder of NNNN_name.sql files")
    parser.add_argument("--lock-timeout", type=float, default=120.0, help="seconds to wait for a concurrent run")
    args = parser.parse_args(argv)
    try:
        result = asyncio.run(migrate_dsn(args.dsn, args.schema, args.dir, lock_timeout=args.lock_timeout))
    except MigrationError as exc:
        print(f"migrations: {exc}", file=sys.stderr)
        return 1
    for label in result.applied:
        print(f"migrations: {args.schema}: applied {label}")
    total = result.already_applied + len(result.applied)
    if not result.changed:
        print(f"migrations: {args.schema}: up to date ({total} applied, no change)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
