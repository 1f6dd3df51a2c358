"""Per-month roll-ups of the current state (migrations 0009, 0010): what the figures "now" sum instead of the matters.

``batch_rollup`` holds, per (month of the batch, the matter's place, the batch's handler), the sums of what
each ``batch_state`` row adds to the counts (:data:`BATCH`); ``obligation_rollup``, per (month of the due
time, place, unit owing, stage), the obligations due and met; ``case_rollup``, per (month of the matter's first
batch, place), the openers of each collective threshold (:data:`CASE`: the batch that first reaches it);
``holding_rollup``, ``breach_rollup`` and ``evaluation_rollup`` the per-unit table's received matters, escalations,
overdue notices and evaluations (:data:`HOLDING`, :data:`BREACH`, :data:`EVALUATION`).  Statement-level triggers
with transition tables keep them in the transaction that changes the state tables (the per-matter refresh deletes and inserts a
matter's rows; the bulk load's one INSERT per state table is one trigger call), so they are a function of the
state rows alone: a replay produces the same roll-up as the live projection (``store.ALL_TABLES``).

A period's figures for the present read the months wholly inside it that have ended (:func:`cut`: every batch of
such a month had happened and every obligation due in it is past due, so all count) from the roll-up and the rest
of the period from the rows, with the same counting rules (:mod:`reporting.queries`).  The months are months of
China Standard Time (:data:`ZONE`, every county's time), so a county's month, quarter and year are whole months of
the roll-up; a county in another zone gets the same figures, its periods' edges read from the rows.  A collective
batch is counted by head-count bucket (:data:`HEADS`): thresholds up to it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reporting.rules import SATISFIED

ZONE = "Asia/Shanghai"  # the roll-ups' months (a constant of the tables: changing it needs a migration emptying them)
HEADS = 10  # head counts 1 … HEADS-1 each in a column, HEADS and more in one: collective thresholds up to HEADS

#: per batch row (a relation with is_first, is_skip, head_count, resolved, replied, satisfaction, first_time):
#: what it adds to each column of batch_rollup
BATCH: dict[str, str] = {
    "batches": "1",
    "persons": "head_count",
    "repeat_batches": "(NOT is_first)::int",
    "skip_level_batches": "coalesce(is_skip, false)::int",
    "cases": "is_first::int",
    "resolved": "(is_first AND coalesce(resolved, false))::int",
    "replied": "(is_first AND coalesce(replied, false))::int",
    "evaluated": "(is_first AND satisfaction IS NOT NULL)::int",
    "satisfied": f"(is_first AND coalesce(satisfaction IN {SATISFIED}, false))::int",
    "first_time_resolved": "(is_first AND coalesce(first_time, false))::int",
    **{f"heads_{k}": f"(head_count = {k})::int" for k in range(1, HEADS)},
    f"heads_{HEADS}_up": f"(head_count >= {HEADS})::int",
    f"persons_{HEADS}_up": f"CASE WHEN head_count >= {HEADS} THEN head_count ELSE 0 END",
}
#: per obligation row (with met): what it adds to each column of obligation_rollup
OBLIGATION: dict[str, str] = {"due": "1", "met": "met::int"}


def opens(k: int | str, alias: str = "") -> str:
    """The batch row is its matter's opener of the threshold ``k``: the first batch to reach ``k`` persons."""
    return f"({alias}prior_heads < {k} AND {alias}head_count >= {k})"


#: per batch row (with case_at, prior_heads): what it adds to each column of case_rollup, by its case's month
CASE: dict[str, str] = {
    "rows": "1",
    **{f"opens_{k}": f"{opens(k)}::int" for k in range(1, HEADS + 1)},
    **{f"resolved_{k}": f"({opens(k)} AND coalesce(resolved, false))::int" for k in range(1, HEADS + 1)},
}



def month(column: str) -> str:
    return f"date_trunc('month', {column}, '{ZONE}')"


def first_in_month(column: str = "prev_at", at: str = "occurred_at") -> str:
    """The row is the first of its kind in its month: no previous one (``column``), or that one in an earlier month."""
    return f"({column} IS NULL OR {column} < {month(at)})"


#: per standing holding (holding_state): what it adds to holding_rollup — a matter received by the unit (once a
#: month), an escalation (from from_unit to unit)
HOLDING: dict[str, str] = {"rows": "1", "received": f"{first_in_month()}::int", "escalated": "(kind = 'escalated')::int"}
#: per standing overdue notice (breach_state): an obligation let pass (once a month)
BREACH: dict[str, str] = {"rows": "1", "overdue": f"{first_in_month()}::int"}
#: per evaluation (evaluation_state), by the unit whose reply it judged
EVALUATION: dict[str, str] = {"evaluated": "1", "satisfied": f"coalesce(satisfaction IN {SATISFIED}, false)::int"}

_KEYS = {"batch_rollup": ("batch_state", "occurred_at", ("jurisdiction", "handler"), BATCH),
         "obligation_rollup": ("obligation_state", "due_at", ("jurisdiction", "unit", "stage"), OBLIGATION),
         "case_rollup": ("batch_state", "case_at", ("jurisdiction",), CASE),
         "holding_rollup": ("holding_state", "occurred_at", ("jurisdiction", "unit", "from_unit"), HOLDING),
         "breach_rollup": ("breach_state", "occurred_at", ("jurisdiction", "unit"), BREACH),
         "evaluation_rollup": ("evaluation_state", "occurred_at", ("jurisdiction", "reply_unit"), EVALUATION)}
