"""The reporting application: settings, pool, county, the live projection, the routes."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from reporting.active import CHANNEL, active_schema
from reporting.api import problems
from reporting.api.bulletin import router as bulletin_router
from reporting.api.hotspots import router as hotspots_router
from reporting.api.routes import router
from reporting.api.supervision import router as supervision_router
from reporting.city import deployment
from reporting.consumer import LiveProjection, Metrics
from reporting.settings import ReportingSettings
from reporting.stats import Reporter
from reporting.store import Store, connect, pool
from xinfang import apidocs, logs
from xinfang.problems import Problem
from xinfang.retry import retrying
from xinfang.terminals import TokenDirectory

log = logging.getLogger("reporting")
VENDOR = Path(__file__).parent / "static" / "vendor"  # a copy of the npm assets, for images without node_modules


class Reporting:
    """Everything the routes need, built once at start."""

    def __init__(self, settings: ReportingSettings) -> None:
        # a county's own topics and tree, or a city's (its Kafka, its counties' mirrored topics, their trees)
        self.settings, self.county, self.roles, self.city = deployment(settings)
        settings = self.settings
        self.schema = settings.reporting_schema  # the physical schema: see reporting.active
        self.store = Store(self.schema)
        self.registry = CollectorRegistry()
        self.metrics = Metrics(self.registry)
        self.pool: asyncpg.Pool
        self.reporter: Reporter
        self.live: LiveProjection | None = None
        self.tasks: list[asyncio.Task] = []  # the projection's
        self.follower: asyncio.Task | None = None
        self.tokens = TokenDirectory(settings)  # every route but /livez, /readyz, /metrics checks the caller's token
        self.token_task: asyncio.Task | None = None

    async def start(self) -> None:
        self.token_task = asyncio.create_task(self.tokens.run(), name="terminal-tokens")
        conn = await connect(self.settings.database_url)
        try:
            await self._use(await active_schema(conn, self.settings.reporting_schema), conn)
        finally:
            await conn.close()
        self.pool = await pool(self.settings.database_url, min_size=2, max_size=self.settings.pool_size)
        self.reporter = Reporter(self.pool, self.schema, self.county)
        self._project()
        self.follower = asyncio.create_task(self._follow(), name="follow-active-schema")

    async def _use(self, schema: str, conn: asyncpg.Connection) -> None:
        self.schema, self.store = schema, Store(schema)
        await self.store.migrate(conn)

    def _project(self) -> None:
        if self.settings.consumer_enabled:
            self.live = LiveProjection(self.settings, self.pool, self.store, self.metrics, self.roles)
            self.tasks = [asyncio.create_task(self.live.run(), name="projection"),
                          asyncio.create_task(self.live.refresh(), name="refresh")]

    async def _stop_projection(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks, self.live = [], None

    async def _follow(self) -> None:
        """Switch to the schema a rebuild pointed the name at (NOTIFY, and a look every 5 s besides)."""
        await retrying(self._follow_once, "following the active schema", log)  # the database may be restarting

    async def _follow_once(self) -> None:
        name, changed = self.settings.reporting_schema, asyncio.Event()
        conn = await connect(self.settings.database_url)
        try:
            await conn.add_listener(CHANNEL, lambda *_: changed.set())
            while True:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(changed.wait(), 5)
                changed.clear()
                schema = await active_schema(conn, name)
                if schema != self.schema:
                    log.info("switching from schema %s to %s (blue/green rebuild)", self.schema, schema)
                    await self._stop_projection()
                    old = self.schema
                    await self._use(schema, conn)
                    self.reporter = Reporter(self.pool, schema, self.county)
                    self._project()
                    log.info("now serving and projecting schema %s (was %s)", schema, old)
        finally:
            with contextlib.suppress(Exception):  # the connection is gone already when the database went away
                await conn.close()

    async def stop(self) -> None:
        for task in (self.follower, self.token_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._stop_projection()
        await self.pool.close()

    def echarts(self) -> Path | None:
        for folder in (self.settings.assets_dir, VENDOR):
            if (folder / "echarts.min.js").is_file():
                return folder / "echarts.min.js"
        return None


TAGS = [{"name": "statistics", "description": "统计数据、指标定义、明细、趋势。Figures, definitions, drill-down, trends."},
        {"name": "assessment", "description": "考核排名：单位与区划按指标排名。Units and places ranked for a period."},
        {"name": "reports", "description": "文字综述 The written summary."},
        {"name": "dashboard", "description": "统计看板 The dashboard page."},
        {"name": "supervision", "description": "督办单及其办理情况 Supervision notices and what was answered since."},
        {"name": "hotspots", "description": "热点预警（只针对事项，不针对个人）Hotspot warnings, about matters only."},
        {"name": "city", "description": "市级（city mode）：各县汇总后的待办。The city mode: matters held at the city "
                                    "tier in every county."}]
BEARER = ("终端令牌，由受理服务签发（POST /v1/terminals）。A terminal's token, issued by intake; the roles and the "
          "unit's jurisdiction subtree decide what it reads.")


def _document(app: FastAPI) -> None:
    """``app.openapi()`` answers the document true to the wire (xinfang.apidocs.wire_truths), built once."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = apidocs.wire_truths(generate(), BEARER)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    logs.configure("reporting", settings.log_level)
    reporting = Reporting(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        await reporting.start()
        yield
        await reporting.stop()

    app = FastAPI(title="信访统计 Petition statistics — reporting API", version="1.0.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_tags=TAGS, generate_unique_id_function=lambda route: route.name,
                  description=("按《信访工作条例》统计口径计算的各项指标、文字综述、导出与看板。\n\n"
                               "Every figure of the counting rules for any period, jurisdiction or unit, with "
                               "year-on-year and month-on-month comparisons; CSV and XLSX exports; the written "
                               "summary (text, DOCX); a dashboard. Errors are RFC 9457 problem+json."))
    app.state.reporting = reporting
    _document(app)
    apidocs.install_pages(app, "信访统计 Petition statistics")
    problems.install(app)
    app.include_router(router)
    app.include_router(supervision_router)
    app.include_router(hotspots_router)
    app.include_router(bulletin_router)
    app.add_middleware(apidocs.RequestIds)

    @app.get("/static/echarts.min.js", include_in_schema=False)
    async def echarts() -> FileResponse:
        path = reporting.echarts()
        if path is None:
            raise Problem(503, "assets", "图表库未安装（运行 npm install）", "echarts is not installed (run npm install)")
        return FileResponse(path, media_type="application/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            async with reporting.pool.acquire() as conn:
                queued = await reporting.store.queued(conn)
        except Exception as exc:  # noqa: BLE001
            return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
        live = reporting.live
        body = {"schema": reporting.schema, "tokens_current": reporting.tokens.trusted,
                "consumer_assigned": bool(live and live.assigned),
                "consumer_lag": live.lag_total if live else None, "refresh_queue": queued}
        if live is not None and not live.caught_up:  # figures served now would be behind the topics
            return JSONResponse({"status": "consumer not caught up", **body}, status_code=503)
        return JSONResponse({"status": "ok", **body})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(reporting.registry), media_type=CONTENT_TYPE_LATEST)

    return app
