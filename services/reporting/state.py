"""The current state of each matter, recomputed from its facts (migrations 0002 and 0003).

:func:`refresh_statements` are run by :class:`reporting.store.Store` in the transaction that wrote
new facts, for the matters those facts belong to (``$1``: their petition ids).  The definitions are
those of :mod:`reporting.queries` with as_of and known_at left open.
"""
from __future__ import annotations

#: each state table and the fact tables it is computed from
#: (in this order: batch_state reads matter_state)
_MATTER = ("matters", "replies", "evaluations", "requests", "batches")
INPUTS: dict[str, tuple[str, ...]] = {
    "matter_state": _MATTER,
    "batch_state": (*_MATTER, "holdings", "withdrawals"),
    "obligation_state": ("matters", "dues", "decisions", "replies", "withdrawals"),
    "evaluation_state": ("matters", "evaluations", "replies"),
}
_ORDER = ("batch_state", "matter_state", "obligation_state", "evaluation_state")  # of the statements below


def standing(q: str, alias: str, known: str = "") -> str:
    """The row ``alias`` is of a routing event no withdrawal names (``known``: restrict the withdrawals ``w``)."""
    return f"NOT EXISTS (SELECT 1 FROM {q}.withdrawals w WHERE w.withdrawn_id = {alias}.event_id{known})"


def refresh_statements(q: str) -> dict[str, tuple[str, str]]:
    """Per state table, its (delete, insert) statements for the schema ``q`` (already quoted), in the order to run them."""
    s = _statements(q)
    by_name = {name: (s[2 * i], s[2 * i + 1]) for i, name in enumerate(_ORDER)}
    return {name: by_name[name] for name in INPUTS}


