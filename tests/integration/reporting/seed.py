"""Event streams for the reporting tests: real CloudEvents, sealed in proper hash chains.

:class:`History` builds the events intake and escalation would write; :func:`from_import_records`
turns import records (``tests/support/seed.py``, the body of intake's POST /v1/imports) into the
events intake writes for them, plus the routing escalation writes — so the seed quarter can be
projected today by producing the events directly, and tomorrow through the imports, from the
same records.  :func:`publish` produces them to a run's topics with the project's producer.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from xinfang.county import County
from xinfang.events import CloudEvent, chain_head, next_link
from xinfang.events import catalogue as c
from xinfang.kafka import sync_producer

INTAKE, ESCALATION = "/xinfang/361402/intake", "/xinfang/361402/escalation"
NAMESPACE = uuid.UUID("2f0c7a1e-9a4b-4c55-8d2e-5b1f3c9e7a60")


def utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class History:
    """Events of many matters, each chain per matter and source sealed in order."""

    recorded: datetime | None = None  # when the system learned them (None: when each happened)
    events: list[tuple[str, CloudEvent]] = field(default_factory=list)  # (role, event)
    _heads: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    def add(self, role: str, subject: str, data: c.EventData, occurred: datetime, actor: str = "import:seed",
            recorded: datetime | None = None) -> CloudEvent:
        source = INTAKE if role == "events" else ESCALATION
        chain = self._heads.setdefault((subject, source), [])
        seq, prev = next_link(chain_head(chain) if chain else None)
        event = CloudEvent.seal(event_id=str(uuid.uuid4()), source=source, type=c.event_type_of(data), subject=subject,
                                recorded=recorded or self.recorded or occurred, occurred=occurred, actor=actor,
                                seq=seq, prevhash=prev, data=data.model_dump(mode="json"))
        chain.append({"seq": event.seq, "hash": event.hash})
        self.events.append((role, event))
        return event

    def count(self, role: str | None = None) -> int:
        return sum(1 for r, _ in self.events if role is None or r == role)


def petition_id(external_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, external_id))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def from_import_records(records: list[dict[str, Any]], county: County, history: History | None = None,
                        route: bool = True) -> History:
    """The events of imported matters: registered and later batches, actions, and an assignment to
    the registering unit with its acceptance due (as escalation routes an import, never escalating it)."""
    history = history or History(recorded=datetime.now(timezone.utc))
    for n, record in enumerate(records):
        pid = petition_id(record["external_id"])
        first, *later = record["batches"]
        unit = county.unit(first["unit"])
        registered_at = _at(first["occurred_at"])
        history.add("events", pid, c.Registered(
            receipt_no=f"IMP-{n:06d}", batch_id=f"b{n}-0", channel=first["channel"], jurisdiction=record["jurisdiction"],
            category=record["category"], summary=record.get("summary", ""), head_count=first["head_count"],
            unit=unit.id, tier=unit.tier, imported=True, external_id=record["external_id"]), registered_at)
        if route:
            due = registered_at + timedelta(days=15)
            history.add("routing", pid, c.Assigned(
                unit=unit.id, tier=unit.tier, jurisdiction=record["jurisdiction"], rule="import", stage="accept",
                due=[c.Due(stage="accept", due_at=utc(due), warn_at=utc(due - timedelta(days=3)))], cause="import",
                basis_seq=1), registered_at, actor="system:escalation")
        for i, batch in enumerate(later, 1):
            batch_unit = county.unit(batch["unit"])
            history.add("events", pid, c.VisitRecorded(
                batch_id=f"b{n}-{i}", channel=batch["channel"], head_count=batch["head_count"], unit=batch_unit.id,
                tier=batch_unit.tier, imported=True), _at(batch["occurred_at"]))
        for action in record.get("actions", []):
            history.add("events", pid, action_data(action), _at(action["occurred_at"]))
    return history


def known_places(records: list[dict[str, Any]], county: County) -> list[dict[str, Any]]:
    """The records with village codes the county knows.  tests/support/seed.py numbers the villages of
    every township 001…010, but outside 城关街道 the demo county's villages are 201…210 (so
    361402101003 is no place): such a code is moved to the same-numbered village of its township."""
    known = {j.code for j in county.jurisdictions}
    fixed = []
    for record in records:
        code = record["jurisdiction"]
        if code not in known:
            code = code[:9] + f"{200 + int(code[9:]):03d}"
            assert code in known, record["jurisdiction"]
            record = {**record, "jurisdiction": code,
                      "batches": [{**b, "unit": f"room.{code}"} for b in record["batches"]],
                      "actions": [{**a, "unit": f"room.{code}"} for a in record.get("actions", [])]}
        fixed.append(record)
    return fixed


def action_data(action: dict[str, Any]) -> c.EventData:
    """The event data intake writes for one imported action."""
    kind, unit = action["action"], action.get("unit")
    if kind == "accept":
        return c.Accepted(unit=unit)
    if kind == "decline":
        return c.Declined(unit=unit, reason=action["reason"])
    if kind in ("reply", "reply_review", "reply_recheck"):
        model = {"reply": c.Replied, "reply_review": c.ReviewReplied, "reply_recheck": c.RecheckReplied}[kind]
        return model(unit=unit, decision=action["decision"], resolved=action["resolved"], opinion=action["opinion"])
    if kind == "request_review":
        return c.ReviewRequested(reason=action["reason"])
    if kind == "request_recheck":
        return c.RecheckRequested(reason=action["reason"])
    if kind == "extend":
        return c.ExtensionGranted(unit=unit, days=action["days"], reason=action["reason"], approved_by="import")
    if kind == "evaluate":
        return c.Evaluated(satisfaction=action["satisfaction"])
    if kind == "withdraw":
        return c.Withdrawn(reason=action.get("reason"))
    raise ValueError(f"unknown import action {kind}")


def publish(settings, history: History, extra: list[tuple[str, bytes, bytes]] = ()) -> int:
    """Produce every event to the run's topics (keyed by petition id); ``extra``: raw (role, key, value) records."""
    topics = {"events": settings.topic_events, "routing": settings.topic_routing}
    producer = sync_producer(settings, linger_ms=20, batch_size=256 * 1024)
    try:
        for role, event in history.events:
            producer.send(topics[role], key=event.subject.encode(), value=event.to_json())
        for role, key, value in extra:
            producer.send(topics[role], key=key, value=value)
        producer.flush(60)
    finally:
        producer.close()
    return len(history.events) + len(extra)
