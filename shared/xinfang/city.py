"""The city over its counties: the city file, and the MirrorMaker 2 configuration generated from it.

Each county keeps its own deployment (Kafka, PostgreSQL, services). The city's Kafka receives a copy of
every county's history: MirrorMaker 2, the Kafka distribution's own replication engine (the dedicated
driver ``org.apache.kafka.connect.mirror.MirrorMaker``, run by ``deploy/mirror.sh``), replicates each
county's ``petition.events`` and ``petition.routing`` (names from the settings) into the city's cluster
under the county's alias: ``<alias>.petition.events`` (the default replication policy's prefix), with
heartbeats (``heartbeats``) and checkpoints (``<alias>.checkpoints.internal``). The city file lists the
city's Kafka and each county's alias, region code and bootstrap servers; adding a county is an entry in
that file, a regenerated configuration and a restart of MirrorMaker, no code.

Delivery into the city is exactly once for readers with ``isolation.level=read_committed`` (what
``xinfang.kafka`` consumers use): exactly-once source support (KIP-618) for MirrorMaker's dedicated mode
exists since Kafka 3.5 (KIP-710 gave dedicated nodes the internal REST server it needs), so the generated
configuration enables it on the city cluster. A county's own history may still hold an event twice (the
intake relay publishes at least once), so a city reader de-duplicates on event ids all the same.

CLI: ``python -m xinfang.city mm2-config FILE [--out PATH] [--set key=value ...]`` (topic names from the
``XINFANG_*`` settings; ``--set`` appends properties, e.g. the tests' short intervals);
``python -m xinfang.city status FILE [--since EPOCH_MS]``: whether every county's flow runs (exit 0);
``python -m xinfang.city issue-token FILE --unit UNIT --roles R,...``: a terminal for the city's reporting, in the
city's own ``xinfang.terminals`` (see services/reporting/city.py for why not the counties');
``python -m xinfang.city terminals FILE``: the city's own terminals; ``python -m xinfang.city revoke-token FILE ID``:
revoke one (its token is refused as soon as the city's reporting reads the revocation; twice changes nothing).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from xinfang.county import County, load_county
from xinfang.county.loader import ConfigFileError, ConfigProblem, load_checked
from xinfang.county.model import Name, Part, RegionCode
from xinfang.settings import CommonSettings

if TYPE_CHECKING:
    from xinfang.events import CloudEvent

# No "." in an alias: it is the replication policy's separator, so "a.b" + ".petition.events" would be ambiguous.
Alias = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,30}$")]
Bootstrap = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+:[0-9]{1,5}(,[A-Za-z0-9_.-]+:[0-9]{1,5})*$")]
Listener = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9_.-]*:[0-9]{1,5}$")]
Url = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9_.-]+(:[0-9]{1,5})?(/[A-Za-z0-9_.-]+)*$")]


class CityConfigError(ConfigFileError):
    """A city file is refused; str() lists every problem as ``file:line: path: reason``."""


class CityKafka(Part):
    """The city's own Kafka cluster, where the counties' topics arrive."""

    bootstrap: Bootstrap
    replication_factor: int = Field(3, ge=1, description="of the mirrored and MirrorMaker's own topics; 1 on one machine")


class CountyLink(Part):
    """One county as the city reaches it: its alias (the prefix of its topics in the city) and its Kafka."""

    alias: Alias
    code: RegionCode
    name: Name
    bootstrap: Bootstrap
    county_file: str | None = Field(None, description="the county's own county file (a path relative to the city "
                                    "file): its places, units and categories, for the city's figures")
    intake_url: Url | None = Field(None, description="the county's terminal API (its intake), where the city's "
                                   "worklist links each matter to be acted on")
    reporting_url: Url | None = Field(None, description="the county's own reporting service, whose figures the city's "
                                      "audit compares with the city's for that county (reporting.audit city-verify)")


class Mirror(Part):
    """How MirrorMaker 2 runs for this city."""

    exactly_once: bool = Field(True, description="transactional writes into the city (KIP-618, dedicated mode ≥ 3.5)")
    listener: Listener = Field("http://127.0.0.1:8090", description="the internal REST server of MirrorMaker's "
                               "nodes (KIP-710), needed for exactly-once; not a public API")
    tasks: int = Field(1, ge=1, le=64, description="tasks per county flow (tasks.max); more only with more nodes")


class City(Part):
    """A city's configuration, validated: its Kafka and its counties."""

    code: RegionCode
    name: Name
    alias: Alias = Field("city", description="the city cluster's name in MirrorMaker's configuration")
    kafka: CityKafka
    mirror: Mirror = Mirror()
    reporting_url: Url | None = Field(None, description="the city's reporting service (city mode), for the audit")
    counties: list[CountyLink] = Field(min_length=1)

    def remote_topic(self, alias: str, topic: str) -> str:
        """Where a county's topic arrives in the city (DefaultReplicationPolicy: ``<alias>.<topic>``)."""
        return f"{alias}.{topic}"