def _statements(q: str) -> list[str]:
    return [
        f"DELETE FROM {q}.batch_state x USING unnest($1::text[]) AS t(petition_id) WHERE x.petition_id = t.petition_id",
        f"""INSERT INTO {q}.batch_state (event_id, petition_id, handler, handler_tier, is_skip, occurred_at, is_first,
    head_count, channel, jurisdiction, category, resolved, replied, satisfaction, first_time)
SELECT b.event_id, b.petition_id, coalesce(h.unit, b.unit), h.tier,
       (NOT b.is_first AND h.tier IS NOT NULL AND {q}.tier_rank(b.tier) > {q}.tier_rank(h.tier)
        AND NOT EXISTS (SELECT 1 FROM {q}.replies r WHERE r.petition_id = b.petition_id AND r.unit = h.unit
                        AND r.occurred_at <= b.occurred_at)),
       b.occurred_at, b.is_first, b.head_count, b.channel, m.jurisdiction, m.category,
       ms.resolved, ms.replied, ms.satisfaction, ms.first_time
FROM unnest($1::text[]) AS t(petition_id)
JOIN {q}.batches b ON b.petition_id = t.petition_id
JOIN {q}.matters m ON m.petition_id = b.petition_id
JOIN {q}.matter_state ms ON ms.petition_id = b.petition_id
LEFT JOIN LATERAL (
  SELECT h.unit, h.tier FROM {q}.holdings h WHERE h.petition_id = b.petition_id AND {standing(q, 'h')}
  ORDER BY (h.occurred_at <= b.occurred_at) DESC,
           CASE WHEN h.occurred_at <= b.occurred_at THEN h.occurred_at END DESC NULLS LAST,
           h.occurred_at, h.event_id
  LIMIT 1) h ON true""",
        f"DELETE FROM {q}.matter_state x USING unnest($1::text[]) AS t(petition_id) WHERE x.petition_id = t.petition_id",
        f"""INSERT INTO {q}.matter_state (petition_id, resolved, replied, satisfaction, first_time)
SELECT m.petition_id, coalesce(lr.resolved, false),
       EXISTS (SELECT 1 FROM {q}.replies r WHERE r.petition_id = m.petition_id AND r.kind = 'reply'),
       ev.satisfaction,
       (coalesce(lr.resolved, false) AND lr.kind = 'reply'
        AND NOT EXISTS (SELECT 1 FROM {q}.requests x WHERE x.petition_id = m.petition_id)
        AND (SELECT count(*) FROM {q}.batches n WHERE n.petition_id = m.petition_id) = 1)
FROM unnest($1::text[]) AS t(petition_id)
JOIN {q}.matters m ON m.petition_id = t.petition_id
LEFT JOIN LATERAL (
  SELECT r.resolved, r.kind FROM {q}.replies r WHERE r.petition_id = m.petition_id
  ORDER BY r.occurred_at DESC, r.recorded_at DESC, r.event_id DESC LIMIT 1) lr ON true
LEFT JOIN LATERAL (
  SELECT e.satisfaction FROM {q}.evaluations e WHERE e.petition_id = m.petition_id
  ORDER BY e.occurred_at DESC, e.recorded_at DESC, e.event_id DESC LIMIT 1) ev ON true""",
        f"DELETE FROM {q}.obligation_state x USING unnest($1::text[]) AS t(petition_id) WHERE x.petition_id = t.petition_id",
        f"""INSERT INTO {q}.obligation_state (petition_id, unit, stage, due_at, met, jurisdiction, category, channel)
SELECT d.petition_id, d.unit, d.stage, d.due_at,
  CASE WHEN d.stage = 'accept'
    THEN EXISTS (SELECT 1 FROM {q}.decisions x WHERE x.petition_id = d.petition_id AND x.occurred_at <= d.due_at)
    ELSE EXISTS (SELECT 1 FROM {q}.replies x WHERE x.petition_id = d.petition_id AND x.kind = 'reply'
                 AND x.occurred_at <= d.due_at) END,
  m.jurisdiction, m.category, m.channel
FROM (SELECT DISTINCT ON (d.petition_id, d.unit, d.stage) d.petition_id, d.unit, d.stage, d.due_at
      FROM unnest($1::text[]) AS t(petition_id) JOIN {q}.dues d ON d.petition_id = t.petition_id
      WHERE d.stage IN ('accept', 'handle') AND {standing(q, 'd')}
      ORDER BY d.petition_id, d.unit, d.stage, d.occurred_at DESC, d.recorded_at DESC, d.event_id DESC,
               d.position DESC) d
JOIN {q}.matters m ON m.petition_id = d.petition_id
WHERE d.due_at IS NOT NULL""",
        f"DELETE FROM {q}.evaluation_state x USING unnest($1::text[]) AS t(petition_id) WHERE x.petition_id = t.petition_id",
        f"""INSERT INTO {q}.evaluation_state (event_id, petition_id, reply_unit, occurred_at, satisfaction, jurisdiction,
    category, channel)
SELECT e.event_id, e.petition_id,
       (SELECT r.unit FROM {q}.replies r WHERE r.petition_id = e.petition_id AND r.occurred_at <= e.occurred_at
        ORDER BY r.occurred_at DESC, r.event_id DESC LIMIT 1),
       e.occurred_at, e.satisfaction, m.jurisdiction, m.category, m.channel
FROM unnest($1::text[]) AS t(petition_id) JOIN {q}.evaluations e ON e.petition_id = t.petition_id
JOIN {q}.matters m ON m.petition_id = e.petition_id""",
    ]


