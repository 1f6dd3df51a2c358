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
MATTERS_OF = """SELECT p.state, array_agg(DISTINCT b.kind) AS kinds, array_agg(DISTINCT b.ref) AS refs
   FROM blind_indexes b JOIN petitions p ON p.petition_id = b.petition_id
   WHERE (b.kind, b.digest) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))
   GROUP BY p.petition_id ORDER BY max(p.created_at) DESC LIMIT $3"""


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


async def possible_repeats(conn: asyncpg.Connection, county: County, unit_id: str, digests: list[Digest],
                           now: datetime) -> list[Found]:
    """The person's matters a new registration at ``now`` may repeat: open, or closed within the repeat window."""
    found = await matters_of(conn, county, unit_id, digests, REPEATS)
    return [f for f in found if may_repeat(f.state, now, county.repeat_window)]


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
