"""The seed's quarter as import records: the figures the district bureau reported by hand.

First quarter of 2019, as of 14 April 2019: 176 cases, 212 batches, 820 persons, 143 resolved; collective visits
26 cases, 39 batches, 508 persons, 22 resolved.  A year before (2018Q1): 180 batches, 976 persons, 52 collective
batches.  So: 81.25 % resolved, batches 上升17.78 %, persons 下降15.98 %, collective 84.62 % resolved and
下降25 % (39 against 52 batches).

Each matter's whole history is one line: batches, acceptance, reply, and for some a review (复查) by the
township station above the village room that replied, a re-review (复核) by the county bureau (which
terminates the matter), evaluations, a withdrawal.  Some resolutions are reached only through the review,
some only after the report date (not counted as of 14 April), and matters on the quarter's local-time edges
(07:00 on 1 January is still 31 December in UTC; 00:30 on 1 April is 31 March in UTC) fall on the side the
county's clock puts them.  Deterministic (a fixed random seed), so every run imports the same history.
The matters arise in the villages of the demo county (deploy/counties/demo.yaml, the county file intake
runs with) and are registered and handled by their work rooms, the units the county file names for them.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import orjson

from support.process import ROOT
from xinfang.county import load_county

CST = timezone(timedelta(hours=8))
DEMO = ROOT / "deploy" / "counties" / "demo.yaml"
_COUNTY = load_county(DEMO)
# (village code, its work room) for every village of the demo county, in the file's order
VILLAGES = [(j.code, j.unit) for j in _COUNTY.jurisdictions if j.tier == "village"]
BUREAU = _COUNTY.unit_for(_COUNTY.code, "county").id
AS_OF = "2019-04-14"
EXPECTED = {"cases": 176, "batches": 212, "persons": 820, "resolved": 143, "resolution_rate": "81.25",
            "collective_cases": 26, "collective_batches": 39, "collective_persons": 508, "collective_resolved": 22,
            "collective_resolution_rate": "84.62", "last_year_batches": 180, "last_year_persons": 976,
            "last_year_collective_batches": 52}
#: how each resolved case got there, and how each unresolved one stands on 14 April (the shares are the seed's)
RESOLVED_BY = ("reply",) * 6 + ("review", "review", "recheck")
#: replied unresolved / reviewed unresolved / resolved only after 14 April / withdrawn before any reply
UNRESOLVED = ("open", "open", "review", "after", "withdrawn")


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


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _answer(action: str, at: datetime, unit: str, resolved: bool) -> dict:
    return {"action": action, "occurred_at": _at(at), "unit": unit, "decision": "support" if resolved else "explain",
            "resolved": resolved, "facts": "已查明", "grounds": "已办理" if resolved else "已解释说明"}


def _actions(start: datetime, room: str, station: str, story: str, resolved: bool, rng: random.Random) -> list[dict]:
    """The handling of one matter: accepted, replied within 25 days, then as ``story`` says."""
    replied = start + timedelta(days=25)
    actions = [{"action": "accept", "occurred_at": _at(start + timedelta(hours=12)), "unit": room}]
    if story == "after":  # resolved by a reply signed after the report date
        late = datetime(start.year, 4, 20, 10, tzinfo=CST) + timedelta(hours=rng.randint(0, 200))
        return [*actions, _answer("reply", late, room, True)]
    if story == "withdrawn":
        return [*actions, {"action": "withdraw", "occurred_at": _at(start + timedelta(days=10)), "unit": room,
                           "reason": "信访人撤回"}]
    actions.append(_answer("reply", replied, room, resolved and story == "reply"))
    if story in ("review", "recheck"):  # the petitioner contests; the township station above the room reviews
        asked = replied + timedelta(days=2)
        actions += [{"action": "request_review", "occurred_at": _at(asked), "unit": room, "reason": "不服答复"},
                    _answer("reply_review", asked + timedelta(days=6), station, resolved and story == "review")]
        if story == "recheck":  # and again: the county bureau re-reviews, which terminates the matter
            again = asked + timedelta(days=8)
            actions += [{"action": "request_recheck", "occurred_at": _at(again), "unit": station, "reason": "不服复查"},
                        _answer("reply_recheck", again + timedelta(days=4), BUREAU, resolved)]
    if resolved and rng.random() < 0.3:
        last = datetime.fromisoformat(actions[-1]["occurred_at"])
        actions.append({"action": "evaluate", "occurred_at": _at(last + timedelta(days=1)), "unit": room,
                        "satisfaction": rng.choice(["satisfied", "basically_satisfied"])})
    return actions


def _matter(external_id: str, place: tuple[str, str], start: datetime, heads: list[int], story: str,
            resolved: bool, rng: random.Random, category: str = "labour") -> dict:
    village, room = place
    station = _COUNTY.next_tier_unit(room).id  # the township's station above the room: the reviewer
    times = sorted(start + timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8)) for _ in heads[1:])
    batches = [{"occurred_at": _at(start), "channel": "visit", "head_count": heads[0], "unit": room,
                "petitioners": [{"name": f"信访人{external_id}"}]}]
    batches += [{"occurred_at": _at(t), "channel": "visit", "head_count": h, "unit": room}
                for t, h in zip(times, heads[1:], strict=True)]
    return {"external_id": external_id, "jurisdiction": village, "category": category, "summary": "种子季度 seed quarter",
            "batches": batches, "actions": _actions(start, room, station, story, resolved, rng)}


def quarter(year: int, prefix: str, rng: random.Random, collective: tuple[int, int, int, int],
            plain: tuple[int, int, int, int]) -> list[dict]:
    """Matters of the first quarter of ``year``: (cases, batches, persons, resolved) collective and plain."""
    records = []
    for kind, (cases, batches, persons, resolved), low, high in (("c", collective, 5, 40), ("p", plain, 1, 4)):
        per_case = _split(batches, cases, 1, 4, rng)
        heads = _split(persons, batches, low, high, rng)
        done = set(rng.sample(range(cases), resolved))
        for i, n in enumerate(per_case):
            mine, heads = heads[:n], heads[n:]
            day = rng.randint(0, 60)  # the first batch: Jan 1 … Mar 2, local time; repeats stay in the quarter
            start = datetime(year, 1, 1, 9, tzinfo=CST) + timedelta(days=day, minutes=rng.randint(0, 480))
            if kind == "p" and i == 0:  # on the quarter's first local morning: still the year before in UTC
                start = datetime(year, 1, 1, 7, tzinfo=CST)
            story = rng.choice(RESOLVED_BY if i in done else UNRESOLVED)
            records.append(_matter(f"{prefix}-{kind}{i:03d}", rng.choice(VILLAGES), start, mine, story, i in done, rng))
    return records


def edges(prefix: str, rng: random.Random) -> list[dict]:
    """Matters just outside 2019Q1 by the county's clock (one batch, resolved): counted in neither quarter compared."""
    return [_matter(f"{prefix}-edge-{name}", rng.choice(VILLAGES), moment, [3], "reply", True, rng)
            for name, moment in (("q4", datetime(2018, 12, 31, 23, 30, tzinfo=CST)),
                                 ("q2", datetime(2019, 4, 1, 0, 30, tzinfo=CST)))]


