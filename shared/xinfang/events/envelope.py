"""The CloudEvents 1.0 structured-JSON envelope and its canonical form.

An event travels as one JSON object: the CloudEvents context attributes, our extension
attributes and ``data``.  Extension attributes (lower-case, as CloudEvents requires):

- ``occurred``  when it happened (RFC 3339); may precede ``time`` (when it was recorded)
- ``actor``     who acted: ``terminal:<id>``, ``unit:<id>``, ``system:<service>`` or ``petitioner:<matter>`` (the portal)
- ``seq``       per-matter, per-source sequence number, 1, 2, 3 … without gaps
- ``prevhash``  hash of the previous event of the same matter and source (genesis: 64 zeros)
- ``hashalg``   ``sha256``, or ``sm3`` for counties under the commercial-cryptography assessment
- ``hash``      hash of the canonical form of every other attribute, ``data`` included

The canonical form is JSON with keys sorted, no insignificant whitespace, UTF-8 and no
floating-point numbers (RFC 8785 restricted to the values our events use).  The bytes on
the wire ARE the canonical form with ``hash`` added, so any client reads back the same bytes.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives import hashes
from pydantic import BaseModel, ConfigDict, Field, field_validator

GENESIS_HASH = "0" * 64
HashAlgorithm = Literal["sha256", "sm3"]


def _reject_floats(value: Any, where: str = "$") -> None:
    """Floats have no single canonical text; events carry integers and strings only."""
    if isinstance(value, float):
        raise ValueError(f"{where}: 事件中不允许浮点数 floats are not allowed in events")
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_floats(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_floats(item, f"{where}[{index}]")


def canonical_json(obj: dict[str, Any]) -> bytes:
    """The canonical bytes of a JSON object: sorted keys, compact, UTF-8."""
    _reject_floats(obj)
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def digest(data: bytes, algorithm: HashAlgorithm) -> str:
    """Hex digest of ``data`` with SHA-256 or SM3 (GB/T 32905)."""
    if algorithm == "sha256":
        return hashlib.sha256(data).hexdigest()
    if algorithm == "sm3":
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize().hex()
    raise ValueError(f"未知的哈希算法 unknown hash algorithm {algorithm!r}")


def rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 text with microseconds: one spelling per instant, so hashes are stable.

    ``isoformat`` always writes four year digits; ``strftime("%Y")`` writes ``999`` for the year 999,
    which ``parse_time`` cannot read back (an ``occurred_at`` before the year 1000 answered 500)."""
    if moment.tzinfo is None:
        raise ValueError("时间必须带时区 timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Parse RFC 3339 text (``Z`` or an offset) into an aware datetime."""
    moment = datetime.fromisoformat(text)  # Python 3.11 reads ``Z`` and offsets
    if moment.tzinfo is None:
        raise ValueError(f"时间缺少时区 timestamp without offset: {text!r}")
    return moment


def hash_of(envelope: dict[str, Any]) -> str:
    """The hash an envelope must carry: over its canonical form without ``hash``."""
    body = {key: value for key, value in envelope.items() if key != "hash"}
    return digest(canonical_json(body), envelope.get("hashalg", "sha256"))


class CloudEvent(BaseModel):
    """One event as it travels and rests: CloudEvents 1.0 attributes plus ours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=256, description="e.g. /xinfang/110105/intake")
    type: str = Field(pattern=r"^(petition|terminal)\.[a-z_]+\.v[0-9]+$")
    subject: str = Field(min_length=1, max_length=64, description="the petition id (事项编号), or a terminal's id")
    time: str = Field(description="when the system recorded it (RFC 3339, UTC)")
    datacontenttype: Literal["application/json"] = "application/json"
    occurred: str = Field(description="when it happened (RFC 3339, UTC); may precede time")
    actor: str = Field(pattern=r"^(terminal|unit|system|import|petitioner):[A-Za-z0-9_.:-]{1,96}$")
    seq: int = Field(ge=1, description="per-matter per-source sequence, no gaps")
    prevhash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hashalg: HashAlgorithm = "sha256"
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    data: dict[str, Any]

    @field_validator("time", "occurred")
    @classmethod
    def _is_rfc3339(cls, value: str) -> str:
        parse_time(value)
        return value

    @classmethod
    def chained(
        cls,
        *,
        event_id: str,
        source: str,
        type: str,
        subject: str,
        recorded: datetime,
        occurred: datetime,
        actor: str,
        seq: int,
        prevhash: str,
        data: dict[str, Any],
        hashalg: HashAlgorithm = "sha256",
    ) -> CloudEvent:
        """Build an event on its chain (after ``prevhash``) and compute its hash over the canonical form."""
        envelope = {
            "specversion": "1.0", "id": event_id, "source": source, "type": type,
            "subject": subject, "time": rfc3339(recorded), "datacontenttype": "application/json",
            "occurred": rfc3339(occurred), "actor": actor, "seq": seq, "prevhash": prevhash,
            "hashalg": hashalg, "data": data,
        }
        envelope["hash"] = hash_of(envelope)
        return cls.model_validate(envelope)

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        """Parse wire bytes; the hash is not checked here (see :func:`verify_chain`).  Bytes that are not
        JSON raise a ValidationError of type ``json_invalid`` (pydantic-core parses them: a third faster
        than orjson plus validation)."""
        return cls.model_validate_json(raw)

    def envelope(self) -> dict[str, Any]:
        """The event as a plain JSON object."""
        return self.model_dump()

    def to_json(self) -> bytes:
        """The wire bytes: the canonical form, hash included."""
        return canonical_json(self.model_dump())

    def hash_ok(self) -> bool:
        """True when the stored hash matches the event's content."""
        return hash_of(self.model_dump()) == self.hash

    @property
    def occurred_at(self) -> datetime:
        return parse_time(self.occurred)

    @property
    def recorded_at(self) -> datetime:
        return parse_time(self.time)
