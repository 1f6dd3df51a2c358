"""Escalation: events per second, delay from a deadline to its event, memory, recovery after a restart.

    python bench/escalation_bench.py [--matters 100000] [--window 600] [--partitions 12]

Needs the Kafka of `deploy/dev up`. Starts its own worker (python -m escalation) on scratch topics,
app id and RocksDB folder, with a county whose village rooms have two hours to accept, a warning
72 s before the deadline and escalation to the township 60 s after it (the township then has a day).

1. Ingest: ``--matters`` registrations, back-dated so that their deadlines fall evenly over
   ``--window`` seconds starting once the worker is expected to have read them all (``--ingest-rate``);
   chained beforehand, then sent at once; figures: intake events per second (first registration sent
   to the last assignment on the routing topic), the steady rate (20 % to 80 % read), the worker's
   CPU milliseconds per event.
2. Deadlines: every warning, overdue notice and escalation; figure: the delay from the breach time
   (the event's ``occurred``) to the record's timestamp on petition.routing, p50/p99/max; breach
   events per second (mean and busiest second); each matter's events counted by id (each once).
3. Memory: the worker's resident set, sampled every second (max; apart: during the recoveries).
4. Recovery: the worker stopped and started again with its RocksDB folder (restart), then with an
   empty folder (a new machine: the table restored from its changelog); time to /readyz.

``--scenario back-dated`` (figures in ``escalation_back_dated``): ``--others`` matters (10,000) run on
today's clock, their deadlines falling over ``--window`` seconds, and a third of the way in
``--back-dated`` matters (1,000) registered a year ago arrive at once — in a county whose top tier
reports an overdue matter again every ``--top-limit`` seconds (60), so that stepping through every
elapsed period would cost each of them half a million steps.  Figures: the others' timer lateness
(due time → record on petition.routing) p50/p99/max, overall and while the back-dated ones were
handled; how long the back-dated ones took to reach their state of now; the worker's two metrics.

The figures are flat (``*_ms``, ``*_s``, ``*_per_s``) with a ``targets`` dict, as bench/report.py shows them;
each run records the machine's load average (it is shared).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import orjson
from common import ROOT, percentile, save

from reporting.audit import reading
from support.escalation import STAFF_TOKEN, terminal_event
from support.kafka import delete_run_topics
from support.process import ServiceProcess, free_port
from support.waiting import until
from xinfang.events import GENESIS_HASH, CloudEvent
from xinfang.events.catalogue import Registered
from xinfang.kafka import sync_producer
from xinfang.settings import CommonSettings
from xinfang.topics import provision

ACCEPT = 7200  # the village room's limit, seconds
BREACHES = ("petition.deadline_warning.v1", "petition.overdue.v1", "petition.escalated.v2")


def county_file(folder: Path, top_limit: int = 86400) -> Path:
    """The fast test county with a two-hour village limit, a late warning and a one-minute grace
    (``top_limit``: the city's limits, seconds)."""
    text = (ROOT / "tests" / "fixtures" / "county_fast.yaml").read_text(encoding="utf-8")
    head = text.split("time_limits:")[0]
    head = head.replace("warning_fraction: 0.8", "warning_fraction: 0.99").replace(
        "overdue_grace: {amount: 1, unit: seconds}", "overdue_grace: {amount: 60, unit: seconds}")
    stages = ("accept", "handle", "extension", "review_request_window", "review", "recheck_request_window",
              "recheck", "objection_window")
    village = "\n".join(f"    {s}: {{amount: {ACCEPT}, unit: seconds}}" for s in stages)
    day = "\n".join(f"    {s}: {{amount: 86400, unit: seconds}}" for s in stages)
    top = "\n".join(f"    {s}: {{amount: {top_limit}, unit: seconds}}" for s in stages)
    path = folder / "county.yaml"
    path.write_text(head + f"time_limits:\n  village:\n{village}\n  township: &day\n{day}\n  county: *day\n"
                    f"  city:\n{top}\n", encoding="utf-8")
    return path


class Sampler(threading.Thread):
    """The worker's resident set size every second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.pid: int | None = None
        self.rss_mib: list[float] = []
        self.stopped = False

    def run(self) -> None:
        while not self.stopped:
            if self.pid:
                try:
                    kb = int(Path(f"/proc/{self.pid}/status").read_text().split("VmRSS:")[1].split()[0])
                    self.rss_mib.append(kb / 1024)
                except (OSError, IndexError, ValueError):
                    pass
            time.sleep(1)  # the sampling interval of the memory figure


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(text: str, prefix: str) -> float:
    return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix)), 0.0)


def wait_ready(worker: ServiceProcess, timeout: float = 900) -> float:
    started = time.monotonic()

    def ready() -> bool:
        if worker.proc.poll() is not None:
            raise RuntimeError(f"worker exited; see {worker.log}")
        try:
            return httpx.get(f"{worker.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    until(ready, f"the worker ready (see {worker.log})", timeout=timeout, every=0.2)
    return time.monotonic() - started


def start(worker: ServiceProcess, sampler: Sampler) -> float:
    """Start the worker; seconds from the process start to ready."""
    out = open(worker.log, "ab")
    begun = time.monotonic()
    worker.proc = subprocess.Popen([*worker_cmd()], cwd=ROOT, env=worker.env, stdout=out, stderr=subprocess.STDOUT)
    sampler.pid = worker.proc.pid
    wait_ready(worker)
    return time.monotonic() - begun


def worker_cmd() -> list[str]:
    import sys
    return [sys.executable, "-m", "escalation"]


def read_topic(settings: CommonSettings, topic: str) -> list:
    return [record for batch in reading.read_topic(settings, topic, batch=50000) for record in batch]


def count_by_type(settings: CommonSettings, topic: str) -> Counter:
    return Counter(orjson.loads(r.value)["type"] for r in read_topic(settings, topic))


class Bench:
    """One run's scratch topics, county and worker (and the memory sampler watching it)."""

    def __init__(self, partitions: int, top_limit: int = 86400) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="escalation-bench-"))
        self.run_id = uuid.uuid4().hex[:8]
        # topic names of its own (not petition.*.<id>): nothing else on a shared broker should mistake them
        self.settings = settings = CommonSettings().model_copy(update={
            "topic_events": f"escalation-bench-{self.run_id}.events",
            "topic_routing": f"escalation-bench-{self.run_id}.routing",
            "topic_deadletter": f"escalation-bench-{self.run_id}.deadletter",
            "topic_terminals": f"escalation-bench-{self.run_id}.terminals", "partitions": partitions})
        provision(settings)
        # the worker's pages need a supervisor's token (issue #16): the county bureau's, on the run's own topic
        producer = sync_producer(settings)
        event = terminal_event("t-bench", STAFF_TOKEN, ["supervisor"])
        producer.send(settings.topic_terminals, key=event.subject.encode(), value=event.to_json())
        producer.flush(30)
        producer.close()
        port = free_port()
        env = {"XINFANG_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "XINFANG_TOPIC_EVENTS": settings.topic_events,
               "XINFANG_TOPIC_ROUTING": settings.topic_routing, "XINFANG_TOPIC_DEADLETTER": settings.topic_deadletter,
               "XINFANG_TOPIC_TERMINALS": settings.topic_terminals, "XINFANG_PARTITIONS": str(partitions),
               "XINFANG_COUNTY_FILE": str(county_file(self.folder, top_limit)),
               "XINFANG_ESCALATION_APP_ID": f"esc-bench-{self.run_id}", "XINFANG_ESCALATION_PORT": str(port),
               "XINFANG_ESCALATION_DATA_DIR": str(self.folder / "data"), "XINFANG_LOG_LEVEL": "WARNING"}
        self.worker = ServiceProcess("escalation", env, port, self.folder / "worker.log")
        self.sampler = Sampler()
        self.sampler.start()
        self.first_start = start(self.worker, self.sampler)
        print(f"worker ready in {self.first_start:.1f}s; logs in {self.folder}")
        self.http = httpx.Client(base_url=self.worker.url, timeout=10,
                                 headers={"Authorization": f"Bearer {STAFF_TOKEN}"})

    def metric(self, prefix: str) -> float:
        return metric(self.http.get("/metrics").text, prefix)

    def wait_ingested(self, count: int) -> list[tuple[float, float]]:
        """Poll until the worker has read ``count`` intake events; (time, events read) along the way."""
        progress: list[tuple[float, float]] = []

        def ingested() -> bool:
            progress.append((time.time(), self.metric('escalation_inputs_total{kind="intake"}')))
            return progress[-1][1] >= count

        until(ingested, lambda: f"all {count} registrations ingested ({progress[-1][1]:.0f} so far)",
              timeout=600 + count / 100, every=1)
        return progress

    def close(self) -> None:
        self.worker.stop()
        self.sampler.stopped = True
        shutil.rmtree(self.folder, ignore_errors=True)
        delete_run_topics(self.settings, f"esc-bench-{self.run_id}")


