"""Event streams for the reporting tests: real CloudEvents, in proper hash chains.

:class:`History` builds the events intake and escalation would write (``county_year.py`` fills it with a
synthetic county year for load tests and the benchmark); :func:`publish` produces them to a run's
topics with the project's producer; :func:`matter` adds one sample matter and :func:`records` turns a
history into the projection's input, with no broker (the unit tests and the store's integration tests).
The seed quarter does not come from here: it goes through a real intake's POST /v1/imports
(``test_seed_quarter.py``).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from reporting.projection import Record
from xinfang.events import CloudEvent, chain_head, next_link
from xinfang.events import catalogue as c
from xinfang.kafka import sync_producer

INTAKE, ESCALATION = "/xinfang/361402/intake", "/xinfang/361402/escalation"


def utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class History:
    """Events of many matters, each chain per matter and source built in order."""

    recorded: datetime | None = None  # when the system learned them (None: when each happened)
    events: list[tuple[str, CloudEvent]] = field(default_factory=list)  # (role, event)
    _heads: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    def add(self, role: str, subject: str, data: c.EventData, occurred: datetime, actor: str = "import:seed",
            recorded: datetime | None = None) -> CloudEvent:
        source = INTAKE if role == "events" else ESCALATION
        chain = self._heads.setdefault((subject, source), [])
        seq, prev = next_link(chain_head(chain) if chain else None)
        event = CloudEvent.chained(event_id=str(uuid.uuid4()), source=source, type=c.event_type_of(data), subject=subject,
                                   recorded=recorded or self.recorded or occurred, occurred=occurred, actor=actor,
                                   seq=seq, prevhash=prev, data=data.model_dump(mode="json"))
        chain.append({"seq": event.seq, "hash": event.hash})
        self.events.append((role, event))
        return event

    def count(self, role: str | None = None) -> int:
        return sum(1 for r, _ in self.events if role is None or r == role)


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


# ---- one sample matter, as the projection's unit tests and the store's integration tests read it ----

T = datetime(2026, 3, 31, 15, 30, tzinfo=timezone.utc)
ROLES = {"ev": "events", "rt": "routing"}  # topic → role, for records made by :func:`records`


def records(history: History) -> list[Record]:
    topic = {"events": "ev", "routing": "rt"}
    offsets = {"ev": 0, "rt": 0}
    out = []
    for role, event in history.events:
        t = topic[role]
        out.append(Record(t, 0, offsets[t], event.subject.encode(), event.to_json()))
        offsets[t] += 1
    return out


def matter(history: History, pid: str, heads: int = 6) -> None:
    history.add("events", pid, c.Registered(receipt_no="R1", batch_id="b0", channel="visit", jurisdiction="361402001001",
                                            category="labour", summary="s", head_count=heads, unit="room.361402001001",
                                            tier="village"), T, recorded=T + timedelta(days=3))
    history.add("routing", pid, c.Assigned(unit="station.361402001000", tier="township", jurisdiction="361402001001",
                                           rule="r", stage="accept",
                                           due=[c.Due(stage="accept", due_at="2026-04-03T00:00:00Z",
                                                      warn_at="2026-04-02T00:00:00Z")]),
                T)
    history.add("events", pid, c.VisitRecorded(batch_id="b1", channel="visit", head_count=2, unit="bureau.361402",
                                               tier="county"), T + timedelta(days=1))
    history.add("events", pid, c.Replied(unit="station.361402001000", decision="support", resolved=True,
                                         facts="已查明", grounds="o"),
                T + timedelta(days=2))
    history.add("routing", pid, c.Escalated(from_unit="station.361402001000", from_tier="township", to_unit="bureau.361402",
                                            to_tier="county", stage="handle", reason="超期"), T + timedelta(days=4))
    history.add("events", pid, c.Evaluated(satisfaction="basically_satisfied"), T + timedelta(days=5))
    history.add("events", pid, c.Withdrawn(), T + timedelta(days=6))
