"""The counting rules of docs/counting-rules.md, each written once, as SQL over the fact tables.

Each rule is one set-based statement (joins, DISTINCT ON, GROUP BY: no per-row look-up), parametrised by

- ``known``: which facts count, given a fact table's alias — :func:`ever` (every fact: the current state
  of :mod:`reporting.state`) or :func:`as_of` (what had happened by ``:as_of`` and was recorded by
  ``:known_at``: the figures of :mod:`reporting.queries`);
- ``only``: which matters to compute, given a fact table's alias — :func:`everywhere` (a bulk load),
  :func:`among_ids` (the per-matter refresh: ``:ids``) or :func:`among` (the matters of a relation, e.g. a
  period's cases).

so the bulk load, the per-matter refresh and the figures as of a past time are one statement restricted in
three ways.  Parameters are named (``:as_of``), see :mod:`xinfang.sql`.
"""
from __future__ import annotations

from collections.abc import Callable

#: a fact table's alias → the SQL condition a rule puts on that table's rows
Condition = Callable[[str], str]
#: 满意率's numerator: an evaluation satisfied or basically satisfied
SATISFIED = "('satisfied', 'basically_satisfied')"


def ever(alias: str) -> str:
    return "true"


def as_of(alias: str) -> str:
    return f"{alias}.occurred_at <= :as_of AND {alias}.recorded_at <= :known_at"


def everywhere(alias: str) -> str:
    return "true"


def among_ids(alias: str) -> str:
    return f"{alias}.petition_id = ANY(:ids::text[])"


def among(relation: str) -> Condition:
    """The matters whose ids the relation (a CTE's name) lists in its ``petition_id`` column."""
    return lambda alias: f"{alias}.petition_id IN (SELECT petition_id FROM {relation})"


def standing(q: str, alias: str, known: Condition = ever) -> str:
    """A routing fact (``alias``) no withdrawal names (``petition.routing_withdrawn.v1``; ``known``: the
    withdrawals that count): withdrawn, it counts nowhere — not its holding, due time, notice or escalation."""
    return f"NOT EXISTS (SELECT 1 FROM {q}.withdrawals w WHERE w.withdrawn_id = {alias}.event_id AND {known('w')})"


def handling(q: str, batches: str, known: Condition, only: Condition) -> str:
    """Per batch of ``batches`` (a relation with event_id, petition_id — the matter it counts in —, occurred_at,
    tier and is_first): ``holder`` and ``holder_tier``, the unit holding the matter when the batch came (the
    latest standing assignment, escalation or review routing at or before it; for a batch before any, the
    first one; NULL without routing), and ``is_skip``, 越级访: a later batch registered at a tier above the
    holder's, before the holder replied."""
    return f"""SELECT b.event_id, hb.unit AS holder, hb.tier AS holder_tier,
       (NOT b.is_first AND hb.tier IS NOT NULL AND {q}.tier_rank(b.tier) > {q}.tier_rank(hb.tier)
        AND NOT coalesce(ru.first_at <= b.occurred_at, false)) AS is_skip
FROM {batches} b
LEFT JOIN (SELECT DISTINCT ON (b.event_id) b.event_id, h.unit, h.tier
           FROM {batches} b JOIN {q}.holdings h ON h.petition_id = b.petition_id
           WHERE {known('h')} AND {only('h')} AND {standing(q, 'h', known)}
           ORDER BY b.event_id, (h.occurred_at <= b.occurred_at) DESC,
                    CASE WHEN h.occurred_at <= b.occurred_at THEN h.occurred_at END DESC NULLS LAST,
                    h.occurred_at, h.event_id) hb ON hb.event_id = b.event_id
LEFT JOIN (SELECT r.petition_id, r.unit, min(r.occurred_at) AS first_at FROM {q}.replies r
           WHERE {known('r')} AND {only('r')} GROUP BY 1, 2) ru
  ON ru.petition_id = b.petition_id AND ru.unit = hb.unit"""


