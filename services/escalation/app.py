"""The faust worker: one agent, one table, a timer, a publisher, the web pages.

- The agent (concurrency 1, at-least-once) reads ``petition.events`` and the internal ticks topic,
  co-partitioned, so one matter's intake events and timer ticks are handled in order by one worker.
- The table ``matters`` (RocksDB, changelog, standby replicas) keeps each matter's state and outbox.
- The timer looks, every ``escalation_timer_interval``, at the due index of the partitions this
  worker owns and sends each due matter's id to its own partition of the ticks topic; the agent
  then decides from the stored state (a timer cannot write a table: faust writes the changelog
  partition of the event being processed).  The same tick carries the publisher's confirmations.
- The publisher sends chained events after the changelog holding them is acknowledged.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any

import faust
import orjson
from mode import CrashingSupervisor

from escalation import web
from escalation.domain.chain import source_of
from escalation.faust_adapter import EscalationApp
from escalation.index import DueIndex
from escalation.metrics import Metrics
from escalation.processor import Processor, Stored, Unreadable, confirmed_raw
from escalation.publisher import Pending, Publisher
from escalation.settings import EscalationSettings
from xinfang.county import County
from xinfang.coverage import CalendarCoverage
from xinfang.deadletter import send_dead_letter
from xinfang.terminals import TokenDirectory

log = logging.getLogger("escalation")
SCAN_YIELD_EVERY = 2000


def faust_settings(settings: EscalationSettings) -> dict[str, Any]:
    """The faust configuration the brief and the known traps call for."""
    host, port = settings.escalation_host, settings.escalation_port
    return dict(
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        store="rocksdb://", datadir=str(settings.escalation_data_dir),
        processing_guarantee="at_least_once",  # exactly_once has open duplicate bugs
        table_standby_replicas=settings.escalation_standby_replicas,
        topic_partitions=settings.partitions, topic_replication_factor=settings.replication_factor,
        producer_acks=-1, producer_linger=0.002,
        producer_max_batch_size=512 * 1024,  # one produce round trip carries many state writes (acks=all, in order)
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=settings.escalation_commit_interval,
        broker_session_timeout=settings.escalation_session_timeout,
        broker_heartbeat_interval=settings.escalation_heartbeat_interval,
        broker_rebalance_timeout=max(settings.escalation_session_timeout * 2, 20.0),
        consumer_group_instance_id=settings.escalation_instance_id,
        stream_ack_exceptions=False,  # a failed event is never committed past: the worker stops instead
        web_enabled=True, web_bind=host, web_port=port, web_host=host,
        canonical_url=settings.escalation_url or f"http://{host}:{port}",  # where /matters/{id} is forwarded
        web_stats_enabled=False, web_graph_enabled=False, web_router_enabled=False,
        web_tables_enabled=False, web_metrics_enabled=False,
        autodiscover=False,
    )


def rocksdb_options(settings: EscalationSettings) -> dict[str, int]:
    """The table store's memory: bounded per partition (faust's defaults let memtables and caches grow to GiBs)."""
    mib = 1024 * 1024
    return dict(write_buffer_size=settings.escalation_rocksdb_write_buffer_mib * mib, max_write_buffer_number=2,
                block_cache_size=settings.escalation_rocksdb_block_cache_mib * mib)


class Escalation:
    """The worker's parts and their wiring; ``app`` is what faust runs."""

    def __init__(self, settings: EscalationSettings, county: County) -> None:
        self.settings, self.county = settings, county
        self.app = EscalationApp(settings.escalation_app_id, **faust_settings(settings))
        self.events_topic, self.ticks_name = settings.topic_events, settings.ticks_topic
        self.inputs = self.app.topic(self.events_topic, self.ticks_name, key_type=bytes, value_type=bytes,
                                     key_serializer="raw", value_serializer="raw")
        self.matters = self.app.raw_table(  # bytes in, bytes out: the state is our JSON (processor)
            "matters", partitions=settings.partitions, options=rocksdb_options(settings),
            topic_configs={"min.insync.replicas": str(settings.min_insync_replicas)})
        self.processor = Processor(county, source_of(county.code), settings.hash_algorithm)
        self.index = DueIndex()
        self.metrics = Metrics()
        self.calendar = CalendarCoverage(county, self.metrics.registry, log)
        self.publisher = Publisher(self._send, settings.topic_routing, self._sent)
        self.ready = False
        self.tokens = TokenDirectory(settings)
        self._ticks_sent = self._ticks_done = 0  # catch-up only when the agent has handled every tick sent
        self._wire()

    # ---- wiring -----------------------------------------------------------------------

    def _wire(self) -> None:
        app = self.app

        @app.agent(self.inputs, concurrency=1, supervisor_strategy=CrashingSupervisor, name="escalation.process")
        async def process(stream: faust.StreamT) -> None:
            async for event in stream.events():
                message = event.message
                if message.topic == self.ticks_name:
                    await self.on_tick(message.partition, message.value)
                else:
                    await self.on_intake(message.partition, message.offset, message.key, message.value)

        @app.timer(interval=self.settings.escalation_timer_interval, name="escalation.timer")
        async def look() -> None:
            await self.look()

        @app.task
        async def publish() -> None:
            await self.publisher.run()

        @app.task
        async def tokens() -> None:  # the terminals' tokens, for the web pages (xinfang.terminals)
            await self.tokens.run()

        app.on_partitions_revoked.connect(self._revoked)
        app.on_partitions_assigned.connect(self._assigned)
        app.on_rebalance_complete.connect(self._recovered)
        web.register(self)

    # ---- the agent's two inputs ---------------------------------------------------------

    def _load(self, pid: str) -> Stored | None:
        raw = self.matters.raw(pid.encode())
        return None if raw is None else Stored.loads(raw)

    def _save(self, partition: int, pid: str, stored: Stored, breaches: dict[int, float] | None = None) -> None:
        self.matters[pid.encode()] = stored.dumps()
        self.publisher.enqueue(partition, pid, stored.outbox, self.matters.last_write, breaches)

    def _reschedule(self, partition: int, pid: str, stored: Stored, learned: datetime | None = None) -> None:
        """Index the matter's next breach; ``learned``: an intake event's arrival, after which a breach
        already due is late knowledge and takes the catch-up lane."""
        clock, when = stored.matter.clock, self.processor.next_breach(stored)
        self.index.schedule(partition, pid, when, None if clock is None else (clock.tier, clock.stage),
                            late=learned is not None and when is not None and when <= learned)

    def _confirm(self, partition: int, pid: str, seq: int) -> None:
        """Drop confirmed events from a matter's outbox in the local database only.

        Not worth a changelog record: a confirmation only spares a local restart from sending the
        same bytes again.  A worker that rebuilds the partition from the changelog (or a standby
        taking over) sees the events as unconfirmed and re-sends them: duplicates by id, harmless.
        """
        self.matters.rewrite_local(partition, pid.encode(), lambda raw: confirmed_raw(raw, seq))
        self.publisher.forget(partition, pid, seq)

    async def on_intake(self, partition: int, offset: int, key: bytes | None, value: bytes) -> None:
        """One record of petition.events."""
        now = datetime.now(timezone.utc)
        self.metrics.inputs.labels("intake").inc()
        try:
            pid = (key or b"").decode()
            if not pid:
                raise Unreadable("record without a key (the petition id)")
            outcome = self.processor.on_intake(self._load(pid), value, now, pid)
        except (Unreadable, UnicodeDecodeError) as exc:
            await self._dead_letter(partition, offset, key, value, str(exc))
            return
        if outcome.stored is not None:
            self._save(partition, pid, outcome.stored, self.metrics.breaches(outcome.chained))
            self._reschedule(partition, pid, outcome.stored, now)
            self.metrics.count(outcome.chained)

    async def on_tick(self, partition: int, value: bytes) -> None:
        """The timer's due matters and the publisher's confirmations for one partition."""
        body = orjson.loads(value)
        now = datetime.now(timezone.utc)
        self.metrics.inputs.labels("tick").inc()
        for pid, seq in body.get("confirmed", ()):
            self._confirm(partition, pid, seq)
        for pid in body.get("due", ()):
            stored = self._load(pid)
            if stored is None:
                continue
            outcome = self.processor.on_time(stored, now)
            if outcome.stored is not None:
                stored = outcome.stored
                self._save(partition, pid, stored, self.metrics.breaches(outcome.chained))
                self.metrics.count(outcome.chained)
            self._reschedule(partition, pid, stored)
        self._ticks_done = max(self._ticks_done, body.get("n", 0))

    async def _dead_letter(self, partition: int, offset: int, key: bytes | None, value: bytes, reason: str) -> None:
        log.warning("dead-lettered %s[%d]@%d: %s", self.events_topic, partition, offset, reason)
        self.metrics.dead_letters.inc()

        async def send(topic: str, *, key: bytes | None, value: bytes) -> Any:  # faust's send, in aiokafka's shape
            return await self.app.producer.send(topic, key, value, None, None, None)

        await send_dead_letter(send, self.settings.topic_deadletter, self.settings.escalation_app_id,
                               self.events_topic, partition, offset, key, value, reason)

    # ---- the timer ------------------------------------------------------------------------

    async def look(self) -> None:
        """Hand every due matter of the partitions this worker owns to the agent, with confirmations."""
        self.matters.record_offsets()
        if not self.ready:
            return
        now = time.time()
        limit = self.settings.escalation_tick_batch
        # the catch-up lane only from an agent with nothing of the timer's left to do: its spare time
        idle = self._ticks_done >= self._ticks_sent
        catch_up = max(1, self.settings.escalation_catch_up_per_look // max(1, len(self.index.partitions)))
        for partition in self.index.partitions:
            confirmations = self.publisher.take_confirmed(partition)
            due = self.index.pop_due(partition, now, limit)
            due += self.index.pop_late(partition, catch_up) if idle and len(due) < limit else []
            while due or confirmations:
                self._ticks_sent += 1
                body = orjson.dumps({"due": due, "confirmed": confirmations[:limit], "n": self._ticks_sent})
                confirmations = confirmations[limit:]
                await self.app.producer.send(self.ticks_name, None, body, partition, None, None)
                due = self.index.pop_due(partition, now, limit) if len(due) == limit else []
        self.metrics.catch_up.set(self.index.late())

    # ---- the publisher's send and its metrics ------------------------------------------------

    async def _send(self, topic: str, *, key: bytes, value: bytes, partition: int, timestamp: float | None,
                    headers: Any) -> Any:
        return await self.app.producer.send(topic, key, value, partition, timestamp, headers)

    def _sent(self, pending: Pending, at: float) -> None:
        if pending.breach_at is not None:
            self.metrics.timer_lateness.observe(max(0.0, at - pending.breach_at))

    # ---- partitions coming and going ------------------------------------------------------------

    def _events_partitions(self, tps) -> set[int]:
        return {tp.partition for tp in tps if tp.topic == self.events_topic}

    async def _revoked(self, sender: Any, revoked: set, **kwargs: Any) -> None:
        self.ready = False
        for partition in self._events_partitions(revoked):
            self.index.drop(partition)
            self.publisher.revoke(partition)

    async def _assigned(self, sender: Any, assigned: set, **kwargs: Any) -> None:
        self.ready = False

    async def _recovered(self, sender: Any, **kwargs: Any) -> None:
        """The table's active partitions are recovered: index them and re-send what is unconfirmed."""
        started = time.monotonic()
        actives = self._events_partitions(self.app.assignor.assigned_actives())
        for partition in sorted(actives - set(self.index.partitions)):
            await self._scan(partition)
        for partition in set(self.index.partitions) - actives:
            self.index.drop(partition)
            self.publisher.revoke(partition)
        self.publisher.keep_only(actives)
        self._ticks_done = self._ticks_sent  # ticks to partitions that went elsewhere are never answered
        self.metrics.scan_seconds.set(time.monotonic() - started)
        self.ready = True
        log.info("ready: %d partitions %s, %d timers, %d events to re-send, scanned in %.2fs",
                 len(actives), sorted(actives), self.index.pending(), self.publisher.backlog,
                 time.monotonic() - started)

    async def _scan(self, partition: int) -> None:
        self.index.adopt(partition)
        for n, (key, raw) in enumerate(self.matters.local_items(partition), 1):
            stored = Stored.loads(raw)
            pid = key.decode()
            self._reschedule(partition, pid, stored)
            if stored.outbox:
                # the local database may be ahead of the changelog after a crash: write it again, then send
                durable = self.matters.send_changelog(partition, key, raw)
                self.publisher.enqueue(partition, pid, stored.outbox, durable)
            if n % SCAN_YIELD_EVERY == 0:
                await asyncio.sleep(0)
