"""Routing facts sealed onto the matter's own chain on ``petition.routing`` (pure).

Escalation's chain per matter has its own source (``/xinfang/<county>/escalation``), sequence
numbers and hashes.  Ids are derived from what makes a fact unique, times come from the fact:
sealing the same facts onto the same head gives the same bytes, so a re-emission after a crash
is byte-identical and readers drop it by id.
"""
from __future__ import annotations

from dataclasses import replace

from xinfang.events import CloudEvent, derived_event_id, event_type_of
from xinfang.events.chain import ChainLink

from escalation.domain.matter import Fact, Matter

ACTOR = "system:escalation"


def source_of(county_code: str) -> str:
    """The CloudEvents source of a county's escalation service: ``/xinfang/<6-digit code>/escalation``."""
    return f"/xinfang/{county_code[:6]}/escalation"


def seal(m: Matter, facts: list[Fact], *, source: str, hashalg: str = "sha256") -> tuple[Matter, list[CloudEvent]]:
    """The facts as events on the matter's chain, and the matter with its new chain head."""
    head, sealed = m.head, []
    for fact in facts:
        seq, prevhash = head.next()
        event = CloudEvent.seal(
            event_id=derived_event_id(m.petition_id, *fact.key), source=source, type=event_type_of(fact.data),
            subject=m.petition_id, recorded=fact.recorded, occurred=fact.occurred, actor=ACTOR, seq=seq,
            prevhash=prevhash, data=fact.data.model_dump(mode="json"), hashalg=hashalg)
        head = ChainLink(seq, event.hash)
        sealed.append(event)
    return replace(m, head=head), sealed
