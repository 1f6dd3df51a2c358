"""The projection: records of petition.events and petition.routing in, rows of the statistics tables out.

Pure: no broker, no database.  Two drivers feed it — the live consumer (aiokafka,
:mod:`reporting.consumer`) and the replay (kafka-python, :mod:`reporting.replay`, used by the
audit) — and both write its output with :mod:`reporting.store`, so a replay into a scratch schema
produces exactly the rows the live service holds.

Every row is one fact of one event, keyed by the event id (a redelivered event is a no-op), and
no row depends on another event: the order in which partitions and topics are read cannot change
the tables.  What cannot be read (not JSON, not a CloudEvent, unknown type, data that does not fit
its model, an event type on the wrong topic) comes back as :class:`Unreadable` with the reason.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import ValidationError

from xinfang.events import UPCASTERS, CloudEvent
from xinfang.events import catalogue as c
from xinfang.events.catalogue import CATALOGUE
from xinfang.events.envelope import parse_time

Role = Literal["events", "routing"]

#: table → its columns in row order, with their PostgreSQL types (for the unnest inserts)
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "matters": (("petition_id", "text"), ("event_id", "text"), ("receipt_no", "text"),
                ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz"), ("channel", "text"),
                ("jurisdiction", "text"), ("category", "text"), ("unit", "text"), ("tier", "text"),
                ("imported", "boolean")),
    "batches": (("event_id", "text"), ("petition_id", "text"), ("batch_id", "text"), ("is_first", "boolean"),
                ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz"), ("channel", "text"),
                ("unit", "text"), ("tier", "text"), ("head_count", "integer"), ("imported", "boolean")),
    "decisions": (("event_id", "text"), ("petition_id", "text"), ("kind", "text"), ("unit", "text"),
                  ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
    "replies": (("event_id", "text"), ("petition_id", "text"), ("kind", "text"), ("unit", "text"),
                ("decision", "text"), ("resolved", "boolean"), ("occurred_at", "timestamptz"),
                ("recorded_at", "timestamptz")),
    "requests": (("event_id", "text"), ("petition_id", "text"), ("kind", "text"),
                 ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
    "evaluations": (("event_id", "text"), ("petition_id", "text"), ("satisfaction", "text"),
                    ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
    "actions": (("event_id", "text"), ("petition_id", "text"), ("type", "text"), ("unit", "text"),
                ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
    "holdings": (("event_id", "text"), ("petition_id", "text"), ("kind", "text"), ("unit", "text"),
                 ("tier", "text"), ("from_unit", "text"), ("from_tier", "text"), ("stage", "text"),
                 ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
    "dues": (("event_id", "text"), ("position", "integer"), ("petition_id", "text"), ("unit", "text"),
             ("stage", "text"), ("due_at", "timestamptz"), ("occurred_at", "timestamptz"),
             ("recorded_at", "timestamptz")),
    "breaches": (("event_id", "text"), ("petition_id", "text"), ("kind", "text"), ("unit", "text"),
                 ("tier", "text"), ("stage", "text"), ("due_at", "timestamptz"), ("occurred_at", "timestamptz"),
                 ("recorded_at", "timestamptz")),
    "closures": (("event_id", "text"), ("petition_id", "text"), ("reason", "text"),
                 ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
    "withdrawals": (("event_id", "text"), ("petition_id", "text"), ("withdrawn_id", "text"),
                    ("withdrawn_type", "text"), ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
    "merges": (("event_id", "text"), ("petition_id", "text"), ("into_id", "text"), ("kind", "text"),
               ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
    "supervisions": (("event_id", "text"), ("petition_id", "text"), ("notice_id", "text"), ("number", "text"),
                     ("issuing_unit", "text"), ("unit", "text"), ("stage", "text"), ("due_at", "timestamptz"),
                     ("days_overdue", "integer"), ("occurred_at", "timestamptz"), ("recorded_at", "timestamptz")),
}
#: tables whose rows are keyed by something other than (event_id)
KEYS: dict[str, tuple[str, ...]] = {"matters": ("petition_id",), "dues": ("event_id", "position")}


@dataclass(frozen=True)
class Record:
    """One Kafka record.  The drivers pass the clients' own records (aiokafka's and kafka-python's
    ConsumerRecord have these attributes) without copying them into this class; tests build these."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None



