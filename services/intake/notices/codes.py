"""The petitioner's query code (查询码): printed on the receipt slip, checked with the receipt number.

A code is derived, not drawn: HMAC-SHA-256 under a key derived from the master key (HKDF, its own label) over the
matter's id and the code's generation, cut to 12 characters of a 32-letter alphabet without 0/O and 1/I — 60 bits,
so ten attempts a minute would need about 10^11 years to find one by trying.  The database keeps only the code's
SHA-256 and its generation (table ``query_codes``); the code itself is in no table, no event and no log, yet the
receipt slip that showed it can be reproduced byte-identical from its event (which names the generation).  A new
generation (the desk reissuing a code) makes the old one stop working.
"""
from __future__ import annotations

import hashlib
import hmac
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 letters: 5 bits each, none mistaken for another when read out
LENGTH = 12
GROUP = 4


class QueryCodes:
    """Derives a matter's query code of a generation, and the hash the database keeps of it."""

    def __init__(self, master: bytes) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                         info=b"xinfang query code v1").derive(master)

    def code(self, petition_id: str, generation: int) -> str:
        """The code as printed, in groups of four: ``K7QM-3XPD-9T2A``."""
        mac = hmac.new(self._key, f"{uuid.UUID(petition_id)}:{generation}".encode(), hashlib.sha256).digest()
        number = int.from_bytes(mac[:8], "big") >> (64 - 5 * LENGTH)
        letters = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(LENGTH)))
        return "-".join(letters[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def normalised(code: str) -> str:
    """What the petitioner typed, as the code is hashed: upper case, no separators or spaces."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(petition_id: str, code: str) -> bytes:
    """The SHA-256 the database keeps: over the matter's id and the normalised code."""
    return hashlib.sha256(f"{uuid.UUID(petition_id)}:{normalised(code)}".encode()).digest()
