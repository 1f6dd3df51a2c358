"""intake's own errors as problem+json: a refused command answers with the status of its kind."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from xinfang import problems
from xinfang.problems import problem_response

from intake.domain.errors import Refused

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
        return problem_response(status, f"refused.{exc.code}", exc.zh, exc.en, request.url.path)
