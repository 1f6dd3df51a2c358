"""Fixtures shared by every test folder.

Infrastructure fixtures never skip: if PostgreSQL or Kafka is not reachable, the tests that need
them ERROR with a message saying what is missing and how to start it. A suite that silently
skips its integration tests would report green while proving nothing.
`deploy/dev test` starts both and exports XINFANG_KAFKA_BOOTSTRAP and XINFANG_DATABASE_URL.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from support.postgres import test_database
from xinfang.settings import CommonSettings

HOW_TO_START = "start the infrastructure with `deploy/dev up`, or run the suite with `deploy/dev test`"


@pytest.fixture(scope="session")
def settings() -> CommonSettings:
    """CommonSettings exactly as the services would read them from the XINFANG_* environment."""
    return CommonSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(settings: CommonSettings) -> str:
    """Bootstrap servers of a Kafka that answers a metadata request; fails the test otherwise."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap.split(","),
            client_id="xinfang-tests-probe",
            request_timeout_ms=5000,
            bootstrap_timeout_ms=5000,
        )
        try:
            brokers = admin.describe_cluster()["brokers"]
        finally:
            admin.close()
    except KafkaError as exc:
        pytest.fail(
            f"Kafka is not reachable at XINFANG_KAFKA_BOOTSTRAP={settings.kafka_bootstrap!r} "
            f"({type(exc).__name__}: {exc}); {HOW_TO_START}",
            pytrace=False,
        )
    if not brokers:
        pytest.fail(f"Kafka at {settings.kafka_bootstrap} reports no brokers; {HOW_TO_START}", pytrace=False)
    return settings.kafka_bootstrap


@pytest.fixture(scope="session")
async def pg_dsn(settings: CommonSettings) -> str:
    """DSN of a PostgreSQL database that accepts a connection; fails the test otherwise."""
    import asyncpg

    try:
        conn = await asyncpg.connect(settings.database_url, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at XINFANG_DATABASE_URL={settings.database_url!r} "
            f"({type(exc).__name__}: {exc}); {HOW_TO_START}",
            pytrace=False,
        )
    await conn.close()
    return settings.database_url


@pytest.fixture(scope="session")
def test_db(pg_dsn: str) -> str:
    """DSN of the tests' database (xinfang_test) on the server that answered: each run's schemas go there."""
    return test_database(pg_dsn)


@pytest.fixture
def unique_prefix() -> str:
    """A short name prefix unique to this test, for topics, schemas and groups that must not collide
    with other tests or earlier runs against the same broker and database."""
    return f"t{uuid.uuid4().hex[:10]}"


E2E = Path(__file__).parent / "e2e"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups to suffix the node ids
def pytest_collection_modifyitems(config, items):
    """Groups for `deploy/dev test`'s two xdist workers (--dist loadgroup): a module's tests stay together, in
    their order, on one worker (they share module fixtures, and some read what an earlier one waited for); the
    e2e tier is one group, its drills one after another (each starts brokers, a PostgreSQL or a whole system)."""
    for item in items:
        group = "e2e" if E2E in Path(item.path).parents else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
