"""The token cache drops what a revocation names, and only that (a shared database carries other intakes' NOTIFYs:
clearing everything on each one made a known token be looked up again — and rate-limited from a flooded address)."""
from __future__ import annotations

from intake.auth import Terminal, TerminalCache, token_hash


def cache_with(*tokens: str) -> TerminalCache:
    cache = TerminalCache("postgresql://unused")
    cache.listening = True  # as after start(): listening for revocations
    for n, token in enumerate(tokens):
        cache.put(token, Terminal(f"t-{n}", "room.1", frozenset({"registrar"})))
    return cache


def test_a_revocation_drops_the_token_it_names_and_keeps_the_others():
    cache = cache_with("xft_a", "xft_b")
    cache._revoked(None, 1, TerminalCache.CHANNEL, token_hash("xft_a").hex())  # noqa: SLF001 — the listener
    assert cache.get("xft_a") is None and cache.get("xft_b").id == "t-1"


def test_a_revocation_naming_a_token_of_another_intake_changes_nothing():
    cache = cache_with("xft_a")
    cache._revoked(None, 1, TerminalCache.CHANNEL, token_hash("xft_elsewhere").hex())  # noqa: SLF001
    assert cache.get("xft_a").id == "t-0"


def test_a_revocation_naming_nothing_drops_everything():
    for payload in ("", "not hex"):
        cache = cache_with("xft_a", "xft_b")
        cache._revoked(None, 1, TerminalCache.CHANNEL, payload)  # noqa: SLF001
        assert cache.get("xft_a") is None and cache.get("xft_b") is None
