"""Trying again after a failure (Kafka or PostgreSQL gone, a rebalance gone wrong, a village network
dropping a request): one policy for every loop that retries, in every service and tool.

The policy (:class:`Backoff`): the first retry after 0.5 s, each next one after twice as long, never
longer than the cap (10 s unless the caller says otherwise); each wait is drawn between half and all of
that ("equal jitter"), so replicas that lost the same server do not all knock at once when it is back.
Every failure is logged at warning level, with what failed, the attempt, the next wait and the
exception; nothing is retried silently.  An attempt that had run for ``reset_after`` (60 s) before it
failed had been working: its failure starts the count over, so a relay that ran for a day retries
after 0.5 s, not after the cap reached in some outage last week.  Cancellation is not a failure:
``CancelledError`` passes straight through.  With ``attempts``, the last failure is raised; with
``retry_if``, an exception it refuses is raised at once.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How long to wait after each failure in a row."""

    first: float = 0.5
    cap: float = 10.0
    factor: float = 2.0
    reset_after: float = 60.0
    jitter: Callable[[], float] = random.random  # a draw in [0, 1]; ``lambda: 1.0`` waits the full time

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failure in a row (the exponent is bounded: no float overflow)."""
        full = min(self.cap, self.first * self.factor ** min(failures - 1, 64))
        return full / 2 + full / 2 * self.jitter()


class _Failures:
    """The failures in a row of one retried call, and the decision after each: wait how long, or give up."""

    def __init__(self, what: str, log: logging.Logger, backoff: Backoff, attempts: int | None,
                 retry_if: Callable[[Exception], bool] | None, clock: Callable[[], float]) -> None:
        self.what, self.log, self.backoff, self.attempts = what, log, backoff, attempts
        self.retry_if, self.clock = retry_if, clock
        self.count = 0

    def after(self, exc: Exception, started: float) -> float:
        """Log the failure of the attempt begun at ``started``; the wait before the next, or raise ``exc``."""
        if self.retry_if is not None and not self.retry_if(exc):
            raise exc
        if self.clock() - started >= self.backoff.reset_after:
            self.count = 0
        self.count += 1
        extra = {"retrying": self.what, "attempt": self.count}
        if self.attempts is not None and self.count >= self.attempts:
            self.log.warning("%s failed (attempt %d of %d), giving up: %s", self.what, self.count, self.attempts,
                             exc, exc_info=exc, extra=extra)
            raise exc
        delay = self.backoff.delay(self.count)
        self.log.warning("%s failed (attempt %d), retrying in %.2fs: %s", self.what, self.count, delay, exc,
                         exc_info=exc, extra={**extra, "retry_in": round(delay, 3)})
        return delay


DEFAULT = Backoff()


async def retrying(attempt: Callable[[], Awaitable[T]], what: str, log: logging.Logger, backoff: Backoff = DEFAULT,
                   *, attempts: int | None = None, retry_if: Callable[[Exception], bool] | None = None,
                   sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                   clock: Callable[[], float] = time.monotonic) -> T:
    """``await attempt()`` until it returns, waiting after each failure as :class:`Backoff` says; its result.

    For a loop that runs for the life of a service, ``attempt`` is the loop (it returns only if it ends)."""
    failures = _Failures(what, log, backoff, attempts, retry_if, clock)
    while True:
        started = clock()
        try:
            return await attempt()
        except Exception as exc:  # noqa: BLE001 — logged and decided on in _Failures.after
            await sleep(failures.after(exc, started))


def retrying_blocking(attempt: Callable[[], T], what: str, log: logging.Logger, backoff: Backoff = DEFAULT,
                      *, attempts: int | None = None, retry_if: Callable[[Exception], bool] | None = None,
                      sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> T:
    """:func:`retrying` for the command-line tools' blocking calls (httpx's client, no event loop)."""
    failures = _Failures(what, log, backoff, attempts, retry_if, clock)
    while True:
        started = clock()
        try:
            return attempt()
        except Exception as exc:  # noqa: BLE001 — logged and decided on in _Failures.after
            sleep(failures.after(exc, started))