def seed_records(run: str) -> list[dict]:
    """Both quarters and the edges; external ids carry ``run`` so reruns against the same database stay apart."""
    rng = random.Random(20190414)
    current = quarter(2019, f"{run}-2019", rng, collective=(26, 39, 508, 22), plain=(150, 173, 312, 121))
    last_year = quarter(2018, f"{run}-2018", rng, collective=(40, 52, 700, 30), plain=(110, 128, 276, 90))
    return current + last_year + edges(run, rng)


def through_review(records: list[dict]) -> list[str]:
    """External ids of the matters resolved by their review's reply (their first reply was not)."""
    return [r["external_id"] for r in records  # every review's reply is signed before 5 April
            if [(a["action"], a["resolved"]) for a in r["actions"] if "resolved" in a][-2:] ==
            [("reply", False), ("reply_review", True)]]


def routing_facts(records: list[dict]) -> int:
    """What escalation writes for imported history: one assignment per matter, a review assignment per request,
    a closing per terminated (re-reviewed), withdrawn or declined matter — never a due, warning or escalation."""
    kinds = ("request_review", "request_recheck", "reply_recheck", "withdraw", "decline")
    return len(records) + sum(a["action"] in kinds for r in records for a in r["actions"])


def intake_events(records: list[dict]) -> int:
    """intake's events for the records: one per batch and per action, and the termination a re-review's reply adds."""
    return sum(len(r["batches"]) + len(r["actions"]) + sum(a["action"] == "reply_recheck" for a in r["actions"])
               for r in records)


def ndjson(records: list[dict]) -> bytes:
    """The body of intake's POST /v1/imports: one matter per line."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)
