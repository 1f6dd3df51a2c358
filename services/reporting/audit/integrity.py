"""Integrity of the history: every matter's sequence numbers and hash chains on both topics.

Each finding names the event: altered, missing, reordered, injected (or a harmless duplicate).
Beyond one chain: an event whose source does not belong on its topic, whose key is not its
subject, or that cannot be read at all, is named too.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson

from xinfang.events import Finding, link_of, verify_links

SOURCE_SUFFIX = {"events": "/intake", "routing": "/escalation"}


@dataclass
class IntegrityReport:
    events: int = 0
    chains: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def serious(self) -> list[Finding]:
        return [f for f in self.findings if f.kind != "duplicate"]

    def as_dict(self) -> dict:
        counts: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            counts[finding.kind] += 1
        return {"events": self.events, "chains": self.chains, "findings_by_kind": dict(counts),
                "findings": [f.as_dict() for f in self.findings]}


def verify(batches_by_role: dict[str, Iterable[list]], progress: Callable[[int], None] = lambda n: None) -> IntegrityReport:
    """Verify the records of both topics (``{"events": batches, "routing": batches}``)."""
    report = IntegrityReport()
    chains: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for role, batches in batches_by_role.items():
        for records in batches:
            for record in records:
                report.events += 1
                _take(report, chains, role, record)
            progress(len(records))
    report.chains = len(chains)
    for (subject, source), links in chains.items():
        report.findings.extend(verify_links(subject, source, links))
    return report


def _take(report: IntegrityReport, chains: dict, role: str, record) -> None:
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    try:
        envelope = orjson.loads(record.value)
        subject, source = envelope["subject"], envelope["source"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        report.findings.append(Finding("injected", "?", "?", 0, None, f"{where}: 无法读取的记录 unreadable record"))
        return
    if not source.endswith(SOURCE_SUFFIX[role]):
        report.findings.append(Finding("injected", subject, source, envelope.get("seq", 0), envelope.get("id"),
                                       f"{where}: 来源不属于该主题 source does not belong on {record.topic}"))
        return
    if record.key is not None and record.key.decode("utf-8", "replace") != subject:
        report.findings.append(Finding("injected", subject, source, envelope.get("seq", 0), envelope.get("id"),
                                       f"{where}: 键与事项编号不符 key is not the subject"))
        return
    chains[(subject, source)].append(link_of(envelope))
