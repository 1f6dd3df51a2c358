"""Deadlines survive a SIGKILL and a rebalance: each fires exactly once, counted by id on petition.routing.

The one-step county gives each matter exactly one escalation within the test: assigned, a warning
at 2.4 s, overdue at 3 s, escalated to the township at 4 s (the township then has an hour).
"""
from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import timedelta

import orjson
import pytest

from support.escalation import ONE_STEP_COUNTY, Routing, Run, get, registered, utcnow, wait_ready
from xinfang.events import verify_chain

pytestmark = pytest.mark.integration
MATTERS = 1000
BREACHES = ("petition.overdue.v1", "petition.escalated.v2")


def register_all(run: Run, count: int, spread: float = 2.0) -> list[str]:
    """``count`` matters registered over the last second and the next ``spread - 1``: deadlines spread too."""
    t0 = utcnow()
    pids = [str(uuid.uuid4()) for _ in range(count)]
    for i, pid in enumerate(pids):
        run.send(pid, registered(), t0 + timedelta(seconds=-1 + spread * i / count))
    run.flush()
    return pids


def breaches_complete(pids: list[str]):
    def done(routing: Routing) -> bool:
        return all(sum(e["type"] in BREACHES for e in routing.by_pid[pid]) >= 2 for pid in pids)
    return done


def check_exactly_once(routing: Routing, pids: list[str]) -> dict[str, int]:
    """Every matter: one assigned, one overdue, one escalated, at most one warning, by id; re-sends identical."""
    copies: dict[str, set[bytes]] = defaultdict(set)
    for record in routing.records:
        copies[orjson.loads(record.value)["id"]].add(record.value)
    assert all(len(versions) == 1 for versions in copies.values()), "an id was sent with different content"
    tally: Counter[str] = Counter()
    for pid in pids:
        unique = {e["id"]: e for e in routing.by_pid[pid]}
        kinds = Counter(e["type"] for e in unique.values())
        assert kinds["petition.assigned.v2"] == 1 and kinds["petition.overdue.v1"] == 1, (pid, kinds)
        assert kinds["petition.escalated.v2"] == 1 and kinds["petition.deadline_warning.v1"] <= 1, (pid, kinds)
        assert sorted(e["seq"] for e in unique.values()) == list(range(1, len(unique) + 1)), pid
        findings = verify_chain(routing.by_pid[pid])
        assert {f.kind for f in findings} <= {"duplicate"}, findings
        tally.update(kinds)
    tally["records"] = len(routing.records)
    tally["ids"] = len(copies)
    return dict(tally)


def test_sigkill_with_a_thousand_deadlines_pending_then_restart_fires_each_exactly_once(settings, kafka_bootstrap,
                                                                                         tmp_path):
    run = Run(settings, tmp_path, ONE_STEP_COUNTY)
    worker = run.worker().start(timeout=60)
    routing = Routing(run.settings.kafka_bootstrap, run.settings.topic_routing)
    try:
        wait_ready([worker], run.partitions)
        pids = register_all(run, MATTERS)
        routing.wait(lambda r: sum(e["type"] == "petition.overdue.v1" for es in r.by_pid.values() for e in es) >= 50,
                     20, "the first overdue notices")
        worker.kill()  # mid-firing: some breaches out, most pending, the outbox of some unconfirmed
        routing.poll(0.5)
        fired_before = sum(e["type"] in BREACHES for es in routing.by_pid.values() for e in es)
        worker.start(timeout=60)  # the rest fall due while it is down and starting
        routing.wait(breaches_complete(pids), 60, "every breach after the restart")
        routing.poll(1.0)  # anything sent twice would be here by now
        tally = check_exactly_once(routing, pids)
        assert 0 < fired_before < 2 * MATTERS, fired_before
        print(f"SIGKILL: {fired_before} breaches before the kill; after restart {tally}")
    finally:
        routing.close()
        worker.stop()
        run.close()


def test_two_workers_split_the_partitions_and_each_deadline_fires_once(settings, kafka_bootstrap, tmp_path):
    run = Run(settings, tmp_path, ONE_STEP_COUNTY, partitions=4)
    first, second = run.worker("a"), run.worker("b")
    routing = Routing(run.settings.kafka_bootstrap, run.settings.topic_routing)
    try:
        for worker in (first.launch(), second.launch()):  # side by side
            worker.wait_ready(timeout=60)
        owned = wait_ready([first, second], run.partitions)
        assert all(owned.values()) and not set(owned[0]) & set(owned[1]), owned
        pids = register_all(run, MATTERS, spread=3.0)
        routing.wait(breaches_complete(pids), 60, "every breach with two workers")
        routing.poll(1.0)
        tally = check_exactly_once(routing, pids)
        timers = [get(w, "/timers").json() for w in (first, second)]
        assert sum(t["total"] for t in timers) == MATTERS  # each matter's township clock on exactly one worker
        assert all(t["total"] > 0 for t in timers)
        assert [t["partitions"] for t in timers] == [owned[0], owned[1]]
        for pid in pids[:20]:  # either worker answers for any matter: faust forwards to the owner
            for worker in (first, second):
                state = get(worker, f"/matters/{pid}").json()
                assert (state["petition_id"], state["unit"]) == (pid, "station.361501100000")
        print(f"two workers: partitions {owned}, {tally}")
    finally:
        routing.close()
        second.stop()
        first.stop()
        run.close()
