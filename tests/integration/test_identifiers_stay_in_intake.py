"""A person's identifiers and their blind indexes never leave intake: not on any topic of the run, not in
reporting's database — intake, escalation and reporting as processes, the topics read with kcat, reporting's schema
with pg_dump."""
from __future__ import annotations

import asyncio
import base64
import random
import subprocess
import uuid

import asyncpg
import httpx

from support.intake import identity_number, mobile
from support.kafka import delete_run_topics, read_all, run_settings
from support.system import VILLAGES, System
from support.waiting import until
from xinfang.encryption import blind_index, index_key

PG_BIN = "/usr/lib/postgresql/15/bin"
MASTER = b"m" * 32  # the System's master key


def forms(value: bytes) -> list[bytes]:
    """How 32 bytes could be written down: raw, hex (pg_dump's bytea), base64 and base64url."""
    return [value, value.hex().encode(), base64.b64encode(value).rstrip(b"="), base64.urlsafe_b64encode(value).rstrip(b"=")]


async def indexed(dsn: str, schema: str) -> set[bytes]:
    conn = await asyncpg.connect(dsn)
    try:
        return {bytes(r["digest"]) for r in await conn.fetch(f'SELECT digest FROM "{schema}".blind_indexes')}
    finally:
        await conn.close()


def test_no_identifier_or_blind_index_on_any_topic_or_in_reporting(settings, kafka_bootstrap, tmp_path):
    rng = random.Random()
    number, phone = identity_number(rng, region="361501"), mobile(rng)
    run = run_settings(settings, uuid.uuid4().hex[:8])
    system = System(run, settings.database_url, tmp_path).start()
    try:
        intake = httpx.Client(base_url=system.procs["intake"].url, timeout=30,
                              headers={"Authorization": f"Bearer {system.token}"})
        body = {"channel": "visit", "jurisdiction": VILLAGES[0], "category": "labour", "summary": "欠薪",
                "head_count": 1, "petitioners": [{"name": "查无此人", "id_number": number, "phone": phone}]}
        first = intake.post("/v1/petitions", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        second = intake.post("/v1/petitions", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert first.status_code == second.status_code == 201, (first.text, second.text)
        assert [m["petition_id"] for m in second.json()["possible_repeats"]] == [first.json()["petition_id"]]
        pids = [r.json()["petition_id"] for r in (first, second)]
        digests = [blind_index(index_key(MASTER, "id_number"), number), blind_index(index_key(MASTER, "phone"), phone)]
        assert set(digests) <= asyncio.run(indexed(settings.database_url, system.intake_schema))  # the right values
        for pid in pids:  # both matters' events are out, and escalation routed them
            read_all(run.kafka_bootstrap, run.topic_events, expect=1, key=pid.encode())
            read_all(run.kafka_bootstrap, run.topic_routing, expect=1, key=pid.encode(), timeout=60)

        def reporting_dump() -> bytes | None:
            dumped = subprocess.run([f"{PG_BIN}/pg_dump", "--schema", system.reporting_schema, settings.database_url],
                                    capture_output=True, timeout=120, check=True).stdout
            return dumped if all(pid.encode() in dumped for pid in pids) else None

        in_reporting = until(reporting_dump, "reporting projecting both matters", timeout=60, every=0.5)
        on_topics = b"".join(
            subprocess.run(["kcat", "-C", "-b", run.kafka_bootstrap, "-t", topic, "-e", "-q"],
                           capture_output=True, timeout=60, check=True).stdout
            for topic in (run.topic_events, run.topic_routing, run.topic_deadletter, run.topic_terminals))
        assert all(pid.encode() in on_topics for pid in pids)  # what was searched holds the matters
        for secret in [number.encode(), phone.encode(), "查无此人".encode()] + [f for d in digests for f in forms(d)]:
            assert secret not in on_topics, f"{secret!r} on a topic"
            assert secret not in in_reporting, f"{secret!r} in reporting's database"
    finally:
        system.stop()
        delete_run_topics(run, f"escalation-{system.run}")
