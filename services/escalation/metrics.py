"""Prometheus metrics of one worker (its own registry: one worker per process)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.inputs = Counter("escalation_inputs_total", "records handled by the agent", ["kind"], registry=r)
        self.emitted = Counter("escalation_routing_events_total", "routing events chained", ["type"], registry=r)
        self.dead_letters = Counter("escalation_dead_letters_total", "intake records sent to the dead-letter topic",
                                    registry=r)
        # two things apart (one histogram of both had a sum of 1.5e8 s after one back-dated matter):
        self.timer_lateness = Histogram(
            "escalation_timer_lateness_seconds", "breaches due after the system learned of what they breach: "
            "from the due time to the event acknowledged on the topic",
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60, 300), registry=r)
        self.late_knowledge = Histogram(
            "escalation_late_knowledge_seconds", "breaches already past when the system learned of what they "
            "breach (offline terminals, late syncs): from the due time to when it was learned",
            buckets=(1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400), registry=r)
        self.open_timers = Gauge("escalation_open_timers", "open clocks on this worker's partitions",
                                 ["tier", "stage"], registry=r)
        self.catch_up = Gauge("escalation_catch_up_backlog", "matters learned after their breaches fell due, "
                              "waiting for their turn (a few per look, after the timely dues)", registry=r)
        self.partitions = Gauge("escalation_partitions", "partitions this worker owns", registry=r)
        self.backlog = Gauge("escalation_publish_backlog", "chained events waiting to be sent", registry=r)
        self.lag = Gauge("escalation_consumer_lag", "records of petition.events and the ticks topic on the broker "
                         "not yet fetched by this worker", ["topic", "partition"], registry=r)
        self.scan_seconds = Gauge("escalation_index_scan_seconds", "time to index the owned partitions at the "
                                  "last rebalance", registry=r)

    def count(self, chained: list) -> None:
        for event in chained:
            self.emitted.labels(event.type).inc()

    def breaches(self, chained: list) -> dict[int, float]:
        """Sort one input's breach events: late knowledge is observed now; the others are returned as
        seq → due timestamp, for their timer lateness once they are acknowledged on the topic."""
        timely: dict[int, float] = {}
        for event in chained:
            if not event.timed:
                continue
            if event.recorded_at > event.occurred_at:  # recorded when learned, after it fell due
                self.late_knowledge.observe((event.recorded_at - event.occurred_at).total_seconds())
            else:
                timely[event.seq] = event.occurred_at.timestamp()
        return timely
