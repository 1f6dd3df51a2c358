"""RFC 9457 problem+json for every error, with messages in Chinese and English."""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from intake.domain.errors import Refused

PROBLEM = "application/problem+json"
STATUS_OF_REFUSAL = {"state": 409, "forbidden": 403, "invalid": 422, "not_found": 404}
TITLES = {
    400: "请求错误 Bad request", 401: "未认证 Unauthorized", 403: "无权操作 Forbidden",
    404: "不存在 Not found", 409: "冲突 Conflict", 413: "请求过大 Payload too large",
    415: "不支持的媒体类型 Unsupported media type", 422: "无法处理 Unprocessable content",
    429: "请求过多 Too many requests", 500: "内部错误 Internal error", 503: "暂不可用 Service unavailable",
}


class Problem(Exception):
    """An error to answer as problem+json."""

    def __init__(self, status: int, code: str, zh: str, en: str, **extra: Any) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en, self.extra = status, code, zh, en, extra


def problem_response(status: int, code: str, zh: str, en: str, instance: str | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": f"https://xinfang.example/problems/{code}", "title": TITLES.get(status, str(status)),
            "status": status, "detail": f"{zh}（{en}）", "detail_zh": zh, "detail_en": en, "code": code}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


_FIELD_MESSAGES = {
    "missing": "必填", "string_too_short": "太短", "string_too_long": "太长", "literal_error": "取值不在允许范围",
    "greater_than_equal": "数值太小", "less_than_equal": "数值太大", "int_parsing": "须为整数",
    "string_pattern_mismatch": "格式不符", "json_invalid": "不是有效的JSON", "extra_forbidden": "不允许的字段",
    "bool_parsing": "须为布尔值", "string_type": "须为字符串", "datetime_parsing": "须为带时区的时间",
    "timezone_aware": "须带时区", "model_attributes_type": "须为对象", "list_type": "须为数组",
}


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        errors.append({"field": location or "body", "message_zh": _FIELD_MESSAGES.get(error["type"], "取值无效"),
                       "message_en": error.get("msg", "invalid"), "type": error["type"]})
    return errors


def install(app: FastAPI) -> None:
    """Map every error the app can raise to problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.zh, exc.en, request.url.path, **exc.extra)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        status = STATUS_OF_REFUSAL[exc.kind]
        terminal = getattr(request.state, "terminal", None)
        if exc.kind in ("forbidden", "not_found") and terminal is not None:
            await request.app.state.intake.audit(terminal.id, terminal.unit_id, f"{request.method} {request.url.path}",
                                                 request.path_params.get("petition_id"), "refused", exc.en)
        return problem_response(status, f"refused.{exc.code}", exc.zh, exc.en, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = "、".join(e["field"] for e in errors)
        return problem_response(422, "validation", f"请求内容有误：{fields}",
                                f"invalid request fields: {', '.join(e['field'] for e in errors)}",
                                request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh = {404: "没有这个地址", 405: "不支持该方法"}.get(exc.status_code, "请求错误")
        return problem_response(exc.status_code, f"http.{exc.status_code}", zh, str(exc.detail),
                                request.url.path, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("intake").exception("unhandled error on %s", request.url.path)
        return problem_response(500, "internal", "服务内部错误，请稍后重试", "internal error; retry later",
                                request.url.path)
