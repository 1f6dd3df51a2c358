"""Offline facts: what keeping the sent breaches (for withdrawal) costs escalation's worker, per matter.

    python bench/offline_facts_bench.py [--matters 20000]

Pure (no Kafka, no faust): the processor of the fast test county (limits in seconds) on stored rows,
as the worker's agent calls it.  Figures:

1. the stored state's size in bytes (outbox confirmed): a matter just assigned, after a warning, an overdue notice and an
   escalation (3 breaches kept), and at the cap (``MAX_SENT``, a matter reported again at the top tier);
2. microseconds per timer step (``on_time``, a breach chained and the row written) and per intake event:
   an acceptance on time, and an acceptance learned after the escalation (rewound, three withdrawals).
"""
from __future__ import annotations

import argparse
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from common import ROOT, save

from escalation.domain.chain import source_of
from escalation.domain.matter import MAX_SENT
from escalation.processor import Processor, Stored
from xinfang.county import load_county
from xinfang.events import GENESIS_HASH, CloudEvent
from xinfang.events.catalogue import Accepted, Registered, event_type_of

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
ROOM = "room.361501100201"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def intake(pid: str, seq: int, prev: str, data, occurred: datetime, recorded: datetime) -> CloudEvent:
    return CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361501/intake", type=event_type_of(data),
                              subject=pid, recorded=recorded, occurred=occurred, actor="terminal:t-1", seq=seq,
                              prevhash=prev, data=data.model_dump(mode="json"))


def state_bytes(row: Stored, sent: bool = True) -> int:
    """The stored row without its outbox (sent and confirmed): the matter's state alone."""
    matter = row.matter if sent else replace(row.matter, sent=())
    return len(Stored(matter).dumps())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matters", type=int, default=20000)
    args = parser.parse_args()
    county = load_county(ROOT / "tests" / "fixtures" / "county_fast.yaml")
    processor = Processor(county, source_of(county.code))
    registered = Registered(receipt_no="2026-361501-0000001", batch_id="b1", channel="visit",
                            jurisdiction="361501100201", category="labour", summary="拖欠工资", head_count=1,
                            unit=ROOM, tier="village")
    rows, heads = [], []
    for _ in range(args.matters):
        pid = str(uuid.uuid4())
        first = intake(pid, 1, GENESIS_HASH, registered, at(0), at(0))
        rows.append(processor.on_intake(None, first.to_json(), at(0), pid).stored)
        heads.append((pid, first.hash))
    assigned_bytes = state_bytes(rows[0])

    started, steps = time.perf_counter(), 0
    for moment in (3.3, 4.1, 5.1):  # warning, overdue, escalation
        for i, row in enumerate(rows):
            rows[i] = processor.on_time(row, at(moment)).stored
            steps += 1
    per_step_us = (time.perf_counter() - started) / steps * 1e6
    escalated_bytes, without_sent = state_bytes(rows[0]), state_bytes(rows[0], sent=False)

    def accepted(i: int, occurred: float, recorded: float) -> bytes:
        pid, prev = heads[i]
        return intake(pid, 2, prev, Accepted(unit=ROOM), at(occurred), at(recorded)).to_json()

    on_time = [accepted(i, 2, 2) for i in range(len(rows))]
    late = [accepted(i, 2, 6) for i in range(len(rows))]
    fresh = [processor.on_intake(None, intake(p, 1, GENESIS_HASH, registered, at(0), at(0)).to_json(), at(0), p).stored
             for p, _ in heads]
    started = time.perf_counter()
    for i, row in enumerate(fresh):
        processor.on_intake(row, on_time[i], at(2), heads[i][0])
    on_time_us = (time.perf_counter() - started) / len(rows) * 1e6
    started = time.perf_counter()
    withdrawals = 0
    for i, row in enumerate(rows):
        outcome = processor.on_intake(row, late[i], at(6), heads[i][0])
        withdrawals += sum(e.type == "petition.routing_withdrawn.v1" for e in outcome.chained)
    late_us = (time.perf_counter() - started) / len(rows) * 1e6

    capped = rows[0]
    for k in range(MAX_SENT + 10):  # reported again at the city every 4 s, far beyond the cap
        capped = processor.on_time(capped, at(5.1 + 4 * (k + 1))).stored or capped
    save("offline_facts", {
        "matters": args.matters,
        "state_bytes_assigned": assigned_bytes, "state_bytes_after_escalation": escalated_bytes,
        "state_bytes_after_escalation_without_sent": without_sent,
        "state_bytes_at_cap": state_bytes(capped), "sent_kept_at_cap": len(capped.matter.sent),
        "timer_step_us": round(per_step_us, 1), "accept_on_time_us": round(on_time_us, 1),
        "accept_late_with_withdrawals_us": round(late_us, 1), "withdrawals_per_late_accept": withdrawals / len(rows),
        "notes": "Pure processor, one core. State bytes: the stored row once its outbox is confirmed (the "
                 "matter's JSON); `without_sent`: the same matter without the breaches kept for withdrawal.",
    })


if __name__ == "__main__":
    main()
