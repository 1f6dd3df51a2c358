"""Dependencies of the routes: the service, the calling terminal, the Idempotency-Key."""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, NamedTuple

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute

from intake import idempotency
from intake.auth import Terminal, authenticate, is_admin
from xinfang.problems import Problem
from xinfang.terminals import bearer


def _bearer_or_none(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def source_of(request: Request) -> str:
    """The caller's address: the peer's, or X-Forwarded-For's from a configured proxy (uvicorn's proxy headers)."""
    return request.client.host if request.client else "unknown"


@contextlib.contextmanager
def _counted_failure(app, source: str):
    """Authenticate a caller from ``source``: refused at once (429) while it failed too often, before any look-up;
    a failure inside is counted against it and, aggregated, in the access log."""
    try:
        app.auth_failures.refuse_if_empty(source)
    except Problem:
        app.failed_authentications.note(source, "limited")
        raise
    try:
        yield
    except Problem:
        app.auth_failures.spend(source)
        app.failed_authentications.note(source, "refused")
        raise


def admin_is_no_terminal() -> Problem:
    """The admin token where a terminal's is needed (imports, commands, reads): not 401, but the way to act."""
    return Problem(403, "auth.admin_token",
                   "管理令牌只用于创建和吊销终端：请用它创建一个终端（POST /v1/terminals），再以该终端的令牌操作；"
                   "导入全县的历史请用县信访局的主管终端",
                   "the admin token only creates and revokes terminals: create a terminal with it (POST /v1/terminals) "
                   "and act with that terminal's token; to import the whole county's history, use a supervisor "
                   "terminal of the county bureau")


async def current_terminal(request: Request,
                           authorization: Annotated[str | None, Header()] = None) -> Terminal:
    """The calling terminal; a token the cache knows costs no query and is never limited by its source."""
    known = getattr(request.state, "terminal", None)
    if known is not None:
        return known
    app = request.app.state.intake
    token = _bearer_or_none(authorization)
    terminal = app.terminals.get(token) if token else None
    if terminal is None:
        with _counted_failure(app, source_of(request)):
            token = bearer(authorization)
            if is_admin(token, app.settings.admin_token.get_secret_value()):  # in here: a guess is still limited
                raise admin_is_no_terminal()
            async with app.pool.acquire() as conn:
                terminal = await authenticate(conn, token)
            if terminal is None:
                raise Problem(401, "auth.invalid", "令牌无效或已吊销", "invalid or revoked token")
        app.terminals.put(token, terminal)
    app.limiter.check(terminal.id)
    request.state.terminal = terminal
    return terminal


async def admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    if getattr(request.state, "admin", False):
        return
    app = request.app.state.intake
    with _counted_failure(app, source_of(request)):
        if not is_admin(bearer(authorization), app.settings.admin_token.get_secret_value()):
            raise Problem(403, "auth.admin", "需要管理令牌", "the admin token is required")
    request.state.admin = True


class AuthenticatedFirst(APIRoute):
    """A route that authenticates its caller before FastAPI reads the body: without a valid token the answer is
    401 (or 429) whatever the body — never 422 for a body that is not JSON, which would tell a stranger what the
    API validates."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        calls = {dependency.call for dependency in self.dependant.dependencies}
        first = admin if admin in calls else current_terminal if calls & {current_terminal, terminal_and_key} else None
        if first is None:
            return handler

        async def authenticated(request: Request) -> Response:
            await first(request, request.headers.get("authorization"))  # the route's dependency then finds it done
            return await handler(request)

        return authenticated


class Write(NamedTuple):
    """A POST's calling terminal and its Idempotency-Key: one dependency, whose parameters FastAPI solves once per
    request (a dependency of each was two to solve, ~30 us a request more)."""

    terminal: Terminal
    idem: idempotency.IdempotencyKey


async def terminal_and_key(request: Request, authorization: Annotated[str | None, Header()] = None,
                           key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> Write:
    terminal = await current_terminal(request, authorization)
    body = await request.body()
    return Write(terminal, idempotency.parse(terminal.id, key, request.method, request.url.path, body))


class RateLimiter:
    """A token bucket per key (per worker process): a burst of a minute's allowance, refilled steadily."""

    def __init__(self, per_minute: int, zh: str = "请求过于频繁，请稍后再试",
                 en: str = "too many requests from this terminal") -> None:
        self.rate, self.capacity = per_minute / 60.0, float(per_minute)
        self.zh, self.en = zh, en
        self.buckets: dict[str, tuple[float, float]] = {}

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self.buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.rate)

    def check(self, key: str) -> None:
        """Spend one, or 429 with Retry-After when the bucket is empty."""
        self.refuse_if_empty(key)
        self.spend(key)

    def refuse_if_empty(self, key: str) -> None:
        tokens = self._tokens(key, time.monotonic())
        if tokens < 1:
            retry = max(1, math.ceil((1 - tokens) / self.rate))
            raise Problem(429, "rate_limited", self.zh, self.en, headers={"Retry-After": str(retry)})

    def spend(self, key: str) -> None:
        now = time.monotonic()
        self.buckets[key] = (self._tokens(key, now) - 1, now)

    def forget_full(self) -> None:
        """Drop the buckets that have refilled (a full bucket is what a new key gets): memory stays bounded."""
        now = time.monotonic()
        self.buckets = {k: v for k, v in self.buckets.items() if self._tokens(k, now) < self.capacity}


TerminalDep = Annotated[Terminal, Depends(current_terminal)]
WriteDep = Annotated[Write, Depends(terminal_and_key)]  # a POST's terminal and Idempotency-Key
AdminDep = Annotated[None, Depends(admin)]
