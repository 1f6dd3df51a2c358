"""The figures as SQL over the statistics tables (plain read models, no domain objects).

Every query takes the same nine parameters:
``$1`` period start, ``$2`` period stop (exclusive), ``$3`` as_of (count what had happened:
occurred ≤ as_of), ``$4`` known_at (count what had been recorded: recorded ≤ known_at),
``$5`` jurisdiction codes (NULL: all), ``$6`` category, ``$7`` channel, ``$8`` handling unit
(NULL: any), ``$9`` the collective threshold.

Definitions (DOMAIN.md's counting rules, made precise):
- a batch belongs to the period by its occurred time; its handling unit is the unit holding the
  matter when it came (the latest assignment, escalation or review routing before it; for the
  first batch, the first routing; without routing, the registering unit);
- cases are the first batches in the period; a case's category, place and channel are its first batch's;
- skip-level: a later batch registered at a tier above the holder's tier, before the holder replied;
- resolved: the latest reply, review or re-review reply (as of) says resolved;
- an obligation is a due time routing set for a unit and stage (the latest one, after extensions
  and suspensions); it is due in the period by that time, and met if the acceptance or decision
  (stage accept) or the reply (stage handle) happened by then; one not yet due and not yet met
  does not count;
- a routing event withdrawn (``petition.routing_withdrawn.v1``, known by then) counts nowhere: not its
  overdue notice, not its escalation, not the holding or the due times it set — an offline terminal's
  acceptance within the limit is timely, whenever it was synced.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reporting.figures import BY_KEY, FIGURES
from reporting.state import standing
from reporting.store import quoted

SATISFIED = "('satisfied', 'basically_satisfied')"


@dataclass(frozen=True)
class Scope:
    """Which matters and when: everything but the period."""

    as_of: datetime
    known_at: datetime
    threshold: int
    jurisdictions: tuple[str, ...] | None = None
    category: str | None = None
    channel: str | None = None
    unit: str | None = None

    def args(self, start: datetime, stop: datetime) -> tuple:
        codes = list(self.jurisdictions) if self.jurisdictions is not None else None
        return (start, stop, self.as_of, self.known_at, codes, self.category, self.channel, self.unit, self.threshold)


def _matter_filter(alias: str) -> str:
    return (f"{alias}.occurred_at <= $3 AND {alias}.recorded_at <= $4 "
            f"AND ($5::text[] IS NULL OR {alias}.jurisdiction = ANY($5::text[])) "
            f"AND ($6::text IS NULL OR {alias}.category = $6)")


def _known(alias: str) -> str:
    return f"{alias}.occurred_at <= $3 AND {alias}.recorded_at <= $4"


def _standing(q: str, alias: str) -> str:
    """Not withdrawn by a withdrawal that had happened and was known (a withdrawal recorded later: still counted)."""
    return standing(q, alias, f" AND {_known('w')}")


def _merged_into(q: str, alias: str) -> str:
    """``mg.into_id``: the matter the batch's own matter counts in (并单), by its latest merge or unmerge that had
    happened and was known; NULL when it counts on its own."""
    return f"""LEFT JOIN LATERAL (
    SELECT CASE WHEN x.kind = 'merge' THEN x.into_id END AS into_id FROM {q}.merges x
    WHERE x.petition_id = {alias}.petition_id AND {_known('x')}
    ORDER BY x.occurred_at DESC, x.recorded_at DESC, x.event_id DESC LIMIT 1) mg ON true"""


def _holder(q: str, alias: str, matter: str) -> str:
    """``h``: the unit (and tier) holding ``matter`` when the batch ``alias`` came (for the first batch, the first)."""
    return f"""LEFT JOIN LATERAL (
    SELECT h.unit, h.tier FROM {q}.holdings h
    WHERE h.petition_id = {matter} AND {_known('h')} AND {_standing(q, 'h')}
    ORDER BY (h.occurred_at <= {alias}.occurred_at) DESC,
             CASE WHEN h.occurred_at <= {alias}.occurred_at THEN h.occurred_at END DESC NULLS LAST,
             h.occurred_at, h.event_id
    LIMIT 1) h ON true"""


def _skip(q: str, alias: str, matter: str) -> str:
    """越级访: a later batch of ``matter`` at a tier above its holder's (``h``), before the holder replied."""
    return f"""(NOT ({alias}.is_first AND mg.into_id IS NULL) AND h.tier IS NOT NULL
          AND {q}.tier_rank({alias}.tier) > {q}.tier_rank(h.tier)
          AND NOT EXISTS (SELECT 1 FROM {q}.replies r WHERE r.petition_id = {matter} AND r.unit = h.unit
                          AND r.occurred_at <= {alias}.occurred_at AND r.recorded_at <= $4)) AS is_skip"""


