"""A private single-node Kafka 3.9 broker for fault tests: stop it, start it again, same data.

Uses the jars deploy/kafka.sh resolved (deploy/kafka/lib) and a folder of the test's own, so a
test can take its broker away without touching the shared one.
"""
from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from support.process import ROOT, free_port

LIB = ROOT / "deploy" / "kafka" / "lib"


class PrivateBroker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port, self.controller = free_port(), free_port()
        self.proc: subprocess.Popen | None = None
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "server.properties").write_text(f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{self.controller}
listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={folder / 'data'}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
""")
        self._java(["kafka.tools.StorageTool", "format", "-t", base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
                    "-c", str(folder / "server.properties")], check=True)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, args: list[str], check: bool = False, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["java", "-cp", f"{LIB}/*", *args], capture_output=True, check=check, **kw)

    def start(self, timeout: float = 60) -> None:
        log = open(self.folder / "console.out", "ab")
        env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx384m"}
        self.proc = subprocess.Popen(
            ["java", "-Xmx384m", "-XX:+UseSerialGC", f"-Dlog4j.configuration=file:{ROOT / 'deploy/kafka/log4j.properties'}",
             f"-Dkafka.logs.dir={self.folder / 'logs'}", "-cp", f"{LIB}/*", "kafka.Kafka",
             str(self.folder / "server.properties")], stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
                try:
                    if admin.describe_cluster()["brokers"]:
                        return
                finally:
                    admin.close()
            except KafkaError:
                time.sleep(0.5)
        raise RuntimeError(f"private broker not up after {timeout}s: {self.folder / 'console.out'}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
