"""The seed's quarter as import records: the figures the district bureau reported by hand.

Current quarter (2026Q1): 176 cases, 212 batches, 820 persons, 143 resolved; collective visits 26 cases,
39 batches, 508 persons, 22 resolved.  A year before (2025Q1): 180 batches, 976 persons.
So: 81.25% resolved, batches 上升17.78%, persons 下降15.98%, collective 84.62% resolved.
Deterministic (a fixed random seed), so every run imports the same history.  The matters arise in
the villages of the demo county (deploy/counties/demo.yaml) and are handled by their work rooms,
the units the county file names for them.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import orjson

from support.process import ROOT
from xinfang.county import load_county

CST = timezone(timedelta(hours=8))
DEMO = ROOT / "deploy" / "counties" / "demo.yaml"
# (village code, its work room) for every village of the demo county, in the file's order
VILLAGES = [(j.code, j.unit) for j in load_county(DEMO).jurisdictions if j.tier == "village"]
EXPECTED = {"cases": 176, "batches": 212, "persons": 820, "resolved": 143, "resolution_rate": "81.25",
            "collective_cases": 26, "collective_batches": 39, "collective_persons": 508, "collective_resolved": 22,
            "collective_resolution_rate": "84.62", "last_year_batches": 180, "last_year_persons": 976}


def _split(total: int, parts: int, low: int, high: int, rng: random.Random) -> list[int]:
    """``parts`` integers in [low, high] summing to ``total``."""
    values = [low] * parts
    rest = total - low * parts
    assert 0 <= rest <= (high - low) * parts
    while rest:
        i = rng.randrange(parts)
        if values[i] < high:
            values[i] += 1
            rest -= 1
    return values


def _matter(external_id: str, place: tuple[str, str], start: datetime, heads: list[int], resolved: bool,
            rng: random.Random, category: str = "labour") -> dict:
    village, room = place
    times = sorted(start + timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8)) for _ in heads[1:])
    batches = [{"occurred_at": start.isoformat(), "channel": "visit", "head_count": heads[0], "unit": room,
                "petitioners": [{"name": f"信访人{external_id}"}]}]
    batches += [{"occurred_at": t.isoformat(), "channel": "visit", "head_count": h, "unit": room}
                for t, h in zip(times, heads[1:], strict=True)]
    replied = start + timedelta(days=25)
    return {"external_id": external_id, "jurisdiction": village, "category": category, "summary": "种子季度 seed quarter",
            "batches": batches, "actions": [
                {"action": "accept", "occurred_at": (start + timedelta(hours=12)).isoformat(), "unit": room},
                {"action": "reply", "occurred_at": replied.isoformat(), "unit": room, "decision": "support",
                 "resolved": resolved, "opinion": "已办理"}]}


def quarter(year: int, prefix: str, rng: random.Random, collective: tuple[int, int, int, int],
            plain: tuple[int, int, int, int]) -> list[dict]:
    """Matters of the first quarter of ``year``: (cases, batches, persons, resolved) collective and plain."""
    records = []
    for kind, (cases, batches, persons, resolved), low, high in (("c", collective, 5, 40), ("p", plain, 1, 4)):
        if not cases:
            continue
        per_case = _split(batches, cases, 1, 4, rng)
        heads = _split(persons, batches, low, high, rng)
        done = set(rng.sample(range(cases), resolved))
        for i, n in enumerate(per_case):
            mine, heads = heads[:n], heads[n:]
            day = rng.randint(0, 60)  # the first batch: Jan 1 … Mar 1, local time; repeats stay in the quarter
            start = datetime(year, 1, 1, 9, tzinfo=CST) + timedelta(days=day, minutes=rng.randint(0, 480))
            records.append(_matter(f"{prefix}-{kind}{i:03d}", rng.choice(VILLAGES), start, mine, i in done, rng))
    return records


def seed_records(run: str) -> list[dict]:
    """Both quarters; external ids carry ``run`` so reruns against the same database stay apart."""
    rng = random.Random(20190401)
    current = quarter(2026, f"{run}-2026", rng, collective=(26, 39, 508, 22), plain=(150, 173, 312, 121))
    last_year = quarter(2025, f"{run}-2025", rng, collective=(20, 30, 420, 15), plain=(120, 150, 556, 90))
    return current + last_year


def ndjson(records: list[dict]) -> bytes:
    """The body of intake's POST /v1/imports: one matter per line."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)
