"""Terminals and their bearer tokens: stored hashed, checked on every request, revoked at once."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import asyncpg

ROLES = ("registrar", "handler", "supervisor", "auditor", "admin")
TOKEN_PREFIX = "xft_"


@dataclass(frozen=True)
class Terminal:
    """An authenticated terminal: its unit and roles."""

    id: str
    unit_id: str
    roles: frozenset[str]


def token_hash(token: str) -> bytes:
    """Tokens are 256-bit random, so one SHA-256 suffices (no password stretching needed)."""
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_admin(token: str, admin_token: str) -> bool:
    return hmac.compare_digest(token.encode(), admin_token.encode())


async def create_terminal(conn: asyncpg.Connection, unit_id: str, name: str, roles: list[str]) -> tuple[str, str]:
    """A new terminal id and its token (shown once, stored only hashed)."""
    terminal_id, token = "t-" + secrets.token_hex(6), new_token()
    await conn.execute("INSERT INTO terminals (id, unit_id, name, roles, token_hash) VALUES ($1, $2, $3, $4, $5)",
                       terminal_id, unit_id, name, roles, token_hash(token))
    return terminal_id, token


async def revoke_terminal(conn: asyncpg.Connection, terminal_id: str) -> bool:
    done = await conn.execute("UPDATE terminals SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
                              terminal_id)
    return done == "UPDATE 1"


async def authenticate(conn: asyncpg.Connection, token: str) -> Terminal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = await conn.fetchrow("SELECT id, unit_id, roles FROM terminals WHERE token_hash = $1 AND revoked_at IS NULL",
                              token_hash(token))
    return Terminal(row["id"], row["unit_id"], frozenset(row["roles"])) if row else None