def ctes(schema: str, now: bool = False) -> str:
    """b: batches of the period; c: its cases; ci: what became of each case; o: obligations due in it.

    ``now``: nothing is as of a past time or known at one, so the matters' current state (kept by the
    projection, see :mod:`reporting.state`) stands in for the look-ups into their facts."""
    if now:
        return _ctes_now(schema)
    q = quoted(schema)
    return f"""
b AS MATERIALIZED (
  SELECT b.event_id, coalesce(mg.into_id, b.petition_id) AS petition_id, b.petition_id AS own_id,
         b.is_first AND mg.into_id IS NULL AS is_first, b.head_count, b.channel, b.tier, b.unit AS at_unit,
         b.occurred_at, coalesce(h.unit, b.unit) AS handler, {_skip(q, "b", "coalesce(mg.into_id, b.petition_id)")}
  FROM {q}.batches b
  {_merged_into(q, 'b')}
  JOIN {q}.matters m ON m.petition_id = coalesce(mg.into_id, b.petition_id) AND {_matter_filter('m')}
  {_holder(q, 'b', 'coalesce(mg.into_id, b.petition_id)')}
  WHERE b.occurred_at >= $1 AND b.occurred_at < $2 AND {_known('b')}
    AND ($7::text IS NULL OR b.channel = $7)
    AND ($8::text IS NULL OR coalesce(h.unit, b.unit) = $8)
),
c AS MATERIALIZED (
  SELECT petition_id, bool_or(head_count >= $9) AS collective FROM b GROUP BY petition_id HAVING bool_or(is_first)
),
ci AS MATERIALIZED (
  SELECT c.petition_id, c.collective,
         coalesce(lr.resolved, false) AS resolved,
         EXISTS (SELECT 1 FROM {q}.replies r WHERE r.petition_id = c.petition_id AND r.kind = 'reply'
                 AND {_known('r')}) AS replied,
         ev.satisfaction,
         (coalesce(lr.resolved, false) AND lr.kind = 'reply'
          AND NOT EXISTS (SELECT 1 FROM {q}.requests x WHERE x.petition_id = c.petition_id AND {_known('x')})
          AND (SELECT count(*) FROM {q}.batches n WHERE n.petition_id = c.petition_id AND {_known('n')}) = 1
         ) AS first_time
  FROM c
  LEFT JOIN LATERAL (
    SELECT r.resolved, r.kind FROM {q}.replies r WHERE r.petition_id = c.petition_id AND {_known('r')}
    ORDER BY r.occurred_at DESC, r.recorded_at DESC, r.event_id DESC LIMIT 1) lr ON true
  LEFT JOIN LATERAL (
    SELECT e.satisfaction FROM {q}.evaluations e WHERE e.petition_id = c.petition_id AND {_known('e')}
    ORDER BY e.occurred_at DESC, e.recorded_at DESC, e.event_id DESC LIMIT 1) ev ON true
),
{obligations(schema, unit_filter=True)}"""


def _state_filter(alias: str) -> str:
    return (f"($5::text[] IS NULL OR {alias}.jurisdiction = ANY($5::text[])) "
            f"AND ($6::text IS NULL OR {alias}.category = $6) AND ($7::text IS NULL OR {alias}.channel = $7)")


