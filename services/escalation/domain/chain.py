"""Routing facts chained onto the matter's own chain on ``petition.routing`` (pure).

Escalation's chain per matter has its own source (``/xinfang/<county>/escalation``), sequence
numbers and hashes.  Ids are derived from what makes a fact unique, times come from the fact:
chaining the same facts onto the same head gives the same bytes, so a re-emission after a crash
is byte-identical and readers drop it by id.

The envelope is built here directly as its canonical bytes — the same bytes as
``CloudEvent.chained(...).to_json()`` (a unit test holds them equal) without validating again what
the catalogue's models already validated: chaining is on the worker's hot path.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from escalation.domain.matter import Fact, Matter
from escalation.domain.times import text
from xinfang.events import derived_event_id, digest, event_type_of
from xinfang.events.chain import ChainLink

ACTOR = "system:escalation"


@dataclass(frozen=True)
class ChainedEvent:
    """One routing event as it goes on the wire."""

    id: str
    type: str
    seq: int
    hash: str
    occurred_at: datetime
    wire: bytes
    recorded_at: datetime | None = None
    timed: bool = False  # the passage of time emitted it (a breach), not an intake event

    def to_json(self) -> bytes:
        return self.wire

    def envelope(self) -> dict[str, Any]:
        return orjson.loads(self.wire)


def source_of(county_code: str) -> str:
    """The CloudEvents source of a county's escalation service: ``/xinfang/<6-digit code>/escalation``."""
    return f"/xinfang/{county_code[:6]}/escalation"


def chain_facts(m: Matter, facts: list[Fact], *, source: str, hashalg: str = "sha256") -> tuple[Matter, list[ChainedEvent]]:
    """The facts as events on the matter's chain, and the matter with its new chain head."""
    head, chained = m.head, []
    for fact in facts:
        seq, prevhash = head.next()
        event_type = event_type_of(fact.data)
        envelope = {
            "specversion": "1.0", "id": derived_event_id(m.petition_id, *fact.key), "source": source,
            "type": event_type, "subject": m.petition_id, "time": text(fact.recorded),
            "datacontenttype": "application/json", "occurred": text(fact.occurred), "actor": ACTOR, "seq": seq,
            "prevhash": prevhash, "hashalg": hashalg, "data": fact.data.model_dump(mode="json"),
        }
        envelope["hash"] = digest(orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS), hashalg)
        event = ChainedEvent(envelope["id"], event_type, seq, envelope["hash"], fact.occurred,
                            orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS), fact.recorded, fact.timed)
        head = ChainLink(seq, event.hash)
        chained.append(event)
    return replace(m, head=head), chained
