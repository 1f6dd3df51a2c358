"""reporting's settings: the shared ones plus its schema, port, consumer group and asset folder."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

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
    reporting_mode: Literal["county", "city"] = Field("county", description="county: the county's own topics; "
                                                      "city: every county's mirrored topics in the city's Kafka "
                                                      "(reporting.city), the county file replaced by the city file")
    city_file: Path | None = Field(None, description="the city file (city mode), e.g. deploy/cities/demo-city.yaml")

    @model_validator(mode="after")
    def _city_has_its_file(self) -> ReportingSettings:
        if self.reporting_mode == "city" and self.city_file is None:
            raise ValueError("XINFANG_REPORTING_MODE=city needs XINFANG_CITY_FILE (城市模式需要城市配置文件)")
        return self

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"reporting-{self.reporting_schema}"