def registrations(occurred: list[datetime], prefix: str = "0") -> list[tuple[bytes, bytes]]:
    """Chained registrations at a village room, one per occurred time: (key, value) to produce."""
    out = []
    for i, at in enumerate(occurred):
        pid = str(uuid.uuid4())
        data = Registered(receipt_no=f"2026-361501-{prefix}{i:06d}", batch_id="b1", channel="visit",
                          jurisdiction="361501100201", category="labour", summary="拖欠工资", head_count=1,
                          unit="room.361501100201", tier="village").model_dump(mode="json")
        event = CloudEvent.chained(event_id=str(uuid.uuid4()), source="/xinfang/361501/intake",
                                   type="petition.registered.v1", subject=pid, recorded=datetime.now(timezone.utc),
                                   occurred=at, actor="terminal:bench", seq=1, prevhash=GENESIS_HASH, data=data)
        out.append((pid.encode(), event.to_json()))
    return out


def produce(settings: CommonSettings, records: list[tuple[bytes, bytes]]) -> float:
    """Send them all; the time the first was sent."""
    producer = sync_producer(settings, batch_size=256 * 1024, linger_ms=20)
    sent_at = time.time()
    for key, value in records:
        producer.send(settings.topic_events, key=key, value=value)
    producer.flush(120)
    producer.close()
    return sent_at


