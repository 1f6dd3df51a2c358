"""reporting's settings: the shared ones plus its schema, port, consumer group and asset folder."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from xinfang.settings import ROOT, CommonSettings

ECHARTS_DIST = ROOT / "node_modules" / "echarts" / "dist"


class ReportingSettings(CommonSettings):
    """Validated at start (environment variables ``XINFANG_*``)."""

    database_url: str = Field("postgresql://xinfang@127.0.0.1:5433/xinfang_reporting")
    reporting_schema: str = Field("reporting", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                                  description="schema of the statistics tables")
    reporting_host: str = "127.0.0.1"
    reporting_port: int = Field(8002, ge=1, le=65535)
    consumer_group: str | None = Field(None, description="Kafka group id; default reporting-<schema>")
    consumer_enabled: bool = True
    batch_max_records: int = Field(10000, ge=1, le=100000, description="records per projection transaction")
    projection_processes: int = Field(2, ge=1, le=16, description="processes that decode and project the "
                                      "records of a batch, in parts, while the previous batch is written")
    pool_size: int = Field(10, ge=2)
    assets_dir: Path = Field(ECHARTS_DIST, description="folder holding echarts.min.js (npm install)")

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"reporting-{self.reporting_schema}"
