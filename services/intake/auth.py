"""Terminals and their bearer tokens: stored hashed, checked on every request, revoked at once."""
from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections import Counter
from typing import ClassVar

import asyncpg

from xinfang.retry import retrying
from xinfang.terminals import ROLES, TOKEN_PREFIX, Terminal, token_hash

log = logging.getLogger("intake.auth")
__all__ = ["ROLES", "TOKEN_PREFIX", "Terminal", "TerminalCache", "authenticate", "create_terminal", "token_hash"]


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_admin(token: str, admin_token: str) -> bool:
    return hmac.compare_digest(token.encode(), admin_token.encode())


async def create_terminal(conn: asyncpg.Connection, unit_id: str, name: str, roles: list[str]) -> tuple[str, str]:
    """A new terminal id and its token (shown once, stored only hashed)."""
    terminal_id, token = "t-" + secrets.token_hex(6), new_token()
    await conn.execute("INSERT INTO terminals (id, unit_id, name, roles, token_hash) VALUES ($1, $2, $3, $4, $5)",
                       terminal_id, unit_id, name, roles, token_hash(token))
    return terminal_id, token


async def revoke_terminal(conn: asyncpg.Connection, terminal_id: str) -> bool:
    """Revoke a terminal; every replica's cache drops its token at once (the NOTIFY names the token's hash, so a
    revocation drops that entry only: another intake sharing the database — another schema — clears nothing of
    ours but what it names, which is never ours)."""
    hashed = await conn.fetchval(
        "UPDATE terminals SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING token_hash",
        terminal_id)
    if hashed is not None:
        await conn.execute("SELECT pg_notify($1, $2)", TerminalCache.CHANNEL, bytes(hashed).hex())
    return hashed is not None


class TerminalCache:
    """Authenticated tokens kept in memory; a revocation (here or on another replica) drops them at once.

    Revoking sends NOTIFY on ``intake_terminals``; every replica listens on its own connection. If that
    connection is lost the cache is emptied and not used until it listens again, so a revocation can
    never be missed: the cache only saves the database look-up while it is sure to hear of one."""

    CHANNEL = "intake_terminals"

    def __init__(self, dsn: str, ttl: float = 300.0) -> None:
        self.dsn, self.ttl = dsn, ttl
        self.entries: dict[bytes, tuple[Terminal, float]] = {}
        self.listening = False
        self._stopped = False
        self._reconnect: asyncio.Task | None = None
        self._conn: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._conn = await asyncpg.connect(self.dsn)
        await self._conn.add_listener(self.CHANNEL, self._revoked)
        self._conn.add_termination_listener(self._lost)
        self.listening = True

    async def stop(self) -> None:
        self.listening = False
        self._stopped = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    async def _listen_again(self) -> None:
        """After a lost connection (a database restart): listen again; until then, no cache (stop cancels this)."""
        await retrying(self.start, "listening for terminal revocations", log)

    def _revoked(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        """A revocation names the token's hash: drop that entry; one that names none (an older replica) drops all."""
        try:
            hashed = bytes.fromhex(payload)
        except ValueError:
            hashed = b""
        if hashed:
            self.entries.pop(hashed, None)
        else:
            self.entries.clear()

    def _lost(self, *_args) -> None:
        self.listening = False
        self.entries.clear()
        if not self._stopped:
            self._reconnect = asyncio.get_running_loop().create_task(self._listen_again())

    def get(self, token: str) -> Terminal | None:
        if not self.listening:
            return None
        hit = self.entries.get(token_hash(token))
        return hit[0] if hit and hit[1] > time.monotonic() else None

    def put(self, token: str, terminal: Terminal) -> None:
        if self.listening:
            self.entries[token_hash(token)] = (terminal, time.monotonic() + self.ttl)


async def authenticate(conn: asyncpg.Connection, token: str) -> Terminal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = await conn.fetchrow("SELECT id, unit_id, roles FROM terminals WHERE token_hash = $1 AND revoked_at IS NULL",
                              token_hash(token))
    return Terminal(row["id"], row["unit_id"], frozenset(row["roles"])) if row else None


class FailedAuthentications:
    """Failed authentications counted in memory per source address, minute and outcome, and added to the access log
    by :meth:`flush` (every few seconds, and at stop): a flood of bogus tokens raises a count, it adds no rows.  Each
    worker process and replica adds its own counts to the same row (an upsert on source, minute and outcome)."""

    DETAILS: ClassVar[dict[str, str]] = {"refused": "令牌缺失、无效或已吊销 missing, invalid or revoked token",
                                         "limited": "认证失败过多，未查验即拒绝 "
                                                    "too many failed authentications: refused before the look-up"}
    _UPSERT = """INSERT INTO access_log (at, action, outcome, source, count, detail)
                 SELECT to_timestamp(m * 60), 'authenticate', o, s, n, d
                 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::text[]) AS t(s, m, o, n, d)
                 ON CONFLICT (source, at, outcome) WHERE action = 'authenticate'
                 DO UPDATE SET count = access_log.count + EXCLUDED.count"""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, int, str]] = Counter()

    def note(self, source: str, outcome: str) -> None:
        self.counts[(source, int(time.time() // 60), outcome)] += 1

    async def flush(self, conn: asyncpg.Connection) -> None:
        counts, self.counts = self.counts, Counter()
        if not counts:
            return
        keys = list(counts)
        try:
            await conn.execute(self._UPSERT, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
                               [counts[k] for k in keys], [self.DETAILS[k[2]] for k in keys])
        except BaseException:
            self.counts.update(counts)  # kept for the next flush
            raise