ROLLUPS = tuple(_KEYS)


def collective(heads: str = "") -> tuple[str, str]:
    """SQL sums over roll-up rows (``heads``: a column prefix) of the batches at or above ``:threshold`` and of
    their persons (``:threshold`` ≤ :data:`HEADS`, see :func:`usable`)."""
    batches = [f"CASE WHEN :threshold::int <= {k} THEN {heads}heads_{k} ELSE 0 END" for k in range(1, HEADS)]
    persons = [f"CASE WHEN :threshold::int <= {k} THEN {k} * {heads}heads_{k} ELSE 0 END" for k in range(1, HEADS)]
    return (" + ".join([*batches, f"{heads}heads_{HEADS}_up"]), " + ".join([*persons, f"{heads}persons_{HEADS}_up"]))


def opened(column: str, heads: str = "") -> str:
    """The column of case_rollup (``opens`` or ``resolved``) for the threshold ``:threshold`` (≤ :data:`HEADS`)."""
    return "CASE :threshold::int " + " ".join(f"WHEN {k} THEN {heads}{column}_{k}" for k in range(1, HEADS + 1)) + " END"


def summed(table: str, rows: str, sign: str = "") -> str:
    """The roll-up ``table``'s rows from the state rows ``rows`` (a relation: the state table, a transition table)."""
    _, at, keys, columns = _KEYS[table]
    sums = ", ".join(f"{sign}sum({expr})" for expr in columns.values())
    grouping = ", ".join(str(i) for i in range(1, len(keys) + 2))
    return f"SELECT {month(at)}, {', '.join(keys)}, {sums} FROM {rows} GROUP BY {grouping}"


def _sums(table: str, rows: str, sign: str) -> str:
    _, _, keys, columns = _KEYS[table]
    names = ", ".join(("month", *keys, *columns))
    adds = ", ".join(f"{c} = r.{c} + excluded.{c}" for c in columns)
    first = next(iter(columns))
    key = ", ".join(("month", *keys))
    return f"""INSERT INTO {{q}}.{table} AS r ({names})
    {summed(table, rows, sign)}
    ON CONFLICT ({key}) DO UPDATE SET {adds};
    DELETE FROM {{q}}.{table} r WHERE r.{first} = 0;"""


def install(q: str) -> list[str]:
    """The trigger functions and triggers that keep the roll-ups of the schema ``q`` (quoted), idempotent."""
    out = []
    for table, (source, _, _, _) in _KEYS.items():
        body = f"""CREATE OR REPLACE FUNCTION {q}.{table}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {_sums(table, 'old_rows', '-').format(q=q)}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_sums(table, 'new_rows', '').format(q=q)}
  END IF;
  RETURN NULL;
END $$"""
        out.append(body)
        for op, referencing in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                                ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
            name = f"{table}_{op.lower()}"
            out.append(f"DROP TRIGGER IF EXISTS {name} ON {q}.{source}")
            out.append(f"CREATE TRIGGER {name} AFTER {op} ON {q}.{source} REFERENCING {referencing} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {q}.{table}_keep()")
    return out


def rebuild(q: str) -> list[str]:
    """Recompute the roll-ups from the state tables (one statement each): after migration 0009 on a schema that
    already had state rows."""
    out = []
    for table, (source, _, _, _) in _KEYS.items():
        out.append(f"DELETE FROM {q}.{table}")
        out.append(_sums(table, f"{q}.{source}", "").format(q=q).split(";")[0])
    return out


def usable(threshold: int, category: str | None, channel: str | None) -> bool:
    """The roll-ups are keyed by place and unit, and count collective batches up to :data:`HEADS` persons: a
    category or a channel, or a higher threshold, is read from the rows."""
    return category is None and channel is None and threshold <= HEADS


def _month_floor(moment: datetime) -> datetime:
    local = moment.astimezone(ZoneInfo(ZONE))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def cut(start: datetime, stop: datetime, now: datetime) -> dict[str, datetime]:
    """``:cut_from``, ``:cut_to``: the months (of :data:`ZONE`) wholly inside [start, stop) that ended by ``now``,
    which the roll-up answers (none: both ``stop``, the whole period from the rows)."""
    first = _month_floor(start)
    if first < start:
        first = _month_floor(first.replace(day=28) + timedelta(days=4))
    last = _month_floor(min(stop, now))
    if first >= last:
        return {"cut_from": stop, "cut_to": stop}
    return {"cut_from": first, "cut_to": last}


def no_cut(stop: datetime) -> dict[str, datetime]:
    return {"cut_from": stop, "cut_to": stop}


__all__ = ["BATCH", "BREACH", "CASE", "EVALUATION", "HEADS", "HOLDING", "OBLIGATION", "ROLLUPS", "ZONE", "collective",
           "cut", "first_in_month", "install", "month", "no_cut", "opened", "opens", "rebuild", "summed", "usable"]
