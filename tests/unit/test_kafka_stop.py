"""xinfang.kafka.stop: a CancelledError that aiokafka raises from stop() on its own does not end the caller's
retried loop, and the client is closed all the same; a cancellation of the caller still ends it.  With the aiokafka
internals it relies on (a contract: an aiokafka upgrade that moves them fails here, not in an outage)."""
from __future__ import annotations

import asyncio
import inspect

import pytest

from xinfang.kafka import stop


class Inner:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class Fetcher:
    def __init__(self, pending) -> None:
        self._pending_tasks = set(pending)


class StrayCancel:
    """What aiokafka 0.14's consumer does after an outage: stop() raises CancelledError before closing the client."""

    def __init__(self, pending=()) -> None:
        self.inner, self._fetcher, self.stopped = Inner(), Fetcher(pending), False
        self._client = self.inner

    async def stop(self) -> None:
        self.stopped = True
        raise asyncio.CancelledError()


class Plain:
    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True


def test_a_stray_cancellation_from_stop_is_not_the_callers_and_the_client_is_closed():
    async def main():
        sleeper = asyncio.create_task(asyncio.sleep(3600))  # a pending fetch task stop() did not reach
        stray, plain = StrayCancel([sleeper]), Plain()
        await stop(stray, plain)  # no CancelledError: the caller was not cancelled
        assert stray.stopped and stray.inner.closed and plain.stopped
        assert sleeper.cancelled()
        return "went on"

    assert asyncio.run(main()) == "went on"


def test_a_cancellation_of_the_caller_still_ends_it_after_every_client_is_stopped():
    async def main(started: asyncio.Event, clients: list) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            await stop(*clients)

    async def run():
        started, clients = asyncio.Event(), [Plain(), Plain()]

        task = asyncio.create_task(main(started, clients))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert all(c.stopped for c in clients)

    asyncio.run(run())


def test_the_aiokafka_internals_stop_relies_on_are_there():
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.consumer.fetcher import Fetcher as AioFetcher

    assert "_pending_tasks" in inspect.getsource(AioFetcher.__init__)
    assert "_pending_tasks" in inspect.getsource(AioFetcher.close)
    assert "self._fetcher" in inspect.getsource(AIOKafkaConsumer.stop)
    assert "self._client = " in inspect.getsource(AIOKafkaConsumer.__init__)
    assert "self._client.close()" in inspect.getsource(AIOKafkaConsumer.stop)
    assert "self.client = " in inspect.getsource(AIOKafkaProducer.__init__)
    assert "self.client.close()" in inspect.getsource(AIOKafkaProducer.stop)