@dataclass(frozen=True)
class Unreadable:
    """A record the projection cannot read, and why (for the dead-letter topic)."""

    record: Record
    reason: str


@dataclass
class Changes:
    """What a batch of records does to the tables."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: {name: [] for name in TABLES})
    positions: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) → next offset
    unreadable: list[Unreadable] = field(default_factory=list)
    events: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)  # events projected per topic
    touched: dict[str, set[str]] = field(default_factory=dict)  # table → the matters it got rows of

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    @classmethod
    def merged(cls, parts: Iterable[Changes]) -> Changes:
        """The changes of consecutive parts of one batch (projected apart, e.g. in two processes)."""
        whole = cls()
        for part in parts:
            for name, rows in part.rows.items():
                whole.rows[name].extend(rows)
            for position, offset in part.positions.items():
                whole.positions[position] = max(whole.positions.get(position, 0), offset)
            whole.unreadable.extend(part.unreadable)
            whole.events += part.events
            for topic, n in part.by_topic.items():
                whole.by_topic[topic] = whole.by_topic.get(topic, 0) + n
            for table, ids in part.touched.items():
                whole.touched.setdefault(table, set()).update(ids)
        return whole


def decode(record: Record, role: Role) -> tuple[CloudEvent, c.EventData]:
    """The event and its current data; ValueError with the reason if it cannot be read."""
    if record.value is None:
        raise ValueError("空记录 empty record (tombstone)")
    event = UPCASTERS.read_current(record.value)  # nearly always an event of a current type
    if event is not None:
        current, data = event.type, event.data
    else:
        event, current, data = _decode_in_steps(record.value)
    if CATALOGUE[current][1] != role:
        raise ValueError(f"{event.type} 不属于 {role} 主题 does not belong on the {role} topic")
    return event, data


def _decode_in_steps(value: bytes) -> tuple[CloudEvent, str, c.EventData]:
    """Envelope, then upcasting and data: an old version, or a broken record and what is wrong with it."""
    try:
        event = CloudEvent.from_json(value)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise ValueError(f"不是 JSON not JSON: {exc.errors()[0].get('ctx', {}).get('error', exc)}") from None
        raise ValueError(f"不是有效的 CloudEvent not a valid CloudEvent: {_first_error(exc)}") from None
    except Exception as exc:  # noqa: BLE001 — anything else a broken record raises
        raise ValueError(f"不是 JSON not JSON: {exc}") from None
    try:
        current, data = UPCASTERS.decode(event.type, event.data)
    except KeyError:
        raise ValueError(f"未知的事件类型 unknown event type {event.type}") from None
    except ValidationError as exc:
        raise ValueError(f"{event.type} 的数据不符合模型 data does not fit the model: {_first_error(exc)}") from None
    return event, current, data


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg')}"


def facts(event: CloudEvent, data: c.EventData) -> list[tuple[str, tuple]]:
    """The rows one event contributes: (table, row) pairs."""
    eid, pid = event.id, event.subject
    occurred, recorded = parse_time(event.occurred), parse_time(event.time)
    times = (occurred, recorded)
    match data:
        case c.Registered():
            return [("matters", (pid, eid, data.receipt_no, *times, data.channel, data.jurisdiction, data.category,
                                 data.unit, data.tier, data.imported)),
                    ("batches", (eid, pid, data.batch_id, True, *times, data.channel, data.unit, data.tier,
                                 data.head_count, data.imported))]
        case c.VisitRecorded():
            return [("batches", (eid, pid, data.batch_id, False, *times, data.channel, data.unit, data.tier,
                                 data.head_count, data.imported))]
        case c.Accepted():
            return [("decisions", (eid, pid, "accepted", data.unit, *times))]
        case c.Declined():
            return [("decisions", (eid, pid, "declined", data.unit, *times))]
        case c.Replied() | c.ReviewReplied() | c.RecheckReplied():
            kind = {c.Replied: "reply", c.ReviewReplied: "review", c.RecheckReplied: "recheck"}[type(data)]
            return [("replies", (eid, pid, kind, data.unit, data.decision, data.resolved, *times))]
        case c.ReviewRequested():
            return [("requests", (eid, pid, "review", *times))]
        case c.RecheckRequested():
            return [("requests", (eid, pid, "recheck", *times))]
        case c.Evaluated():
            return [("evaluations", (eid, pid, data.satisfaction, *times))]
        case c.Assigned():
            return [("holdings", (eid, pid, "assigned", data.unit, data.tier, None, None, data.stage, *times)),
                    *_dues(eid, pid, data.unit, data.due, times)]
        case c.Escalated():
            return [("holdings", (eid, pid, "escalated", data.to_unit, data.to_tier, data.from_unit, data.from_tier,
                                  data.stage, *times)),
                    *_dues(eid, pid, data.to_unit, data.due, times)]
        case c.ReviewAssigned():
            return [("holdings", (eid, pid, data.kind, data.unit, data.tier, None, None, data.kind, *times)),
                    *_dues(eid, pid, data.unit, data.due, times)]
        case c.DeadlineChanged():
            due = parse_time(data.due_at) if data.due_at else None
            return [("dues", (eid, 0, pid, data.unit, data.stage, due, *times))]
        case c.DeadlineWarning() | c.Overdue():
            kind = "warning" if isinstance(data, c.DeadlineWarning) else "overdue"
            return [("breaches", (eid, pid, kind, data.unit, data.tier, data.stage, parse_time(data.due_at), *times))]
        case c.Closed():
            return [("closures", (eid, pid, data.reason, *times))]
        case c.Merged() | c.Unmerged():
            kind = "merge" if isinstance(data, c.Merged) else "unmerge"
            return [("merges", (eid, pid, data.into, kind, *times))]
        case c.Supervised():
            return [("supervisions", (eid, pid, data.notice_id, data.number, data.issuing_unit, data.unit, data.stage,
                                      parse_time(data.due_at), data.days_overdue, *times))]
        case c.RoutingWithdrawn():
            return [("withdrawals", (eid, pid, data.withdrawn_id, data.withdrawn_type, *times))]
        case _:
            short = event.type.removeprefix("petition.").rsplit(".", 1)[0]
            unit = getattr(data, "unit", None) or getattr(data, "from_unit", None)
            return [("actions", (eid, pid, short, unit, *times))]


def _dues(eid: str, pid: str, unit: str, dues: list[c.Due], times: tuple[datetime, datetime]) -> list[tuple[str, tuple]]:
    return [("dues", (eid, i, pid, unit, due.stage, parse_time(due.due_at), *times)) for i, due in enumerate(dues)]


def project(records: Iterable[Record], roles: dict[str, Role]) -> Changes:
    """The changes of a batch of records; ``roles`` maps each topic name to "events" or "routing"."""
    changes = Changes()
    for record in records:
        position = (record.topic, record.partition)
        changes.positions[position] = max(changes.positions.get(position, 0), record.offset + 1)
        try:
            if record.topic not in roles:
                raise ValueError(f"未知的主题 unknown topic {record.topic}")
            event, data = decode(record, roles[record.topic])
            rows = facts(event, data)
        except ValueError as exc:
            changes.unreadable.append(Unreadable(record, str(exc)))
            continue
        for table, row in rows:
            changes.rows[table].append(row)
            changes.touched.setdefault(table, set()).add(event.subject)
        changes.events += 1
        changes.by_topic[record.topic] = changes.by_topic.get(record.topic, 0) + 1
    return changes


def project_plain(records: list[tuple[str, int, int, bytes | None, bytes | None]], roles: dict[str, Role]) -> Changes:
    """:func:`project` of records given as plain (topic, partition, offset, key, value) tuples: what a
    driver sends to a projecting process of its own (a client's records do not pickle)."""
    return project([Record(*r) for r in records], roles)