def bulk_statements(q: str) -> dict[str, str]:
    """Per state table, one whole-table INSERT computing every matter's rows at once (a bulk load, the state
    tables empty): the same rows as :func:`refresh_statements` — each LATERAL "latest/earliest row" becomes a
    DISTINCT ON over a join, each correlated EXISTS a comparison with the earliest matching time — in hash
    joins and sorts instead of one index lookup per row.  ``batch_state`` reads ``matter_state``: run it after."""
    return {
        "matter_state": f"""INSERT INTO {q}.matter_state (petition_id, resolved, replied, satisfaction, first_time)
SELECT m.petition_id, coalesce(lr.resolved, false), coalesce(rp.replied, false), ev.satisfaction,
       (coalesce(lr.resolved, false) AND lr.kind = 'reply' AND rq.petition_id IS NULL AND coalesce(bc.n, 0) = 1)
FROM {q}.matters m
LEFT JOIN (SELECT DISTINCT ON (r.petition_id) r.petition_id, r.resolved, r.kind FROM {q}.replies r
           ORDER BY r.petition_id, r.occurred_at DESC, r.recorded_at DESC, r.event_id DESC) lr
  ON lr.petition_id = m.petition_id
LEFT JOIN (SELECT r.petition_id, bool_or(r.kind = 'reply') AS replied FROM {q}.replies r GROUP BY 1) rp
  ON rp.petition_id = m.petition_id
LEFT JOIN (SELECT DISTINCT ON (e.petition_id) e.petition_id, e.satisfaction FROM {q}.evaluations e
           ORDER BY e.petition_id, e.occurred_at DESC, e.recorded_at DESC, e.event_id DESC) ev
  ON ev.petition_id = m.petition_id
LEFT JOIN (SELECT DISTINCT x.petition_id FROM {q}.requests x) rq ON rq.petition_id = m.petition_id
LEFT JOIN (SELECT n.petition_id, count(*) AS n FROM {q}.batches n GROUP BY 1) bc ON bc.petition_id = m.petition_id""",
        "batch_state": f"""INSERT INTO {q}.batch_state (event_id, petition_id, handler, handler_tier, is_skip, occurred_at,
    is_first, head_count, channel, jurisdiction, category, resolved, replied, satisfaction, first_time)
SELECT b.event_id, b.petition_id, coalesce(b.h_unit, b.unit), b.h_tier,
       (NOT b.is_first AND b.h_tier IS NOT NULL AND {q}.tier_rank(b.tier) > {q}.tier_rank(b.h_tier)
        AND NOT coalesce(ru.first_at <= b.occurred_at, false)),
       b.occurred_at, b.is_first, b.head_count, b.channel, m.jurisdiction, m.category,
       ms.resolved, ms.replied, ms.satisfaction, ms.first_time
FROM (SELECT b.*, bh.h_unit, bh.h_tier FROM {q}.batches b
      LEFT JOIN (SELECT DISTINCT ON (b.event_id) b.event_id, h.unit AS h_unit, h.tier AS h_tier
                 FROM {q}.batches b JOIN {q}.holdings h ON h.petition_id = b.petition_id AND {standing(q, 'h')}
                 ORDER BY b.event_id, (h.occurred_at <= b.occurred_at) DESC,
                          CASE WHEN h.occurred_at <= b.occurred_at THEN h.occurred_at END DESC NULLS LAST,
                          h.occurred_at, h.event_id) bh ON bh.event_id = b.event_id) b
JOIN {q}.matters m ON m.petition_id = b.petition_id
JOIN {q}.matter_state ms ON ms.petition_id = b.petition_id
LEFT JOIN (SELECT r.petition_id, r.unit, min(r.occurred_at) AS first_at FROM {q}.replies r GROUP BY 1, 2) ru
  ON ru.petition_id = b.petition_id AND ru.unit = b.h_unit""",
        "obligation_state": f"""INSERT INTO {q}.obligation_state (petition_id, unit, stage, due_at, met, jurisdiction,
    category, channel)
SELECT d.petition_id, d.unit, d.stage, d.due_at,
  CASE WHEN d.stage = 'accept' THEN coalesce(dc.first_at <= d.due_at, false)
       ELSE coalesce(rp.first_at <= d.due_at, false) END,
  m.jurisdiction, m.category, m.channel
FROM (SELECT DISTINCT ON (d.petition_id, d.unit, d.stage) d.petition_id, d.unit, d.stage, d.due_at
      FROM {q}.dues d
      WHERE d.stage IN ('accept', 'handle') AND {standing(q, 'd')}
      ORDER BY d.petition_id, d.unit, d.stage, d.occurred_at DESC, d.recorded_at DESC, d.event_id DESC,
               d.position DESC) d
JOIN {q}.matters m ON m.petition_id = d.petition_id
LEFT JOIN (SELECT x.petition_id, min(x.occurred_at) AS first_at FROM {q}.decisions x GROUP BY 1) dc
  ON dc.petition_id = d.petition_id
LEFT JOIN (SELECT x.petition_id, min(x.occurred_at) AS first_at FROM {q}.replies x WHERE x.kind = 'reply' GROUP BY 1) rp
  ON rp.petition_id = d.petition_id
WHERE d.due_at IS NOT NULL""",
        "evaluation_state": f"""INSERT INTO {q}.evaluation_state (event_id, petition_id, reply_unit, occurred_at, satisfaction,
    jurisdiction, category, channel)
SELECT e.event_id, e.petition_id, e.reply_unit, e.occurred_at, e.satisfaction, m.jurisdiction, m.category, m.channel
FROM (SELECT DISTINCT ON (e.event_id) e.event_id, e.petition_id, e.occurred_at, e.satisfaction, r.unit AS reply_unit
      FROM {q}.evaluations e
      LEFT JOIN {q}.replies r ON r.petition_id = e.petition_id AND r.occurred_at <= e.occurred_at
      ORDER BY e.event_id, r.occurred_at DESC, r.event_id DESC) e
JOIN {q}.matters m ON m.petition_id = e.petition_id""",
    }
