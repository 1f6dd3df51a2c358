"""What escalation's faust adapter relies on is still there: a faust upgrade that changes it fails here.

The list is the adapter's docstring (services/escalation/faust_adapter.py).  Signatures are checked
by name; the behaviour on a real RocksDB store in a temporary folder, with an app that never connects
(no broker: nothing here is started, the producer only buffers).
"""
from __future__ import annotations

import asyncio
import inspect
import io
import re
import tomllib
import weakref
from importlib.metadata import version

import faust
import pytest
from faust.stores.rocksdb import Store
from faust.streams import _current_event
from faust.transport.drivers.aiokafka import Producer as AIOKafkaProducerDriver
from faust.types import TP, Message
from faust.types.tuples import RecordMetadata
from mode.utils.collections import ManagedUserDict

from escalation.faust_adapter import EscalationApp, IdempotentProducer, Worker
from unit.escalation.helpers import ROOT


def params(function) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize("package", ["faust-streaming", "rocksdict"])
def test_the_installed_faust_and_rocksdict_are_the_pinned_versions(package):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    [pin] = [d for d in project["dependencies"] if re.match(rf"{package}(\[.*\])?==", d)]
    assert version(package) == pin.split("==")[1], "faust upgraded: re-read faust_adapter.py's list, then re-pin"


def test_the_private_members_the_adapter_uses_have_the_signatures_it_calls():
    assert params(faust.App._new_producer) == ["self"]
    assert params(AIOKafkaProducerDriver.__init__)[:3] == ["self", "transport", "loop"]
    assert params(AIOKafkaProducerDriver._settings_extra) == ["self"]
    assert params(faust.Table.on_key_set) == ["self", "key", "value"]
    assert params(faust.Table.send_changelog)[:4] == ["self", "partition", "key", "value"]
    assert params(faust.Table._on_changelog_sent) == ["self", "fut"]
    assert params(faust.Table.partition_for_key) == ["self", "key"]
    assert params(faust.sensors.SensorDelegate.on_table_set) == ["self", "table", "key", "value"]
    assert params(Store._db_for_partition) == ["self", "partition"]
    assert params(Store._visible_items) == ["self", "db"]
    assert params(Store._get) == ["self", "key"]
    assert params(Store.set_persisted_offset) == ["self", "tp", "offset"]
    assert "_dbs" in Store.__annotations__ and "spinner" in faust.Worker.__annotations__


def test_a_table_set_calls_on_key_set_before_writing_the_store():
    # mode's dict, under faust's Table: the changelog future exists before the local write
    assert re.findall(r"self\.(on_key_set|data\[key\])", inspect.getsource(ManagedUserDict.__setitem__)) == [
        "on_key_set", "data[key]"]


@pytest.fixture
def app(tmp_path):
    return EscalationApp("faust-contract", broker="kafka://127.0.0.1:1", store="rocksdb://", datadir=str(tmp_path),
                         autodiscover=False, web_enabled=False)


@pytest.fixture
def table(app):
    return app.raw_table("matters", partitions=2, options={"write_buffer_size": 1 << 20, "block_cache_size": 1 << 20},
                         topic_configs={})


def handling(app, partition: int) -> faust.Event:
    """The event faust's stream sets while an agent handles a record of ``partition`` (a table writes there)."""
    return faust.Event(app, b"k", b"x", {}, Message("inputs", partition, 0, 0.0, 0, {}, b"k", b"x", None))


def test_the_producer_is_idempotent_with_acks_all(app):
    assert isinstance(app.producer, IdempotentProducer)
    assert app.producer._settings_extra() == {"acks": "all", "enable_idempotence": True}


def test_a_set_keeps_its_changelog_write_and_the_offset_is_recorded_once_per_look(app, table):
    event = handling(app, 1)  # held: faust keeps a weak reference
    token = _current_event.set(weakref.ref(event))
    try:
        table[b"m1"] = b"state"
    finally:
        _current_event.reset(token)
    write = table.last_write
    assert write.message.partition == 1 and write.message.value == b"state"
    assert write.message.callback == table._on_changelog_sent  # what faust calls once the broker acknowledged
    assert table.raw(b"m1") == b"state" and table.raw(b"other") is None
    tp = TP(table.changelog_topic_name, 1)
    write.set_result(RecordMetadata(tp.topic, 1, tp, 41))
    write.message.callback(write)
    assert table.data.persisted_offset(tp) is None  # not per write
    table.record_offsets()
    assert table.data.persisted_offset(tp) == 41


def test_the_local_database_of_a_partition_is_read_and_rewritten_directly(table):
    db = table.data._db_for_partition(0)
    db.put(b"m1", b"one")
    assert 0 in table.data._dbs
    table.data.set_persisted_offset(TP(table.changelog_topic_name, 0), 7)
    assert list(table.local_items(0)) == [(b"m1", b"one")]  # faust's offset key is not an item
    table.rewrite_local(0, b"m1", lambda raw: raw + b"!")
    table.rewrite_local(0, b"m1", lambda raw: None)  # None: leave it
    table.rewrite_local(0, b"absent", lambda raw: b"never called")
    assert list(table.local_items(0)) == [(b"m1", b"one!")] and table.raw(b"m1") == b"one!"


def test_the_worker_writes_no_terminal_escape_when_it_has_started(app):
    theirs, ours = io.StringIO(), io.StringIO()
    asyncio.run(faust.Worker(app, quiet=True, stdout=theirs).on_startup_finished())
    assert "\x1b[?25h" in theirs.getvalue()  # faust's own still writes it: the adapter's fix is still needed
    worker = Worker(app, "INFO")
    worker.stdout = worker.stderr = ours
    asyncio.run(worker.on_startup_finished())
    assert worker.spinner is None and ours.getvalue() == ""
