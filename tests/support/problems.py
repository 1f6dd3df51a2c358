"""What every HTTP answer of the services must be, whatever was asked: no server error, every error problem+json."""
from __future__ import annotations


def assert_sound(response, where: str) -> None:
    """< 500, and a 4xx is RFC 9457 problem+json with its status and the detail in Chinese and English."""
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json"), where
        body = response.json()
        assert body["status"] == response.status_code and body["detail_zh"] and body["detail_en"], where


def assert_problem(r, status: int) -> None:
    """An httpx response is the problem+json of ``status``, with its detail in Chinese."""
    assert r.status_code == status, f"{r.request.url}: {r.status_code} {r.text[:300]}"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == status and r.json()["detail_zh"]