def lateness(record, envelope: dict) -> float:
    """Seconds from a breach's due time (its ``occurred``) to the broker's append time of its record."""
    occurred = datetime.fromisoformat(envelope["occurred"].replace("Z", "+00:00")).timestamp()
    return record.timestamp / 1000 - occurred


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("steady", "back-dated"), default="steady")
    parser.add_argument("--matters", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=None,
                        help="seconds over which the deadlines fall (600; back-dated: 180)")
    parser.add_argument("--ingest-rate", type=float, default=800,
                        help="intake events per second the worker is assumed to read (sets when deadlines begin)")
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--others", type=int, default=10_000, help="back-dated scenario: matters on today's clock")
    parser.add_argument("--back-dated", type=int, default=1_000, help="back-dated scenario: matters a year old")
    parser.add_argument("--top-limit", type=int, default=60, help="back-dated scenario: the city's limit, seconds")
    args = parser.parse_args()
    if args.scenario == "back-dated":
        back_dated(args)
    else:
        steady(args)


def steady(args: argparse.Namespace) -> None:
    """The deadlines of ``--matters`` matters falling over ``--window`` seconds (sections 1–4 above)."""
    args.window = args.window or 600
    load_at_start = os.getloadavg()
    bench = Bench(args.partitions)
    settings, worker, sampler, folder, first_start = (bench.settings, bench.worker, bench.sampler, bench.folder,
                                                      bench.first_start)

    # 1. ingest: deadlines from `begin` to `begin + window`; the registrations are chained first (about
    # 10,000 a second here) so that sending them costs the worker's two cores little
    chain_budget = args.matters / 5000
    ingest_budget = chain_budget + args.matters / args.ingest_rate + 30
    begin = datetime.now(timezone.utc) + timedelta(seconds=ingest_budget + 72)
    records = registrations([begin + timedelta(seconds=args.window * i / args.matters - ACCEPT)
                             for i in range(args.matters)])
    cpu_before = cpu_seconds(worker.proc.pid)
    produced_at = produce(settings, records)
    del records
    print(f"{args.matters} registrations produced in {time.time() - produced_at:.1f}s")

    http = bench.http
    progress = bench.wait_ingested(args.matters)  # (time, intake events processed)
    ingest_cpu = cpu_seconds(worker.proc.pid) - cpu_before
    ingested_at = time.time()
    lead = (begin - datetime.now(timezone.utc)).total_seconds() - 72
    print(f"ingested after {ingested_at - produced_at:.1f}s; first warning in {lead:.0f}s")
    middle = [(t, n) for t, n in progress if 0.2 * args.matters <= n <= 0.8 * args.matters]
    steady = (middle[-1][1] - middle[0][1]) / (middle[-1][0] - middle[0][0]) if len(middle) > 1 else float("nan")

    # 2. the deadlines fall; wait for the last escalation (grace 60 s after the last deadline)
    cpu_deadlines = cpu_seconds(worker.proc.pid)
    end = begin + timedelta(seconds=args.window + 60)
    while datetime.now(timezone.utc) < end + timedelta(seconds=5):
        time.sleep(5)  # the scenario: the deadlines fall in wall-clock time, the worker's load is measured meanwhile
    until(lambda: metric(http.get("/metrics").text,
                         'escalation_routing_events_total{type="petition.escalated.v2"}') >= args.matters,
          f"all {args.matters} matters escalated", timeout=600, every=2)
    deadlines_cpu = cpu_seconds(worker.proc.pid) - cpu_deadlines
    load_at_end = os.getloadavg()
    rss_during = max(sampler.rss_mib) if sampler.rss_mib else float("nan")
    timers = http.get("/timers").json()["total"]

    records = read_topic(settings, settings.topic_routing)
    delays: dict[str, list[float]] = defaultdict(list)
    per_second: Counter = Counter()
    assigned_ts: list[float] = []
    ids_by_kind: dict[str, set] = defaultdict(set)
    for record in records:
        envelope = orjson.loads(record.value)
        ids_by_kind[envelope["type"]].add(envelope["id"])
        if envelope["type"] == "petition.assigned.v2":
            assigned_ts.append(record.timestamp / 1000)
        elif envelope["type"] in BREACHES:
            delays[envelope["type"]].append(lateness(record, envelope))
            per_second[int(record.timestamp / 1000)] += 1
    all_delays = [d for ds in delays.values() for d in ds]

    # 4. recovery
    worker.stop()
    sampler.rss_mib = []
    restart = start(worker, sampler)
    worker.stop()
    shutil.rmtree(folder / "data")
    rebuild = start(worker, sampler)
    # a fresh process reads the terminals topic before it can check the token (503 auth.unavailable meanwhile)
    (rebuilt_timers,) = until(lambda: (r := http.get("/timers")).status_code == 200 and (r.json()["total"],),
                              "the rebuilt worker's /timers answering", timeout=60, every=0.2)
    bench.close()
    rss_recovery = max(sampler.rss_mib) if sampler.rss_mib else float("nan")

    escalations = delays["petition.escalated.v2"]
    breaches = len(all_delays)
    figures = {
        "matters": args.matters, "partitions": args.partitions, "deadline_window_s": args.window,
        "ingest_rate_assumed_per_s": args.ingest_rate,
        # 1. intake events processed per second: first registration sent to the last assignment on the topic
        "ingest_events_per_s": round(args.matters / (max(assigned_ts) - produced_at), 1),
        "ingest_s": round(max(assigned_ts) - produced_at, 1),
        "ingest_steady_events_per_s": round(steady, 1),  # between 20 % and 80 % of the registrations read
        "ingest_worker_cpu_ms_per_event": round(1000 * ingest_cpu / args.matters, 2),
        # 2. warnings, overdue notices and escalations fired by the timer
        "breach_events": breaches,
        "breach_events_per_s_mean": round(breaches / (args.window + 132), 1),  # 72 s of warnings before, 60 s after
        "breach_events_per_s_busiest_second": max(per_second.values()) if per_second else 0,
        "breach_worker_cpu_ms_per_event": round(1000 * deadlines_cpu / max(breaches, 1), 2),
        "breach_delay_p50_ms": round(1000 * percentile(all_delays, 50), 1),
        "breach_delay_p99_ms": round(1000 * percentile(all_delays, 99), 1),
        "breach_delay_max_ms": round(1000 * max(all_delays), 1),
        "escalation_delay_p50_ms": round(1000 * percentile(escalations, 50), 1),
        "escalation_delay_p99_ms": round(1000 * percentile(escalations, 99), 1),
        "escalation_delay_max_ms": round(1000 * max(escalations), 1),
        "warnings": len(delays["petition.deadline_warning.v1"]), "overdue_notices": len(delays["petition.overdue.v1"]),
        "escalations": len(escalations),
        # each event once on petition.routing (by id): the worker is at-least-once, so this is what readers see
        "routing_records": len(records), "routing_distinct_ids": sum(len(s) for s in ids_by_kind.values()),
        "open_timers_after": timers,
        # 3. the worker's resident set, sampled every second
        "rss_max_mib": round(rss_during, 1),
        "rss_max_mib_during_recovery": round(rss_recovery, 1),
        # 4. process start to /readyz
        "first_start_s": round(first_start, 1),
        "recovery_restart_s": round(restart, 1),
        "recovery_new_machine_s": round(rebuild, 1),
        "timers_after_new_machine": rebuilt_timers,
        "load_average_at_start": [round(x, 2) for x in load_at_start],  # the machine is shared
        "load_average_after_deadlines": [round(x, 2) for x in load_at_end],
        "targets": {"escalation_delay_p99_ms": "<= 1000", "breach_delay_p99_ms": "<= 1000", "rss_max_mib": "<= 1024",
                    "rss_max_mib_during_recovery": "<= 1024", "routing_distinct_ids": f"= {4 * args.matters}",
                    "timers_after_new_machine": f"= {args.matters}"},
        "notes": ("Delays run from the moment a warning, overdue notice or escalation falls due (its `occurred`) "
                  "to the broker's append time of the event on the routing topic; an escalation falls due 60 s "
                  "after its deadline (the grace). The registrations are chained before the clock starts and "
                  "sent as fast as the producer goes while the worker reads them. `recovery_restart_s`: the "
                  "worker stopped and started on its RocksDB folder; `recovery_new_machine_s`: started on an "
                  "empty folder, the table restored from its changelog (every restored matter's last events "
                  "are sent again: duplicates by id, which readers drop). CPU per breach event counts the whole "
                  "deadline phase (idle timer looks too)."),
    }
    save("escalation", figures)


