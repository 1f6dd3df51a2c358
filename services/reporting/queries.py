"""The figures as SQL over the statistics tables (plain read models, no domain objects).

The statements are :class:`xinfang.sql.Named`; their parameters are those of :meth:`Scope.values`:
``:start``, ``:stop`` the period (stop exclusive), ``:as_of`` (count what had happened: occurred ≤ as_of),
``:known_at`` (count what had been recorded: recorded ≤ known_at), ``:jurisdictions`` (codes; NULL: all),
``:category``, ``:channel``, ``:unit`` (the handling unit; NULL: any), ``:threshold`` (collective); some
take more (``:units``, ``:limit``, ``:offset``, ``:zone``), named where they are.

The counting rules themselves (a batch's holder, skip-level, a matter's outcome, obligations, an
evaluation's unit) are written once in :mod:`reporting.rules` and defined in docs/counting-rules.md; here
they are restricted to a period's matters and to what was known.  Beside them:
- a batch belongs to the period by its occurred time; cases are the first batches in the period; a case's
  category, place and channel are its first batch's;
- an obligation due in the period counts if met or if its due time had passed by as_of;
- a routing event withdrawn (known by then) counts nowhere (:func:`reporting.rules.standing`) — an offline
  terminal's acceptance within the limit is timely, whenever it was synced.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reporting import rollups, rules
from reporting.figures import BY_KEY, FIGURES
from reporting.rules import SATISFIED, among, as_of
from reporting.store import quoted
from xinfang.sql import Named, named


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

    def values(self, start: datetime, stop: datetime) -> dict[str, Any]:
        """The statements' parameters for the period [start, stop)."""
        codes = list(self.jurisdictions) if self.jurisdictions is not None else None
        return {"start": start, "stop": stop, "as_of": self.as_of, "known_at": self.known_at, "jurisdictions": codes,
                "category": self.category, "channel": self.channel, "unit": self.unit, "threshold": self.threshold}


def _matter_filter(alias: str) -> str:
    return (f"{as_of(alias)} AND {_places(alias)} "
            f"AND (:category::text IS NULL OR {alias}.category = :category)")


def _places(alias: str) -> str:
    """The row's place is in scope (``:jurisdictions``; NULL: all)."""
    return f"(:jurisdictions::text[] IS NULL OR {alias}.jurisdiction = ANY(:jurisdictions::text[]))"


def _state_filter(alias: str) -> str:
    return (f"{_places(alias)} "
            f"AND (:category::text IS NULL OR {alias}.category = :category) "
            f"AND (:channel::text IS NULL OR {alias}.channel = :channel)")


def _standing(q: str, alias: str) -> str:
    """Not withdrawn by a withdrawal that had happened and was known (a withdrawal recorded later: still counted)."""
    return rules.standing(q, alias, as_of)


def _merged_into(q: str, alias: str) -> str:
    """``mg.into_id``: the matter the batch's own matter counts in (并单), by its latest merge or unmerge that had
    happened and was known; NULL when it counts on its own."""
    return f"""LEFT JOIN LATERAL (
    SELECT CASE WHEN x.kind = 'merge' THEN x.into_id END AS into_id FROM {q}.merges x
    WHERE x.petition_id = {alias}.petition_id AND {as_of('x')}
    ORDER BY x.occurred_at DESC, x.recorded_at DESC, x.event_id DESC LIMIT 1) mg ON true"""


def ctes(schema: str, now: bool = False) -> str:
    """b: batches of the period; c: its cases; ci: what became of each case; o: obligations due in it.

    ``now``: nothing is as of a past time or known at one, so the matters' current state (kept by the
    projection, see :mod:`reporting.state`) stands in for the look-ups into their facts."""
    if now:
        return _ctes_now(schema)
    q = quoted(schema)
    # b0: the period's batches, each in the matter it counts in (is_first: a merged matter's first batch is not)
    return f"""
b0 AS MATERIALIZED (
  SELECT b.event_id, coalesce(mg.into_id, b.petition_id) AS petition_id, b.petition_id AS own_id,
         b.is_first AND mg.into_id IS NULL AS is_first, b.head_count, b.channel, b.tier, b.unit, b.occurred_at,
         m.jurisdiction
  FROM {q}.batches b
  {_merged_into(q, 'b')}
  JOIN {q}.matters m ON m.petition_id = coalesce(mg.into_id, b.petition_id) AND {_matter_filter('m')}
  WHERE b.occurred_at >= :start AND b.occurred_at < :stop AND {as_of('b')}
    AND (:channel::text IS NULL OR b.channel = :channel)
),
b AS MATERIALIZED (
  SELECT b0.event_id, b0.petition_id, b0.own_id, b0.is_first, b0.head_count, b0.channel, b0.tier,
         b0.unit AS at_unit, b0.occurred_at, coalesce(hb.holder, b0.unit) AS handler, hb.is_skip, b0.jurisdiction
  FROM b0 JOIN ({rules.handling(q, 'b0', as_of, among('b0'))}) hb USING (event_id)
  WHERE :unit::text IS NULL OR coalesce(hb.holder, b0.unit) = :unit
),
c AS MATERIALIZED (
  SELECT petition_id, bool_or(head_count >= :threshold) AS collective FROM b GROUP BY petition_id HAVING bool_or(is_first)
),
ci AS MATERIALIZED (
  SELECT c.petition_id, c.collective, o.resolved, o.replied, o.satisfaction, o.first_time
  FROM c JOIN ({rules.outcomes(q, 'c', as_of, among('c'))}) o USING (petition_id)
),
{obligations(schema, unit_filter=True)}"""


