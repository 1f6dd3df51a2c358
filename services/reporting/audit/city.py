"""市级审计 The city's audit: each county's history as MirrorMaker 2 copied it, and the city's figures of it.

Three checks per county of the city file (``python -m reporting.audit city-verify CITY_FILE``):

1. **Records** — the county's own ``petition.events`` and ``petition.routing`` (read from the county's Kafka, the
   bootstrap the city file gives MirrorMaker) against their copies in the city (``<alias>.petition.events`` …),
   by event id: a county record the city lacks is *missing*, a city record the county never held is *injected*
   (both serious), a record the city holds more often than the county is a *duplicate* (named; harmless, the
   projection counts an event id once). Offsets are not compared: they differ between the clusters.
2. **Chains** — every matter's sequence numbers and hash chains on the city's copies, as the county audit checks
   the county's own topics (:mod:`reporting.audit.integrity`).
3. **Figures** — the two deployments' answers: ``/v1/stats`` of the county's own reporting (``reporting_url`` in
   the city file) and of the city's reporting for that county (``jurisdiction`` = the county's code, and with
   ``townships`` each of its townships), for the same period and the same two clocks; every figure, each
   comparison (同比/环比), each rate's numerator and denominator and the per-unit figures must be equal. Pass
   ``known_at`` (recorded by then) so that both answer the same knowledge: without it a record still on its way
   through MirrorMaker is a difference.

The checks are functions of what was read (records, documents); the CLI reads and calls them.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from xinfang.events import Finding


@dataclass
class Copy:
    """One county topic against its copy in the city."""

    county: str  # alias
    topic: str  # the county's topic name
    city_topic: str
    county_records: int = 0
    city_records: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def serious(self) -> list[Finding]:
        return [f for f in self.findings if f.kind != "duplicate"]

    def as_dict(self) -> dict[str, Any]:
        counts = Counter(f.kind for f in self.findings)
        return {"county": self.county, "topic": self.topic, "city_topic": self.city_topic,
                "county_records": self.county_records, "city_records": self.city_records,
                "findings_by_kind": dict(counts), "findings": [f.as_dict() for f in self.findings]}


def _identity(record) -> tuple[str, str, str, int]:
    """(event id, subject, source, seq) of a record; an unreadable record is named by where it is."""
    try:
        envelope = orjson.loads(record.value)
        return str(envelope["id"]), str(envelope["subject"]), str(envelope["source"]), int(envelope.get("seq", 0))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return f"unreadable:{record.value[:64]!r}", "?", "?", 0


def compare_copies(alias: str, topic: str, city_topic: str, county_batches: Iterable[list],
                   city_batches: Iterable[list]) -> Copy:
    """The county's records of ``topic`` against the city's ``city_topic``, by event id (multiset)."""
    copy = Copy(alias, topic, city_topic)
    held: Counter[str] = Counter()
    where: dict[str, tuple[str, str, int, str]] = {}
    for records in county_batches:
        for record in records:
            copy.county_records += 1
            event_id, subject, source, seq = _identity(record)
            held[event_id] += 1
            where.setdefault(event_id, (subject, source, seq, f"{record.topic}[{record.partition}]@{record.offset}"))
    copied: Counter[str] = Counter()
    for records in city_batches:
        for record in records:
            copy.city_records += 1
            event_id, subject, source, seq = _identity(record)
            copied[event_id] += 1
            at = f"{record.topic}[{record.partition}]@{record.offset}"
            if event_id not in held:
                copy.findings.append(Finding("injected", subject, source, seq, event_id,
                                             f"{alias}: {at} 县里没有这条记录 the county never held this record"))
            elif copied[event_id] > held[event_id]:
                copy.findings.append(Finding("duplicate", subject, source, seq, event_id,
                                             f"{alias}: {at} 重复复制 copied again (counted once)"))
    for event_id in held.keys() - copied.keys():
        subject, source, seq, at = where[event_id]
        copy.findings.append(Finding("missing", subject, source, seq, event_id,
                                     f"{alias}: {at} 未复制到市 not in the city's {city_topic}"))
    return copy


def figures_of(doc: dict[str, Any]) -> dict[str, Any]:
    """Every figure of a /v1/stats document, flat: the value, each comparison's value, a rate's numerator and
    denominator, and each unit's figures (``units.<unit>.<figure>``)."""
    flat: dict[str, Any] = {}
    for key, entry in doc.get("figures", {}).items():
        flat[key] = entry.get("value")
        for name in ("yoy", "mom"):
            if isinstance(entry.get(name), dict):
                flat[f"{key}.{name}"] = entry[name].get("value")
        for part in ("numerator", "denominator"):
            if part in entry:
                flat[f"{key}.{part}"] = entry[part]
    for unit in doc.get("units", []):
        for key, value in unit.items():
            if key not in ("unit", "name", "tier", "kind"):
                flat[f"units.{unit['unit']}.{key}"] = value
    return flat


def compare_figures(county_doc: dict[str, Any], city_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures on which the county's own answer and the city's differ (missing on one side: None)."""
    own, city = figures_of(county_doc), figures_of(city_doc)
    return [{"figure": key, "county": own.get(key), "city": city.get(key)}
            for key in sorted(own.keys() | city.keys()) if own.get(key) != city.get(key)]
