"""The terminals' tokens as every service checks them: what intake publishes to the compacted topic
``xinfang.terminals`` (settings ``topic_terminals``), and the projection of it that reporting and escalation
check bearer tokens against without asking intake.

What travels: per terminal (the key), its latest lifecycle event — ``terminal.created.v1`` with the SHA-256 of
its token, its unit and roles, or ``terminal.revoked.v1``.  Never the token: a token is 256 random bits, so its
hash reveals nothing and cannot be turned back into it.  The events are rebuilt from intake's terminals row
(deterministic ids, times and hash chain), so publishing one again writes the same bytes.

The rule for trusting the projection (it fails closed):

- after a start it knows no token until it has read the topic to its end: every token is refused (503);
- while it runs it asks the broker for the topic's end every ``token_check_interval`` (1 s); a projection that
  has not been at the end, as of a broker's answer, for ``token_max_staleness`` seconds (10 s by default) refuses
  every token again until it has caught up.  So a revocation takes effect as soon as it is read (well under
  the 2 s the issue asks while Kafka is up), and a list nobody can confirm is trusted for 10 s, never longer.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from xinfang.events import CloudEvent
from xinfang.events.catalogue import TerminalCreated, TerminalRevoked
from xinfang.events.envelope import GENESIS_HASH
from xinfang.kafka import aio_consumer, stop
from xinfang.problems import Problem
from xinfang.retry import Backoff, retrying
from xinfang.settings import CommonSettings

log = logging.getLogger("xinfang.terminals")
ROLES = ("registrar", "handler", "supervisor", "auditor", "admin")
TOKEN_PREFIX = "xft_"
_IDS = uuid.UUID("5b0c3e2e-6f1d-4a8e-9a41-7d1f0c7a2b10")  # namespace of the terminal events' ids


@dataclass(frozen=True)
class Terminal:
    """An authenticated terminal: its unit and roles."""

    id: str
    unit_id: str
    roles: frozenset[str]


def token_hash(token: str) -> bytes:
    """Tokens are 256-bit random, so one SHA-256 suffices (no password stretching needed)."""
    return hashlib.sha256(token.encode()).digest()


def lifecycle_event(terminal_id: str, unit_id: str, roles: list[str], hashed: bytes, created_at: datetime,
                    revoked_at: datetime | None, source: str, hashalg: str = "sha256") -> CloudEvent:
    """The terminal's latest lifecycle event, built from its row alone (no I/O): created, or revoked after it."""
    data = TerminalCreated(unit=unit_id, roles=sorted(roles), token_sha256=hashed.hex())
    event = CloudEvent.chained(
        event_id=str(uuid.uuid5(_IDS, f"{terminal_id}:created")), source=source, type="terminal.created.v1",
        subject=terminal_id, recorded=created_at, occurred=created_at, actor="system:intake", seq=1,
        prevhash=GENESIS_HASH, data=data.model_dump(mode="json"), hashalg=hashalg)
    if revoked_at is None:
        return event
    return CloudEvent.chained(
        event_id=str(uuid.uuid5(_IDS, f"{terminal_id}:revoked")), source=source, type="terminal.revoked.v1",
        subject=terminal_id, recorded=revoked_at, occurred=revoked_at, actor="system:intake", seq=2,
        prevhash=event.hash, data=TerminalRevoked().model_dump(mode="json"), hashalg=hashalg)


class Known:
    """The active terminals read so far: by token hash, and each terminal's hash by its id."""

    def __init__(self) -> None:
        self.by_hash: dict[bytes, Terminal] = {}
        self.hash_of: dict[str, bytes] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """One record of the topic (a revocation, or a tombstone, removes the terminal)."""
        event = CloudEvent.from_json(value) if value is not None else None  # unreadable: raised, never skipped
        subject = event.subject if event is not None else (key or b"").decode()
        self.by_hash.pop(self.hash_of.pop(subject, b""), None)
        if event is not None and event.type == "terminal.created.v1":
            data = TerminalCreated.model_validate(event.data)
            hashed = bytes.fromhex(data.token_sha256)
            self.by_hash[hashed], self.hash_of[subject] = Terminal(subject, data.unit, frozenset(data.roles)), hashed


class TokenDirectory:
    """The projection of the terminals topic, kept in memory; :meth:`run` for the life of the service."""

    def __init__(self, settings: CommonSettings, clock=time.monotonic) -> None:
        self.settings, self.clock = settings, clock
        self.topic = settings.topic_terminals
        self.known = Known()
        self.fresh_at: float | None = None  # when the projection was last known to be at the topic's end

    @property
    def trusted(self) -> bool:
        """True while the projection was at the topic's end less than ``token_max_staleness`` ago."""
        return self.fresh_at is not None and self.clock() - self.fresh_at <= self.settings.token_max_staleness

    def get(self, token: str) -> Terminal | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            return None
        return self.known.by_hash.get(token_hash(token))

    async def run(self) -> None:
        await retrying(self._follow, f"following terminal tokens on {self.topic}", log, Backoff(cap=5.0))

    async def _follow(self) -> None:
        from aiokafka import TopicPartition

        # a short fetch wait: a revocation is read within ~0.1 s of reaching the broker (a tiny topic: cheap)
        consumer = aio_consumer(self.settings, group_id=None, request_timeout_ms=5000, fetch_max_wait_ms=100)
        await consumer.start()
        try:
            if self.topic not in await consumer.topics():
                raise LookupError(f"topic {self.topic} does not exist (python -m xinfang.topics creates it)")
            tps = [TopicPartition(self.topic, 0)]  # provisioned with one partition (xinfang.topics)
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            known = Known()
            caught_up = False
            while True:
                asked = self.clock()
                ends = await asyncio.wait_for(consumer.end_offsets(tps), 5)
                while True:  # read up to the end the broker just told
                    for records in (await consumer.getmany(timeout_ms=100)).values():
                        for record in records:
                            known.apply(record.key, record.value)
                    if all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                        break
                if not caught_up:  # the first full read replaces what an earlier connection had
                    self.known, caught_up = known, True
                self.fresh_at = asked
                await self._tail(consumer, known, self.settings.token_check_interval)
        finally:
            await stop(consumer)

    async def _tail(self, consumer, known: Known, seconds: float) -> None:
        """Apply what comes in for ``seconds`` (a revocation takes effect as soon as it is read)."""
        deadline = self.clock() + seconds
        while self.clock() < deadline:
            for records in (await consumer.getmany(timeout_ms=int(seconds * 1000 / 4) or 1)).values():
                for record in records:
                    known.apply(record.key, record.value)


def bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header; 401 problem without one."""
    if not authorization:
        raise Problem(401, "auth.missing", "缺少访问令牌，请先登录", "missing bearer token",
                      headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "auth.scheme", "令牌格式应为 Bearer <token>", "use Authorization: Bearer <token>",
                      headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def caller(directory: TokenDirectory, authorization: str | None) -> Terminal:
    """The terminal a request comes from: 401 for no, a malformed, an unknown or a revoked token; 503 while the
    projection cannot be trusted (fails closed)."""
    token = bearer(authorization)
    if not directory.trusted:
        raise Problem(503, "auth.unavailable", "暂时无法核验令牌（终端目录未同步），请稍后重试",
                      "tokens cannot be checked right now (the terminal directory is not up to date); retry later",
                      headers={"Retry-After": "5"})
    terminal = directory.get(token)
    if terminal is None:
        raise Problem(401, "auth.invalid", "令牌无效或已吊销", "invalid or revoked token",
                      headers={"WWW-Authenticate": "Bearer"})
    return terminal