def outcomes(q: str, matters: str, known: Condition, only: Condition) -> str:
    """Per matter of ``matters`` (a relation with petition_id): ``resolved`` (its latest reply, review or
    re-review reply says so), ``replied`` (it had a reply), ``satisfaction`` (its latest evaluation) and
    ``first_time`` (一次办结: resolved by its first reply, no review asked, one batch only)."""
    return f"""SELECT m.petition_id, coalesce(lr.resolved, false) AS resolved, coalesce(rp.replied, false) AS replied,
       ev.satisfaction,
       (coalesce(lr.resolved, false) AND lr.kind = 'reply' AND rq.petition_id IS NULL AND coalesce(bc.n, 0) = 1)
         AS first_time
FROM {matters} m
LEFT JOIN (SELECT DISTINCT ON (r.petition_id) r.petition_id, r.resolved, r.kind FROM {q}.replies r
           WHERE {known('r')} AND {only('r')}
           ORDER BY r.petition_id, r.occurred_at DESC, r.recorded_at DESC, r.event_id DESC) lr
  ON lr.petition_id = m.petition_id
LEFT JOIN (SELECT r.petition_id, bool_or(r.kind = 'reply') AS replied FROM {q}.replies r
           WHERE {known('r')} AND {only('r')} GROUP BY 1) rp ON rp.petition_id = m.petition_id
LEFT JOIN (SELECT DISTINCT ON (e.petition_id) e.petition_id, e.satisfaction FROM {q}.evaluations e
           WHERE {known('e')} AND {only('e')}
           ORDER BY e.petition_id, e.occurred_at DESC, e.recorded_at DESC, e.event_id DESC) ev
  ON ev.petition_id = m.petition_id
LEFT JOIN (SELECT DISTINCT x.petition_id FROM {q}.requests x WHERE {known('x')} AND {only('x')}) rq
  ON rq.petition_id = m.petition_id
LEFT JOIN (SELECT n.petition_id, count(*) AS n FROM {q}.batches n WHERE {known('n')} AND {only('n')} GROUP BY 1) bc
  ON bc.petition_id = m.petition_id"""


def obligations(q: str, known: Condition, only: Condition) -> str:
    """Per (matter, unit, stage accept or handle): ``due_at``, the due time the latest standing routing set
    (after extensions and suspensions; none: no row), and ``met``, the acceptance or decision (accept) or the
    reply (handle) came by then."""
    return f"""SELECT d.petition_id, d.unit, d.stage, d.due_at,
  CASE WHEN d.stage = 'accept' THEN coalesce(dc.first_at <= d.due_at, false)
       ELSE coalesce(rp.first_at <= d.due_at, false) END AS met
FROM (SELECT DISTINCT ON (d.petition_id, d.unit, d.stage) d.petition_id, d.unit, d.stage, d.due_at
      FROM {q}.dues d
      WHERE d.stage IN ('accept', 'handle') AND {known('d')} AND {only('d')} AND {standing(q, 'd', known)}
      ORDER BY d.petition_id, d.unit, d.stage, d.occurred_at DESC, d.recorded_at DESC, d.event_id DESC,
               d.position DESC) d
LEFT JOIN (SELECT x.petition_id, min(x.occurred_at) AS first_at FROM {q}.decisions x
           WHERE {known('x')} AND {only('x')} GROUP BY 1) dc ON dc.petition_id = d.petition_id
LEFT JOIN (SELECT x.petition_id, min(x.occurred_at) AS first_at FROM {q}.replies x
           WHERE x.kind = 'reply' AND {known('x')} AND {only('x')} GROUP BY 1) rp ON rp.petition_id = d.petition_id
WHERE d.due_at IS NOT NULL"""


def evaluations(q: str, known: Condition, only: Condition, where: str = "true") -> str:
    """Per evaluation (``where``: a condition on ``e``, e.g. its period): its matter, time and satisfaction, and
    ``reply_unit``, the unit of the latest reply before it (whose work was evaluated; NULL: none)."""
    return f"""SELECT DISTINCT ON (e.event_id) e.event_id, e.petition_id, e.occurred_at, e.satisfaction,
       r.unit AS reply_unit
FROM {q}.evaluations e
LEFT JOIN {q}.replies r ON r.petition_id = e.petition_id AND r.occurred_at <= e.occurred_at
  AND {known('r')} AND {only('r')}
WHERE {known('e')} AND {only('e')} AND {where}
ORDER BY e.event_id, r.occurred_at DESC, r.event_id DESC"""


__all__ = ["SATISFIED", "Condition", "among", "among_ids", "as_of", "evaluations", "ever", "everywhere", "handling",
           "obligations", "outcomes", "standing"]