class Prober(threading.Thread):
    """The worker's /livez answered how fast, every 0.2 s (a blocked worker leaves it unanswered)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.seconds, self.stopped = url, [], False

    def run(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self.stopped:
                started = time.monotonic()
                try:
                    http.get(f"{self.url}/livez")
                except httpx.HTTPError:
                    pass
                self.seconds.append(time.monotonic() - started)
                time.sleep(0.2)


def back_dated(args: argparse.Namespace) -> None:
    """``--back-dated`` matters a year old arriving at once while ``--others`` run (see the module's text)."""
    window = args.window or 180
    load_at_start = os.getloadavg()
    bench = Bench(args.partitions, top_limit=args.top_limit)
    settings = bench.settings
    begin = datetime.now(timezone.utc) + timedelta(seconds=args.others / 5000 + args.others / args.ingest_rate + 92)
    others = registrations([begin + timedelta(seconds=window * i / args.others - ACCEPT) for i in range(args.others)],
                           prefix="1")
    other_ids = {key.decode() for key, _ in others}
    produce(settings, others)
    bench.wait_ingested(args.others)
    burst_at = begin + timedelta(seconds=window / 3)  # while the others' warnings and overdue notices fall
    print(f"others ingested; the back-dated arrive in {(burst_at - datetime.now(timezone.utc)).total_seconds():.0f}s")
    while datetime.now(timezone.utc) < burst_at:  # the scenario: the burst comes at a wall-clock moment
        time.sleep(0.5)
    prober = Prober(bench.worker.url)
    prober.start()
    load_at_burst = os.getloadavg()
    # chained only now: intake records a fact when it learns it, just before it reaches the topic
    year_ago = datetime.now(timezone.utc) - timedelta(days=365)
    old = registrations([year_ago + timedelta(seconds=i) for i in range(args.back_dated)], prefix="9")
    old_ids = {key.decode() for key, _ in old}
    sent_at = produce(settings, old)
    end = begin + timedelta(seconds=window + 60 + 5)  # the others' last escalation, 60 s after its deadline
    while datetime.now(timezone.utc) < end:  # the scenario: the others' deadlines fall in wall-clock time
        time.sleep(2)
    expected = args.others + 3 * args.back_dated
    until(lambda: bench.metric('escalation_routing_events_total{type="petition.escalated.v2"}') >= expected,
          f"{expected} escalations", timeout=600, every=2)
    prober.stopped = True
    load_at_end = os.getloadavg()
    text = bench.http.get("/metrics").text
    rss = max(bench.sampler.rss_mib) if bench.sampler.rss_mib else float("nan")

    by_pid: dict[str, list] = defaultdict(list)
    for record in read_topic(settings, settings.topic_routing):
        by_pid[record.key.decode()].append((record, orjson.loads(record.value)))
    settled = [pairs[8][0].timestamp / 1000 for pid, pairs in by_pid.items() if pid in old_ids and len(pairs) >= 9]
    settled_at = max(settled) if settled else float("nan")
    lateness_all, lateness_burst = [], []
    for pid in other_ids:
        for record, envelope in by_pid[pid]:
            if envelope["type"] in BREACHES:
                late = lateness(record, envelope)
                lateness_all.append(late)
                if sent_at <= record.timestamp / 1000 - late <= settled_at:  # fell due while the old ones were handled
                    lateness_burst.append(late)
    bench.close()
    figures = {
        "others": args.others, "back_dated": args.back_dated, "back_dated_by_days": 365,
        "top_limit_s": args.top_limit, "partitions": args.partitions, "deadline_window_s": window,
        "back_dated_periods_each": int(365 * 86400 / args.top_limit),  # what stepping through them would cost
        # the back-dated ones: sent at once, each to its state of now (9 events: 4 tiers, the city's latest report)
        "back_dated_settled": len(settled),
        "back_dated_settle_s": round(settled_at - sent_at, 2),
        # the others' warnings, overdue notices and escalations: due time → record on petition.routing
        "others_breach_events": len(lateness_all),
        "others_timer_lateness_p50_ms": round(1000 * percentile(lateness_all, 50), 1),
        "others_timer_lateness_p99_ms": round(1000 * percentile(lateness_all, 99), 1),
        "others_timer_lateness_max_ms": round(1000 * max(lateness_all), 1),
        "others_during_burst_events": len(lateness_burst),
        "others_during_burst_p99_ms": round(1000 * percentile(lateness_burst, 99), 1),
        "others_during_burst_max_ms": round(1000 * max(lateness_burst), 1) if lateness_burst else None,
        "livez_max_ms_from_burst": round(1000 * max(prober.seconds), 1),
        # the worker's own two histograms
        "metric_timer_lateness_count": metric(text, "escalation_timer_lateness_seconds_count"),
        "metric_timer_lateness_mean_ms": round(1000 * metric(text, "escalation_timer_lateness_seconds_sum")
                                               / max(1.0, metric(text, "escalation_timer_lateness_seconds_count")), 1),
        "metric_late_knowledge_count": metric(text, "escalation_late_knowledge_seconds_count"),
        "metric_late_knowledge_mean_days": round(metric(text, "escalation_late_knowledge_seconds_sum") / 86400
                                                 / max(1.0, metric(text, "escalation_late_knowledge_seconds_count")),
                                                 1),
        "rss_max_mib": round(rss, 1),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "load_average_at_burst": [round(x, 2) for x in load_at_burst],
        "load_average_at_end": [round(x, 2) for x in load_at_end],
        "targets": {"others_timer_lateness_p99_ms": "<= 1000", "others_during_burst_p99_ms": "<= 1000",
                    "back_dated_settled": f"= {args.back_dated}", "rss_max_mib": "<= 1024"},
        "notes": ("The others are registered so that their village deadlines fall over the window (warning 72 s "
                  "before, escalation 60 s after); a third of the way in, the back-dated matters (registered a "
                  "year ago) are sent at once. Each goes village → township → county → city at once, every "
                  "breach dated when it fell due and recorded when learned, and the city's report of the latest "
                  f"{args.top_limit}-second period, computed rather than stepped through. `others_during_burst`: "
                  "the others' breaches that fell due between the first back-dated record sent and the last one "
                  "settled. The worker's `escalation_timer_lateness_seconds` counts only dues that were in the "
                  "future when learned; `escalation_late_knowledge_seconds` how late the rest were learned."),
    }
    save("escalation_back_dated", figures)


if __name__ == "__main__":
    main()
