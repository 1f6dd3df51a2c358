"""Petitioners' data keys in intake's database, wrapped by the master key; erasure destroys them (and the blind
indexes the person is found by)."""
from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg

from intake.domain import identifiers
from intake.domain.commands import EncryptedPetitioner
from intake.domain.errors import Refused
from xinfang import encryption
from xinfang.encryption import CipherAlgorithm

PERSONAL_FIELDS = ("name", "id_number", "phone", "address")
#: the identifiers a person is found by, each with its one written form
INDEXED = {"id_number": identifiers.id_number, "phone": identifiers.phone}
#: a blind index row as written: kind, digest, petitioner ref
IndexRow = tuple[str, bytes, str]


class Keyring:
    """Creates, opens and destroys per-petitioner data keys."""

    def __init__(self, master: bytes, alg: CipherAlgorithm) -> None:
        self.master, self.alg = master, alg
        self.index_keys = {kind: encryption.index_key(master, kind) for kind in INDEXED}

    def digest(self, kind: str, normalised: str) -> bytes:
        """The blind index of an identifier already in its normalised form."""
        return encryption.blind_index(self.index_keys[kind], normalised)

    def blind_indexes(self, ref: str, person: dict[str, str | None]) -> list[IndexRow]:
        """The rows a new petitioner is found by: one per identifier given in a valid form.  An identifier that is
        not (a wrong check character, a foreign phone number) is stored encrypted as given, just not indexed: a
        registration is never refused for the index's sake."""
        rows = []
        for kind, normalise in INDEXED.items():
            if value := person.get(kind):
                try:
                    rows.append((kind, self.digest(kind, normalise(value)), ref))
                except Refused:
                    continue
        return rows

    def encrypt_new(self, person: dict[str, str | None]) -> tuple[EncryptedPetitioner, bytes]:
        """A new petitioner's encrypted fields under a fresh data key, and that key wrapped for storage."""
        ref = uuid.uuid4().hex
        key = encryption.new_data_key(self.alg)
        encrypted = {field: encryption.encrypt_field(self.alg, ref, key, field, value)
                  for field in PERSONAL_FIELDS if (value := person.get(field))}
        return EncryptedPetitioner(ref=ref, **encrypted), encryption.wrap_key(self.master, self.alg, ref, key)

    def blind_indexes_of(self, people: list[dict], encrypted: list[tuple[EncryptedPetitioner, bytes]]) -> list[IndexRow]:
        """The rows new petitioners are found by, from their plain fields and their encrypted form (its ref)."""
        return [row for person, (p, _) in zip(people, encrypted, strict=True) for row in self.blind_indexes(p.ref, person)]

    async def keys(self, conn: asyncpg.Connection, refs: Iterable[str]) -> dict[str, bytes | None]:
        """The data keys of these petitioners (None where erased)."""
        rows = await conn.fetch("SELECT ref, alg, wrapped FROM petitioner_keys WHERE ref = ANY($1::text[])",
                                list(refs))
        return {row["ref"]: (encryption.unwrap_key(self.master, row["alg"], row["ref"], bytes(row["wrapped"]))
                             if row["wrapped"] is not None else None) for row in rows}

    async def destroy(self, conn: asyncpg.Connection, ref: str) -> None:
        """Crypto-shredding: the wrapped key is overwritten; every copy of the fields becomes unreadable, and the
        blind indexes go (in the caller's transaction): nothing finds the person any more."""
        await conn.execute("UPDATE petitioner_keys SET wrapped = NULL, erased_at = now() WHERE ref = $1", ref)
        await conn.execute("DELETE FROM blind_indexes WHERE ref = $1", ref)
        await conn.execute(
            "UPDATE petitioners SET name = 'erased', id_number = NULL, phone = NULL, address = NULL WHERE ref = $1",
            ref)

    def decrypt(self, encrypted: EncryptedPetitioner | dict, key: bytes | None) -> dict[str, str | None]:
        """Plain fields for an authorised reader; erased fields read as None."""
        get = encrypted.get if isinstance(encrypted, dict) else lambda f: getattr(encrypted, f)
        return {field: encryption.decrypt_field(get(field), key, field) if get(field) else None
                for field in PERSONAL_FIELDS}


def index_columns(rows: Iterable[IndexRow]) -> tuple[list[str], list[bytes], list[str]]:
    """Blind index rows as the three arrays a statement unnests."""
    kinds, digests, refs = [], [], []
    for kind, digest, ref in rows:
        kinds.append(kind)
        digests.append(digest)
        refs.append(ref)
    return kinds, digests, refs
