"""Wait for a condition, not for a time: poll until it holds, fail after a deadline saying what was awaited.

A fixed sleep is either too short on a loaded machine (the test flakes) or too long everywhere else (the
suite crawls); a poll returns as soon as the condition holds. ``until`` for plain code, ``until_async`` for
coroutines — the same loop, the same message.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class NotYet(AssertionError):
    """The condition did not hold within the deadline."""


def _failure(what: str | Callable[[], str], timeout: float, last: object) -> NotYet:
    text = what() if callable(what) else what
    return NotYet(f"not within {timeout:g}s: {text} (last seen: {last!r})")


def until(check: Callable[[], T], what: str | Callable[[], str], timeout: float = 30.0, every: float = 0.1) -> T:
    """Call ``check`` every ``every`` seconds until it returns something truthy, and return that.

    ``what`` (a text, or a function giving one) says what was awaited; it is the failure message after
    ``timeout`` seconds, together with the last value ``check`` returned."""
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise _failure(what, timeout, last)
        time.sleep(every)


async def until_async(check: Callable[[], Awaitable[T]], what: str | Callable[[], str], timeout: float = 30.0,
                      every: float = 0.1) -> T:
    """:func:`until` for a coroutine function ``check``, without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        last = await check()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise _failure(what, timeout, last)
        await asyncio.sleep(every)
