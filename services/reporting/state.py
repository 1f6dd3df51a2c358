"""The current state of each matter, recomputed from its facts (migrations 0002 and 0003).

:func:`refresh_statements` are run by :class:`reporting.store.Store` in the transaction that wrote
new facts, for the matters those facts belong to (``:ids``: their petition ids); :func:`bulk_statements`
by a bulk load, for every matter.  Both are the rules of :mod:`reporting.rules` with every fact known
(those of :mod:`reporting.queries` as of a time), restricted to some matters or not.
"""
from __future__ import annotations

from reporting.rules import Condition, among_ids, evaluations, ever, everywhere, handling, obligations, outcomes
from xinfang.sql import Named, named

#: each state table and the fact tables it is computed from
#: (in this order: batch_state reads matter_state)
_MATTER = ("matters", "replies", "evaluations", "requests", "batches")
INPUTS: dict[str, tuple[str, ...]] = {
    "matter_state": _MATTER,
    "batch_state": (*_MATTER, "holdings", "withdrawals"),
    "obligation_state": ("matters", "dues", "decisions", "replies", "withdrawals"),
    "evaluation_state": ("matters", "evaluations", "replies"),
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
    is_first, head_count, channel, jurisdiction, category, resolved, replied, satisfaction, first_time)
SELECT b.event_id, b.petition_id, coalesce(hb.holder, b.unit), hb.holder_tier, hb.is_skip,
       b.occurred_at, b.is_first, b.head_count, b.channel, m.jurisdiction, m.category,
       ms.resolved, ms.replied, ms.satisfaction, ms.first_time
FROM {batches} b
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
    }