def _ctes_now(schema: str, rolled: bool = False) -> str:
    """``rolled``: b and o hold the period but the months the roll-ups answer (see :func:`_ctes_rolled`)."""
    q = quoted(schema)
    if rolled:  # two scans: the rows part by time, the merged matters' batches of the roll-up's months by matter
        rows = f"""(SELECT s.*, false AS rolled FROM {q}.batch_state s WHERE {_rows_part('s.occurred_at')}
        UNION ALL
        SELECT s.*, true FROM {q}.batch_state s
        WHERE {_cut_part('s.occurred_at')} AND s.petition_id IN (SELECT x.petition_id FROM {q}.merges x))"""
    else:
        rows = f"(SELECT s.*, false AS rolled FROM {q}.batch_state s WHERE s.occurred_at >= :start AND s.occurred_at < :stop)"
    cases = """
c AS MATERIALIZED (
  SELECT petition_id, bool_or(head_count >= :threshold) AS collective FROM b GROUP BY petition_id HAVING bool_or(is_first)
),
ci AS MATERIALIZED (
  SELECT c.petition_id, c.collective, f.resolved, f.replied, f.satisfaction, f.first_time
  FROM c JOIN b f ON f.petition_id = c.petition_id AND f.is_first
),""" if not rolled else ""
    # a merged matter's batch (few: one per merged batch) is held and skipped as the survivor's: its holder and
    # skip are worked out here, the others' come from batch_state
    return f"""
s AS MATERIALIZED (
  SELECT s.*, mg.into_id FROM {rows} s
  {_merged_into(q, 's')}
  WHERE s.occurred_at <= :as_of AND {_state_filter('s')}
),
mb AS MATERIALIZED (
  SELECT b.event_id, s.into_id AS petition_id, b.occurred_at, b.tier, false AS is_first
  FROM s JOIN {q}.batches b USING (event_id) WHERE s.into_id IS NOT NULL
),
ms AS (SELECT hb.event_id, hb.holder AS handler, hb.is_skip FROM ({rules.handling(q, 'mb', as_of, among('mb'))}) hb),
b AS MATERIALIZED (
  SELECT s.event_id, coalesce(s.into_id, s.petition_id) AS petition_id, s.petition_id AS own_id,
         s.is_first AND s.into_id IS NULL AS is_first, s.head_count, coalesce(ms.is_skip, s.is_skip) AS is_skip,
         s.resolved, s.replied, s.satisfaction, s.first_time, coalesce(ms.handler, s.handler) AS handler,
         s.jurisdiction, s.rolled
  FROM s LEFT JOIN ms USING (event_id)
  WHERE :unit::text IS NULL OR coalesce(ms.handler, s.handler) = :unit
),{cases}
{obligations(schema, unit_filter=True, now=True, rolled=rolled)}"""


def _rows_part(column: str) -> str:
    """The period but the months the roll-up answers (``:cut_from`` … ``:cut_to``, see :func:`reporting.rollups.cut`)."""
    return (f"(({column} >= :start AND {column} < :cut_from) OR ({column} >= :cut_to AND {column} < :stop))")


def _cut_part(column: str) -> str:
    return f"({column} >= :cut_from AND {column} < :cut_to)"


def _ctes_rolled(schema: str) -> str:
    """The present's CTEs for a period of which whole months are read from the roll-ups (:mod:`reporting.rollups`):
    ``kb`` per (handler, place) what the batches add to each count, ``ko`` per (unit, place, stage) the obligations
    due and met — the rows of the rest of the period (b, o: the counting rules of :func:`_ctes_now`), the roll-up's
    months, and for a merged matter's batch in those months (counted there as its own) the difference between
    what it adds as the survivor's and as its own. No category or channel (:func:`reporting.rollups.usable`)."""
    q = quoted(schema)
    rows = _ctes_now(schema, rolled=True)
    adds = {name: expr for name, expr in rollups.BATCH.items()}
    summed = ", ".join(f"sum({expr}) AS {name}" for name, expr in adds.items())
    negated = ", ".join(f"-sum({expr}) AS {name}" for name, expr in adds.items())
    columns = ", ".join(f"r.{name}" for name in adds)
    places = _places("r")
    return f"""{rows},
kb AS (
  SELECT handler, jurisdiction, {summed} FROM b WHERE NOT rolled OR own_id <> petition_id GROUP BY 1, 2
  UNION ALL
  SELECT handler, jurisdiction, {negated} FROM (
    SELECT s.handler, s.jurisdiction, s.is_first, s.is_skip, s.head_count, s.resolved, s.replied, s.satisfaction,
           s.first_time FROM s WHERE {_cut_part('s.occurred_at')} AND s.into_id IS NOT NULL
      AND (:unit::text IS NULL OR s.handler = :unit)) own GROUP BY 1, 2
  UNION ALL
  SELECT r.handler, r.jurisdiction, {columns} FROM {q}.batch_rollup r
  WHERE {_cut_part('r.month')} AND {places} AND (:unit::text IS NULL OR r.handler = :unit)
),
{_rolled_obligations(q)}"""


def _rolled_obligations(q: str, by_place: bool = True) -> str:
    """ko: per (unit, place, stage) the obligations due and met: o's rows and the roll-up's months (``by_place``
    False: per (unit, stage), the place NULL)."""
    places = _places("r")
    place, grouping = ("jurisdiction", "1, 2, 3") if by_place else ("NULL::text", "1, 3")
    return f"""ko AS (
  SELECT unit, {place} AS jurisdiction, stage, count(*) AS due, count(*) FILTER (WHERE met) AS met FROM o
  GROUP BY {grouping}
  UNION ALL
  SELECT r.unit, r.jurisdiction, r.stage, r.due, r.met FROM {q}.obligation_rollup r
  WHERE {_cut_part('r.month')} AND {places} AND (:unit::text IS NULL OR r.unit = :unit)
)"""


