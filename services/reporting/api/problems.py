"""RFC 9457 problem+json for every error, with messages in Chinese and English; a bad parameter is 422 naming it."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reporting.periods import PeriodError
from reporting.stats import ScopeError

PROBLEM = "application/problem+json"
TITLES = {400: "请求错误 Bad request", 404: "不存在 Not found", 405: "不支持的方法 Method not allowed",
          422: "参数有误 Unprocessable content", 500: "内部错误 Internal error", 503: "暂不可用 Service unavailable"}


class Problem(Exception):
    """An error to answer as problem+json."""

    def __init__(self, status: int, code: str, zh: str, en: str, **extra: Any) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en, self.extra = status, code, zh, en, extra


def problem_response(status: int, code: str, zh: str, en: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": f"https://xinfang.example/problems/{code}", "title": TITLES.get(status, str(status)),
            "status": status, "detail": f"{zh}（{en}）", "detail_zh": zh, "detail_en": en, "code": code}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def invalid(field: str, zh: str, en: str, instance: str) -> JSONResponse:
    return problem_response(422, "validation", f"参数 {field} 有误：{zh}", f"invalid parameter {field}: {en}", instance,
                            errors=[{"field": field, "message_zh": zh, "message_en": en}])


def install(app: FastAPI) -> None:
    """Map every error the app can raise to problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.zh, exc.en, request.url.path, **exc.extra)

    @app.exception_handler(PeriodError)
    async def _period(request: Request, exc: PeriodError) -> JSONResponse:
        return invalid(exc.field, exc.zh, exc.en, request.url.path)

    @app.exception_handler(ScopeError)
    async def _scope(request: Request, exc: ScopeError) -> JSONResponse:
        return invalid(exc.field, exc.zh, exc.en, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": str(e.get("loc", ("?",))[-1]), "message_zh": "取值无效", "message_en": e.get("msg", "invalid"),
                   "type": e.get("type")} for e in exc.errors()]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(422, "validation", f"参数有误：{fields}", f"invalid parameters: {fields}",
                                request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh = {404: "没有这个地址", 405: "不支持该方法"}.get(exc.status_code, "请求错误")
        return problem_response(exc.status_code, f"http.{exc.status_code}", zh, str(exc.detail), request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("reporting").exception("unhandled error on %s", request.url.path)
        return problem_response(500, "internal", "服务内部错误，请稍后重试", "internal error; retry later", request.url.path)