def problems(city: City) -> Iterator[tuple[tuple, str]]:
    """Problems across the city file's sections, each with the path of the node at fault."""
    for key, zh in (("alias", "别名"), ("code", "区划代码"), ("bootstrap", "Kafka 地址")):
        seen: set[str] = set()
        for i, county in enumerate(city.counties):
            value = getattr(county, key)
            if value in seen:
                yield ("counties", i, key), f"重复的{zh} duplicate {key} {value!r}"
            seen.add(value)
    city_servers = set(city.kafka.bootstrap.split(","))
    for i, county in enumerate(city.counties):
        if county.alias == city.alias:
            yield ("counties", i, "alias"), f"县的别名不能与市相同 alias {county.alias!r} is the city's own"
        if county.code[:4] != city.code[:4] or county.code == city.code:
            yield ("counties", i, "code"), (f"不是本市所辖的县 {county.code} is not a county of the city {city.code} "
                                            f"(its code must start with {city.code[:4]})")
        if city_servers & set(county.bootstrap.split(",")):
            yield ("counties", i, "bootstrap"), ("县的 Kafka 不能是市的 Kafka the county's Kafka is the city's own: "
                                                 "it would be mirrored into itself")


def load_city(path: str | PathLike[str]) -> City:
    """Load and validate a city file; CityConfigError names file, line and reason."""
    return load_checked(path, City, problems, CityConfigError)


def city_tree(city: City, counties: dict[str, County], where: str = "city") -> County:
    """The city as one tree, for the city's figures: the city's place and its units on top (every county file
    holds them), each county's subtree below it, the categories of all the counties. Refused (CityConfigError)
    where the counties disagree: a county file of another code, a tree not under the city, another time zone or
    collective threshold (one city figure counts by one rule), a unit id two counties define differently (the
    statistics hold a unit by its id alone: in a city, a county's unit ids must be its own) or a category code
    they name differently (its department is each county's own: the first county's is kept, unused here)."""
    found: list[tuple[tuple, str]] = []
    places: dict[str, object] = {}
    units: dict[str, object] = {}
    categories: dict[str, object] = {}
    first = next(iter(counties.values()))
    for i, link in enumerate(city.counties):
        county = counties[link.alias]
        at = ("counties", i, "county_file")
        if county.code != link.code:
            found.append((at, f"县配置的区划代码 {county.code} 不是 {link.code} the county file is of {county.code}"))
            continue
        top = county.ancestors(county.code)
        if not top or top[-1].code != city.code:
            found.append((at, f"县配置的区划树不在本市 {city.code} 之下 the county's tree is not under the city"))
            continue
        for key, zh in (("timezone", "时区"), ("collective_threshold", "集体访人数")):
            if getattr(county, key) != getattr(first, key):
                found.append((at, f"{zh}与其他县不同 {key} {getattr(county, key)!r} differs from the other counties'"))
        for kind, mine, theirs, key in (("jurisdiction", places, county.jurisdictions, "code"),
                                        ("unit", units, county.units, "id"),
                                        ("category", categories, county.categories, "code")):
            for item in theirs:
                name = getattr(item, key)
                kept = mine.setdefault(name, item)
                # a category is the same kind of matter in every county, handled by each county's own department
                same = (kept.name == item.name) if kind == "category" else kept == item
                if not same:
                    found.append((at, f"与其他县的定义不同 {kind} {name!r} is defined differently by another county"))
    if found:
        raise CityConfigError([ConfigProblem(where, None, ".".join(map(str, path)), reason) for path, reason in found])
    return County(code=city.code, name=city.name, timezone=first.timezone,
                  collective_threshold=first.collective_threshold, jurisdictions=list(places.values()),
                  units=list(units.values()), categories=list(categories.values()))


def load_city_tree(path: str | PathLike[str]) -> tuple[City, County]:
    """The city file and the city's tree from the county files it names (paths relative to the city file)."""
    city = load_city(path)
    missing = [ConfigProblem(str(path), None, f"counties.{i}.county_file",
                             f"城市统计需要县配置文件 the city's figures need the county file of {link.alias}")
               for i, link in enumerate(city.counties) if link.county_file is None]
    if missing:
        raise CityConfigError(missing)
    folder = Path(path).parent
    counties = {link.alias: load_county(folder / link.county_file) for link in city.counties}
    return city, city_tree(city, counties, str(path))


