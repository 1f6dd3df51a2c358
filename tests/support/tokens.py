"""Calling reporting (or escalation) with a terminal's token, once it has learnt the token from xinfang.terminals."""
from __future__ import annotations

import time

import httpx


def wait_known(url: str, token: str, path: str = "/v1/stats/definitions", timeout: float = 60.0) -> float:
    """Until ``url`` accepts the token (it follows the terminals topic); the seconds it took."""
    started = time.monotonic()
    deadline, status = started + timeout, None
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        except httpx.TransportError:
            status = None
        if status is not None and status not in (401, 503):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{url} did not accept the token within {timeout}s (last status {status})")


def client(url: str, token: str, timeout: float = 30) -> httpx.Client:
    """An httpx client that sends the token, after the service has learnt it."""
    wait_known(url, token)
    return httpx.Client(base_url=url, timeout=timeout, headers={"Authorization": f"Bearer {token}"})