def obligations(schema: str, unit_filter: bool, now: bool = False, rolled: bool = False) -> str:
    """o: the obligations (:func:`reporting.rules.obligations`) due in the period, each counted if met or if its
    due time had passed by as_of (``rolled``: but those due in the months the roll-up answers)."""
    q = quoted(schema)
    if now:
        unit = "AND (:unit::text IS NULL OR s.unit = :unit)" if unit_filter else ""
        # rolled: the period before the roll-up's months and after them, each one range of an index holding the row
        ranges = (("s.due_at >= :start AND s.due_at < :cut_from", "s.due_at >= :cut_to AND s.due_at < :stop") if rolled
                  else ("s.due_at >= :start AND s.due_at < :stop",))
        return "\no AS MATERIALIZED (" + "\n  UNION ALL".join(f"""
  SELECT s.petition_id, s.unit, s.stage, s.due_at, s.met, s.jurisdiction
  FROM {q}.obligation_state s
  WHERE {due} AND (s.due_at <= :as_of OR s.met) AND {_state_filter('s')} {unit}""" for due in ranges) + "\n)"
    unit = "AND (:unit::text IS NULL OR d.unit = :unit)" if unit_filter else ""
    # the matters with a due time in the period: a (matter, unit, stage) whose latest due time is in it has one
    return f"""
cand AS MATERIALIZED (
  SELECT DISTINCT petition_id FROM {q}.dues x
  WHERE due_at >= :start AND due_at < :stop AND stage IN ('accept', 'handle') AND {_standing(q, 'x')}
),
o AS MATERIALIZED (
  SELECT d.petition_id, d.unit, d.stage, d.due_at, d.met, m.jurisdiction
  FROM ({rules.obligations(q, as_of, among('cand'))}) d
  JOIN {q}.matters m ON m.petition_id = d.petition_id AND {_matter_filter('m')}
  WHERE d.due_at >= :start AND d.due_at < :stop AND (d.due_at <= :as_of OR d.met)
    AND (:channel::text IS NULL OR m.channel = :channel) {unit}
)"""


def stats_sql(schema: str, now: bool = False) -> Named:
    """One row: every count of the counting rules for the period."""
    if now:
        return named(_stats_now(schema))
    return named(f"""WITH {ctes(schema, now)}
SELECT
  (SELECT count(*) FROM c) AS cases,
  (SELECT count(*) FROM b) AS batches,
  (SELECT coalesce(sum(head_count), 0) FROM b) AS persons,
  (SELECT count(*) FROM b WHERE NOT is_first) AS repeat_batches,
  (SELECT count(*) FROM b WHERE is_skip) AS skip_level_batches,
  (SELECT count(*) FROM c WHERE collective) AS collective_cases,
  (SELECT count(*) FROM b WHERE head_count >= :threshold) AS collective_batches,
  (SELECT coalesce(sum(head_count), 0) FROM b WHERE head_count >= :threshold) AS collective_persons,
  (SELECT count(*) FROM ci WHERE resolved) AS resolved,
  (SELECT count(*) FROM ci WHERE resolved AND collective) AS collective_resolved,
  (SELECT count(*) FROM o WHERE stage = 'accept') AS accept_due,
  (SELECT count(*) FROM o WHERE stage = 'accept' AND met) AS accepted_on_time,
  (SELECT count(*) FROM o WHERE stage = 'handle') AS handle_due,
  (SELECT count(*) FROM o WHERE stage = 'handle' AND met) AS replied_on_time,
  (SELECT count(*) FROM ci WHERE replied) AS replied,
  (SELECT count(*) FROM ci WHERE satisfaction IS NOT NULL) AS evaluated,
  (SELECT count(*) FROM ci WHERE satisfaction IN {SATISFIED}) AS satisfied,
  (SELECT count(*) FROM ci WHERE first_time) AS first_time_resolved""")


def _stats_now(schema: str) -> str:
    # one pass over the period's batch rows, which carry their matter's outcome
    return f"""WITH {ctes(schema, now=True)},
later AS (SELECT DISTINCT petition_id FROM b WHERE NOT is_first AND head_count >= :threshold),  -- few: no grouping of all
p AS (SELECT resolved FROM b WHERE is_first AND (head_count >= :threshold OR petition_id IN (SELECT petition_id FROM later))),
bb AS (SELECT count(*) AS batches, coalesce(sum(head_count), 0) AS persons,
              count(*) FILTER (WHERE NOT is_first) AS repeat_batches, count(*) FILTER (WHERE is_skip) AS skip_level_batches,
              count(*) FILTER (WHERE head_count >= :threshold) AS collective_batches,
              coalesce(sum(head_count) FILTER (WHERE head_count >= :threshold), 0) AS collective_persons,
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


def units_sql(schema: str, now: bool = False, filtered: bool = True) -> Named:
    """One row per unit with anything in the period: the per-unit figures. ``:units``: the units to report.
    ``filtered``: a jurisdiction, category or channel narrows the matters (else every matter counts).
    For the present (``now``), whole months from the roll-ups (``:cut_from``, ``:cut_to``, see
    :func:`_units_now`)."""
    if now:
        return named(_units_now(schema))
    q = quoted(schema)
    scoped = "JOIN scoped USING (petition_id)"
    return named(f"""WITH {obligations(schema, unit_filter=False)},
