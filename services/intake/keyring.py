"""Petitioners' data keys in intake's database, wrapped by the master key; erasure destroys them."""
from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg

from intake.domain.commands import EncryptedPetitioner
from xinfang import encryption
from xinfang.encryption import CipherAlgorithm

PERSONAL_FIELDS = ("name", "id_number", "phone", "address")


class Keyring:
    """Creates, opens and destroys per-petitioner data keys."""

    def __init__(self, master: bytes, alg: CipherAlgorithm) -> None:
        self.master, self.alg = master, alg

    def encrypt_new(self, person: dict[str, str | None]) -> tuple[EncryptedPetitioner, bytes]:
        """A new petitioner's encrypted fields under a fresh data key, and that key wrapped for storage."""
        ref = uuid.uuid4().hex
        key = encryption.new_data_key(self.alg)
        encrypted = {field: encryption.encrypt_field(self.alg, ref, key, field, value)
                  for field in PERSONAL_FIELDS if (value := person.get(field))}
        return EncryptedPetitioner(ref=ref, **encrypted), encryption.wrap_key(self.master, self.alg, ref, key)

    async def keys(self, conn: asyncpg.Connection, refs: Iterable[str]) -> dict[str, bytes | None]:
        """The data keys of these petitioners (None where erased)."""
        rows = await conn.fetch("SELECT ref, alg, wrapped FROM petitioner_keys WHERE ref = ANY($1::text[])",
                                list(refs))
        return {row["ref"]: (encryption.unwrap_key(self.master, row["alg"], row["ref"], bytes(row["wrapped"]))
                             if row["wrapped"] is not None else None) for row in rows}

    async def destroy(self, conn: asyncpg.Connection, ref: str) -> None:
        """Crypto-shredding: the wrapped key is overwritten; every copy of the fields becomes unreadable."""
        await conn.execute("UPDATE petitioner_keys SET wrapped = NULL, erased_at = now() WHERE ref = $1", ref)
        await conn.execute(
            "UPDATE petitioners SET name = 'erased', id_number = NULL, phone = NULL, address = NULL WHERE ref = $1",
            ref)

    def decrypt(self, encrypted: EncryptedPetitioner | dict, key: bytes | None) -> dict[str, str | None]:
        """Plain fields for an authorised reader; erased fields read as None."""
        get = encrypted.get if isinstance(encrypted, dict) else lambda f: getattr(encrypted, f)
        return {field: encryption.decrypt_field(get(field), key, field) if get(field) else None
                for field in PERSONAL_FIELDS}
