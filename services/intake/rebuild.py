"""``python -m intake.rebuild [--petition ID] [--check]``: intake's write model folded again from what intake holds.

Each matter's state is folded from its own events (``events``, in seq order) and the routing facts the routing
consumer applied to it (``routing_events``, each after the intake event the state had reached then), with the
live path's ``evolve`` and ``apply_routing``.  Where the fold differs from the stored row, the row is rewritten;
``--check`` writes nothing and exits 1 naming the matters that differ.  Run with the service's settings
(``XINFANG_*``); JSON summary on stdout, progress as JSON lines on stderr.  Exit codes: 0 every matter folds to
its row (or was rewritten to), 1 findings (with ``--check`` matters that differ; matters left alone, below),
2 wrong usage, 3 PostgreSQL unreachable.

Safe while the service runs.  Matters are compared in pages of ``--batch``, read in one snapshot without locks
(memory: one page's events).  A matter that differs is rewritten on its own: its row is locked
(``SELECT … FOR UPDATE``, the lock the routing consumer takes), folded again from the events committed by then
(none can be added meanwhile: a command's events are written only with its update of that row), and written
with the version raised — a command that decided on the old state fails its version guard and decides again
on the rebuilt one, as after any concurrent command.  One row lock at a time: no deadlock with the consumer.

Left alone, and named: matters routed before migration 0002, whose routing facts intake did not keep
(``routing_not_kept``); rows whose state was written by newer code (``newer_layout``); matters whose events do
not fold (``unfoldable``: ``python -m reporting.audit verify-integrity`` says which event is broken).
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg
import typer

from intake import store
from intake.app import MIGRATIONS
from intake.domain.model import PetitionState, apply_routing, evolve
from intake.settings import IntakeSettings
from xinfang import logs
from xinfang.events import UPCASTERS, CloudEvent
from xinfang.migrations import migrate

log = logging.getLogger("intake.rebuild")
OK, FINDINGS, USAGE, UNREACHABLE = 0, 1, 2, 3
LISTED = 1000  # matters named per finding in the summary; the counts are exact
#: matters neither compared nor rewritten, and why
LEFT_ALONE = ("routing_not_kept", "newer_layout", "unfoldable")

_ROWS = """SELECT petition_id, state, routing_unkept_seq, status, holder_unit, next_due_at, category, head_hash
           FROM petitions"""  # the columns of store.query_columns
_PAGE = _ROWS + " WHERE petition_id > $1 ORDER BY petition_id LIMIT $2"
_ONE = _ROWS + " WHERE petition_id = $1"
_OWN = "SELECT petition_id, body FROM events WHERE petition_id = ANY($1::uuid[]) ORDER BY petition_id, seq"
_ROUTING = """SELECT petition_id, after_seq, body FROM routing_events WHERE petition_id = ANY($1::uuid[])
              ORDER BY petition_id, after_seq, seq"""


def _read(body: bytes) -> tuple[CloudEvent, Any]:
    event = CloudEvent.from_json(body)
    return event, UPCASTERS.decode(event.type, event.data)[1]


def fold(petition_id: str, own: list[bytes], routing: list[tuple[int, bytes]]) -> tuple[PetitionState, str]:
    """The state and chain head the live path reached: each of intake's events in turn, and after each the
    routing facts applied when the state stood at it (``routing``: ``(after_seq, body)`` in that order)."""
    state: PetitionState | None = None
    head, pending = "", iter(routing)
    after, body = next(pending, (None, b""))
    for raw in own:
        event, data = _read(raw)
        state, head = evolve(state, data, event.occurred_at, event.seq), event.hash
        while after == event.seq:
            fact, data = _read(body)
            state = apply_routing(state, data, fact.occurred_at, fact.id)
            after, body = next(pending, (None, b""))
    if state is None or after is not None:
        raise ValueError(f"事项的事件不完整 the events of {petition_id} do not make a matter")
    return replace(state, petition_id=petition_id), head


def differences(row: Any, state: PetitionState, head: str) -> list[str]:
    """What the stored row says otherwise than the fold: state fields by name, columns as ``column <name>``."""
    try:
        stored = store.state_from_json(row["state"])
    except store.NewerLayout:
        raise
    except (TypeError, ValueError) as exc:  # unreadable: the fold replaces it
        return [f"state unreadable: {exc}"]
    names = [f.name for f in dataclasses.fields(PetitionState) if getattr(stored, f.name) != getattr(state, f.name)]
    return names + [f"column {name}" for name, value in store.query_columns(state, head).items() if row[name] != value]


@dataclass
class Outcome:
    """What a run found and did."""

    check: bool
    matters: int = 0
    differ: int = 0
    rebuilt: int = 0
    findings: dict[str, list[Any]] = field(default_factory=lambda: {kind: [] for kind in LEFT_ALONE + ("differ",)})
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEFT_ALONE, 0))

    def note(self, kind: str, entry: Any) -> None:
        if kind in self.counts:
            self.counts[kind] += 1
        if len(self.findings[kind]) < LISTED:
            self.findings[kind].append(entry)

    @property
    def clean(self) -> bool:
        """Nothing left alone, and nothing differs (or all of it was rewritten)."""
        return not any(self.counts.values()) and (self.differ == 0 or not self.check)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": "check" if self.check else "rebuild", "matters": self.matters, "differ": self.differ,
                "rebuilt": self.rebuilt, **self.counts, "matters_named": self.findings}


async def _histories(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[list, list]]:
    histories: dict[uuid.UUID, tuple[list, list]] = {pid: ([], []) for pid in ids}
    for r in await conn.fetch(_OWN, ids):
        histories[r["petition_id"]][0].append(r["body"])
    for r in await conn.fetch(_ROUTING, ids):
        histories[r["petition_id"]][1].append((r["after_seq"], r["body"]))
    return histories


def _differs(row: Any, history: tuple[list, list], outcome: Outcome) -> bool:
    """Whether the stored row differs from the fold of its history (what differs is noted in ``outcome``)."""
    pid = str(row["petition_id"])
    if row["routing_unkept_seq"]:
        outcome.note("routing_not_kept", pid)
        return False
    try:
        state, head = fold(pid, *history)
    except (ValueError, TypeError, AssertionError) as exc:  # a broken event: the auditors' tools say more
        outcome.note("unfoldable", {"petition_id": pid, "error": str(exc)[:300]})
        return False
    try:
        differ = differences(row, state, head)
    except store.NewerLayout:
        outcome.note("newer_layout", pid)
        return False
    if differ:
        outcome.differ += 1
        outcome.note("differ", {"petition_id": pid, "fields": differ})
    return bool(differ)


async def _rewrite(conn: asyncpg.Connection, pid: uuid.UUID, outcome: Outcome) -> None:
    """Fold one matter again under its row lock and write it if it still differs."""
    async with conn.transaction():
        row = await conn.fetchrow(_ONE + " FOR UPDATE", pid)
        state, head = fold(str(pid), *(await _histories(conn, [pid]))[pid])
        try:
            if not differences(row, state, head):
                return  # a command or the consumer made it so since the page was read
        except store.NewerLayout:  # newer code wrote it since the page was read: leave it to that code
            outcome.note("newer_layout", str(pid))
            return
        await store.replace_state(conn, state, head)
    outcome.rebuilt += 1


async def run(conn: asyncpg.Connection, *, check: bool, petition: uuid.UUID | None = None,
              batch: int = 500) -> Outcome:
    """Compare (``check``) or rebuild every matter, or only ``petition``."""
    outcome, after, started = Outcome(check), uuid.UUID(int=0), time.perf_counter()
    while True:
        async with conn.transaction(isolation="repeatable_read", readonly=True):  # rows and events of one moment
            rows = await conn.fetch(_ONE, petition) if petition else await conn.fetch(_PAGE, after, batch)
            histories = await _histories(conn, [r["petition_id"] for r in rows])
        if not rows:
            break
        differing = [r["petition_id"] for r in rows if _differs(r, histories[r["petition_id"]], outcome)]
        if not check:
            for pid in differing:
                await _rewrite(conn, pid, outcome)
        outcome.matters += len(rows)
        rate = round(outcome.matters / max(time.perf_counter() - started, 1e-3))
        log.info("rebuild progress", extra={"matters": outcome.matters, "differ": outcome.differ,
                                            "rebuilt": outcome.rebuilt, "matters_per_s": rate})
        if petition or len(rows) < batch:
            break
        after = rows[-1]["petition_id"]
    return outcome


app = typer.Typer(add_completion=False, help="重建 intake 的写模型 Rebuild intake's write model from its event store.")


@app.command()
def main(petition: str | None = typer.Option(None, help="only this matter (事项编号 petition id)"),
         check: bool = typer.Option(False, help="compare only: write nothing, exit 1 naming the matters that differ"),
         batch: int = typer.Option(500, min=1, max=10_000, help="matters compared per page")) -> None:
    """Fold every matter (or one) again from intake's events and the routing facts it applied; rewrite the rows
    that differ, or with --check only name them."""
    settings = IntakeSettings()
    logs.configure("intake", settings.log_level)
    try:
        pid = uuid.UUID(petition) if petition else None
    except ValueError:
        typer.echo(f"事项编号无效 not a petition id: {petition!r}", err=True)
        raise typer.Exit(USAGE) from None

    async def go() -> Outcome:
        conn = await asyncpg.connect(settings.database_url,
                                     server_settings={"search_path": f"{settings.intake_schema},public"})
        try:
            if not check:
                await migrate(conn, settings.intake_schema, MIGRATIONS)  # as the service does at start
            return await run(conn, check=check, petition=pid, batch=batch)
        finally:
            await conn.close()

    try:
        outcome = asyncio.run(go())
    except asyncpg.UndefinedTableError as exc:  # --check migrates nothing
        typer.echo(f"模式 {settings.intake_schema} 尚未迁移 the schema is not migrated (start intake once): {exc}", err=True)
        raise typer.Exit(UNREACHABLE) from None
    except (OSError, asyncpg.PostgresError) as exc:
        typer.echo(f"PostgreSQL 不可用 unreachable: {exc}", err=True)
        raise typer.Exit(UNREACHABLE) from None
    if pid and not outcome.matters:
        typer.echo(f"事项不存在 no such matter: {petition}", err=True)
        raise typer.Exit(USAGE) from None
    json.dump(outcome.as_dict(), sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
    raise typer.Exit(OK if outcome.clean else FINDINGS)


if __name__ == "__main__":
    app()