def _ctes_now(schema: str) -> str:
    q = quoted(schema)
    return f"""
b AS MATERIALIZED (
  SELECT s.event_id, coalesce(mg.into_id, s.petition_id) AS petition_id, s.petition_id AS own_id,
         s.is_first AND mg.into_id IS NULL AS is_first, s.head_count, coalesce(ms.is_skip, s.is_skip) AS is_skip,
         s.resolved, s.replied, s.satisfaction, s.first_time
  FROM {q}.batch_state s
  {_merged_into(q, 's')}
  LEFT JOIN LATERAL (  -- a merged matter's batch: held and skipped as the survivor's (few: one per merged batch)
    SELECT h.unit AS handler, {_skip(q, "b", "mg.into_id")} FROM {q}.batches b
    {_holder(q, 'b', 'mg.into_id')}
    WHERE b.event_id = s.event_id AND mg.into_id IS NOT NULL) ms ON true
  WHERE s.occurred_at >= $1 AND s.occurred_at < $2 AND s.occurred_at <= $3 AND $4::timestamptz IS NOT NULL
    AND {_state_filter('s')} AND ($8::text IS NULL OR coalesce(ms.handler, s.handler) = $8)
),
c AS MATERIALIZED (
  SELECT petition_id, bool_or(head_count >= $9) AS collective FROM b GROUP BY petition_id HAVING bool_or(is_first)
),
ci AS MATERIALIZED (
  SELECT c.petition_id, c.collective, f.resolved, f.replied, f.satisfaction, f.first_time
  FROM c JOIN b f ON f.petition_id = c.petition_id AND f.is_first
),
{obligations(schema, unit_filter=True, now=True)}"""


def obligations(schema: str, unit_filter: bool, now: bool = False) -> str:
    """o: the latest due time of each (matter, unit, stage) that falls in the period, and whether it was met."""
    q = quoted(schema)
    if now:
        unit = "AND ($8::text IS NULL OR s.unit = $8)" if unit_filter else ""
        return f"""
o AS MATERIALIZED (
  SELECT s.petition_id, s.unit, s.stage, s.due_at, s.met
  FROM {q}.obligation_state s
  WHERE s.due_at >= $1 AND s.due_at < $2 AND (s.due_at <= $3 OR s.met) AND {_state_filter('s')} {unit}
)"""
    unit = "AND ($8::text IS NULL OR d.unit = $8)" if unit_filter else ""
    return f"""
cand AS (
  SELECT DISTINCT petition_id, unit, stage FROM {q}.dues x
  WHERE due_at >= $1 AND due_at < $2 AND stage IN ('accept', 'handle') AND {_standing(q, 'x')}
),
d AS (
  SELECT DISTINCT ON (d.petition_id, d.unit, d.stage) d.petition_id, d.unit, d.stage, d.due_at
  FROM cand JOIN {q}.dues d USING (petition_id, unit, stage)
  JOIN {q}.matters m ON m.petition_id = d.petition_id AND {_matter_filter('m')}
  WHERE {_known('d')} AND {_standing(q, 'd')} AND ($7::text IS NULL OR m.channel = $7) {unit}
  ORDER BY d.petition_id, d.unit, d.stage, d.occurred_at DESC, d.recorded_at DESC, d.event_id DESC, d.position DESC
),
o AS MATERIALIZED (
  SELECT * FROM (
    SELECT d.petition_id, d.unit, d.stage, d.due_at,
      CASE WHEN d.stage = 'accept'
        THEN EXISTS (SELECT 1 FROM {q}.decisions x WHERE x.petition_id = d.petition_id
                     AND x.occurred_at <= d.due_at AND {_known('x')})
        ELSE EXISTS (SELECT 1 FROM {q}.replies x WHERE x.petition_id = d.petition_id AND x.kind = 'reply'
                     AND x.occurred_at <= d.due_at AND {_known('x')}) END AS met
    FROM d WHERE d.due_at >= $1 AND d.due_at < $2) due
  WHERE due.due_at <= $3 OR due.met
)"""


