"""The petitioner's page: the static files in services/intake/portal/ at /portal/ (its API is intake.api.portal).

Plain HTML, CSS and one ES module served by intake itself, from the project (no CDN, no build step: county networks
are often cut off, and a county's IT staff can read and change every file). The files hold no data: the page sends
the receipt number and query code in the body of each API call, which decides what it may see and do."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

PAGES = Path(__file__).parent / "portal"


class PortalFiles(StaticFiles):
    """Revalidated on every load (an unchanged file costs a 304): a county's edit lands at once."""

    def file_response(self, full_path, *args, **kwargs):
        response = super().file_response(full_path, *args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def install(app: FastAPI) -> None:
    """Mount the page at /portal/ — after the API's routes, which /portal/v1/… keeps."""
    app.mount("/portal", PortalFiles(directory=PAGES, html=True), name="portal")
