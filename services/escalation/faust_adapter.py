"""Everything escalation takes from faust beyond its public API, in one module.

``app.py`` and ``__main__.py`` use this module's names and faust's public API only (agents, timers,
tasks, topics, pages, signals, ``app.producer.send``).  What is relied on here, for faust-streaming
0.15.3 (the pin in pyproject.toml), each checked by ``tests/unit/escalation/test_faust_contract.py``:

- ``faust.App._new_producer()``: overridden to build our producer driver; the app has no setting for it.
- ``faust.transport.drivers.aiokafka.Producer(transport, loop=, beacon=)`` and its ``_settings_extra()``,
  the keyword arguments it adds for ``aiokafka.AIOKafkaProducer``: faust asks for idempotence only under
  exactly-once; ours always has it, with acks=all (a retried batch is neither written twice nor reordered).
- ``faust.Table.on_key_set(key, value)``, which ``table[key] = value`` (mode's ``ManagedUserDict``) calls
  before the store write: overridden to keep the future of the changelog write (``send_changelog``, public)
  for the publisher, which waits for that write only.  faust's own also calls ``_maybe_set_key_ttl`` (no TTL
  here) and ``_sensor_on_set(table, key, value)`` (kept: the monitor's count).
- ``faust.Table._on_changelog_sent(fut)``, the callback ``send_changelog`` attaches: faust writes the
  offset into RocksDB on every acknowledged write; overridden to keep the highest per partition, written
  once per timer look (:meth:`RawTable.record_offsets`).
- ``faust.stores.rocksdb.Store`` (``table.data``): ``_dbs`` (partition -> open database: which partitions are
  open here), ``_db_for_partition(partition)`` (one partition's database, opened if needed, with rocksdict's
  ``get``/``put`` on raw bytes), ``_visible_items(db)`` (a database's items without faust's offset key),
  ``_get(key)`` (one read of the raw bytes; the table's own look-up reads twice) and
  ``set_persisted_offset(tp, offset)`` (public, undocumented).
- ``faust.Worker.spinner``: set to None.  Left alone (our logging set up outside faust, so faust never
  disables it) it writes a terminal escape, ``\\b\\x1b[?25h`` with no newline, into the log at every start,
  glued to the next JSON line, terminal or not.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Producer as AIOKafkaProducerDriver


class IdempotentProducer(AIOKafkaProducerDriver):
    """faust's aiokafka producer sets idempotence only for exactly-once; ours always has it, with acks=all."""

    def _settings_extra(self) -> dict[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class RawTable(faust.Table):
    """A table of bytes keys and bytes values, with what faust keeps out of reach.

    - ``last_write``: the changelog write of the last set (the publisher waits for that write only);
    - :meth:`raw`, :meth:`rewrite_local`, :meth:`local_items`: the local RocksDB read and written directly;
    - changelog offsets recorded in RocksDB once per :meth:`record_offsets` rather than once per write.
    """

    last_write: asyncio.Future | None = None
    _unrecorded: dict | None = None

    def on_key_set(self, key: Any, value: Any) -> None:
        self.last_write = self.send_changelog(self.partition_for_key(key), key, value)
        self._sensor_on_set(self, key, value)

    def raw(self, key: bytes) -> bytes | None:
        """The stored value, one RocksDB read (faust's own look-up reads twice)."""
        return self.data._get(key)  # noqa: SLF001 — raw keys and values: no serialization to apply

    def rewrite_local(self, partition: int, key: bytes, rewrite: Callable[[bytes], bytes | None]) -> None:
        """Replace a stored value in this worker's database only, no changelog record (``rewrite``: None, keep)."""
        db = self.data._db_for_partition(partition)  # noqa: SLF001
        raw = db.get(key)
        changed = None if raw is None else rewrite(raw)
        if changed is not None:
            db.put(key, changed)

    def local_items(self, partition: int) -> Iterator[tuple[bytes, bytes]]:
        """Every key and value of one partition's database (faust keeps one database per partition)."""
        store = self.data
        return store._visible_items(store._db_for_partition(partition))  # noqa: SLF001

    def _on_changelog_sent(self, fut: Any) -> None:
        res = fut.result()
        if self._unrecorded is None:
            self._unrecorded = {}
        self._unrecorded[res.topic_partition] = max(res.offset, self._unrecorded.get(res.topic_partition, -1))

    def record_offsets(self) -> None:
        """Persist the changelog offsets reached (recovery then reads on from there; older is only slower)."""
        pending, self._unrecorded = self._unrecorded or {}, {}
        for tp, offset in pending.items():
            if tp.partition in self.data._dbs:  # noqa: SLF001 — only partitions still open here
                self.data.set_persisted_offset(tp, offset)


class EscalationApp(faust.App):
    """faust's app with the idempotent acks=all producer and raw tables."""

    def _new_producer(self) -> IdempotentProducer:
        return IdempotentProducer(self.transport, loop=self.loop, beacon=self.beacon)

    def raw_table(self, name: str, *, partitions: int, options: dict[str, Any],
                  topic_configs: dict[str, str]) -> RawTable:
        """A :class:`RawTable` (RocksDB ``options``; ``topic_configs`` for its changelog topic)."""
        return self.tables.add(RawTable(
            self, name=name, default=None, partitions=partitions, key_type=bytes, value_type=bytes,
            beacon=self.tables.beacon, options=options, extra_topic_configs=topic_configs))


class Worker(faust.Worker):
    """faust's worker writing log records only: no banner, no spinner, stdout and logging left to us."""

    def __init__(self, app: faust.App, loglevel: str) -> None:
        super().__init__(app, loglevel=loglevel, override_logging=False, quiet=True, redirect_stdouts=False)
        self.spinner = None
