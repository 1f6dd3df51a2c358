"""The intake application: wiring of settings, pool, county, service, relay and routing consumer."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from datetime import datetime
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from intake import idempotency
from intake.api import document, lookup, problems
from intake.api.deps import RateLimiter
from intake.api.notices import router as notices_router
from intake.api.portal import PortalLimits
from intake.api.portal import router as portal_router
from intake.api.routes import router
from intake.api.supervision import router as supervision_router
from intake.auth import FailedAuthentications, TerminalCache
from intake.keyring import Keyring
from intake.notices.issuing import Notices
from intake.notices.supervising import Supervision
from intake.portal_web import install as install_portal
from intake.relay import OutboxBell, Relay
from intake.routing_consumer import RoutingConsumer
from intake.service import IntakeService
from intake.settings import IntakeSettings
from intake.terminal_events import TerminalPublisher
from intake.terminal_web import install as install_terminal
from xinfang import apidocs, logs
from xinfang.county import load_county
from xinfang.coverage import CalendarCoverage
from xinfang.encryption import master_key_from_text
from xinfang.migrations import migrate
from xinfang.problems import problem_response
from xinfang.retry import retrying

MIGRATIONS = Path(__file__).parent / "migrations"
FLUSH_SECONDS = 5.0  # failed authentications reach the access log this often (a count per source and minute)
log = logging.getLogger("intake")


class PooledConnection(asyncpg.Connection):
    """Pool connections hold no session state between uses (transaction-scoped locks only, no LISTEN,
    no SET), so the reset query asyncpg runs on every release — a round trip per request — is skipped.
    The import route's session lock is released explicitly."""

    def get_reset_query(self) -> str:
        return ""


class Intake:
    """Everything the routes need, built once at start."""

    def __init__(self, settings: IntakeSettings) -> None:
        self.settings = settings
        self.county = load_county(settings.county_file)
        self.keyring = Keyring(master_key_from_text(settings.master_key.get_secret_value(), settings.seal_algorithm),
                               settings.seal_algorithm)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.lookups = RateLimiter(self.county.lookups_per_minute, "按个人信息查询过于频繁，请稍后再试",
                                   "too many lookups by identity number or phone from this terminal")
        self.auth_failures = RateLimiter(settings.auth_failures_per_minute, "认证失败次数过多，请稍后再试",
                                         "too many failed authentications from this address")
        self.failed_authentications = FailedAuthentications()
        self.portal_limits = PortalLimits(settings.portal_attempts_per_minute,
                                          settings.portal_attempts_per_receipt_per_minute)
        self.server_settings = {"search_path": f"{settings.intake_schema},public"}
        self.registry = CollectorRegistry()
        self.requests = Counter("intake_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("intake_request_seconds", "HTTP request latency", ["route"], registry=self.registry)
        self.outbox_lag = Gauge("intake_outbox_lag_events", "events committed, not yet on Kafka", registry=self.registry)
        self.calendar = CalendarCoverage(self.county, self.registry, log)  # the windows intake counts (organisation)
        self.pool: asyncpg.Pool
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self.calendar.announce()
        dsn = self.settings.database_url
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn, self.settings.intake_schema, MIGRATIONS)
        finally:
            await conn.close()
        self.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=self.settings.pool_size,
                                              server_settings=self.server_settings, connection_class=PooledConnection)
        self.terminals = TerminalCache(dsn)
        await self.terminals.start()
        self.relay = Relay(self.settings, dsn, self.server_settings)
        self.bell = OutboxBell(self.pool, self.relay if self.settings.relay_enabled else None)
        self.service = IntakeService(self.pool, self.county, self.keyring, self.settings.hash_algorithm,
                                     self.settings.county_code, committed=self.bell.ring)
        await self.service.ensure_receipt_year(datetime.now(self.county.zone).year)
        self.notices = Notices(self.pool, self.county, self.keyring, self.service)
        self.supervision = Supervision(self.pool, self.county, self.service)
        self.routing = RoutingConsumer(self.settings, self.pool, f"intake-routing-{self.settings.intake_schema}",
                                       self.registry)
        self.terminal_events = TerminalPublisher(self.settings, self.pool, self.service.source)
        if self.settings.relay_enabled:
            self.tasks.append(asyncio.create_task(self.relay.run(), name="relay"))
            self.tasks.append(asyncio.create_task(self.terminal_events.run(), name="terminal-events"))
        if self.settings.routing_consumer_enabled:
            self.tasks.append(asyncio.create_task(self.routing.run(), name="routing"))
        self.tasks.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))
        self.tasks.append(asyncio.create_task(self._flushing(), name="failed authentications"))

    async def stop(self) -> None:
        await self.terminals.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await self._flush_failed_authentications()  # what this process counted since the last flush
        await self.bell.stop()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.pool.close()

    async def _housekeeping(self) -> None:
        while True:
            await retrying(self._purge, "housekeeping (idempotency keys, access log)", log)
            await asyncio.sleep(3600)

    async def _purge(self) -> None:
        async with self.pool.acquire() as conn:
            await idempotency.purge(conn, self.settings.idempotency_retention_days)
            await conn.execute("DELETE FROM access_log WHERE at < now() - interval '400 days'")
        await self.service.void_unused_receipts()

    async def _flushing(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await retrying(self._flush_failed_authentications, "failed authentications to the access log", log)

    async def _flush_failed_authentications(self) -> None:
        self.auth_failures.forget_full()
        self.portal_limits.forget_full()
        async with self.pool.acquire() as conn:
            await self.failed_authentications.flush(conn)

    async def audit(self, terminal_id: str | None, unit_id: str | None, action: str, petition_id: str | None,
                    outcome: str, detail: str) -> None:
        """The access log: every read of personal data and every refused access."""
        import uuid as _uuid

        pid = None
        with contextlib.suppress(ValueError, TypeError):
            pid = _uuid.UUID(petition_id) if petition_id else None
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO access_log (terminal_id, unit_id, action, petition_id, outcome, detail) VALUES ($1,$2,$3,$4,$5,$6)",
                terminal_id, unit_id, action, pid, outcome, detail[:500])


