"""RFC 9457 problem+json, the one shape of every HTTP error the services answer, in Chinese and English.

``install`` maps what any FastAPI app can raise (:class:`Problem`, request validation, routing errors,
anything unexpected) to problem+json; each service adds the handlers of its own domain errors.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinfang import logs

PROBLEM = "application/problem+json"
TITLES = {
    400: "请求错误 Bad request", 401: "未认证 Unauthorized", 403: "无权操作 Forbidden",
    404: "不存在 Not found", 405: "不支持的方法 Method not allowed", 409: "冲突 Conflict",
    413: "请求过大 Payload too large", 415: "不支持的媒体类型 Unsupported media type",
    422: "无法处理 Unprocessable content", 429: "请求过多 Too many requests", 500: "内部错误 Internal error",
    503: "暂不可用 Service unavailable",
}
FIELD_MESSAGES = {
    "missing": "必填", "string_too_short": "太短", "string_too_long": "太长", "literal_error": "取值不在允许范围",
    "greater_than_equal": "数值太小", "less_than_equal": "数值太大", "int_parsing": "须为整数",
    "string_pattern_mismatch": "格式不符", "json_invalid": "不是有效的JSON", "extra_forbidden": "不允许的字段",
    "bool_parsing": "须为布尔值", "string_type": "须为字符串", "datetime_parsing": "须为带时区的时间",
    "timezone_aware": "须带时区", "model_attributes_type": "须为对象", "list_type": "须为数组",
    "enum": "取值不在允许范围", "date_from_datetime_parsing": "须为日期", "date_parsing": "须为日期",
}
_WHERE = {"body", "query", "path", "header", "cookie"}  # where a parameter came from: not part of its name


class FieldError(BaseModel):
    """One field of the request that is wrong, by its dotted name."""

    field: str = Field(description="e.g. petitioners.0.id_number, or body")
    message_zh: str
    message_en: str
    type: str | None = Field(None, description="the validation error's kind, where the request's shape was wrong")


class ProblemDocument(BaseModel):
    """RFC 9457 problem+json, the body of every error: `code` names the problem (also the end of `type`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="https://xinfang.example/problems/<code>")
    title: str
    status: int
    detail: str = Field(description="detail_zh（detail_en）")
    detail_zh: str
    detail_en: str
    code: str = Field(description="e.g. validation, refused.state, auth.invalid, idempotency.missing")
    instance: str | None = Field(None, description="the request's path")
    errors: list[FieldError] | None = Field(None, description="each field that is wrong (422)")


class Problem(Exception):
    """An error to answer as problem+json."""

    def __init__(self, status: int, code: str, zh: str, en: str, **extra: Any) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en, self.extra = status, code, zh, en, extra


def problem_body(status: int, code: str, zh: str, en: str, instance: str | None = None, **extra: Any) -> dict:
    """The problem+json document (for a server that is not FastAPI: escalation's faust pages)."""
    body = {"type": f"https://xinfang.example/problems/{code}", "title": TITLES.get(status, str(status)),
            "status": status, "detail": f"{zh}（{en}）", "detail_zh": zh, "detail_en": en, "code": code}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(status: int, code: str, zh: str, en: str, instance: str | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(problem_body(status, code, zh, en, instance, **extra), status_code=status, media_type=PROBLEM,
                        headers=headers)


def invalid(field: str, zh: str, en: str, instance: str) -> JSONResponse:
    """422 for one parameter the service itself found wrong."""
    return problem_response(422, "validation", f"参数 {field} 有误：{zh}", f"invalid parameter {field}: {en}", instance,
                            errors=[{"field": field, "message_zh": zh, "message_en": en}])


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Each invalid field by its dotted name (``petitioners.0.id_number``), with the reason in both languages."""
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in _WHERE:
            loc = loc[1:]
        errors.append({"field": ".".join(loc) or "body", "message_zh": FIELD_MESSAGES.get(error["type"], "取值无效"),
                       "message_en": error.get("msg", "invalid"), "type": error["type"]})
    return errors


def install(app: FastAPI, service: str) -> None:
    """Map every error any app can raise to problem+json (``service``: the logger of unexpected errors)."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.zh, exc.en, request.url.path, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc)
        return problem_response(422, "validation", f"请求内容有误：{'、'.join(e['field'] for e in errors)}",
                                f"invalid request fields: {', '.join(e['field'] for e in errors)}",
                                request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh = {404: "没有这个地址", 405: "不支持该方法"}.get(exc.status_code, "请求错误")
        return problem_response(exc.status_code, f"http.{exc.status_code}", zh, str(exc.detail),
                                request.url.path, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        rid = request.scope.get("xinfang.request_id")  # answered outside the middleware: see apidocs.RequestIds
        token = logs.request_id.set(rid)
        try:
            logging.getLogger(service).exception("unhandled error on %s", request.url.path)
        finally:
            logs.request_id.reset(token)
        return problem_response(500, "internal", "服务内部错误，请稍后重试", "internal error; retry later",
                                request.url.path, headers={"X-Request-Id": rid} if rid else None)
