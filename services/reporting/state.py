"""The current state of each matter, recomputed from its facts (migrations 0002 and 0003).

:func:`refresh_statements` are run by :class:`reporting.store.Store` in the transaction that wrote
new facts, for the matters those facts belong to (``:ids``: their petition ids); :func:`bulk_statements`
by a bulk load, for every matter.  Both are the rules of :mod:`reporting.rules` with every fact known
(those of :mod:`reporting.queries` as of a time), restricted to some matters or not.
"""
from __future__ import annotations

from reporting.rules import (
    Condition,
    among_ids,
    evaluations,
    ever,
    everywhere,
    handling,
    obligations,
    outcomes,
    standing,
)
from xinfang.sql import Named, named

#: a batch's matter's first batch's time (NULL for a matter with a batch before its first, or none: counted from its
#: rows), and the most persons of the matter's batches before it (ties: the first batch first, then by event id) —
#: what makes a batch its matter's opener of a collective threshold (migration 0010)
CASE_AT = ("CASE WHEN min(b.occurred_at) OVER (PARTITION BY b.petition_id) = min(b.occurred_at) FILTER (WHERE b.is_first) "
           "OVER (PARTITION BY b.petition_id) THEN min(b.occurred_at) OVER (PARTITION BY b.petition_id) END")
PRIOR_HEADS = ("coalesce(max(b.head_count) OVER (PARTITION BY b.petition_id ORDER BY b.occurred_at, NOT b.is_first, "
               "b.event_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)")

#: each state table and the fact tables it is computed from
#: (in this order: batch_state reads matter_state)
_MATTER = ("matters", "replies", "evaluations", "requests", "batches")
INPUTS: dict[str, tuple[str, ...]] = {
    "matter_state": _MATTER,
    "batch_state": (*_MATTER, "holdings", "withdrawals"),
    "obligation_state": ("matters", "dues", "decisions", "replies", "withdrawals"),
    "evaluation_state": ("matters", "evaluations", "replies"),
    "holding_state": ("matters", "holdings", "withdrawals"),
    "breach_state": ("matters", "breaches", "withdrawals"),
}


def refresh_statements(q: str) -> dict[str, tuple[Named, Named]]:
    """Per state table, its (delete, insert) statements for the matters ``:ids`` of the schema ``q`` (already
    quoted), in the order to run them: the bulk statements restricted to those matters."""
    insert = _inserts(q, among_ids)
    return {name: (named(f"DELETE FROM {q}.{name} x WHERE x.petition_id = ANY(:ids::text[])"), named(insert[name]))
            for name in INPUTS}


def bulk_statements(q: str) -> dict[str, str]:
    """Per state table, one whole-table INSERT computing every matter's rows at once (a bulk load, the state
    tables empty): joins and sorts, no index lookup per row.  ``batch_state`` reads ``matter_state``: run it after."""
    return _inserts(q, everywhere)


def _inserts(q: str, only: Condition) -> dict[str, str]:
    batches = f"(SELECT * FROM {q}.batches x WHERE {only('x')})"
    return {
        "matter_state": f"""INSERT INTO {q}.matter_state (petition_id, resolved, replied, satisfaction, first_time)
SELECT o.petition_id, o.resolved, o.replied, o.satisfaction, o.first_time
FROM ({outcomes(q, f"(SELECT petition_id FROM {q}.matters x WHERE {only('x')})", ever, only)}) o""",
        "batch_state": f"""INSERT INTO {q}.batch_state (event_id, petition_id, handler, handler_tier, is_skip, occurred_at,
    is_first, head_count, channel, jurisdiction, category, resolved, replied, satisfaction, first_time, case_at,
    prior_heads)
SELECT b.event_id, b.petition_id, coalesce(hb.holder, b.unit), hb.holder_tier, hb.is_skip,
       b.occurred_at, b.is_first, b.head_count, b.channel, m.jurisdiction, m.category,
       ms.resolved, ms.replied, ms.satisfaction, ms.first_time, b.case_at, b.prior_heads
FROM (SELECT b.*, {CASE_AT} AS case_at, {PRIOR_HEADS} AS prior_heads FROM {batches} b) b
JOIN ({handling(q, batches, ever, only)}) hb ON hb.event_id = b.event_id
JOIN {q}.matters m ON m.petition_id = b.petition_id
JOIN {q}.matter_state ms ON ms.petition_id = b.petition_id""",
        "obligation_state": f"""INSERT INTO {q}.obligation_state (petition_id, unit, stage, due_at, met, jurisdiction,
    category, channel)
SELECT o.petition_id, o.unit, o.stage, o.due_at, o.met, m.jurisdiction, m.category, m.channel
FROM ({obligations(q, ever, only)}) o
JOIN {q}.matters m ON m.petition_id = o.petition_id""",
        "evaluation_state": f"""INSERT INTO {q}.evaluation_state (event_id, petition_id, reply_unit, occurred_at, satisfaction,
    jurisdiction, category, channel)
SELECT e.event_id, e.petition_id, e.reply_unit, e.occurred_at, e.satisfaction, m.jurisdiction, m.category, m.channel
FROM ({evaluations(q, ever, only)}) e
JOIN {q}.matters m ON m.petition_id = e.petition_id""",
        # a routing fact before its matter's registration was read (the topics are read in any order) has no place
        # yet: its matter's arrival recomputes it
        "holding_state": f"""INSERT INTO {q}.holding_state (event_id, petition_id, kind, unit, from_unit, occurred_at,
    jurisdiction, category, channel, prev_at)
SELECT h.event_id, h.petition_id, h.kind, h.unit, h.from_unit, h.occurred_at, m.jurisdiction, m.category, m.channel,
       lag(h.occurred_at) OVER (PARTITION BY h.petition_id, h.unit ORDER BY h.occurred_at, h.event_id)
FROM (SELECT * FROM {q}.holdings x WHERE {only('x')} AND {standing(q, 'x')}) h
LEFT JOIN {q}.matters m ON m.petition_id = h.petition_id""",
        "breach_state": f"""INSERT INTO {q}.breach_state (event_id, petition_id, unit, stage, due_at, occurred_at,
    jurisdiction, category, channel, prev_at)
SELECT x.event_id, x.petition_id, x.unit, x.stage, x.due_at, x.occurred_at, m.jurisdiction, m.category, m.channel,
       lag(x.occurred_at) OVER (PARTITION BY x.petition_id, x.unit, x.stage, x.due_at ORDER BY x.occurred_at, x.event_id)
FROM (SELECT * FROM {q}.breaches x WHERE {only('x')} AND x.kind = 'overdue' AND {standing(q, 'x')}) x
LEFT JOIN {q}.matters m ON m.petition_id = x.petition_id""",
    }
