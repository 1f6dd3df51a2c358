"""reporting's own errors as problem+json: a bad period or scope is 422 naming the parameter."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from reporting.periods import PeriodError
from reporting.stats import ScopeError
from xinfang import problems
from xinfang.problems import invalid


def install(app: FastAPI) -> None:
    """Every error of the app as problem+json."""
    problems.install(app, "reporting")

    @app.exception_handler(PeriodError)
    async def _period(request: Request, exc: PeriodError) -> JSONResponse:
        return invalid(exc.field, exc.zh, exc.en, request.url.path)

    @app.exception_handler(ScopeError)
    async def _scope(request: Request, exc: ScopeError) -> JSONResponse:
        return invalid(exc.field, exc.zh, exc.en, request.url.path)
