"""Idempotent provisioning of the project's Kafka topics (kafka-python admin client).

``petition.events``, ``petition.routing`` and ``petition.deadletter`` (names from settings) get
the same partition count — every event of one matter lands in the same partition number in both
main topics — infinite retention (they ARE the history), ``cleanup.policy=delete`` (compaction
would drop all but the last event of a key) and the replication factor and
``min.insync.replicas`` of the settings.  ``xinfang.terminals`` (``topic_terminals``) is compacted
(``cleanup.policy=compact``): keyed by terminal id, it keeps each terminal's latest lifecycle event, which is all a
service checking tokens needs; one partition is plenty for a county's few thousand terminals.

Running it again changes nothing. A topic that exists with another partition count, replication
factor or configuration is never altered or ignored: :class:`TopicMismatchError` lists every
difference (topic, setting, expected, actual), and nothing is created in that run.

CLI: ``python -m xinfang.topics [--check]`` (settings from ``XINFANG_*``; ``--check`` creates
nothing and also reports missing topics). Exit status 0 when the cluster matches, 1 otherwise.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError

from .settings import CommonSettings

log = logging.getLogger(__name__)

UNKNOWN_TOPIC_OR_PARTITION = 3
TOPIC_ALREADY_EXISTS = 36


class TopicProvisioningError(RuntimeError):
    """The cluster cannot be brought to the wanted state (unreachable, too few brokers, ...)."""


@dataclass(frozen=True)
class Mismatch:
    topic: str
    setting: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.topic}: {self.setting} expected {self.expected}, actual {self.actual}"


class TopicMismatchError(TopicProvisioningError):
    """Existing topics differ from the settings; each difference is in :attr:`mismatches`."""

    def __init__(self, mismatches: list[Mismatch]):
        self.mismatches = list(mismatches)
        lines = "\n".join(f"  - {m}" for m in self.mismatches)
        super().__init__(
            f"{len(self.mismatches)} difference(s) between the topics and the configuration; "
            f"nothing was changed (fix the topic or the settings by hand):\n{lines}"
        )


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(hash=False)


@dataclass(frozen=True)
class ProvisionResult:
    created: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.created)


def topic_specs(settings: CommonSettings) -> list[TopicSpec]:
    """What the settings ask for, one spec per topic."""
    if settings.min_insync_replicas > settings.replication_factor:
        raise TopicProvisioningError(
            f"min_insync_replicas ({settings.min_insync_replicas}) cannot exceed "
            f"replication_factor ({settings.replication_factor}): no write could ever succeed"
        )
    configs = {
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "cleanup.policy": "delete",
        # The broker stamps each record when it appends it: "what the broker held at time T" (offsets
        # for times, the audit's point-in-time replay) then means exactly that, whatever a producer's clock says.
        "message.timestamp.type": "LogAppendTime",
        "min.insync.replicas": str(settings.min_insync_replicas),
    }
    names = [settings.topic_events, settings.topic_routing, settings.topic_deadletter]
    terminals = {"cleanup.policy": "compact", "message.timestamp.type": "LogAppendTime",
                 "min.insync.replicas": str(settings.min_insync_replicas)}
    return [TopicSpec(n, settings.partitions, settings.replication_factor, dict(configs)) for n in names] + [
        TopicSpec(settings.topic_terminals, 1, settings.replication_factor, terminals)]


def _describe(admin: KafkaAdminClient, specs: list[TopicSpec]) -> tuple[dict[str, dict], list[str]]:
    """Existing topics (name → metadata) and the names that do not exist."""
    existing, missing = {}, []
    for topic in admin.describe_topics([s.name for s in specs]):
        if topic["error_code"] == 0:
            existing[topic["name"]] = topic
        elif topic["error_code"] == UNKNOWN_TOPIC_OR_PARTITION:
            missing.append(topic["name"])
        else:
            raise TopicProvisioningError(f"{topic['name']}: metadata error code {topic['error_code']}")
    return existing, missing


def _requests(specs: list[TopicSpec]) -> dict[str, dict]:
    return {
        s.name: {"num_partitions": s.partitions, "replication_factor": s.replication_factor, "configs": s.configs}
        for s in specs
    }


def _raise_on_errors(response: dict, ignore: set[int]) -> None:
    failed = [t for t in response["topics"] if t["error_code"] not in ignore and t["error_code"] != 0]
    if failed:
        raise TopicProvisioningError(
            "; ".join(f"{t['name']}: creation refused (error {t['error_code']}): {t['error_message']}" for t in failed)
        )


def _describe_until_visible(admin: KafkaAdminClient, specs: list[TopicSpec], timeout: float = 30.0) -> dict[str, dict]:
    """Metadata of just-created topics. In a multi-broker cluster the broker answering may not
    have applied the creation yet (each broker follows the KRaft metadata log on its own), so a
    missing topic is asked for again until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        existing, missing = _describe(admin, specs)
        if not missing:
            return existing
        if time.monotonic() > deadline:
            raise TopicProvisioningError(f"created but not visible in metadata after {timeout:.0f}s: {', '.join(missing)}")
        time.sleep(0.2)


def _read_configs(admin: KafkaAdminClient, specs: list[TopicSpec], timeout: float = 30.0) -> dict[str, dict]:
    """The effective values of the configs the specs set, per topic.

    config_filter="all" so that values still at the broker default come back too: a topic created
    elsewhere with the default min.insync.replicas must compare by its effective value. A broker
    that does not know a topic yet (multi-broker cluster, creation not yet applied there) answers
    with no entries at all rather than an error; ask again until ``timeout`` instead of reporting
    every setting as unset."""
    deadline = time.monotonic() + timeout
    while True:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, s.name, {k: None for k in s.configs}) for s in specs],
            config_filter="all",
        )["topic"]
        unread = [s.name for s in specs if not described.get(s.name)]
        if not unread:
            return described
        if time.monotonic() > deadline:
            raise TopicProvisioningError(f"the broker returned no configuration for {', '.join(unread)} within {timeout:.0f}s")
        time.sleep(0.2)


