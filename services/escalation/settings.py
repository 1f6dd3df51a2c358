"""escalation's settings: the shared ones plus the faust worker's (``XINFANG_ESCALATION_*``)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from xinfang.settings import ROOT, CommonSettings


class EscalationSettings(CommonSettings):
    """Validated at start; every field can be set as ``XINFANG_<FIELD>``."""

    escalation_app_id: str = Field("xinfang-escalation", pattern=r"^[A-Za-z0-9._-]{1,100}$",
                                   description="faust app id: the consumer group and the prefix of its topics")
    escalation_host: str = Field("127.0.0.1", description="address the web server binds")
    escalation_port: int = Field(8003, ge=1, le=65535)
    escalation_url: str | None = Field(None, description="how other workers reach this one's web server "
                                       "(default http://<host>:<port>); set it when binding 0.0.0.0")
    escalation_data_dir: Path = Field(ROOT / "var" / "escalation", description="RocksDB tables of this worker")
    escalation_rocksdb_write_buffer_mib: int = Field(
        8, ge=1, le=256, description="RocksDB memtable size per table partition, MiB, two at most per partition "
        "(active and standby partitions alike); faust's default of 64 MiB x 3 grew a worker past 1 GB")
    escalation_rocksdb_block_cache_mib: int = Field(
        16, ge=1, le=4096, description="RocksDB block cache per table partition, MiB (faust's default: 2 GiB each); "
        "with the memtables, at most (2 x write buffer + cache) per partition the worker holds: 12 partitions, "
        "384 MiB")
    escalation_standby_replicas: int = Field(1, ge=0, description="faust standby replicas of each table partition")
    escalation_timer_interval: float = Field(0.2, gt=0, le=60, description="seconds between looks for due timers")
    escalation_session_timeout: float = Field(10.0, ge=6, description="Kafka group session timeout, seconds")
    escalation_heartbeat_interval: float = Field(1.0, gt=0, description="Kafka group heartbeat, seconds")
    escalation_commit_interval: float = Field(1.0, gt=0, description="seconds between offset commits")
    escalation_instance_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="static group membership: a worker restarted under the same id takes its partitions "
                    "back at once instead of waiting for the session to expire (unique per worker)")
    escalation_ticks_retention_hours: int = Field(24, ge=1, description="the internal ticks topic's retention")
    escalation_tick_batch: int = Field(2000, ge=1, le=20000, description="petition ids per tick message")
    escalation_catch_up_per_look: int = Field(
        16, ge=1, le=20000, description="matters learned after their breaches fell due (back-dated, synced late) "
        "handed to the agent per look, and only when it has handled every tick sent before: up to nine events "
        "each, so that no other matter's timer waits behind them")

    @property
    def ticks_topic(self) -> str:
        """The internal topic through which the timer hands due matters to the agent."""
        return f"{self.escalation_app_id}-ticks"

    @property
    def table_changelog(self) -> str:
        return f"{self.escalation_app_id}-matters-changelog"
