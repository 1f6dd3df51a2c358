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
        self.breach_delay = Histogram(
            "escalation_breach_delay_seconds", "from a breach's due time to its event acknowledged on the topic",
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60, 300), registry=r)
        self.open_timers = Gauge("escalation_open_timers", "open clocks on this worker's partitions",
                                 ["tier", "stage"], registry=r)
        self.partitions = Gauge("escalation_partitions", "partitions this worker owns", registry=r)
        self.backlog = Gauge("escalation_publish_backlog", "chained events waiting to be sent", registry=r)
        self.lag = Gauge("escalation_consumer_lag", "records of petition.events and the ticks topic on the broker "
                         "not yet fetched by this worker", ["topic", "partition"], registry=r)
        self.scan_seconds = Gauge("escalation_index_scan_seconds", "time to index the owned partitions at the "
                                  "last rebalance", registry=r)

    def count(self, chained: list) -> None:
        for event in chained:
            self.emitted.labels(event.type).inc()