def _escaped(value: str) -> str:
    """A value as java.util.Properties reads it back: backslashes doubled."""
    return value.replace("\\", "\\\\")


def mm2_properties(city: City, topics: list[str], overrides: dict[str, str] | None = None) -> str:
    """The MirrorMaker 2 configuration (``connect-mirror-maker`` properties) for every county → city flow."""
    rf, target = str(city.kafka.replication_factor), city.alias
    aliases = [county.alias for county in city.counties]
    wanted = ", ".join(re.escape(topic) for topic in topics)
    lines = [
        f"# Generated by `python -m xinfang.city mm2-config` from the city file of {city.name} ({city.code}):",
        "# edit the city file, not this.",
        f"clusters = {', '.join([target, *aliases])}",
        f"{target}.bootstrap.servers = {city.kafka.bootstrap}",
        *(f"{county.alias}.bootstrap.servers = {county.bootstrap}" for county in city.counties),
        "# <alias>.<topic> in the city (the default policy, said here so that it never changes under the readers)",
        "replication.policy.class = org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
        "replication.policy.separator = .",
        "# Only county -> city flows: MirrorMaker makes a herder for every pair that emits heartbeats, so they are",
        "# off but for those flows (else it would write heartbeats and its own topics into every county's Kafka).",
        "emit.heartbeats.enabled = false",
    ]
    for alias in aliases:
        lines += [f"{alias}->{target}.enabled = true",
                  f"{alias}->{target}.topics = {_escaped(wanted)}",
                  f"{alias}->{target}.emit.heartbeats.enabled = true",
                  # committed records only: what a county's readers see, and what exactly-once support requires
                  f"{alias}.consumer.isolation.level = read_committed"]
    lines += [
        "# The counties are only read: the offset syncs, like everything MirrorMaker writes, live in the city.",
        "offset-syncs.topic.location = target",
        "# The counties' ACLs mean nothing to the city's readers; their topic configurations are kept.",
        "sync.topic.acls.enabled = false",
        "sync.group.offsets.enabled = false",
        "refresh.topics.interval.seconds = 60",
        f"tasks.max = {city.mirror.tasks}",
        f"replication.factor = {rf}",
        *(f"{name}.replication.factor = {rf}" for name in ("checkpoints.topic", "heartbeats.topic", "offset-syncs.topic",
                                                           "offset.storage", "config.storage", "status.storage")),
        # a node lost from a group of several: its flows move to the others after a minute, not the default five
        f"{target}.scheduled.rebalance.max.delay.ms = 60000",
        # the connectors are on the classpath with their service manifests: no scan of every jar (10 s a flow)
        f"{target}.plugin.discovery = service_load",
    ]
    if city.mirror.exactly_once:
        lines += [
            "# Exactly-once into the city (KIP-618): each poll's records and their source offsets in one transaction;",
            "# dedicated nodes talk over the internal REST server for it (KIP-710).",
            f"{target}.exactly.once.source.support = enabled",
            "dedicated.mode.enable.internal.rest = true",
            f"listeners = {city.mirror.listener}",
        ]
    else:
        lines.append(f"{target}.offset.flush.interval.ms = 10000")
    if overrides:
        lines.append("# overrides (--set)")
        lines += [f"{key} = {_escaped(value)}" for key, value in overrides.items()]
    return "\n".join(lines) + "\n"


CONNECTORS = ("MirrorSourceConnector", "MirrorCheckpointConnector", "MirrorHeartbeatConnector")
# The checkpoint connector has a task only once the county has consumer groups; the source connector has one as
# soon as the county's topics exist (its deployment provisions them at start).
TASKS = ("MirrorSourceConnector-0", "MirrorHeartbeatConnector-0")