class LimitsAndMetrics:
    """Request size limits and Prometheus metrics, as plain ASGI (no per-request task like BaseHTTPMiddleware)."""

    def __init__(self, app, intake: Intake, settings: IntakeSettings) -> None:
        self.app, self.intake, self.settings = app, intake, settings
        self.counted: dict[tuple[str, str, str], tuple] = {}  # (method, route, status) → its counter and histogram

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        path = scope["path"]
        limit = self.settings.max_import_bytes if path == "/v1/imports" else self.settings.max_body_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            response = problem_response(413, "too_large", "请求体过大", f"request body over {limit} bytes", path)
            return await response(scope, receive, send)
        status = 500
        token = logs.petition_id.set(_petition_in(path))  # the request id: apidocs.RequestIds, outside this one

        async def sending(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            logs.petition_id.reset(token)
            route = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], route, str(status))
            if (counted := self.counted.get(key)) is None:  # labels() looked up once per key, not every request
                counted = self.counted[key] = (self.intake.requests.labels(*key), self.intake.latency.labels(route))
            counted[0].inc()
            counted[1].observe(time.perf_counter() - started)


def _petition_in(path: str) -> str | None:
    parts = path.split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "petitions" else None


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    logs.configure("intake", settings.log_level)  # in every worker process
    intake = Intake(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        await intake.start()
        # what the start built (the app, its schemas, the county) lives as long as the process: out of the
        # collector's full passes, which otherwise walked it all, a pause of tens of milliseconds every few
        # thousand requests (docs/benchmarks.md, the lookup section)
        gc.collect()
        gc.freeze()
        # young passes every 10,000 allocations, not 700: each walks what the requests in flight hold, about as
        # much whatever the threshold, so fewer passes cost less (docs/benchmarks.md, the lookup section)
        gc.set_threshold(10_000, *gc.get_threshold()[1:])
        yield
        await intake.stop()

    app = FastAPI(
        title="信访事项受理接口 Petition intake — terminal API",
        version="1.0.0",
        description=("村（社区）群众工作室、镇（街道）群众工作站和县信访局接待大厅终端使用的接口。\n\n"
                     "The API station terminals integrate against. Every request carries "
                     "`Authorization: Bearer <token>` (one token per terminal). Every POST carries an "
                     "`Idempotency-Key` (kept 7 days, scoped to the terminal): a retry with the same key "
                     "and body returns the first answer; another body with the same key is refused (422); "
                     "while the first is still in flight, 409. Errors are RFC 9457 problem+json with "
                     "messages in Chinese and English."),
        lifespan=lifespan, docs_url=None, redoc_url=None, openapi_tags=document.TAGS,
        generate_unique_id_function=document.operation_id,
        # intake's metrics are Prometheus' (/metrics) and no OpenTelemetry provider is configured: FastAPI's own
        # instrumentation off, not asked on every request whether a provider appeared (~7 us a request)
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.intake = intake
    document.install(app)
    apidocs.install_pages(app, "信访事项受理接口 Petition intake")
    problems.install(app)
    app.include_router(router)
    app.include_router(notices_router)
    app.include_router(supervision_router)
    app.include_router(portal_router)
    app.include_router(lookup.router)
    install_terminal(app)  # the web terminal at /terminal/ and its reads (intake.terminal_web)
    install_portal(app)  # after the routers: /portal/v1/… stays the API's

    app.add_middleware(LimitsAndMetrics, intake=intake, settings=settings)
    app.add_middleware(apidocs.RequestIds)  # outermost: the 413 above carries the id too

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            async with intake.pool.acquire() as conn:
                lag = await conn.fetchval("SELECT count(*) FROM outbox")
        except Exception as exc:  # noqa: BLE001
            return JSONResponse({"status": "unavailable", "database": str(exc), "calendar": intake.calendar.now()},
                                status_code=503)
        body = {"outbox_lag": lag, "relay_active": intake.relay.active, "routing_caught_up": intake.routing.caught_up,
                "calendar": intake.calendar.now()}
        # a terminal's holder and dues come from the routing consumer
        if intake.settings.routing_consumer_enabled and not intake.routing.caught_up:
            return JSONResponse({"status": "routing consumer not caught up", **body}, status_code=503)
        return JSONResponse({"status": "ok", **body})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        with contextlib.suppress(Exception):
            async with intake.pool.acquire() as conn:
                intake.outbox_lag.set(await conn.fetchval("SELECT count(*) FROM outbox"))
        intake.calendar.now()
        return PlainTextResponse(generate_latest(intake.registry), media_type=CONTENT_TYPE_LATEST)

    return app
