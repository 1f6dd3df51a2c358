"""The private test brokers' cluster ids: never one StorageTool reads as an option."""
from __future__ import annotations

import uuid

from support import broker


def test_a_cluster_id_starting_with_a_dash_is_drawn_again(monkeypatch):
    # 0xF8 encodes to "-" as the first URL-safe base64 character; CI once drew "-AXkF…" and the format failed
    draws = iter([uuid.UUID(bytes=b"\xf8" + b"\x00" * 15), uuid.UUID(bytes=b"\x10" * 16)])
    monkeypatch.setattr(broker.uuid, "uuid4", lambda: next(draws))
    cluster_id = broker.new_cluster_id()
    assert not cluster_id.startswith("-")
    assert cluster_id == "EBAQEBAQEBAQEBAQEBAQEA"


def test_cluster_ids_are_22_url_safe_characters():
    for _ in range(2000):
        cluster_id = broker.new_cluster_id()
        assert len(cluster_id) == 22 and not cluster_id.startswith("-")
        assert set(cluster_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