def flow_states(city: City, since_ms: int = 0) -> dict[str, dict[str, str]]:
    """What MirrorMaker's nodes last reported of each county's connectors and tasks (state by ``connector`` and
    ``connector-N``), read from the status topics in the city (``mm2-status.<alias>.internal``);
    reports older than ``since_ms`` (epoch milliseconds: a start) are left out, since a killed node's last
    word stays there."""
    from kafka import TopicPartition

    from xinfang.kafka import read_to_end, sync_consumer

    states: dict[str, dict[str, str]] = {}
    consumer = sync_consumer(city.kafka.bootstrap, group_id=None)
    try:
        for county in city.counties:
            topic = f"mm2-status.{county.alias}.internal"
            tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
            latest: dict[str, str] = {}
            spans = {tp: (0, end) for tp, end in consumer.end_offsets(tps).items()} if tps else {}
            for polled in read_to_end(consumer, spans):
                for record in (r for records in polled.values() for r in records):
                    key = (record.key or b"").decode()
                    if record.value is None or record.timestamp < since_ms or not key.startswith("status-"):
                        continue
                    kind, _, name = key.removeprefix("status-").partition("-")
                    if kind in ("connector", "task"):
                        latest[name] = json.loads(record.value)["state"]
            states[county.alias] = latest
    finally:
        consumer.close()
    return states


def not_running(states: dict[str, dict[str, str]]) -> list[str]:
    """Each county connector, or task that must run, that does not, as ``alias: name state`` (empty: all flows
    run); a task reported, checkpoints' included, must be RUNNING too."""
    return [f"{alias}: {name} {latest.get(name, 'not reported')}"
            for alias, latest in states.items()
            for name in dict.fromkeys([*CONNECTORS, *TASKS, *(n for n in latest if n.rsplit("-", 1)[0] in CONNECTORS)])
            if latest.get(name) != "RUNNING"]


def issue_token(city: City, tree: County, unit: str, roles: list[str], settings: CommonSettings) -> tuple[str, str]:
    """A terminal of the city's own (its reporting's readers): its lifecycle event published to the city's
    ``xinfang.terminals`` and awaited; returns (terminal id, token). The token is shown once and never stored."""
    import secrets
    import uuid
    from datetime import datetime, timezone

    from xinfang.kafka import sync_producer
    from xinfang.terminals import ROLES, TOKEN_PREFIX, lifecycle_event, token_hash

    tree.unit(unit)  # KeyError: a unit of no county of this city
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise ValueError(f"未知的角色 unknown roles {unknown or roles}: one or more of {', '.join(ROLES)}")
    terminal_id, token = f"city-{uuid.uuid4()}", TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    event = lifecycle_event(terminal_id, unit, roles, token_hash(token), now, None, f"/xinfang/{city.code[:6]}/city")
    producer = sync_producer(settings.model_copy(update={"kafka_bootstrap": city.kafka.bootstrap}))
    try:
        producer.send(settings.topic_terminals, key=terminal_id.encode(), value=event.to_json()).get(30)
    finally:
        producer.close()
    return terminal_id, token


def city_terminals(city: City, settings: CommonSettings) -> dict[str, CloudEvent]:
    """Each city terminal's latest lifecycle event (created, or revoked), read to the end of the city's
    ``xinfang.terminals`` (one partition, compacted: a tombstone forgets the terminal)."""
    from kafka import TopicPartition

    from xinfang.events import CloudEvent
    from xinfang.kafka import read_to_end, sync_consumer

    consumer = sync_consumer(settings.model_copy(update={"kafka_bootstrap": city.kafka.bootstrap}))
    try:
        if consumer.partitions_for_topic(settings.topic_terminals) is None:
            raise LookupError(f"市级 Kafka 中没有终端主题 the city's Kafka ({city.kafka.bootstrap}) has no topic "
                              f"{settings.topic_terminals}: create the city's topics first")
        tp = TopicPartition(settings.topic_terminals, 0)
        span = (consumer.beginning_offsets([tp])[tp], consumer.end_offsets([tp])[tp])
        latest: dict[str, CloudEvent] = {}
        for polled in read_to_end(consumer, {tp: span}):
            for record in polled[tp]:
                subject = (record.key or b"").decode()
                if record.value is None:
                    latest.pop(subject, None)
                else:
                    latest[subject] = CloudEvent.from_json(record.value)
        return latest
    finally:
        consumer.close()


