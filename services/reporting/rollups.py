"""Per-month roll-ups of the current state (migration 0009): what the figures "now" sum instead of the matters.

``batch_rollup`` holds, per (UTC month of the batch, the matter's place, the batch's handler), the sums of what
each ``batch_state`` row adds to the counts (:data:`BATCH`); ``obligation_rollup``, per (UTC month of the due
time, place, unit owing, stage), the obligations due and met.  Statement-level triggers with transition tables
keep them in the transaction that changes the state tables (the per-matter refresh deletes and inserts a
matter's rows; the bulk load's one INSERT per state table is one trigger call), so they are a function of the
state rows alone: a replay produces the same roll-up as the live projection (``store.ALL_TABLES``).

A period's figures for the present read the months wholly inside it that have ended (:func:`cut`: every batch of
such a month had happened and every obligation due in it is past due, so all count) from the roll-up and the rest
of the period from the rows, with the same counting rules (:mod:`reporting.queries`).  The months are UTC months so
the roll-up needs no county setting; a county's local period starts and ends inside UTC months, whose few days
come from the rows.  A collective batch is counted by head-count bucket (:data:`HEADS`): thresholds up to it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from reporting.rules import SATISFIED

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

_KEYS = {"batch_rollup": ("batch_state", "occurred_at", ("jurisdiction", "handler"), BATCH),
         "obligation_rollup": ("obligation_state", "due_at", ("jurisdiction", "unit", "stage"), OBLIGATION)}
ROLLUPS = tuple(_KEYS)


def month(column: str) -> str:
    return f"date_trunc('month', {column}, 'UTC')"


def collective(heads: str = "") -> tuple[str, str]:
    """SQL sums over roll-up rows (``heads``: a column prefix) of the batches at or above ``:threshold`` and of
    their persons (``:threshold`` ≤ :data:`HEADS`, see :func:`usable`)."""
    batches = [f"CASE WHEN :threshold::int <= {k} THEN {heads}heads_{k} ELSE 0 END" for k in range(1, HEADS)]
    persons = [f"CASE WHEN :threshold::int <= {k} THEN {k} * {heads}heads_{k} ELSE 0 END" for k in range(1, HEADS)]
    return (" + ".join([*batches, f"{heads}heads_{HEADS}_up"]), " + ".join([*persons, f"{heads}persons_{HEADS}_up"]))


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
    moment = moment.astimezone(timezone.utc)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def cut(start: datetime, stop: datetime, now: datetime) -> dict[str, datetime]:
    """``:cut_from``, ``:cut_to``: the UTC months wholly inside [start, stop) that ended by ``now``, which the
    roll-up answers (none: both ``stop``, the whole period from the rows)."""
    first = _month_floor(start)
    if first < start:
        first = _month_floor(first + timedelta(days=32))
    last = _month_floor(min(stop, now))
    if first >= last:
        return {"cut_from": stop, "cut_to": stop}
    return {"cut_from": first, "cut_to": last}


def no_cut(stop: datetime) -> dict[str, datetime]:
    return {"cut_from": stop, "cut_to": stop}


__all__ = ["BATCH", "HEADS", "OBLIGATION", "ROLLUPS", "collective", "cut", "install", "month", "no_cut", "rebuild",
           "summed", "usable"]
