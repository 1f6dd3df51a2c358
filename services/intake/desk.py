"""The desk's questions about a person: their matters, found on the blind indexes, within the caller's scope.

A matter outside the caller's scope is left out exactly as if it did not exist, so an answer never tells whether
a person has matters elsewhere.  Every question asked by a personal identifier is written to the access log, with
the matters it showed (never the identifier).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from intake import store
from intake.domain.model import PetitionState
from intake.domain.repeats import may_repeat
from intake.keyring import Keyring
from intake.organisation import may_see
from xinfang.county.model import County

#: the most matters one answer lists, newest first (a person with more is rare; the clerk narrows by receipt number)
MOST = 50
#: the most matters a registration reads as possible repeats, newest first: what a clerk can weigh, and a bound on
#: the registration's cost when many matters share an identifier (a village committee's phone)
REPEATS = 20
Digest = tuple[str, bytes]  # kind, blind index


def probe(kinds: str, digests: str) -> str:
    """The index rows of the digests (``kinds`` and ``digests``: parameters or expressions, arrays paired by
    position) with their matters, one primary-key probe each: by subscript, not as ``(kind, digest) IN (SELECT *
    FROM unnest(...))``, whose generic plan PostgreSQL costs above a custom one and so plans again at every
    execution — that planning was most of a registration's detection cost (docs/benchmarks.md, the lookup
    section)."""
    return f"""generate_subscripts({kinds}::text[], 1) AS i CROSS JOIN LATERAL (
       SELECT kind, ref, petition_id FROM blind_indexes WHERE kind = ({kinds}::text[])[i] AND digest = ({digests}::bytea[])[i]) b
   JOIN petitions p ON p.petition_id = b.petition_id"""


MATTERS_OF = f"""SELECT p.state, array_agg(DISTINCT b.kind) AS kinds, array_agg(DISTINCT b.ref) AS refs
   FROM {probe("$1", "$2")}
   GROUP BY p.petition_id ORDER BY max(p.created_at) DESC LIMIT $3"""


def candidates_column(kinds: str, digests: str) -> str:
    """A registration's candidates as one JSON column (of the statement that reads the matter,
    ``IntakeService._begin``, or alone): the ``REPEATS`` newest matters with these digests, in the columns a
    possible repeat is decided on (scope, window) and shown with — not the whole state: the three the write model
    has no column for are read out of it."""
    return f"""(SELECT coalesce(json_agg(r ORDER BY r.newest DESC), '[]') FROM (
       SELECT p.petition_id, p.receipt_no, p.status, p.jurisdiction, p.category, p.registered_unit, p.accused_unit,
              p.holder_unit, p.state->>'registered_at' AS registered_at, p.state->>'last_fact_at' AS last_fact_at,
              p.state->>'merged_into' AS merged_into, array_agg(DISTINCT b.kind) AS kinds, max(p.created_at) AS newest
       FROM {probe(kinds, digests)}
       GROUP BY p.petition_id ORDER BY newest DESC LIMIT {REPEATS}) r)"""


CANDIDATES = f"SELECT {candidates_column('$1', '$2')}"


@dataclass(frozen=True)
class Found:
    """A matter of the person asked about, with the petitioners on it the identifiers matched."""

    state: PetitionState
    matched_by: tuple[str, ...]  # the kinds of identifier that found it: id_number, phone
    refs: tuple[str, ...]


async def matters_of(conn: asyncpg.Connection, county: County, unit_id: str, digests: list[Digest],
                     most: int = MOST) -> list[Found]:
    """The matters registered for anyone with one of these identifiers that a terminal of ``unit_id`` may see (of
    the ``most`` newest)."""
    if not digests:
        return []
    rows = await conn.fetch(MATTERS_OF, [k for k, _ in digests], [d for _, d in digests], most)
    found = [Found(store.state_from_json(r["state"]), tuple(sorted(r["kinds"])), tuple(r["refs"])) for r in rows]
    return [f for f in found if may_see(county, unit_id, f.state)]


def candidates(column: str | None) -> list[Found]:
    """The candidates a ``candidates_column`` read, each with a state holding the fields may_see, may_repeat and the
    answer (``api.lookup_schemas.possible_repeat``) use, the others at their defaults: shown, never decided on."""
    found = []
    for row in orjson.loads(column or "[]"):
        last = row["last_fact_at"]
        state = PetitionState(
            petition_id=row["petition_id"], receipt_no=row["receipt_no"], status=row["status"],
            jurisdiction=row["jurisdiction"], category=row["category"], registered_unit=row["registered_unit"],
            registered_at=datetime.fromisoformat(row["registered_at"]), accused_unit=row["accused_unit"],
            holder_unit=row["holder_unit"], last_fact_at=datetime.fromisoformat(last) if last else None,
            merged_into=row["merged_into"])
        found.append(Found(state, tuple(sorted(row["kinds"])), ()))
    return found


def offered(county: County, unit_id: str, found: list[Found], now: datetime) -> list[Found]:
    """Of the candidates, those a registration by ``unit_id`` at ``now`` may repeat: in its scope, and open or
    closed within the repeat window."""
    return [f for f in found if may_see(county, unit_id, f.state) and may_repeat(f.state, now, county.repeat_window)]


async def possible_repeats(conn: asyncpg.Connection, county: County, unit_id: str, digests: list[Digest],
                           now: datetime) -> list[Found]:
    """The person's matters a new registration at ``now`` may repeat (of the ``REPEATS`` newest matches)."""
    if not digests:
        return []
    column = await conn.fetchval(CANDIDATES, [k for k, _ in digests], [d for _, d in digests])
    return offered(county, unit_id, candidates(column), now)


async def log_lookup(conn: asyncpg.Connection, terminal_id: str, unit_id: str, action: str, found: list[Found],
                     detail: str) -> None:
    """One access-log row per matter shown (or one saying nothing was), in one statement."""
    shown: list[Any] = [uuid.UUID(f.state.petition_id) for f in found] or [None]
    await conn.execute(
        """INSERT INTO access_log (terminal_id, unit_id, action, petition_id, outcome, detail)
           SELECT $1, $2, $3, p, $4, $5 FROM unnest($6::uuid[]) AS t(p)""",
        terminal_id, unit_id, action, "shown" if found else "none", detail[:500], shown)


async def names_of(conn: asyncpg.Connection, keyring: Keyring, found: list[Found]) -> dict[str, str | None]:
    """The names of the matched petitioners, by ref (None once erased)."""
    refs = sorted({ref for f in found for ref in f.refs})
    if not refs:
        return {}
    rows = await conn.fetch("SELECT ref, name FROM petitioners WHERE ref = ANY($1::text[])", refs)
    keys = await keyring.keys(conn, refs)
    return {r["ref"]: keyring.decrypt({"name": r["name"]}, keys.get(r["ref"]))["name"] for r in rows}
