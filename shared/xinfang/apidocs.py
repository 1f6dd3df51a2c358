"""What every service's HTTP API shares on the wire, and the pages that document it.

- :func:`install_pages`: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) with their scripts served by the service
  itself from the npm packages ``swagger-ui-dist`` and ``redoc`` (``npm ci``): county networks are often cut off
  from the internet, and a page that loads its assets from a CDN is blank there.
- :func:`wire_truths`: the OpenAPI document made true to the wire in what FastAPI cannot infer — the bearer
  security scheme on every operation that reads the token, every error as the problem+json it is (FastAPI's own
  422 says a JSON list), and the ``X-Request-Id`` every answer carries (:class:`RequestIds`).
- :class:`RequestIds`: every answer carries ``X-Request-Id`` — the caller's or one made up — and every log line
  made while answering names it; a 500 included.
"""
from __future__ import annotations

import copy
import functools
import json
import re
import uuid
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from xinfang import logs
from xinfang.problems import PROBLEM, Problem, ProblemDocument
from xinfang.settings import ROOT

NODE_MODULES = ROOT / "node_modules"
ASSETS = {  # what the two pages load, each from its npm package
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js", "application/javascript"),
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css", "text/css"),
    "favicon-32x32.png": ("swagger-ui-dist", "favicon-32x32.png", "image/png"),
    "redoc.standalone.js": ("redoc", "bundles/redoc.standalone.js", "application/javascript"),
}
# ReDoc's side menu shows its maker's logo from their CDN: served with the logo left out (an empty picture), the
# page asks no other host for anything
REWRITES = {"redoc.standalone.js": (b"https://cdn.redoc.ly/redoc/logo-mini.svg",
                                    b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E")}
ASSET_PREFIX = "/docs/assets"
REQUEST_ID = "X-Request-Id"
SCOPE_KEY = "xinfang.request_id"  # where the problem handler of an unhandled error finds the id (see RequestIds)
_GIVEN = re.compile(rb"^[\x21-\x7e]{1,64}$")  # a caller's id is kept when it is short printable ASCII


def publish(document: dict, published: Path, argv: list[str]) -> None:
    """``python -m <service>.openapi [out.json]``: write the document (to ``published`` by default), as JSON that
    keeps the Chinese readable; print where."""
    out = Path(argv[1]) if len(argv) > 1 else published
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(out)


def asset(name: str, node_modules: Path = NODE_MODULES) -> Path:
    """The file of one documentation asset; 404 for a name not listed, 503 when ``npm ci`` has not installed it."""
    if name not in ASSETS:
        raise Problem(404, "http.404", "没有这个地址", "no such asset")
    package, inside, _ = ASSETS[name]
    path = node_modules / package / inside
    if not path.is_file():
        raise Problem(503, "assets", f"文档页面资源未安装（运行 npm ci）：{package}",
                      f"the documentation assets are not installed (run npm ci): {package}")
    return path


def install_pages(app: FastAPI, title: str) -> None:
    """``/docs`` and ``/redoc``, and their assets under ``/docs/assets/`` (the app is built with
    ``docs_url=None, redoc_url=None``). Open like ``/openapi.json``: they show the contract, never data."""
    favicon = f"{ASSET_PREFIX}/favicon-32x32.png"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{title} — Swagger UI",
                                   swagger_js_url=f"{ASSET_PREFIX}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSET_PREFIX}/swagger-ui.css", swagger_favicon_url=favicon,
                                   # no badge from the online validator: it would send the document's URL away
                                   swagger_ui_parameters={"validatorUrl": None})

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{title} — ReDoc",
                              redoc_js_url=f"{ASSET_PREFIX}/redoc.standalone.js", redoc_favicon_url=favicon,
                              with_google_fonts=False)

    @app.get(ASSET_PREFIX + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        path, cache = asset(name), {"Cache-Control": "max-age=86400"}
        if name in REWRITES:
            return Response(_rewritten(path, name), media_type=ASSETS[name][2], headers=cache)
        return FileResponse(path, media_type=ASSETS[name][2], headers=cache)


@functools.cache
def _rewritten(path: Path, name: str) -> bytes:
    """An asset with what it would fetch from elsewhere replaced (read once per process)."""
    old, new = REWRITES[name]
    return path.read_bytes().replace(old, new)


def _problem_ref() -> dict:
    return {PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}}


def wire_truths(schema: dict, bearer_description: str) -> dict:
    """The generated document made to say what the service sends (a copy: FastAPI shares dicts with the routes)."""
    schema = copy.deepcopy(schema)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["ProblemDocument"] = problem
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, which no answer has
        schemas.pop(unused, None)
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer", "description": bearer_description}
    components.setdefault("headers", {})[REQUEST_ID] = {
        "description": "请求编号：调用方所给（不超过64个可打印ASCII字符），否则由服务生成；日志按此编号记录。"
                       "The caller's request id (up to 64 printable ASCII characters), or one made up; every "
                       "log line of the request names it. On every answer, errors included.",
        "schema": {"type": "string"}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            _operation(operation)
    return schema


def _operation(operation: dict) -> None:
    parameters = operation.get("parameters", [])
    secured = any(p["in"] == "header" and p["name"].lower() == "authorization" for p in parameters)
    operation["parameters"] = [p for p in parameters if not (p["in"] == "header" and p["name"].lower() == "authorization")]
    if not operation["parameters"]:
        del operation["parameters"]
    if secured:  # the token travels as the security scheme says, not as a parameter
        operation["security"] = [{"bearer": []}]
    for status, response in operation.get("responses", {}).items():
        if status.startswith(("4", "5")):
            response["content"] = _problem_ref()
            if status == "422":
                response.setdefault("description", "请求内容有误（逐字段说明）Invalid fields, each named")
        response.setdefault("headers", {})[REQUEST_ID] = {"$ref": f"#/components/headers/{REQUEST_ID}"}


class RequestIds:
    """ASGI middleware, outermost of the app's: every answer carries ``X-Request-Id`` and every log line made
    while answering names it (:data:`xinfang.logs.request_id`).

    An unhandled error is answered (500) by Starlette's ServerErrorMiddleware, outside every middleware of the
    app: the id is also put in the scope, where the problem handler of that 500 finds it for the answer and its log
    line (xinfang.problems)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        rid = given.decode("ascii") if _GIVEN.match(given) else uuid.uuid4().hex
        scope[SCOPE_KEY] = rid
        header = (b"x-request-id", rid.encode("ascii"))

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], header]
            await send(message)

        token = logs.request_id.set(rid)
        try:
            await self.app(scope, receive, sending)
        finally:
            logs.request_id.reset(token)
