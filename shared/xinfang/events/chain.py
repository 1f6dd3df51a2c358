"""The per-matter, per-source hash chain: extend it, and verify it naming every finding.

Each event carries ``seq`` (1, 2, 3 … per matter and source) and ``prevhash`` (the hash of
the event before it).  Verification reads one chain in log order and names:

- ``altered``    the content no longer matches its hash, or a later event links to another
                 version of it (the content was changed and the hash recomputed);
- ``missing``    a sequence number absent from the chain;
- ``reordered``  an event found in the log after one with a higher sequence number;
- ``injected``   an event that does not belong to the chain: a second event claiming a
                 sequence number, or an appended event that does not link to the last one;
- ``duplicate``  the same event twice (a redelivery: harmless, readers skip it by id).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from xinfang.events.envelope import GENESIS_HASH, hash_of

FindingKind = Literal["altered", "missing", "reordered", "injected", "duplicate"]
_LABELS = {
    "altered": "被篡改", "missing": "缺失", "reordered": "顺序错乱",
    "injected": "被插入", "duplicate": "重复投递",
}


@dataclass(frozen=True)
class ChainLink:
    """Where a chain stands: the last sequence number and its hash."""

    seq: int = 0
    hash: str = GENESIS_HASH

    def next(self) -> tuple[int, str]:
        """The ``(seq, prevhash)`` the next event of this chain must carry."""
        return self.seq + 1, self.hash


def next_link(head: ChainLink | None) -> tuple[int, str]:
    """The ``(seq, prevhash)`` for the next event after ``head`` (None: a new chain)."""
    return (head or ChainLink()).next()


def chain_head(events: Iterable[dict[str, Any]]) -> ChainLink:
    """The head of a chain given its events in order."""
    head = ChainLink()
    for envelope in events:
        head = ChainLink(envelope["seq"], envelope["hash"])
    return head


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a chain, named for the auditor."""

    kind: FindingKind
    subject: str
    source: str
    seq: int
    event_id: str | None
    detail: str

    @property
    def label(self) -> str:
        return _LABELS[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "subject": self.subject,
                "source": self.source, "seq": self.seq, "event_id": self.event_id,
                "detail": self.detail}


def link_of(envelope: dict[str, Any]) -> dict[str, Any]:
    """What verification keeps of an event: its place in the chain and whether its content matches its hash."""
    return {"id": envelope.get("id"), "seq": envelope.get("seq", 0), "hash": envelope.get("hash"),
            "prevhash": envelope.get("prevhash"), "ok": hash_of(envelope) == envelope.get("hash")}


def verify_chain(events: list[dict[str, Any]]) -> list[Finding]:
    """Verify one matter's chain from one source, given its envelopes in log order."""
    if not events:
        return []
    return verify_links(events[0].get("subject", "?"), events[0].get("source", "?"), [link_of(e) for e in events])


def verify_links(subject: str, source: str, events: list[dict[str, Any]]) -> list[Finding]:
    """Verify a chain given its links (:func:`link_of`) in log order — for auditors streaming a whole topic."""
    if not events:
        return []
    findings: list[Finding] = []

    def found(kind: FindingKind, envelope: dict[str, Any] | None, seq: int, detail: str) -> None:
        event_id = envelope.get("id") if envelope else None
        findings.append(Finding(kind, subject, source, seq, event_id, detail))

    # 1. content against its own hash
    altered_ids: set[int] = set()
    for envelope in events:
        if not envelope["ok"]:
            altered_ids.add(id(envelope))
            found("altered", envelope, envelope.get("seq", 0),
                  "内容与其哈希不符 content does not match its hash")

    # 2. exact redeliveries, then competing claims on one sequence number
    by_seq: dict[int, list[dict[str, Any]]] = {}
    seen_hashes: set[str] = set()
    for envelope in events:
        if envelope.get("hash") in seen_hashes and id(envelope) not in altered_ids:
            found("duplicate", envelope, envelope["seq"], "同一事件重复出现 the same event appears again")
            continue
        seen_hashes.add(envelope.get("hash"))
        by_seq.setdefault(envelope.get("seq", 0), []).append(envelope)

    genuine: dict[int, dict[str, Any]] = {}
    for seq in sorted(by_seq):
        claims = by_seq[seq]
        expected_prev = GENESIS_HASH if seq == 1 else genuine.get(seq - 1, {}).get("hash")
        successors = by_seq.get(seq + 1, [])
        linked = [c for c in claims if c.get("prevhash") == expected_prev and id(c) not in altered_ids]
        linked_by_next = [c for c in claims if any(s.get("prevhash") == c.get("hash") for s in successors)]
        winner = (linked_by_next or linked or claims)[0]
        genuine[seq] = winner
        for other in claims:
            if other is not winner:
                found("injected", other, seq,
                      "另一事件已占用该序号 another event holds this sequence number")

    # 3. gaps
    for seq in range(1, max(genuine) + 1):
        if seq not in genuine:
            found("missing", None, seq, f"序号 {seq} 的事件不存在 no event with sequence {seq}")

    # 4. links between neighbours
    last_seq = max(genuine)
    for seq, envelope in sorted(genuine.items()):
        previous = genuine.get(seq - 1)
        expected_prev = GENESIS_HASH if seq == 1 else (previous or {}).get("hash")
        if expected_prev is None or envelope.get("prevhash") == expected_prev:
            continue
        if id(envelope) in altered_ids or (previous is not None and id(previous) in altered_ids):
            continue  # already named
        if seq == last_seq and seq > 1:
            found("injected", envelope, seq,
                  "末尾事件未链接到前一事件 appended event does not link to the one before it")
        else:
            found("altered", previous, seq - 1,
                  "后一事件链接的是该事件的另一版本 the next event links to another version of it")

    # 5. order in the log
    highest = 0
    for envelope in events:
        seq = envelope.get("seq", 0)
        if seq < highest and envelope is genuine.get(seq):
            found("reordered", envelope, seq,
                  f"出现在序号 {highest} 之后 found in the log after sequence {highest}")
        highest = max(highest, seq)
    return findings
