"""intake's own errors as problem+json: a refused command answers with the status of its kind."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from intake.domain.errors import Refused
from intake.store import NewerLayout
from xinfang import problems
from xinfang.problems import problem_response

STATUS_OF_REFUSAL = {"state": 409, "forbidden": 403, "invalid": 422, "not_found": 404}


def install(app: FastAPI) -> None:
    """Every error of the app as problem+json; a refused access to a matter is written to the access log."""
    problems.install(app, "intake")

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        status = STATUS_OF_REFUSAL[exc.kind]
        terminal = getattr(request.state, "terminal", None)
        if exc.kind in ("forbidden", "not_found") and terminal is not None:
            await request.app.state.intake.audit(terminal.id, terminal.unit_id, f"{request.method} {request.url.path}",
                                                 request.path_params.get("petition_id"), "refused", exc.en)
        named = {"errors": [{"field": exc.field, "message_zh": exc.zh, "message_en": exc.en}]} if exc.field else {}
        return problem_response(status, f"refused.{exc.code}", exc.zh, exc.en, request.url.path, **named)

    @app.exception_handler(NewerLayout)
    async def _newer_layout(request: Request, exc: NewerLayout) -> JSONResponse:
        # a newer intake replica wrote this matter (a rolling upgrade half done): this one must not decide on it
        return problem_response(503, "stored_state.newer_layout",
                                "该事项的状态由更新版本的受理服务写入，请升级本服务后重试",
                                "this matter's state was written by a newer intake; upgrade this replica "
                                "and retry", request.url.path)