scoped AS (SELECT m.petition_id FROM {q}.matters m
          WHERE {_matter_filter('m')} AND (:channel::text IS NULL OR m.channel = :channel)),
recv AS (
  SELECT h.unit, count(DISTINCT h.petition_id) AS n FROM {q}.holdings h {scoped}
  WHERE h.occurred_at >= :start AND h.occurred_at < :stop AND {as_of('h')} AND {_standing(q, 'h')} GROUP BY h.unit),
ovd AS (
  SELECT x.unit, count(DISTINCT (x.petition_id, x.stage, x.due_at)) AS n FROM {q}.breaches x {scoped}
  WHERE x.kind = 'overdue' AND x.occurred_at >= :start AND x.occurred_at < :stop AND {as_of('x')} AND {_standing(q, 'x')}
  GROUP BY x.unit),
esc AS (
  SELECT h.from_unit AS unit, count(*) AS n FROM {q}.holdings h {scoped}
  WHERE h.kind = 'escalated' AND h.occurred_at >= :start AND h.occurred_at < :stop AND {as_of('h')} AND {_standing(q, 'h')}
  GROUP BY h.from_unit),
sat AS (
  SELECT e.reply_unit AS unit, count(*) AS evaluated, count(*) FILTER (WHERE e.satisfaction IN {SATISFIED}) AS satisfied
  FROM ({rules.evaluations(q, as_of, among('scoped'), "e.occurred_at >= :start AND e.occurred_at < :stop")}) e
  GROUP BY e.reply_unit),
obl AS ({_unit_obligations("(SELECT unit, stage, count(*) AS due, count(*) FILTER (WHERE met) AS met FROM o GROUP BY 1, 2)")})
{_units_select()}""")


def _unit_obligations(counted: str) -> str:
    return f"""
  SELECT unit, {_total("due) FILTER (WHERE stage = 'accept'")} AS accept_due,
         {_total("met) FILTER (WHERE stage = 'accept'")} AS accepted_on_time,
         {_total("due) FILTER (WHERE stage = 'handle'")} AS handle_due,
         {_total("met) FILTER (WHERE stage = 'handle'")} AS replied_on_time
  FROM {counted} x GROUP BY unit"""


def _units_select() -> str:
    return """SELECT u.unit,
  coalesce(recv.n, 0) AS received, coalesce(obl.accept_due, 0) AS accept_due,
  coalesce(obl.accepted_on_time, 0) AS accepted_on_time, coalesce(obl.handle_due, 0) AS handle_due,
  coalesce(obl.replied_on_time, 0) AS replied_on_time, coalesce(ovd.n, 0) AS overdue,
  coalesce(esc.n, 0) AS escalated_away, coalesce(sat.evaluated, 0) AS evaluated, coalesce(sat.satisfied, 0) AS satisfied
FROM unnest(:units::text[]) WITH ORDINALITY AS u(unit, n)
LEFT JOIN recv USING (unit) LEFT JOIN ovd USING (unit) LEFT JOIN esc USING (unit)
LEFT JOIN sat USING (unit) LEFT JOIN obl USING (unit)
WHERE :unit::text IS NULL OR u.unit = :unit
ORDER BY u.n"""


def _once_in_period(q: str, state: str, rollup: str, column: str) -> str:
    """Per unit, the matters (received) or obligations (let pass) counted once in the period, from the state rows
    with the time of the previous one of their kind (``prev_at``): the roll-up's months count each once a month,
    less those counted already in an earlier month of the period; the rest of the period counts those without one
    before the period."""
    places = _places("r")
    return f"""SELECT unit, sum(n)::bigint AS n FROM (
    SELECT r.unit, r.{column} AS n FROM {q}.{rollup} r WHERE {_cut_part('r.month')} AND {places}
    UNION ALL
    SELECT s.unit, -count(*) FROM {q}.{state} s
    WHERE s.prev_at IS NOT NULL AND {_cut_part('s.occurred_at')} AND s.prev_at >= :start
      AND s.prev_at < {rollups.month('s.occurred_at')} AND {_state_filter('s')} GROUP BY 1
    UNION ALL
    SELECT s.unit, count(*) FROM {q}.{state} s
    WHERE {_rows_part('s.occurred_at')} AND s.occurred_at <= :as_of AND (s.prev_at IS NULL OR s.prev_at < :start)
      AND {_state_filter('s')} GROUP BY 1) x
  GROUP BY unit"""


def _units_now(schema: str) -> str:
    """The per-unit table for the present: received (a matter once per unit), overdue notices (an obligation once),
    escalated away, satisfaction and obligations, each the roll-up's whole months (a category or channel: none, the
    caller's ``rollups.no_cut``) and the rest of the period from the state rows, in the full query's rules."""
    q = quoted(schema)
    places = _places("r")
    rows = f"{_rows_part('s.occurred_at')} AND s.occurred_at <= :as_of AND {_state_filter('s')}"
    return f"""WITH {obligations(schema, unit_filter=False, now=True, rolled=True)},
{_rolled_obligations(q, by_place=False)},
recv AS ({_once_in_period(q, 'holding_state', 'holding_rollup', 'received')}),
ovd AS ({_once_in_period(q, 'breach_state', 'breach_rollup', 'overdue')}),
esc AS (
  SELECT unit, sum(n)::bigint AS n FROM (
    SELECT r.from_unit AS unit, r.escalated AS n FROM {q}.holding_rollup r
    WHERE {_cut_part('r.month')} AND {places} AND r.escalated > 0
    UNION ALL
    SELECT s.from_unit, count(*) FROM {q}.holding_state s WHERE s.kind = 'escalated' AND {rows} GROUP BY 1) x
  GROUP BY unit),