def stats_sql(schema: str, now: bool = False) -> str:
    """One row: every count of the counting rules for the period."""
    if now:
        return _stats_now(schema)
    return f"""WITH {ctes(schema, now)}
SELECT
  (SELECT count(*) FROM c) AS cases,
  (SELECT count(*) FROM b) AS batches,
  (SELECT coalesce(sum(head_count), 0) FROM b) AS persons,
  (SELECT count(*) FROM b WHERE NOT is_first) AS repeat_batches,
  (SELECT count(*) FROM b WHERE is_skip) AS skip_level_batches,
  (SELECT count(*) FROM c WHERE collective) AS collective_cases,
  (SELECT count(*) FROM b WHERE head_count >= $9) AS collective_batches,
  (SELECT coalesce(sum(head_count), 0) FROM b WHERE head_count >= $9) AS collective_persons,
  (SELECT count(*) FROM ci WHERE resolved) AS resolved,
  (SELECT count(*) FROM ci WHERE resolved AND collective) AS collective_resolved,
  (SELECT count(*) FROM o WHERE stage = 'accept') AS accept_due,
  (SELECT count(*) FROM o WHERE stage = 'accept' AND met) AS accepted_on_time,
  (SELECT count(*) FROM o WHERE stage = 'handle') AS handle_due,
  (SELECT count(*) FROM o WHERE stage = 'handle' AND met) AS replied_on_time,
  (SELECT count(*) FROM ci WHERE replied) AS replied,
  (SELECT count(*) FROM ci WHERE satisfaction IS NOT NULL) AS evaluated,
  (SELECT count(*) FROM ci WHERE satisfaction IN {SATISFIED}) AS satisfied,
  (SELECT count(*) FROM ci WHERE first_time) AS first_time_resolved"""


def _stats_now(schema: str) -> str:
    # one pass over the period's batch rows, which carry their matter's outcome
    return f"""WITH {ctes(schema, now=True)},
later AS (SELECT DISTINCT petition_id FROM b WHERE NOT is_first AND head_count >= $9),  -- few: no grouping of all
p AS (SELECT resolved FROM b WHERE is_first AND (head_count >= $9 OR petition_id IN (SELECT petition_id FROM later))),
bb AS (SELECT count(*) AS batches, coalesce(sum(head_count), 0) AS persons,
              count(*) FILTER (WHERE NOT is_first) AS repeat_batches, count(*) FILTER (WHERE is_skip) AS skip_level_batches,
              count(*) FILTER (WHERE head_count >= $9) AS collective_batches,
              coalesce(sum(head_count) FILTER (WHERE head_count >= $9), 0) AS collective_persons,
              count(*) FILTER (WHERE is_first) AS cases, count(*) FILTER (WHERE is_first AND resolved) AS resolved,
              count(*) FILTER (WHERE is_first AND replied) AS replied,
              count(*) FILTER (WHERE is_first AND satisfaction IS NOT NULL) AS evaluated,
              count(*) FILTER (WHERE is_first AND satisfaction IN {SATISFIED}) AS satisfied,
              count(*) FILTER (WHERE is_first AND first_time) AS first_time_resolved FROM b),
pp AS (SELECT count(*) AS collective_cases, count(*) FILTER (WHERE resolved) AS collective_resolved FROM p),
oo AS (SELECT count(*) FILTER (WHERE stage = 'accept') AS accept_due,
              count(*) FILTER (WHERE stage = 'accept' AND met) AS accepted_on_time,
              count(*) FILTER (WHERE stage = 'handle') AS handle_due,
              count(*) FILTER (WHERE stage = 'handle' AND met) AS replied_on_time FROM o)
SELECT bb.cases, bb.batches, bb.persons, bb.repeat_batches, bb.skip_level_batches, pp.collective_cases,
       bb.collective_batches, bb.collective_persons, bb.resolved, pp.collective_resolved, oo.accept_due,
       oo.accepted_on_time, oo.handle_due, oo.replied_on_time, bb.replied, bb.evaluated, bb.satisfied,
       bb.first_time_resolved
FROM bb, pp, oo"""


