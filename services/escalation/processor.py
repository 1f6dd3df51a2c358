"""From a stored matter and one input to the new stored matter and the events to publish (no I/O).

The table holds, per petition id, the matter's state and its *outbox*: the chained routing events
not yet confirmed on ``petition.routing``.  Events are chained and stored before they are sent,
and sent only after the store's changelog write is acknowledged; a crash in between re-sends
the same bytes, never decides again.  A confirmation drops the events up to a sequence number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import orjson
from pydantic import ValidationError

from escalation.domain import codec
from escalation.domain.chain import ChainedEvent, chain_facts
from escalation.domain.matter import Intake, Matter, advance, handle, next_breach
from xinfang.county import County
from xinfang.events import UPCASTERS, CloudEvent
from xinfang.events.catalogue import CATALOGUE, Registered

Outbox = list[tuple[int, bytes]]  # (seq, wire bytes), in sequence order
VERSION = 1  # of the stored row's layout; rows written before it was labelled have the same layout


class Unreadable(ValueError):
    """An input the worker cannot process: it goes to the dead-letter topic with this reason."""


class UnknownVersion(ValueError):
    """A stored row of a layout this code does not know: the worker stops rather than guess at it."""


@dataclass
class Stored:
    """What the table keeps for one matter.

    Stored as lines: the chain head's seq, the matter as JSON, then the outbox's wire bytes (compact
    JSON, which never holds a raw newline).  The outbox is always the chain's newest events, so a
    confirmation is applied to the bytes without reading the matter (:func:`confirmed_raw`).
    The matter's JSON carries the row's layout ``version`` (none: 1, the layout before it was
    labelled); a newer one is refused.  A field added to the matter needs no new version (reading
    is tolerant: :mod:`escalation.domain.codec`); what would: a change to the lines or a field's meaning.
    """

    matter: Matter
    outbox: Outbox = field(default_factory=list)

    def dumps(self) -> bytes:
        lines = [b"%d" % self.matter.head.seq, orjson.dumps({"version": VERSION, **codec.to_dict(self.matter)})]
        return b"\n".join(lines + [wire for _, wire in self.outbox])

    @classmethod
    def loads(cls, raw: bytes) -> Stored:
        head, matter, *wires = raw.split(b"\n")
        state = orjson.loads(matter)
        version = state.get("version", 1)
        if version != VERSION:
            raise UnknownVersion(_refusal(state.get("petition_id"), version))
        last = int(head)
        return cls(codec.from_dict(state), [(last - len(wires) + 1 + i, wire) for i, wire in enumerate(wires)])


def _refusal(pid: object, version: object) -> str:
    found = f"已存事项 {pid!r} 的格式版本为 {version!r} stored matter {pid!r} has layout version {version!r}; " \
            f"this code reads version {VERSION}"
    if isinstance(version, int) and version > VERSION:
        return f"{found}: a newer escalation wrote it, run that one (older code cannot read its state)"
    return f"{found}: not a version escalation ever wrote"


def confirmed_raw(raw: bytes, seq: int) -> bytes | None:
    """The stored bytes without the outbox events up to ``seq``; None if none of them is there."""
    head, matter, *wires = raw.split(b"\n")
    last = int(head)
    keep = max(0, last - seq)
    if keep >= len(wires):
        return None
    return b"\n".join([head, matter, *wires[len(wires) - keep:]])


@dataclass
class Outcome:
    """The result of one input: the new stored value (None when nothing changed) and what was chained."""

    stored: Stored | None
    chained: list[ChainedEvent]


def read_intake(raw: bytes) -> tuple[CloudEvent, Intake]:
    """Decode, verify and upcast one record of ``petition.events``; Unreadable says why not."""
    try:
        event = CloudEvent.from_json(raw)
    except (ValueError, ValidationError) as exc:
        raise Unreadable(f"not a CloudEvent: {exc}") from None
    if not event.hash_ok():
        raise Unreadable(f"hash mismatch: event {event.id} was altered")
    try:
        current, data = UPCASTERS.decode(event.type, event.data)
    except (KeyError, ValueError, ValidationError) as exc:
        raise Unreadable(f"cannot read {event.type}: {exc}") from None
    if CATALOGUE[current][1] != "events":
        raise Unreadable(f"{event.type} is not an intake event")
    return event, Intake(event.seq, event.occurred_at, event.recorded_at, data)


class Processor:
    """The county's rules applied to stored matters; one instance per worker."""

    def __init__(self, county: County, source: str, hashalg: str = "sha256") -> None:
        self.county, self.source, self.hashalg = county, source, hashalg

    def on_intake(self, stored: Stored | None, raw: bytes, now: datetime, key: str | None = None) -> Outcome:
        """One intake event for a matter (``stored`` None: first seen; ``key``: the record's key)."""
        event, intake = read_intake(raw)
        if key is not None and key != event.subject:
            raise Unreadable(f"record key {key!r} is not the event's subject {event.subject!r}")
        if stored is None and not isinstance(intake.data, Registered):
            raise Unreadable(f"{event.type} for {event.subject}, a matter whose registration was never seen")
        matter = stored.matter if stored else Matter(petition_id=event.subject)
        if matter.petition_id != event.subject:
            raise Unreadable(f"stored under {matter.petition_id}, event is about {event.subject}")
        changed, facts = handle(self.county, matter, intake, now)
        if changed == matter:
            return Outcome(None, [])
        return self._chained(stored, changed, facts)

    def on_time(self, stored: Stored, now: datetime) -> Outcome:
        """The timer: every breach of this matter due by ``now``."""
        changed, facts = advance(self.county, stored.matter, now)
        if changed == stored.matter:
            return Outcome(None, [])
        return self._chained(stored, changed, facts)

    def _chained(self, stored: Stored | None, matter: Matter, facts) -> Outcome:
        matter, chained = chain_facts(matter, facts, source=self.source, hashalg=self.hashalg)
        outbox = (stored.outbox if stored else []) + [(e.seq, e.to_json()) for e in chained]
        return Outcome(Stored(matter, outbox), chained)

    def next_breach(self, stored: Stored) -> datetime | None:
        return next_breach(self.county, stored.matter)
