"""Headless Chromium for the page tests and benchmarks: Debian's `chromium` driven by Playwright from PyPI
(``executable_path``; never `playwright install`, which would download a browser of its own)."""
from __future__ import annotations

import contextlib
import shutil

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


@contextlib.contextmanager
def chromium():
    """A Playwright browser, closed on the way out."""
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium")
    assert path, "Debian's chromium is needed for the page tests: apt-get install -y chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
