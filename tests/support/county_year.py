"""A synthetic county history for load tests and the benchmark: every kind of fact the projection reads.

Each matter is registered at a village room of the demo county (collective ones routed a tier up),
accepted (sometimes late) or declined, replied (most resolved), sometimes overdue and escalated,
sometimes reviewed, often evaluated, then closed; some get later batches, some at the county
bureau (skip-level).  About 9 events per matter; deterministic for a given seed.
"""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from support.history import History, utc
from xinfang.county import County
from xinfang.events import catalogue as c

CST = timezone(timedelta(hours=8))


def _due(stage: str, at: datetime) -> c.Due:
    return c.Due(stage=stage, due_at=utc(at), warn_at=utc(at - timedelta(hours=12)))


def county_year(county: County, year: int, matters: int, seed: int = 7, history: History | None = None) -> History:
    """``matters`` matters registered over ``year`` (local time), with their whole lifecycles."""
    rng = random.Random(seed)
    history = history or History()
    villages = [j for j in county.jurisdictions if j.tier == "village"]
    categories = [k.code for k in county.categories if not k.law_related]
    bureau = county.unit(county.jurisdiction(county.code).unit)
    start = datetime(year, 1, 1, tzinfo=CST)
    for n in range(matters):
        pid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        village = rng.choice(villages)
        room = county.unit(village.unit)
        station = county.next_tier_unit(room.id)
        heads = rng.randint(5, 40) if rng.random() < 0.1 else rng.randint(1, 4)
        at = start + timedelta(seconds=rng.randrange(365 * 86400))
        holder = station if heads >= county.collective_threshold else room
        add = lambda data, when, role="events", pid=pid: history.add(role, pid, data, when, actor="terminal:sim")  # noqa: E731
        channel = rng.choice(["visit"] * 4 + ["letter", "online", "phone"])
        add(c.Registered(receipt_no=f"SIM-{year}-{n:06d}", batch_id=f"{n}-0", channel=channel,
                         jurisdiction=village.code, category=rng.choice(categories), summary="模拟事项", head_count=heads,
                         unit=room.id, tier=room.tier), at)
        add(c.Assigned(unit=holder.id, tier=holder.tier, jurisdiction=village.code, rule="sim", stage="accept",
                       due=[_due("accept", at + timedelta(days=3))], basis_seq=1), at + timedelta(seconds=1), "routing")
        for i in range(rng.choice([0, 0, 0, 1, 1, 2])):
            later = at + timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 12))
            where = bureau if rng.random() < 0.3 else room
            add(c.VisitRecorded(batch_id=f"{n}-{i + 1}", channel="visit", head_count=rng.randint(1, 8), unit=where.id,
                                tier=where.tier), later)
        if rng.random() < 0.05:
            add(c.Declined(unit=holder.id, reason="不属于信访事项"), at + timedelta(days=1))
            add(c.Closed(reason="declined"), at + timedelta(days=1, seconds=1), "routing")
            continue
        accepted = at + timedelta(days=rng.choice([0, 1, 2, 2, 5]), hours=rng.randint(0, 8))
        add(c.Accepted(unit=holder.id), accepted)
        add(c.DeadlineChanged(unit=holder.id, stage="handle", due_at=utc(accepted + timedelta(days=15)), reason="accepted"),
            accepted + timedelta(seconds=1), "routing")
        replier, replied = holder, accepted + timedelta(days=rng.randint(3, 14))
        if rng.random() < 0.12:
            due = accepted + timedelta(days=15)
            add(c.Overdue(unit=holder.id, tier=holder.tier, stage="handle", due_at=utc(due)), due, "routing")
            upper = county.next_tier_unit(holder.id) or bureau
            add(c.Escalated(from_unit=holder.id, from_tier=holder.tier, to_unit=upper.id, to_tier=upper.tier, stage="handle",
                            reason="超期未办结", due=[_due("handle", due + timedelta(days=10))]),
                due + timedelta(days=1), "routing")
            replier, replied = upper, due + timedelta(days=rng.randint(2, 12))
        resolved = rng.random() < 0.8
        add(c.Replied(unit=replier.id, decision="support" if resolved else "explain", resolved=resolved,
                      facts="已查明", grounds="已答复"),
            replied)
        if rng.random() < 0.15:
            asked = replied + timedelta(days=rng.randint(2, 20))
            add(c.ReviewRequested(reason="不服"), asked)
            reviewer = county.next_tier_unit(replier.id) or bureau
            add(c.ReviewAssigned(kind="review", unit=reviewer.id, tier=reviewer.tier,
                                 due=[_due("review", asked + timedelta(days=30))]), asked + timedelta(seconds=1), "routing")
            replied = asked + timedelta(days=rng.randint(5, 25))
            add(c.ReviewReplied(unit=reviewer.id, decision="support", resolved=rng.random() < 0.7,
                                facts="已查明", grounds="复查意见"), replied)
        if rng.random() < 0.6:
            add(c.Evaluated(satisfaction=rng.choice(["satisfied", "satisfied", "basically_satisfied", "dissatisfied"])),
                replied + timedelta(days=rng.randint(1, 5)))
        add(c.Closed(reason="replied"), replied + timedelta(seconds=1), "routing")
    return history
