"""A private single-node Kafka 3.9 broker for fault tests: stop it, start it again, same data.

Uses the jars deploy/kafka.sh resolved (deploy/kafka/lib) and a folder of the test's own, so a
test can take its broker away without touching the shared one.
"""
from __future__ import annotations

import base64
import os
import signal
import subprocess
import uuid
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from support.process import ROOT, free_port
from support.waiting import until

LIB = ROOT / "deploy" / "kafka" / "lib"


def new_cluster_id() -> str:
    """A KRaft cluster id as Kafka's own Uuid.randomUuid makes it: 16 random bytes, URL-safe base64,
    never starting with "-" (StorageTool's argument parser would take "-t --AX…" for two options: one
    fresh id in 64 failed the format step, seen in CI)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class PrivateBroker:
    """One node of a private KRaft cluster (combined broker and controller)."""

    def __init__(self, folder: Path, node: int = 1, voters: str | None = None, port: int | None = None,
                 controller: int | None = None, cluster_id: str | None = None, replicas: int = 1) -> None:
        self.folder, self.node_id = folder, node
        self.port, self.controller = port or free_port(), controller or free_port()
        self.proc: subprocess.Popen | None = None
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "server.properties").write_text(f"""process.roles=broker,controller
node.id={node}
controller.quorum.voters={voters or f'1@127.0.0.1:{self.controller}'}
listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={folder / 'data'}
offsets.topic.replication.factor={replicas}
offsets.topic.num.partitions=3
transaction.state.log.replication.factor={replicas}
transaction.state.log.min.isr={min(replicas, 2)}
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
""")
        cluster_id = cluster_id or new_cluster_id()
        self._java(["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(folder / "server.properties")],
                   check=True)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, args: list[str], check: bool = False, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["java", "-cp", f"{LIB}/*", *args], capture_output=True, check=check, **kw)

    def kill(self) -> None:
        """SIGKILL: the broker is gone, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def start(self, timeout: float = 60, wait: bool = True) -> None:
        log = open(self.folder / "console.out", "ab")
        env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx384m"}
        self.proc = subprocess.Popen(
            ["java", "-Xmx384m", "-XX:+UseSerialGC", f"-Dlog4j.configuration=file:{ROOT / 'deploy/kafka/log4j.properties'}",
             f"-Dkafka.logs.dir={self.folder / 'logs'}", "-cp", f"{LIB}/*", "kafka.Kafka",
             str(self.folder / "server.properties")], stdout=log, stderr=subprocess.STDOUT, env=env)
        if wait:
            self.start_wait(timeout)

    def start_wait(self, timeout: float = 60) -> None:
        until(self.answers, f"private broker up ({self.folder / 'console.out'})", timeout, every=0.2)

    def answers(self) -> bool:
        """Whether the broker answers a metadata request with at least one broker."""
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
        except KafkaError:
            return False
        try:
            return bool(admin.describe_cluster()["brokers"])
        except KafkaError:
            return False
        finally:
            admin.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class PrivateCluster:
    """Three brokers, all KRaft voters, for the drill that loses one of them."""

    def __init__(self, folder: Path, size: int = 3) -> None:
        ports = [(free_port(), free_port()) for _ in range(size)]
        voters = ",".join(f"{n + 1}@127.0.0.1:{c}" for n, (_, c) in enumerate(ports))
        cluster_id = new_cluster_id()
        self.nodes = [PrivateBroker(folder / f"node{n + 1}", n + 1, voters, p, c, cluster_id, replicas=size)
                      for n, (p, c) in enumerate(ports)]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def start(self, timeout: float = 180) -> None:
        for node in self.nodes:
            node.start(wait=False)
        for node in self.nodes:
            node.start_wait(timeout)
        # every node's metadata lists every broker and a controller among them: before that, an admin request
        # sent to the controller it names can find no such broker (kafka-python: UnknownBrokerIdError, seen in CI
        # provisioning the drill's topics right after the start)
        until(self.complete, f"all {len(self.nodes)} brokers in every node's metadata", timeout, every=0.2)

    def complete(self) -> bool:
        wanted = {node.node_id for node in self.nodes}
        for node in self.nodes:
            try:
                admin = KafkaAdminClient(bootstrap_servers=node.bootstrap, request_timeout_ms=3000)
            except KafkaError:
                return False
            try:
                cluster = admin.describe_cluster()
            except KafkaError:
                return False
            finally:
                admin.close()
            live = {b["broker_id"] for b in cluster["brokers"] if not b.get("is_fenced")}  # fenced: not in metadata yet
            if live != wanted or cluster.get("controller_id") not in wanted:
                return False
        return True

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