sat AS (
  SELECT unit, sum(evaluated)::bigint AS evaluated, sum(satisfied)::bigint AS satisfied FROM (
    SELECT r.reply_unit AS unit, r.evaluated, r.satisfied FROM {q}.evaluation_rollup r
    WHERE {_cut_part('r.month')} AND {places}
    UNION ALL
    SELECT s.reply_unit, count(*), count(*) FILTER (WHERE s.satisfaction IN {SATISFIED}) FROM {q}.evaluation_state s
    WHERE {rows} GROUP BY 1) x
  GROUP BY unit),
obl AS ({_unit_obligations("ko")})
{_units_select()}"""

def assessment_sql(schema: str, now: bool = False) -> Named:
    """The counts the assessment ranks on, per unit of ``:units`` (a batch's and a case's by its handler, an
    obligation's by the unit owing it, an escalation's received by the unit it went to and caused by the one it
    left) and per place of ``:places`` (by the matter's place, no escalations) — each the count of
    ``GET /v1/stats`` with that unit or place — in one statement: the period's CTEs are worked out once."""
    q = quoted(schema)
    groups = []
    for by, keys, batch, obligation in (("unit", ":units", "b.handler", "o.unit"),
                                        ("jurisdiction", ":places", "b.jurisdiction", "o.jurisdiction")):
        escalations = "LEFT JOIN eu USING (key)" if by == "unit" else ""
        groups.append(f"""{_assessment_row(by, keys, "cu")}
LEFT JOIN (
  SELECT {batch} AS key, count(*) AS batches, count(*) FILTER (WHERE NOT b.is_first) AS repeat_batches,
         count(*) FILTER (WHERE b.is_skip) AS skip_level_batches
  FROM b GROUP BY 1) bu USING (key)
LEFT JOIN (
  SELECT {batch} AS key, count(*) FILTER (WHERE ci.replied) AS replied,
         count(*) FILTER (WHERE ci.satisfaction IS NOT NULL) AS evaluated,
         count(*) FILTER (WHERE ci.satisfaction IN {SATISFIED}) AS satisfied,
         count(*) FILTER (WHERE ci.first_time) AS first_time_resolved
  FROM ci JOIN b ON b.petition_id = ci.petition_id AND b.is_first GROUP BY 1) cu USING (key)
LEFT JOIN (
  SELECT {obligation} AS key, count(*) FILTER (WHERE o.stage = 'accept') AS accept_due,
         count(*) FILTER (WHERE o.stage = 'accept' AND o.met) AS accepted_on_time,
         count(*) FILTER (WHERE o.stage = 'handle') AS handle_due,
         count(*) FILTER (WHERE o.stage = 'handle' AND o.met) AS replied_on_time,
         count(*) FILTER (WHERE NOT o.met) AS overdue_obligations
  FROM o GROUP BY 1) ou USING (key)
{escalations}""")
    return named(f"""WITH {ctes(schema, now)},
{_escalations(q)}
{"UNION ALL".join(groups)}""")


def _assessment_row(by: str, keys: str, cases: str) -> str:
    """The assessment's row per key of ``keys`` (``:units``, ``:places``), from the groupings joined after it: bu
    (batches), ``cases`` (replied, evaluated …), ou (obligations), eu (escalations, units only)."""
    received, caused = ("coalesce(eu.escalations_received, 0)", "coalesce(eu.escalations_caused, 0)") if by == "unit" \
        else ("0", "0")
    return f"""
SELECT '{by}' AS by, k.key, coalesce(bu.batches, 0) AS batches, coalesce(bu.repeat_batches, 0) AS repeat_batches,
       coalesce(bu.skip_level_batches, 0) AS skip_level_batches, coalesce({cases}.replied, 0) AS replied,
       coalesce({cases}.evaluated, 0) AS evaluated, coalesce({cases}.satisfied, 0) AS satisfied,
       coalesce({cases}.first_time_resolved, 0) AS first_time_resolved, coalesce(ou.accept_due, 0) AS accept_due,
       coalesce(ou.accepted_on_time, 0) AS accepted_on_time, coalesce(ou.handle_due, 0) AS handle_due,
       coalesce(ou.replied_on_time, 0) AS replied_on_time, coalesce(ou.overdue_obligations, 0) AS overdue_obligations,
       {received} AS escalations_received, {caused} AS escalations_caused
FROM unnest({keys}::text[]) AS k(key)"""


def _escalations(q: str) -> str:
    """eu: per unit of ``:units``, the escalations of the period to it and away from it."""
    # grouped by each side apart (a join of every escalation with every unit on either side was 1.2 s of 1.6)
    return f"""eh AS MATERIALIZED (
  SELECT h.unit, h.from_unit FROM {q}.holdings h
  WHERE h.kind = 'escalated' AND h.occurred_at >= :start AND h.occurred_at < :stop AND {as_of('h')}
    AND {_standing(q, 'h')}),
eu AS (
  SELECT key, sum(received)::bigint AS escalations_received, sum(caused)::bigint AS escalations_caused
  FROM (SELECT unit AS key, count(*) AS received, 0 AS caused FROM eh GROUP BY 1
        UNION ALL SELECT from_unit, 0, count(*) FROM eh GROUP BY 1) x
  WHERE key = ANY(:units::text[])
  GROUP BY key)"""


def _rolled_escalations(q: str) -> str:
    """eu (:func:`_escalations`) for the present: the roll-up's months (holding_rollup) and the rest of the period
    from the standing holdings (holding_state)."""
    return f"""eh (unit, from_unit, n) AS (
  SELECT r.unit, r.from_unit, r.escalated FROM {q}.holding_rollup r WHERE {_cut_part('r.month')} AND r.escalated > 0
  UNION ALL
  SELECT s.unit, s.from_unit, 1 FROM {q}.holding_state s
  WHERE s.kind = 'escalated' AND {_rows_part('s.occurred_at')} AND s.occurred_at <= :as_of),
eu AS (
  SELECT key, sum(received)::bigint AS escalations_received, sum(caused)::bigint AS escalations_caused
  FROM (SELECT unit AS key, sum(n) AS received, 0 AS caused FROM eh GROUP BY 1
        UNION ALL SELECT from_unit, 0, sum(n) FROM eh GROUP BY 1) x
  WHERE key = ANY(:units::text[])
  GROUP BY key)"""


#: drill-down: count figure → the matters it counts, each with what it contributes (petition_id, n); Σ n = the figure
CONTRIBUTIONS: dict[str, str] = {
    "cases": "SELECT petition_id, 1 FROM c",
    "batches": "SELECT petition_id, count(*) FROM b GROUP BY petition_id",
    "persons": "SELECT petition_id, sum(head_count) FROM b GROUP BY petition_id",
    "repeat_batches": "SELECT petition_id, count(*) FROM b WHERE NOT is_first GROUP BY petition_id",
    "skip_level_batches": "SELECT petition_id, count(*) FROM b WHERE is_skip GROUP BY petition_id",
    "collective_cases": "SELECT petition_id, 1 FROM c WHERE collective",
    "collective_batches": "SELECT petition_id, count(*) FROM b WHERE head_count >= :threshold GROUP BY petition_id",
    "collective_persons": "SELECT petition_id, sum(head_count) FROM b WHERE head_count >= :threshold GROUP BY petition_id",
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
#: the series' events behind the dashboard's chart of them (not figures of /v1/stats): (petition_id, n) per schema
EVENT_CONTRIBUTIONS: dict[str, Callable[[str], str]] = {
    "overdue_notices": lambda q: f"SELECT x.petition_id, count(*) FROM {overdue_notices(q)} GROUP BY x.petition_id",
    "escalations": lambda q: f"SELECT h.petition_id, count(*) FROM {escalations(q)} GROUP BY h.petition_id",
}
#: a count of batches narrowed to those registered at one tier (``:tier``, the batch's own ``tier``): the tier
#: breakdown of the series (both clocks' ``b`` keep the batch's event id; the present's keeps no tier)
AT_TIER: dict[str, Callable[[str], str]] = {
    "batches": lambda q: f"SELECT b.petition_id, count(*) FROM b JOIN {q}.batches r USING (event_id) "
                         "WHERE r.tier = :tier GROUP BY b.petition_id",
    "persons": lambda q: f"SELECT b.petition_id, sum(b.head_count) FROM b JOIN {q}.batches r USING (event_id) "
                         "WHERE r.tier = :tier GROUP BY b.petition_id",
}
#: every figure /v1/stats reports can be drilled down to (a rate to its denominator's matters, with both parts),
#: and the series' overdue notices and escalations
DRILL: tuple[str, ...] = (*(f.key for f in FIGURES), *EVENT_CONTRIBUTIONS)


def _contributions(figure: str, q: str, tier: bool = False) -> str:
    """``hit (petition_id, contribution, numerator, denominator)``: a count's matters with what each adds to
    it; a rate's with what each adds to its numerator and to its denominator (the rate is Σ ÷ Σ). ``tier``: the
    batches or persons registered at ``:tier`` only."""
    count = (AT_TIER[figure](q) if tier else EVENT_CONTRIBUTIONS[figure](q) if figure in EVENT_CONTRIBUTIONS
             else CONTRIBUTIONS.get(figure))
    if count is not None:
        return f"SELECT petition_id, n::bigint, NULL::bigint, NULL::bigint FROM ({count}) x (petition_id, n)"
    rate = BY_KEY[figure]
    return f"""SELECT petition_id, NULL::bigint, coalesce(t.n, 0)::bigint, coalesce(d.n, 0)::bigint
  FROM ({CONTRIBUTIONS[rate.numerator]}) t (petition_id, n)
  FULL JOIN ({CONTRIBUTIONS[rate.denominator]}) d (petition_id, n) USING (petition_id)"""


def drill_sql(schema: str, figure: str, now: bool = False, tier: bool = False) -> Named:
    """The matters behind a figure, paged (``:limit``, NULL: all; ``:offset``): each matter's batches and
    persons in the period beside what it contributes, with the row count and the contributions' sums over all rows.
    ``tier``: batches or persons registered at ``:tier`` only (see :data:`AT_TIER`)."""
    q = quoted(schema)
    # the matters' batches come in by one grouping of hit and b together, not by a join: the planner cannot
    # estimate hit's size (it guessed 1 row of 3,971 and looped over b's grouping once per row: 13 s for a year)
    return named(f"""WITH {ctes(schema, now)},
hit (petition_id, contribution, numerator, denominator) AS MATERIALIZED ({_contributions(figure, q, tier)}),
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
ORDER BY m.occurred_at, mine.petition_id LIMIT :limit OFFSET :offset""")


def overdue_notices(q: str) -> str:
    """``x``: the period's overdue notices (超期: a unit's deadline passed unmet), of the matters in scope, by the
    unit that let it pass — the series' month by month, the drill-down's matter by matter."""
    return f"""{q}.breaches x JOIN {q}.matters m ON m.petition_id = x.petition_id AND {_matter_filter('m')}
  WHERE x.kind = 'overdue' AND x.occurred_at >= :start AND x.occurred_at < :stop AND {as_of('x')} AND {_standing(q, 'x')}
    AND (:unit::text IS NULL OR x.unit = :unit) AND (:channel::text IS NULL OR m.channel = :channel)"""


def escalations(q: str) -> str:
    """``h``: the period's escalations (升级) of the matters in scope, by the unit escalated from."""
    return f"""{q}.holdings h JOIN {q}.matters m ON m.petition_id = h.petition_id AND {_matter_filter('m')}
  WHERE h.kind = 'escalated' AND h.occurred_at >= :start AND h.occurred_at < :stop AND {as_of('h')} AND {_standing(q, 'h')}
    AND (:unit::text IS NULL OR h.from_unit = :unit) AND (:channel::text IS NULL OR m.channel = :channel)"""


def series_sql(schema: str) -> Named:
    """Per local month of the period: cases, batches, persons, overdue notices, escalations. ``:zone``: the time zone."""
    q = quoted(schema)
    return named(f"""WITH
bm AS (
  SELECT to_char(b.occurred_at AT TIME ZONE :zone, 'YYYY-MM') AS month,
         count(*) FILTER (WHERE b.is_first) AS cases, count(*) AS batches, sum(b.head_count) AS persons,
         count(*) FILTER (WHERE b.head_count >= :threshold) AS collective_batches
  FROM {q}.batches b JOIN {q}.matters m ON m.petition_id = b.petition_id AND {_matter_filter('m')}
  WHERE b.occurred_at >= :start AND b.occurred_at < :stop AND {as_of('b')} AND (:channel::text IS NULL OR b.channel = :channel)
    AND (:unit::text IS NULL OR b.unit = :unit)
  GROUP BY 1),
om AS (
  SELECT to_char(x.occurred_at AT TIME ZONE :zone, 'YYYY-MM') AS month, count(*) AS overdue
  FROM {overdue_notices(q)}
  GROUP BY 1),
em AS (
  SELECT to_char(h.occurred_at AT TIME ZONE :zone, 'YYYY-MM') AS month, count(*) AS escalated
  FROM {escalations(q)}
  GROUP BY 1)
SELECT month, coalesce(bm.cases, 0) AS cases, coalesce(bm.batches, 0) AS batches, coalesce(bm.persons, 0) AS persons,
       coalesce(bm.collective_batches, 0) AS collective_batches,
       coalesce(om.overdue, 0) AS overdue, coalesce(em.escalated, 0) AS escalated
FROM bm FULL JOIN om USING (month) FULL JOIN em USING (month) ORDER BY month""")


def breakdown_sql(schema: str, by: str) -> Named:
    """Batches and persons of the period by the registering tier, or cases by category."""
    q = quoted(schema)
    column = {"tier": "b.tier", "category": "m.category", "channel": "b.channel"}[by]
    return named(f"""SELECT {column} AS key, count(*) FILTER (WHERE b.is_first) AS cases, count(*) AS batches,
       sum(b.head_count) AS persons
FROM {q}.batches b JOIN {q}.matters m ON m.petition_id = b.petition_id AND {_matter_filter('m')}
WHERE b.occurred_at >= :start AND b.occurred_at < :stop AND {as_of('b')} AND (:channel::text IS NULL OR b.channel = :channel)
  AND (:unit::text IS NULL OR b.unit = :unit)
GROUP BY 1 ORDER BY 3 DESC""")


def _total(column: str) -> str:
    return f"coalesce(sum({column}), 0)::bigint"


def rolled_stats_sql(schema: str) -> Named:
    """:func:`stats_sql` for the present, whole months read from the roll-ups (``:cut_from``, ``:cut_to``; no
    category, channel or unit). A collective case (one with any batch at or above the threshold in the period)
    is counted by its opener, the first of its matter's batches to reach the threshold (migration 0010): a case of
    the period is collective when its opener came before the period's end. The roll-up counts openers by their
    case's month; from it are taken the openers after the period's end (or after as_of); the cases of the rest of
    the period are counted by their openers' rows, and the matters in a merge (either side; or with a batch before
    their first) by the rule itself, from their batches of the period."""
    q = quoted(schema)
    batches, persons = rollups.collective()
    period = "s.occurred_at >= :start AND s.occurred_at < :stop AND s.occurred_at <= :as_of"
    places = _places("s")
    opener = rollups.opens(":threshold::int", "s.")
    mine = "NOT EXISTS (SELECT 1 FROM inv WHERE inv.petition_id = s.petition_id)"
    return named(f"""WITH {_ctes_rolled(schema)},
inv AS MATERIALIZED (  -- the matters counted by the rule from their rows: in a merge, or with a batch before their first
  SELECT x.petition_id FROM {q}.merges x UNION SELECT x.into_id FROM {q}.merges x
  UNION SELECT s.petition_id FROM {q}.batch_state s WHERE s.case_at IS NULL
),
ib AS MATERIALIZED (  -- their batches of the period, each in the matter it counts in
  SELECT coalesce(mg.into_id, s.petition_id) AS case_id, s.is_first AND mg.into_id IS NULL AS is_first, s.head_count,
         s.resolved
  FROM (SELECT s.petition_id, s.is_first, s.head_count, s.resolved FROM {q}.batch_state s
        WHERE s.petition_id IN (SELECT petition_id FROM inv) AND {period} AND {_state_filter('s')}) s
  {_merged_into(q, 's')}
),
p (n, resolved) AS (
  SELECT {_total(rollups.opened('opens', 'r.'))}, {_total(rollups.opened('resolved', 'r.'))} FROM {q}.case_rollup r
  WHERE {_cut_part('r.month')} AND {_places('r')}
  UNION ALL  -- less inv's matters there (counted below)
  SELECT -count(*), -count(*) FILTER (WHERE s.resolved) FROM {q}.batch_state s
  WHERE s.petition_id IN (SELECT petition_id FROM inv) AND {_cut_part('s.case_at')} AND {opener} AND {places}
  UNION ALL  -- less the openers of those months' cases that came after the period, or after as_of
  SELECT -count(*), -count(*) FILTER (WHERE s.resolved) FROM {q}.batch_state s
  WHERE NOT s.is_first AND s.head_count > s.prior_heads AND s.occurred_at >= least(:stop, :as_of)
    AND (s.occurred_at >= :stop OR s.occurred_at > :as_of) AND {_cut_part('s.case_at')} AND {opener} AND {places}
    AND {mine}
  UNION ALL  -- the cases of the period's end after those months, by their openers (after their cases)
  SELECT count(*), count(*) FILTER (WHERE s.resolved) FROM {q}.batch_state s
  WHERE s.occurred_at >= :cut_to AND {period} AND s.case_at >= :cut_to AND {opener} AND {places} AND {mine}
  UNION ALL  -- the cases of the period's start before those months, by their openers
  SELECT count(*), count(*) FILTER (WHERE s.resolved) FROM {q}.batch_state s
  WHERE s.petition_id IN (SELECT f.petition_id FROM {q}.batch_state f
                          WHERE f.is_first AND f.occurred_at >= :start AND f.occurred_at < :cut_from)
    AND s.case_at >= :start AND s.case_at < :cut_from AND {period} AND {opener} AND {places} AND {mine}
  UNION ALL  -- inv's cases of the period: collective by any of their batches in it
  SELECT count(*), count(*) FILTER (WHERE f.resolved) FROM ib f
  WHERE f.is_first AND EXISTS (SELECT 1 FROM ib x WHERE x.case_id = f.case_id AND x.head_count >= :threshold)
),
bb AS (SELECT {_total('batches')} AS batches, {_total('persons')} AS persons,
              {_total('repeat_batches')} AS repeat_batches, {_total('skip_level_batches')} AS skip_level_batches,
              {_total(batches)} AS collective_batches, {_total(persons)} AS collective_persons,
              {_total('cases')} AS cases, {_total('resolved')} AS resolved, {_total('replied')} AS replied,
              {_total('evaluated')} AS evaluated, {_total('satisfied')} AS satisfied,
              {_total('first_time_resolved')} AS first_time_resolved FROM kb),
pp AS (SELECT {_total('n')} AS collective_cases, {_total('resolved')} AS collective_resolved FROM p),
oo AS (SELECT {_total("due) FILTER (WHERE stage = 'accept'")} AS accept_due,
              {_total("met) FILTER (WHERE stage = 'accept'")} AS accepted_on_time,
              {_total("due) FILTER (WHERE stage = 'handle'")} AS handle_due,
              {_total("met) FILTER (WHERE stage = 'handle'")} AS replied_on_time FROM (  -- by stage alone
  SELECT stage, count(*) AS due, count(*) FILTER (WHERE met) AS met FROM o GROUP BY 1
  UNION ALL
  SELECT r.stage, r.due, r.met FROM {q}.obligation_rollup r
  WHERE {_cut_part('r.month')} AND {_places('r')}) ko)
SELECT bb.cases, bb.batches, bb.persons, bb.repeat_batches, bb.skip_level_batches, pp.collective_cases,
       bb.collective_batches, bb.collective_persons, bb.resolved, pp.collective_resolved, oo.accept_due,
       oo.accepted_on_time, oo.handle_due, oo.replied_on_time, bb.replied, bb.evaluated, bb.satisfied,
       bb.first_time_resolved
FROM bb, pp, oo""")


def rolled_assessment_sql(schema: str) -> Named:
    """:func:`assessment_sql` for the present, whole months read from the roll-ups (``:cut_from``, ``:cut_to``)."""
    q = quoted(schema)
    groups = []
    for by, keys, batch, obligation in (("unit", ":units", "handler", "unit"),
                                        ("jurisdiction", ":places", "jurisdiction", "jurisdiction")):
        escalations = "LEFT JOIN eu USING (key)" if by == "unit" else ""
        groups.append(f"""{_assessment_row(by, keys, "bu")}
LEFT JOIN (
  SELECT {batch} AS key, {_total('batches')} AS batches, {_total('repeat_batches')} AS repeat_batches,
         {_total('skip_level_batches')} AS skip_level_batches, {_total('replied')} AS replied,
         {_total('evaluated')} AS evaluated, {_total('satisfied')} AS satisfied,
         {_total('first_time_resolved')} AS first_time_resolved
  FROM kb GROUP BY 1) bu USING (key)
LEFT JOIN (
  SELECT {obligation} AS key, {_total("due) FILTER (WHERE stage = 'accept'")} AS accept_due,
         {_total("met) FILTER (WHERE stage = 'accept'")} AS accepted_on_time,
         {_total("due) FILTER (WHERE stage = 'handle'")} AS handle_due,
         {_total("met) FILTER (WHERE stage = 'handle'")} AS replied_on_time,
         {_total('due - met')} AS overdue_obligations
  FROM ko GROUP BY 1) ou USING (key)
{escalations}""")
    return named(f"""WITH {_ctes_rolled(schema)},
{_rolled_escalations(q)}
{"UNION ALL".join(groups)}""")