def units_sql(schema: str, now: bool = False, filtered: bool = True) -> str:
    """One row per unit with anything in the period: the per-unit figures. ``$10``: the units to report.
    ``filtered``: a jurisdiction, category or channel narrows the matters (else every matter counts)."""
    q = quoted(schema)
    # for the present and every matter, the facts need no join with the matters
    scoped = "" if now and not filtered else "JOIN scoped USING (petition_id)"
    satisfaction = f"""
sat AS (
  SELECT s.reply_unit AS unit, count(*) AS evaluated, count(*) FILTER (WHERE s.satisfaction IN {SATISFIED}) AS satisfied
  FROM {q}.evaluation_state s
  WHERE s.occurred_at >= $1 AND s.occurred_at < $2 AND s.occurred_at <= $3 AND {_state_filter('s')}
  GROUP BY s.reply_unit),""" if now else f"""
sat AS (
  SELECT r.unit, count(*) AS evaluated, count(*) FILTER (WHERE e.satisfaction IN {SATISFIED}) AS satisfied
  FROM {q}.evaluations e JOIN scoped USING (petition_id)
  JOIN LATERAL (SELECT r.unit FROM {q}.replies r WHERE r.petition_id = e.petition_id AND r.occurred_at <= e.occurred_at
                AND r.recorded_at <= $4 ORDER BY r.occurred_at DESC, r.event_id DESC LIMIT 1) r ON true
  WHERE e.occurred_at >= $1 AND e.occurred_at < $2 AND {_known('e')} GROUP BY r.unit),"""
    return f"""WITH {obligations(schema, unit_filter=False, now=now)},
scoped AS (SELECT m.petition_id FROM {q}.matters m WHERE {_matter_filter('m')} AND ($7::text IS NULL OR m.channel = $7)
          AND $9::int IS NOT NULL),
recv AS (
  SELECT h.unit, count(DISTINCT h.petition_id) AS n FROM {q}.holdings h {scoped}
  WHERE h.occurred_at >= $1 AND h.occurred_at < $2 AND {_known('h')} AND {_standing(q, 'h')} GROUP BY h.unit),
ovd AS (
  SELECT x.unit, count(DISTINCT (x.petition_id, x.stage, x.due_at)) AS n FROM {q}.breaches x {scoped}
  WHERE x.kind = 'overdue' AND x.occurred_at >= $1 AND x.occurred_at < $2 AND {_known('x')} AND {_standing(q, 'x')}
  GROUP BY x.unit),
esc AS (
  SELECT h.from_unit AS unit, count(*) AS n FROM {q}.holdings h {scoped}
  WHERE h.kind = 'escalated' AND h.occurred_at >= $1 AND h.occurred_at < $2 AND {_known('h')} AND {_standing(q, 'h')}
  GROUP BY h.from_unit),{satisfaction}
obl AS (
  SELECT unit, count(*) FILTER (WHERE stage = 'accept') AS accept_due,
         count(*) FILTER (WHERE stage = 'accept' AND met) AS accepted_on_time,
         count(*) FILTER (WHERE stage = 'handle') AS handle_due,
         count(*) FILTER (WHERE stage = 'handle' AND met) AS replied_on_time
  FROM o GROUP BY unit)
SELECT u.unit,
  coalesce(recv.n, 0) AS received, coalesce(obl.accept_due, 0) AS accept_due,
  coalesce(obl.accepted_on_time, 0) AS accepted_on_time, coalesce(obl.handle_due, 0) AS handle_due,
  coalesce(obl.replied_on_time, 0) AS replied_on_time, coalesce(ovd.n, 0) AS overdue,
  coalesce(esc.n, 0) AS escalated_away, coalesce(sat.evaluated, 0) AS evaluated, coalesce(sat.satisfied, 0) AS satisfied
FROM unnest($10::text[]) WITH ORDINALITY AS u(unit, n)
LEFT JOIN recv USING (unit) LEFT JOIN ovd USING (unit) LEFT JOIN esc USING (unit)
LEFT JOIN sat USING (unit) LEFT JOIN obl USING (unit)
WHERE $8::text IS NULL OR u.unit = $8
ORDER BY u.n"""


