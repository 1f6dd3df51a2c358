"""The web terminal: the static pages in services/intake/terminal/ at /terminal/, and the reads they need
(intake.api.timeline).

The pages are public files (HTML, CSS, ES modules, a service worker) that hold no data: every API call they make
carries the terminal's token, and the API decides what it may see and do. Served by intake itself, from the project
(no CDN, no build step: county networks are often cut off, and a county's IT staff can read and change every file)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.staticfiles import StaticFiles

from intake.api.timeline import router

PAGES = Path(__file__).parent / "terminal"


class TerminalFiles(StaticFiles):
    """The terminal's files, revalidated whenever the browser asks (an ETag answer costs a 304): the service worker
    fetches them once per version; a browser without one, on every load."""

    def file_response(self, full_path, *args, **kwargs):
        response = super().file_response(full_path, *args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def version() -> str:
    """The hash of every file of the terminal: a new one whenever any of them changes (a county may edit them)."""
    digest = hashlib.sha256()
    for path in sorted(PAGES.iterdir()):
        if path.is_file() and path.name != "sw.js":
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


async def service_worker() -> Response:
    """sw.js with the files' version in it, so the browser installs a new worker (and caches the new files) as
    soon as any file changes: the worker serves them from its cache without asking the server each time."""
    script = (PAGES / "sw.js").read_text(encoding="utf-8").replace("__VERSION__", version())
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def install(app: FastAPI) -> None:
    """Mount the terminal at /terminal/ and add its reads to /v1."""
    app.include_router(router)
    app.add_api_route("/terminal/sw.js", service_worker, include_in_schema=False)
    app.mount("/terminal", TerminalFiles(directory=PAGES, html=True), name="terminal")
