"""The worker's web pages: a matter's timer state, open clocks per tier and stage, health, metrics.

- ``GET /matters/{petition_id}``: the state escalation keeps for one matter (routed to the worker
  that owns the matter's partition); 404 if it has never seen the matter.
- ``GET /timers``: open clocks per tier and stage on this worker's partitions, and which ones.
- Both need a terminal's token with the admin or supervisor role (learnt from ``xinfang.terminals``, as reporting
  does: :mod:`xinfang.terminals`): 401 without a valid one, 403 for another role, 503 while tokens cannot be checked.
  And its jurisdiction, as everywhere (``County.in_scope``): a matter outside the terminal's subtree answers the
  same 404 as an unknown one; ``/timers`` counts the whole county, so it answers only terminals whose scope covers
  the county (the county bureau, its departments, the city), others 404.
- ``GET /livez``: the process answers.  ``GET /readyz``: it owns its partitions, their tables
  are recovered and indexed (503 otherwise); either way the calendar's covered and assumed years
  (:mod:`xinfang.coverage`).  ``GET /metrics``: Prometheus text format.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from escalation.domain import codec
from escalation.domain.clock import CLOCK_STAGES
from xinfang.county import TIERS
from xinfang.events.envelope import rfc3339
from xinfang.kafka import measure_lag
from xinfang.problems import PROBLEM, Problem, problem_body
from xinfang.terminals import Terminal, caller

if TYPE_CHECKING:
    from escalation.app import Escalation


def matter_view(worker: Escalation, pid: str) -> dict[str, Any] | None:
    """One matter's state as the API shows it."""
    stored = worker._load(pid)  # noqa: SLF001 — the worker's own table
    if stored is None:
        return None
    m = stored.matter
    body = codec.to_dict(m)
    body["head"] = {"seq": m.head.seq, "hash": m.head.hash}
    nxt = worker.processor.next_breach(stored)
    body["next_breach_at"] = None if nxt is None else rfc3339(nxt)
    body["unconfirmed_events"] = [seq for seq, _ in stored.outbox]
    body["timed"] = m.clock is not None and not m.imported
    return body


STAFF = frozenset({"admin", "supervisor"})


def problem_response(view: View, request: Request, problem: Problem) -> Response:
    body = problem_body(problem.status, problem.code, problem.zh, problem.en, request.url.path)
    return view.bytes(orjson.dumps(body), content_type=PROBLEM, status=problem.status,
                      headers=problem.extra.get("headers"))


def unknown_matter(petition_id: str) -> Problem:
    """The one answer for a matter never seen and a matter outside the caller's jurisdiction."""
    return Problem(404, "not_found", f"未找到该事项 {petition_id}，或不在本终端辖区内",
                   f"no matter {petition_id}, or outside this terminal's jurisdiction")


def staff(worker: Escalation, request: Request) -> Terminal:
    """The calling terminal if it has the admin or supervisor role; else the Problem (401/403/503)."""
    terminal = caller(worker.tokens, request.headers.get("Authorization"))
    if not terminal.roles & STAFF:
        raise Problem(403, "auth.role", "需要管理员或督办（supervisor）角色的终端令牌",
                      "a terminal token with the admin or supervisor role is required")
    return terminal


def register(worker: Escalation) -> None:
    app, matters = worker.app, worker.matters

    @app.page("/matters/{petition_id}")
    class MatterPage(View):
        @app.table_route(table=matters, match_info="petition_id")
        async def get(self, request: Request, petition_id: str) -> Response:
            try:  # checked where the matter lives (faust forwards the header)
                terminal = staff(worker, request)
                body = matter_view(worker, petition_id)
                if body is None or not worker.county.in_scope(terminal.unit_id, body["jurisdiction"]):
                    raise unknown_matter(petition_id)
            except Problem as problem:
                return problem_response(self, request, problem)
            return self.json(body)

    @app.page("/timers")
    class TimersPage(View):
        async def get(self, request: Request) -> Response:
            try:
                terminal = staff(worker, request)
                if not worker.county.in_scope(terminal.unit_id, worker.county.code):
                    raise Problem(404, "scope", "各级时限计数覆盖全县，仅县级及以上终端可查看",
                                  "the timer counts cover the whole county: terminals of the county or above only")
            except Problem as problem:
                return problem_response(self, request, problem)
            counts = worker.index.counts()
            rows = [{"tier": tier, "stage": stage, "open": counts.get((tier, stage), 0)}
                    for tier in TIERS for stage in CLOCK_STAGES]
            return self.json({"partitions": worker.index.partitions, "total": sum(counts.values()),
                              "by_tier_and_stage": rows})

    @app.page("/livez")
    class Live(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "live"})

    @app.page("/readyz")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            if worker.ready and not app.rebalancing:
                return self.json({"status": "ready", "partitions": worker.index.partitions,
                                  "calendar": worker.calendar.now()})
            return self.json({"status": "starting or rebalancing", "calendar": worker.calendar.now()}, status=503)

    @app.page("/metrics")
    class MetricsPage(View):
        async def get(self, request: Request) -> Response:
            m = worker.metrics
            m.open_timers.clear()
            for (tier, stage), n in worker.index.counts().items():
                m.open_timers.labels(tier, stage).set(n)
            m.partitions.set(len(worker.index.partitions))
            m.backlog.set(worker.publisher.backlog)
            worker.calendar.now()
            # its input topics, not the table's changelog
            await measure_lag(worker.app.consumer, m.lag, topics={worker.events_topic, worker.ticks_name})
            return self.bytes(generate_latest(m.registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])