#: drill-down: count figure → the matters it counts, each with what it contributes (petition_id, n); Σ n = the figure
CONTRIBUTIONS: dict[str, str] = {
    "cases": "SELECT petition_id, 1 FROM c",
    "batches": "SELECT petition_id, count(*) FROM b GROUP BY petition_id",
    "persons": "SELECT petition_id, sum(head_count) FROM b GROUP BY petition_id",
    "repeat_batches": "SELECT petition_id, count(*) FROM b WHERE NOT is_first GROUP BY petition_id",
    "skip_level_batches": "SELECT petition_id, count(*) FROM b WHERE is_skip GROUP BY petition_id",
    "collective_cases": "SELECT petition_id, 1 FROM c WHERE collective",
    "collective_batches": "SELECT petition_id, count(*) FROM b WHERE head_count >= $9 GROUP BY petition_id",
    "collective_persons": "SELECT petition_id, sum(head_count) FROM b WHERE head_count >= $9 GROUP BY petition_id",
    "resolved": "SELECT petition_id, 1 FROM ci WHERE resolved",
    "collective_resolved": "SELECT petition_id, 1 FROM ci WHERE resolved AND collective",
    "replied": "SELECT petition_id, 1 FROM ci WHERE replied",
    "evaluated": "SELECT petition_id, 1 FROM ci WHERE satisfaction IS NOT NULL",
    "satisfied": f"SELECT petition_id, 1 FROM ci WHERE satisfaction IN {SATISFIED}",
    "first_time_resolved": "SELECT petition_id, 1 FROM ci WHERE first_time",
    # an obligation is per (matter, unit, stage): a matter escalated before its due time owes two
    "accept_due": "SELECT petition_id, count(*) FROM o WHERE stage = 'accept' GROUP BY petition_id",
    "accepted_on_time": "SELECT petition_id, count(*) FROM o WHERE stage = 'accept' AND met GROUP BY petition_id",
    "handle_due": "SELECT petition_id, count(*) FROM o WHERE stage = 'handle' GROUP BY petition_id",
    "replied_on_time": "SELECT petition_id, count(*) FROM o WHERE stage = 'handle' AND met GROUP BY petition_id",
}
#: every figure /v1/stats reports can be drilled down to: a rate to its denominator's matters, with both parts
DRILL: tuple[str, ...] = tuple(f.key for f in FIGURES)


def _contributions(figure: str) -> str:
    """``hit (petition_id, contribution, numerator, denominator)``: a count's matters with what each adds to
    it; a rate's with what each adds to its numerator and to its denominator (the rate is Σ ÷ Σ)."""
    if figure in CONTRIBUTIONS:
        return f"SELECT petition_id, n::bigint, NULL::bigint, NULL::bigint FROM ({CONTRIBUTIONS[figure]}) x (petition_id, n)"
    rate = BY_KEY[figure]
    return f"""SELECT petition_id, NULL::bigint, coalesce(t.n, 0)::bigint, coalesce(d.n, 0)::bigint
  FROM ({CONTRIBUTIONS[rate.numerator]}) t (petition_id, n)
  FULL JOIN ({CONTRIBUTIONS[rate.denominator]}) d (petition_id, n) USING (petition_id)"""


def drill_sql(schema: str, figure: str, now: bool = False) -> str:
    """The matters behind a figure, paged (``$10`` limit, NULL: all; ``$11`` offset): each matter's batches and
    persons in the period beside what it contributes, with the row count and the contributions' sums over all rows."""
    q = quoted(schema)
    # the matters' batches come in by one grouping of hit and b together, not by a join: the planner cannot
    # estimate hit's size (it guessed 1 row of 3,971 and looped over b's grouping once per row: 13 s for a year)
    return f"""WITH {ctes(schema, now)},
hit (petition_id, contribution, numerator, denominator) AS MATERIALIZED ({_contributions(figure)}),
mine AS (
  SELECT petition_id, sum(contribution)::bigint AS contribution, sum(numerator)::bigint AS numerator,
         sum(denominator)::bigint AS denominator, count(batch) AS batches, coalesce(sum(batch), 0)::bigint AS persons
  FROM (SELECT petition_id, contribution, numerator, denominator, NULL::int AS batch, true AS hit FROM hit
        UNION ALL SELECT petition_id, NULL, NULL, NULL, head_count, false FROM b) part
  GROUP BY petition_id HAVING bool_or(hit))
SELECT mine.petition_id, m.receipt_no, m.occurred_at, m.jurisdiction, m.category, m.channel, mine.batches,
       mine.persons, mine.contribution, mine.numerator, mine.denominator, count(*) OVER () AS total,
       sum(mine.contribution) OVER ()::bigint AS contribution_sum, sum(mine.numerator) OVER ()::bigint AS numerator_sum,
       sum(mine.denominator) OVER ()::bigint AS denominator_sum,
       ARRAY(SELECT DISTINCT own_id FROM b WHERE b.petition_id = mine.petition_id AND b.own_id <> b.petition_id
             ORDER BY own_id) AS merged
FROM mine LEFT JOIN {q}.matters m USING (petition_id)
ORDER BY m.occurred_at, mine.petition_id LIMIT $10 OFFSET $11"""


