"""What every HTTP answer of the services must be, whatever was asked: no server error, every error problem+json."""
from __future__ import annotations


def assert_sound(response, where: str) -> None:
    """< 500, and a 4xx is RFC 9457 problem+json with its status and the detail in Chinese and English."""
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json"), where
        body = response.json()
        assert body["status"] == response.status_code and body["detail_zh"] and body["detail_en"], where
