"""What the X-Request-Id middleware and the locally served API pages cost, in-process (no server, no network).

    python bench/apidocs_bench.py [--requests 20000]

- the request id: a FastAPI app with one trivial route, called as ASGI with and without ``RequestIds`` in
  front (interleaved rounds, the median per-request time of each): the difference is the middleware's cost;
- the pages: /docs and /redoc and each asset they load, served from node_modules (bytes, milliseconds);
- the documents: building each service's OpenAPI document once per process (FastAPI's generation plus
  ``wire_truths``), in milliseconds.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import time

from common import save
from fastapi import FastAPI

from xinfang import apidocs


def app_with(request_ids: bool) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/ok")
    async def ok() -> dict:
        return {"ok": True}

    apidocs.install_pages(app, "bench")
    if request_ids:
        app.add_middleware(apidocs.RequestIds)
    return app


async def call(app, path: str, headers: list[tuple[bytes, bytes]] = ()) -> int:
    """One request through the app's ASGI interface; the bytes of the answer's body."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": list(headers),
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    size, asked = 0, False
    answered = asyncio.Event()

    async def receive() -> dict:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await answered.wait()  # a FileResponse listens for the client leaving while it sends
        return {"type": "http.disconnect"}

    async def send(message) -> None:
        nonlocal size
        if message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    answered.set()
    return size


async def per_request_us(app, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        await call(app, "/ok")
    return (time.perf_counter() - started) / n * 1e6


async def main(requests: int) -> dict:
    load = os.getloadavg()[0]
    plain, with_ids = app_with(False), app_with(True)
    for app in (plain, with_ids):  # the app's middleware stack is built on the first call
        await per_request_us(app, 200)
    rounds = {"plain": [], "ids": []}
    for _ in range(7):
        rounds["plain"].append(await per_request_us(plain, requests // 7))
        rounds["ids"].append(await per_request_us(with_ids, requests // 7))
    plain_us, ids_us = statistics.median(rounds["plain"]), statistics.median(rounds["ids"])
    figures = {"load_average_at_start": round(load, 1), "requests": requests, "request_us_without_request_id": round(plain_us, 1),
               "request_us_with_request_id": round(ids_us, 1),
               "request_id_overhead_us": round(ids_us - plain_us, 1)}
    for page in ("/docs", "/redoc", *(f"{apidocs.ASSET_PREFIX}/{name}" for name in apidocs.ASSETS)):
        times = []
        for _ in range(20):
            started = time.perf_counter()
            size = await call(with_ids, page)
            times.append((time.perf_counter() - started) * 1e3)
        key = page.rsplit("/", 1)[-1]
        figures[f"{key}_bytes"], figures[f"{key}_ms"] = size, round(statistics.median(times), 2)
    figures.update(documents())
    return figures


def documents() -> dict:
    from intake.app import create_app as intake_app
    from intake.settings import IntakeSettings
    from reporting.app import create_app as reporting_app

    settings = IntakeSettings(admin_token="x" * 32, master_key=base64.b64encode(bytes(32)).decode())
    figures = {}
    for name, make in (("intake", lambda: intake_app(settings)), ("reporting", reporting_app)):
        app = make()
        started = time.perf_counter()
        app.openapi()
        figures[f"{name}_document_ms"] = round((time.perf_counter() - started) * 1e3, 1)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    save("apidocs", asyncio.run(main(parser.parse_args().requests)))