def _compare(admin: KafkaAdminClient, specs: list[TopicSpec], existing: dict[str, dict]) -> list[Mismatch]:
    """Every difference between the specs and the topics as the broker reports them."""
    wanted = [s for s in specs if s.name in existing]
    if not wanted:
        return []
    described = _read_configs(admin, wanted)
    mismatches = []
    for spec in wanted:
        partitions = existing[spec.name]["partitions"]
        if len(partitions) != spec.partitions:
            mismatches.append(Mismatch(spec.name, "partitions", str(spec.partitions), str(len(partitions))))
        factors = sorted({len(p["replica_nodes"]) for p in partitions})
        if factors != [spec.replication_factor]:
            actual = ",".join(map(str, factors)) or "none"
            mismatches.append(Mismatch(spec.name, "replication_factor", str(spec.replication_factor), actual))
        configs = described.get(spec.name, {})
        for key, expected in spec.configs.items():
            actual = configs.get(key, {}).get("value")
            if actual != expected:
                mismatches.append(Mismatch(spec.name, key, expected, "unset" if actual is None else str(actual)))
    return mismatches


def _admin(settings: CommonSettings) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap.split(","),
            client_id="xinfang-topics",
            request_timeout_ms=30000,
            bootstrap_timeout_ms=10000,
        )
    except KafkaError as exc:
        raise TopicProvisioningError(
            f"no Kafka broker answers at {settings.kafka_bootstrap} (start it: deploy/dev up)"
        ) from exc


def provision(
    settings: CommonSettings | None = None,
    *,
    admin: KafkaAdminClient | None = None,
    check_only: bool = False,
) -> ProvisionResult:
    """Create the missing topics; report, never alter, existing ones that differ."""
    settings = settings or CommonSettings()
    specs = topic_specs(settings)
    own_admin = admin is None
    admin = admin or _admin(settings)
    try:
        existing, missing = _describe(admin, specs)
        mismatches = _compare(admin, specs, existing)
        if check_only:
            mismatches += [Mismatch(name, "exists", "yes", "missing") for name in missing]
        if mismatches:
            raise TopicMismatchError(mismatches)
        if check_only or not missing:
            return ProvisionResult((), tuple(existing))

        brokers = len(admin.describe_cluster()["brokers"])
        if brokers < settings.replication_factor:
            raise TopicProvisioningError(
                f"replication_factor {settings.replication_factor} needs at least that many brokers; "
                f"the cluster at {settings.kafka_bootstrap} has {brokers}"
            )
        to_create = [s for s in specs if s.name in missing]
        # A dry run first: it is decided by the controller, which knows every topic, whereas the
        # broker that answered the describe above may lag behind (multi-broker cluster). A topic it
        # reports as existing is compared like the others, and a mismatch there still means that
        # nothing at all is created.
        dry_run = admin.create_topics(_requests(to_create), validate_only=True, raise_errors=False)
        lagging = {t["name"] for t in dry_run["topics"] if t["error_code"] == TOPIC_ALREADY_EXISTS}
        _raise_on_errors(dry_run, ignore={TOPIC_ALREADY_EXISTS})
        if lagging:
            lagged = [s for s in to_create if s.name in lagging]
            mismatches = _compare(admin, lagged, _describe_until_visible(admin, lagged))
            if mismatches:
                raise TopicMismatchError(mismatches)
            to_create = [s for s in to_create if s.name not in lagging]
            if not to_create:
                return ProvisionResult((), tuple(s.name for s in specs))
        response = admin.create_topics(_requests(to_create), raise_errors=False, wait_for_metadata=True)
        _raise_on_errors(response, ignore={TOPIC_ALREADY_EXISTS})
        created, raced = [], []
        for topic in response["topics"]:
            if topic["error_code"] == 0:
                created.append(topic["name"])
            else:
                raced.append(topic["name"])  # another provisioner created it meanwhile: verify it below
        # Read back what the brokers now hold — created or raced — and hold it to the same standard.
        existing_after = _describe_until_visible(admin, to_create)
        mismatches = _compare(admin, to_create, existing_after)
        if mismatches:
            raise TopicMismatchError(mismatches)
        for name in created:
            log.info("created topic %s", name)
        unchanged = tuple(s.name for s in specs if s.name not in created)
        return ProvisionResult(tuple(created), unchanged)
    except KafkaError as exc:
        raise TopicProvisioningError(f"Kafka at {settings.kafka_bootstrap}: {exc}") from exc
    finally:
        if own_admin:
            admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xinfang.topics", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="create nothing; report missing or differing topics")
    args = parser.parse_args(argv)
    settings = CommonSettings()
    try:
        result = provision(settings, check_only=args.check)
    except TopicProvisioningError as exc:
        print(f"topics: {exc}", file=sys.stderr)
        return 1
    specs = {spec.name: spec for spec in topic_specs(settings)}
    for name in result.created:
        spec = specs[name]
        kept = "retention.ms -1" if spec.configs["cleanup.policy"] == "delete" else "cleanup.policy compact"
        print(
            f"topics: created {name} ({spec.partitions} partitions, replication factor "
            f"{spec.replication_factor}, min.insync.replicas {settings.min_insync_replicas}, {kept})"
        )
    if not result.changed:
        print(f"topics: no change ({len(result.unchanged)} topics match the settings at {settings.kafka_bootstrap})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
