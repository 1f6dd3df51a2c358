"""Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header), scoped per terminal.

- missing key → 400; a retry with the same key and body → the first answer, replayed;
- the same key with another body → 422; the first request still in flight → 409.
Records are kept ``idempotency_retention_days`` (7 by default), then purged.

The record is written in the same transaction as the command's events, under a transaction
advisory lock on (terminal, key): a concurrent duplicate finds the lock taken (409), a later
retry finds the committed record; a refused command rolls back and leaves no record.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import asyncpg

from xinfang.problems import Problem

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class IdempotencyKey:
    terminal_id: str
    key: str
    fingerprint: bytes

    @property
    def lock_id(self) -> int:
        digest = hashlib.sha256(f"{self.terminal_id}\0{self.key}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


def parse(terminal_id: str, header: str | None, method: str, path: str, body: bytes) -> IdempotencyKey:
    """Validate the header and fingerprint the request."""
    if header is None:
        raise Problem(400, "idempotency.missing", "缺少 Idempotency-Key 请求头",
                      "the Idempotency-Key header is required on every POST")
    key = header.strip().strip('"')
    if not KEY_PATTERN.match(key):
        raise Problem(400, "idempotency.invalid", "Idempotency-Key 须为1至255个可见ASCII字符",
                      "Idempotency-Key must be 1-255 visible ASCII characters")
    fingerprint = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).digest()
    return IdempotencyKey(terminal_id, key, fingerprint)


@dataclass(frozen=True)
class Stored:
    status: int
    body: bytes


def in_flight() -> Problem:
    return Problem(409, "idempotency.in_flight", "相同 Idempotency-Key 的请求正在处理，请稍后重试",
                   "a request with this Idempotency-Key is still being processed; retry later")


def check(locked: bool, request_hash: bytes | None, status: int | None, body: bytes | None,
          idem: IdempotencyKey) -> Stored | None:
    """Given the transaction lock on the key and its stored record: replay, refuse, or go ahead (None)."""
    if not locked:
        raise in_flight()
    if request_hash is None:
        return None
    if bytes(request_hash) != idem.fingerprint:
        raise Problem(422, "idempotency.mismatch", "该 Idempotency-Key 已用于内容不同的请求",
                      "this Idempotency-Key was already used with a different request")
    return Stored(status, bytes(body))


async def finish(conn: asyncpg.Connection, idem: IdempotencyKey, status: int, body: bytes) -> None:
    """Record the answer with the command's own transaction."""
    await conn.execute(
        """INSERT INTO idempotency_keys (terminal_id, key, request_hash, status, body)
           VALUES ($1, $2, $3, $4, $5)""", idem.terminal_id, idem.key, idem.fingerprint, status, body)


async def purge(conn: asyncpg.Connection, retention_days: int) -> int:
    """Forget records older than the retention; returns how many."""
    done = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(days => $1)", retention_days)
    return int(done.split()[-1])


async def replay_stream(conn: asyncpg.Connection, terminal_id: str, key: str, fingerprint: bytes) -> Stored | None:
    """For streamed bodies (imports): the stored answer once the whole body was fingerprinted."""
    row = await conn.fetchrow(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE terminal_id = $1 AND key = $2", terminal_id, key)
    if row is None:
        return None
    if bytes(row["request_hash"]) != fingerprint:
        raise Problem(422, "idempotency.mismatch", "该 Idempotency-Key 已用于内容不同的请求",
                      "this Idempotency-Key was already used with a different request")
    return Stored(row["status"], bytes(row["body"]))
