"""The terminal directory (xinfang.terminals.TokenDirectory, what reporting and escalation check tokens against)
through an outage of its Kafka: it refuses every token while it cannot confirm the list (fails closed), and
follows the topic again once the broker is back — a token accepted, a revocation made after the outage applied.

Found by the city's fault drill: aiokafka's consumer.stop() raised a CancelledError of its own after the broker
had been gone a while, which ended the directory's retried loop for good (every token 503 until a restart).
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

from support.broker import PrivateBroker
from support.waiting import until_async
from xinfang.kafka import sync_producer
from xinfang.settings import CommonSettings
from xinfang.terminals import TokenDirectory, lifecycle_event, token_hash
from xinfang.topics import provision

TOKEN = "xft_directory-outage-" + "d" * 24


def publish(settings: CommonSettings, revoked: bool) -> None:
    now = datetime.now(timezone.utc)
    event = lifecycle_event("t-outage", "bureau.361402", ["auditor"], token_hash(TOKEN), now,
                            now if revoked else None, "/xinfang/361402/intake")
    producer = sync_producer(settings)
    try:
        producer.send(settings.topic_terminals, key=b"t-outage", value=event.to_json()).get(30)
    finally:
        producer.close()


def test_the_directory_refuses_tokens_while_its_kafka_is_down_and_follows_again_when_it_is_back(tmp_path):
    broker = PrivateBroker(tmp_path / "broker")
    broker.start(timeout=120)
    try:
        settings = CommonSettings(kafka_bootstrap=broker.bootstrap, partitions=1, token_max_staleness=3)
        provision(settings)
        publish(settings, revoked=False)

        async def drill() -> float:
            directory = TokenDirectory(settings)
            task = asyncio.create_task(directory.run())
            try:
                await until_async(lambda: _known(directory), "the token known", 60)
                await asyncio.to_thread(broker.stop)
                await until_async(lambda: _refused(directory), "every token refused while Kafka is down", 30)
                await asyncio.sleep(20)  # the outage itself: the broker stays down while the directory retries
                assert not task.done(), "the directory stopped following the topic during the outage"
                await asyncio.to_thread(broker.start, 120)
                back = time.monotonic()
                await until_async(lambda: _known(directory), "the token known again after the outage", 60)
                recovered = time.monotonic() - back
                await asyncio.to_thread(publish, settings, True)  # revoked after the outage: applied at once
                await until_async(lambda: _gone(directory), "the revocation applied", 10)
                assert not task.done()
                return recovered
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        print(f"\nterminal directory: tokens accepted again {asyncio.run(drill()):.1f} s after its Kafka came back")
    finally:
        broker.stop()


async def _known(directory: TokenDirectory) -> bool:
    return directory.trusted and directory.get(TOKEN) is not None


async def _refused(directory: TokenDirectory) -> bool:
    return not directory.trusted


async def _gone(directory: TokenDirectory) -> bool:
    return directory.trusted and directory.get(TOKEN) is None
