"""Dependencies of the routes: the service, the calling terminal, the Idempotency-Key."""
from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Request

from xinfang.problems import Problem

from intake import idempotency
from intake.auth import Terminal, authenticate, is_admin


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Problem(401, "auth.missing", "缺少访问令牌", "missing bearer token",
                      headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "auth.scheme", "令牌格式应为 Bearer <token>", "use Authorization: Bearer <token>")
    return token.strip()


async def current_terminal(request: Request,
                           authorization: Annotated[str | None, Header()] = None) -> Terminal:
    token = _bearer(authorization)
    app = request.app.state.intake
    terminal = app.terminals.get(token)
    if terminal is None:
        async with app.pool.acquire() as conn:
            terminal = await authenticate(conn, token)
        if terminal is not None:
            app.terminals.put(token, terminal)
    if terminal is None:
        await app.audit(None, None, "authenticate", None, "refused", "invalid or revoked token")
        raise Problem(401, "auth.invalid", "令牌无效或已吊销", "invalid or revoked token")
    app.limiter.check(terminal.id)
    request.state.terminal = terminal
    return terminal


async def admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    token = _bearer(authorization)
    app = request.app.state.intake
    if not is_admin(token, app.settings.admin_token.get_secret_value()):
        await app.audit(None, None, "admin", None, "refused", "not the admin token")
        raise Problem(403, "auth.admin", "需要管理令牌", "the admin token is required")


async def idempotency_key(request: Request, terminal: Annotated[Terminal, Depends(current_terminal)],
                          key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> idempotency.IdempotencyKey:
    body = await request.body()
    return idempotency.parse(terminal.id, key, request.method, request.url.path, body)


class RateLimiter:
    """A token bucket per terminal (per replica): a burst of a minute's allowance, refilled steadily."""

    def __init__(self, per_minute: int) -> None:
        self.rate, self.capacity = per_minute / 60.0, float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str) -> None:
        now = time.monotonic()
        tokens, last = self.buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens < 1:
            retry = max(1, int((1 - tokens) / self.rate))
            raise Problem(429, "rate_limited", "请求过于频繁，请稍后再试", "too many requests from this terminal",
                          headers={"Retry-After": str(retry)})
        self.buckets[key] = (tokens - 1, now)


TerminalDep = Annotated[Terminal, Depends(current_terminal)]
IdemDep = Annotated[idempotency.IdempotencyKey, Depends(idempotency_key)]
AdminDep = Annotated[None, Depends(admin)]