def series_sql(schema: str) -> str:
    """Per local month of the period: cases, batches, persons, overdue notices, escalations. ``$10``: time zone."""
    q = quoted(schema)
    return f"""WITH
bm AS (
  SELECT to_char(b.occurred_at AT TIME ZONE $10, 'YYYY-MM') AS month,
         count(*) FILTER (WHERE b.is_first) AS cases, count(*) AS batches, sum(b.head_count) AS persons,
         count(*) FILTER (WHERE b.head_count >= $9) AS collective_batches
  FROM {q}.batches b JOIN {q}.matters m ON m.petition_id = b.petition_id AND {_matter_filter('m')}
  WHERE b.occurred_at >= $1 AND b.occurred_at < $2 AND {_known('b')} AND ($7::text IS NULL OR b.channel = $7)
    AND ($8::text IS NULL OR b.unit = $8)
  GROUP BY 1),
om AS (
  SELECT to_char(x.occurred_at AT TIME ZONE $10, 'YYYY-MM') AS month, count(*) AS overdue
  FROM {q}.breaches x JOIN {q}.matters m ON m.petition_id = x.petition_id AND {_matter_filter('m')}
  WHERE x.kind = 'overdue' AND x.occurred_at >= $1 AND x.occurred_at < $2 AND {_known('x')} AND {_standing(q, 'x')}
    AND ($8::text IS NULL OR x.unit = $8) AND ($7::text IS NULL OR m.channel = $7)
  GROUP BY 1),
em AS (
  SELECT to_char(h.occurred_at AT TIME ZONE $10, 'YYYY-MM') AS month, count(*) AS escalated
  FROM {q}.holdings h JOIN {q}.matters m ON m.petition_id = h.petition_id AND {_matter_filter('m')}
  WHERE h.kind = 'escalated' AND h.occurred_at >= $1 AND h.occurred_at < $2 AND {_known('h')} AND {_standing(q, 'h')}
    AND ($8::text IS NULL OR h.from_unit = $8) AND ($7::text IS NULL OR m.channel = $7)
  GROUP BY 1)
SELECT month, coalesce(bm.cases, 0) AS cases, coalesce(bm.batches, 0) AS batches, coalesce(bm.persons, 0) AS persons,
       coalesce(bm.collective_batches, 0) AS collective_batches,
       coalesce(om.overdue, 0) AS overdue, coalesce(em.escalated, 0) AS escalated
FROM bm FULL JOIN om USING (month) FULL JOIN em USING (month) ORDER BY month"""


def breakdown_sql(schema: str, by: str) -> str:
    """Batches and persons of the period by the registering tier, or cases by category."""
    q = quoted(schema)
    column = {"tier": "b.tier", "category": "m.category", "channel": "b.channel"}[by]
    return f"""SELECT {column} AS key, count(*) FILTER (WHERE b.is_first) AS cases, count(*) AS batches,
       sum(b.head_count) AS persons
FROM {q}.batches b JOIN {q}.matters m ON m.petition_id = b.petition_id AND {_matter_filter('m')}
WHERE b.occurred_at >= $1 AND b.occurred_at < $2 AND {_known('b')} AND ($7::text IS NULL OR b.channel = $7)
  AND ($8::text IS NULL OR b.unit = $8) AND $9::int IS NOT NULL
GROUP BY 1 ORDER BY 3 DESC"""
