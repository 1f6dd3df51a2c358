"""The one retry policy: exponential waits up to a cap, every failure logged, cancellation never retried."""
import asyncio
import logging

import pytest

from xinfang.retry import Backoff, retrying, retrying_blocking

FULL = Backoff(jitter=lambda: 1.0)
log = logging.getLogger("test.retry")


class Waits:
    """Stands in for asyncio.sleep (or time.sleep): records the waits, advances a clock, never sleeps."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    async def sleep(self, delay: float) -> None:
        self.block(delay)

    def block(self, delay: float) -> None:
        self.waits.append(delay)
        self.now += delay

    def clock(self) -> float:
        return self.now


def failing(times: int, exc: Exception | None = None, result: str = "done"):
    """An attempt that fails ``times`` times, then returns ``result``."""
    calls = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise exc or ConnectionError(f"refused #{len(calls)}")
        return result

    attempt.calls = calls
    return attempt


def test_the_waits_double_from_half_a_second_up_to_the_cap():
    assert [FULL.delay(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 10, 10, 10]
    assert Backoff(first=0.5, cap=5.0, jitter=lambda: 1.0).delay(5) == 5.0


def test_jitter_draws_each_wait_between_half_and_all_of_it():
    assert Backoff(jitter=lambda: 0.0).delay(3) == 1.0
    assert Backoff(jitter=lambda: 0.5).delay(3) == 1.5


def test_a_long_outage_stays_at_the_cap_without_overflowing():
    assert FULL.delay(100_000) == 10.0


async def test_a_call_is_retried_until_it_returns_and_its_result_is_given_back():
    waits, attempt = Waits(), failing(3)
    assert await retrying(attempt, "relay", log, FULL, sleep=waits.sleep, clock=waits.clock) == "done"
    assert waits.waits == [0.5, 1.0, 2.0] and len(attempt.calls) == 4


async def test_every_failure_is_logged_with_what_failed_the_attempt_the_wait_and_the_exception(caplog):
    waits = Waits()
    with caplog.at_level(logging.WARNING, logger="test.retry"):
        await retrying(failing(2), "routing consumer", log, FULL, sleep=waits.sleep, clock=waits.clock)
    assert [r.getMessage() for r in caplog.records] == [
        "routing consumer failed (attempt 1), retrying in 0.50s: refused #1",
        "routing consumer failed (attempt 2), retrying in 1.00s: refused #2"]
    assert all(r.levelno == logging.WARNING and isinstance(r.exc_info[1], ConnectionError) for r in caplog.records)
    assert [(r.retrying, r.attempt, r.retry_in) for r in caplog.records] == [
        ("routing consumer", 1, 0.5), ("routing consumer", 2, 1.0)]


async def test_a_failure_after_a_long_working_run_starts_the_waits_over():
    waits, calls = Waits(), []

    async def attempt() -> None:
        calls.append(1)
        if len(calls) == 4:
            waits.now += 3600  # an hour of work, then the broker goes away
        if len(calls) < 6:
            raise ConnectionError("gone")

    await retrying(attempt, "projection", log, FULL, sleep=waits.sleep, clock=waits.clock)
    assert waits.waits == [0.5, 1.0, 2.0, 0.5, 1.0]


async def test_each_call_starts_from_the_first_wait_so_a_loop_resets_after_a_success():
    waits = Waits()
    for _ in range(2):
        await retrying(failing(2), "refresh", log, FULL, sleep=waits.sleep, clock=waits.clock)
    assert waits.waits == [0.5, 1.0, 0.5, 1.0]


async def test_with_attempts_the_last_failure_is_logged_and_raised(caplog):
    waits = Waits()
    with caplog.at_level(logging.WARNING, logger="test.retry"), pytest.raises(ConnectionError, match="#3"):
        await retrying(failing(5), "bell", log, FULL, attempts=3, sleep=waits.sleep, clock=waits.clock)
    assert waits.waits == [0.5, 1.0]
    assert caplog.records[-1].getMessage() == "bell failed (attempt 3 of 3), giving up: refused #3"


async def test_an_error_retry_if_refuses_is_raised_at_once_without_waiting():
    waits = Waits()
    with pytest.raises(ValueError):
        await retrying(failing(1, ValueError("bad request")), "import", log, FULL,
                       retry_if=lambda exc: isinstance(exc, ConnectionError), sleep=waits.sleep, clock=waits.clock)
    assert waits.waits == []


async def test_cancellation_of_the_attempt_is_not_retried(caplog):
    waits = Waits()
    with caplog.at_level(logging.WARNING, logger="test.retry"), pytest.raises(asyncio.CancelledError):
        await retrying(failing(1, asyncio.CancelledError()), "relay", log, FULL, sleep=waits.sleep, clock=waits.clock)
    assert waits.waits == [] and caplog.records == []


async def test_cancellation_during_a_wait_ends_the_retrying():
    started = asyncio.Event()

    async def sleep(delay: float) -> None:
        started.set()
        await asyncio.Event().wait()  # a wait that only cancellation ends

    task = asyncio.create_task(retrying(failing(10), "relay", log, FULL, sleep=sleep))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_the_blocking_form_follows_the_same_policy():
    waits, calls = Waits(), []

    def attempt() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("no answer")
        return 201

    assert retrying_blocking(attempt, "post", log, FULL, attempts=5, sleep=waits.block, clock=waits.clock) == 201
    assert waits.waits == [0.5, 1.0]
