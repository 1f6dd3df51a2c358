"""One typed settings object per service, validated at start (pydantic-settings).

Every variable is prefixed ``XINFANG_``; the services extend :class:`CommonSettings`.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEMO_COUNTY = ROOT / "deploy" / "counties" / "demo.yaml"


class CommonSettings(BaseSettings):
    """What every service needs: where Kafka, PostgreSQL and the county file are."""

    model_config = SettingsConfigDict(env_prefix="XINFANG_", extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated")
    database_url: str = Field(
        "postgresql://xinfang@127.0.0.1:5433/xinfang", description="PostgreSQL DSN (asyncpg)"
    )
    county_file: Path = Field(DEMO_COUNTY, description="county configuration YAML")
    topic_events: str = "petition.events"
    topic_routing: str = "petition.routing"
    topic_deadletter: str = "petition.deadletter"
    topic_terminals: str = Field("xinfang.terminals", description="terminals and their token hashes (compacted)")
    token_max_staleness: float = Field(10.0, gt=0, le=300, description="seconds a token list not confirmed "
                                       "current by the broker is trusted (xinfang.terminals)")
    token_check_interval: float = Field(1.0, gt=0, le=60, description="seconds between checks of the token list")
    partitions: int = Field(12, ge=1, le=1000)
    replication_factor: int = Field(1, ge=1)
    min_insync_replicas: int = Field(1, ge=1)
    hash_algorithm: str = Field("sha256", description="hash chain algorithm: sha256 or sm3")
    log_level: str = "INFO"

    @field_validator("hash_algorithm")
    @classmethod
    def _known_hash(cls, value: str) -> str:
        if value not in ("sha256", "sm3"):
            raise ValueError("hash_algorithm must be sha256 or sm3 (哈希算法只能是 sha256 或 sm3)")
        return value
