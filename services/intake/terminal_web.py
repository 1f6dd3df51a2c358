"""The web terminal: the static pages in services/intake/terminal/ at /terminal/, and the reads they need
(intake.api.timeline).

The pages are public files (HTML, CSS, ES modules, a service worker) that hold no data: every API call they make
carries the terminal's token, and the API decides what it may see and do. Served by intake itself, from the project
(no CDN, no build step: county networks are often cut off, and a county's IT staff can read and change every file)."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from intake.api.timeline import router

PAGES = Path(__file__).parent / "terminal"


class TerminalFiles(StaticFiles):
    """The terminal's files, revalidated on every load (an ETag answer costs a 304), so an update reaches each
    terminal the next time it is online; offline, the service worker answers from its copy."""

    def file_response(self, full_path, *args, **kwargs):
        response = super().file_response(full_path, *args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def install(app: FastAPI) -> None:
    """Mount the terminal at /terminal/ and add its reads to /v1."""
    app.include_router(router)
    app.mount("/terminal", TerminalFiles(directory=PAGES, html=True), name="terminal")
