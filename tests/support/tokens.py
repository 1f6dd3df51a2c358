"""Calling reporting (or escalation) with a terminal's token, once it has learnt the token from xinfang.terminals."""
from __future__ import annotations

import time

import httpx

from support.waiting import until


def wait_known(url: str, token: str, path: str = "/v1/stats/definitions", timeout: float = 60.0) -> float:
    """Until ``url`` accepts the token (it follows the terminals topic); the seconds it took."""
    started, last = time.monotonic(), {"status": None}

    def accepted() -> bool:
        try:
            last["status"] = httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"},
                                       timeout=10).status_code
        except httpx.TransportError:
            last["status"] = None
        return last["status"] is not None and last["status"] not in (401, 503)

    until(accepted, lambda: f"{url} accepting the token (last status {last['status']})", timeout=timeout, every=0.05)
    return time.monotonic() - started


def client(url: str, token: str, timeout: float = 30, path: str = "/v1/stats/definitions") -> httpx.Client:
    """An httpx client that sends the token, after the service has learnt it (asked at ``path``)."""
    wait_known(url, token, path)
    return httpx.Client(base_url=url, timeout=timeout, headers={"Authorization": f"Bearer {token}"})