def revoke_token(city: City, terminal_id: str, settings: CommonSettings) -> tuple[bool, str]:
    """Revoke a terminal of the city's own: its ``terminal.revoked.v1`` (chained to its created event, rebuilt
    from that event) published to the city's ``xinfang.terminals`` and awaited; the city's reporting refuses its
    token as soon as it reads it.  Returns (True, when) — or (False, when it was revoked before): revoking twice
    changes nothing.  KeyError: no such terminal on the city's topic (a county's terminals are revoked at its
    intake)."""
    from datetime import datetime, timezone

    from xinfang.events.catalogue import TerminalCreated
    from xinfang.events.envelope import parse_time
    from xinfang.kafka import sync_producer
    from xinfang.terminals import lifecycle_event

    latest = city_terminals(city, settings).get(terminal_id)
    if latest is None:
        raise KeyError(f"市级终端主题中没有终端 {terminal_id} no terminal {terminal_id!r} on the city's "
                       f"{settings.topic_terminals} (a county's own terminals are revoked at that county's intake)")
    if latest.type == "terminal.revoked.v1":
        return False, latest.time
    data = TerminalCreated.model_validate(latest.data)
    now = datetime.now(timezone.utc)
    event = lifecycle_event(terminal_id, data.unit, data.roles, bytes.fromhex(data.token_sha256),
                            parse_time(latest.time), now, latest.source)
    producer = sync_producer(settings.model_copy(update={"kafka_bootstrap": city.kafka.bootstrap}))
    try:
        producer.send(settings.topic_terminals, key=terminal_id.encode(), value=event.to_json()).get(30)
    finally:
        producer.close()
    return True, event.time


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--set takes key=value, not {text!r}")
    return key.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xinfang.city", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("mm2-config", help="print the MirrorMaker 2 properties for a city file")
    generate.add_argument("file", help="the city file, e.g. deploy/cities/demo-city.yaml")
    generate.add_argument("--out", help="write to this file instead of standard output")
    generate.add_argument("--set", type=_pair, action="append", default=[], metavar="KEY=VALUE",
                          help="append a property (repeatable)")
    status = commands.add_parser("status", help="whether MirrorMaker runs every county's flow (exit 0) or not (1)")
    status.add_argument("file", help="the city file")
    status.add_argument("--since", type=int, default=0, metavar="EPOCH_MS", help="only reports made since (a start)")
    issue = commands.add_parser("issue-token", help="a terminal of the city's own, for the city's reporting "
                                "(printed once: id and token)")
    issue.add_argument("file", help="the city file (its county files name the units)")
    issue.add_argument("--unit", required=True, help="the terminal's unit, e.g. city.361400 (the city bureau)")
    issue.add_argument("--roles", required=True, help="comma separated, e.g. supervisor,auditor")
    listing = commands.add_parser("terminals", help="the city's own terminals: id, unit, roles, created, revoked")
    listing.add_argument("file", help="the city file")
    revoke = commands.add_parser("revoke-token", help="revoke a terminal of the city's own (its token refused at once)")
    revoke.add_argument("file", help="the city file")
    revoke.add_argument("terminal", help="the terminal's id, as issue-token printed it (city-…)")
    args = parser.parse_args(argv)
    try:
        city, tree = load_city_tree(args.file) if args.command == "issue-token" else (load_city(args.file), None)
    except CityConfigError as exc:
        print(f"城市配置有误 the city file is refused:\n{exc}", file=sys.stderr)
        return 1
    if tree is not None:
        try:
            terminal_id, token = issue_token(city, tree, args.unit, [r.strip() for r in args.roles.split(",")],
                                             CommonSettings())
        except (KeyError, ValueError) as exc:
            print(f"无法签发 not issued: {exc}", file=sys.stderr)
            return 1
        print(f"terminal {terminal_id}\ntoken {token}")
        return 0
    if args.command in ("terminals", "revoke-token"):
        return _terminals_command(city, args)
    if args.command == "status":
        missing = not_running(flow_states(city, args.since))
        for line in missing:
            print(f"mirror: {line}")
        if not missing:
            print(f"mirror: all {len(city.counties)} county flows into {city.kafka.bootstrap} running")
        return 1 if missing else 0
    settings = CommonSettings()
    text = mm2_properties(city, [settings.topic_events, settings.topic_routing], dict(args.set))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _terminals_command(city: City, args: argparse.Namespace) -> int:
    settings = CommonSettings()
    try:
        if args.command == "terminals":
            for terminal_id, event in sorted(city_terminals(city, settings).items()):
                if event.type == "terminal.created.v1":
                    print(f"{terminal_id}\t{event.data['unit']}\t{','.join(event.data['roles'])}\tcreated {event.time}")
                else:
                    print(f"{terminal_id}\t-\t-\trevoked {event.time}")
            return 0
        revoked, when = revoke_token(city, args.terminal, settings)
    except (KeyError, LookupError) as exc:
        print(f"无法吊销 not revoked: {exc.args[0]}", file=sys.stderr)
        return 1
    print(f"{'已吊销 revoked' if revoked else '此前已吊销 already revoked'} {args.terminal} at {when}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
