"""intake's settings: the shared ones plus the admin token, master key and HTTP limits."""
from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from xinfang.encryption import CipherAlgorithm
from xinfang.settings import CommonSettings

WEAK_SECRETS = {"changeme", "admin", "secret", "password", "test", "demo"}


class IntakeSettings(CommonSettings):
    """Validated at start; a default or weak secret refuses to start."""

    database_url: str = Field("postgresql://xinfang@127.0.0.1:5433/xinfang_intake")
    intake_schema: str = Field("intake", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    intake_host: str = "127.0.0.1"
    intake_port: int = Field(8001, ge=1, le=65535)
    admin_token: SecretStr = Field(description="creates and revokes terminals; at least 24 characters")
    master_key: SecretStr = Field(description="base64 master key that wraps petitioners' data keys")
    # the cipher of personal fields (xinfang.encryption); named after XINFANG_SEAL_ALGORITHM, which operators set
    seal_algorithm: CipherAlgorithm = "aes-gcm"
    county_code: str | None = Field(None, description="defaults to the county file's code")
    max_body_bytes: int = Field(1_000_000, ge=1024)
    max_import_bytes: int = Field(512_000_000, ge=1024)
    rate_limit_per_minute: int = Field(600, ge=1, description="requests per terminal per minute")
    auth_failures_per_minute: int = Field(20, ge=1, description="failed authentications per source address and "
                                          "minute (per worker process) before it is answered 429 without a look-up")
    forwarded_allow_ips: str = Field("", description="proxies (comma-separated addresses) whose X-Forwarded-For "
                                     "names the source; empty: the peer address is the source, the header ignored")
    portal_attempts_per_minute: int = Field(30, ge=1, description="petitioners' queries (receipt number and "
                                            "query code) per source address and minute, per worker process")
    portal_attempts_per_receipt_per_minute: int = Field(10, ge=1, description="queries per receipt number and "
                                                        "minute, whatever their source, per worker process")
    idempotency_retention_days: int = Field(7, ge=1)
    pool_size: int = Field(20, ge=2, description="database connections per worker process")
    workers: int = Field(1, ge=1, le=64, description="HTTP worker processes (uvicorn); one per core is typical")
    relay_enabled: bool = True
    repeat_detection: bool = Field(True, description="registrations list possible_repeats (off: the benchmark's "
                                   "baseline)")
    routing_consumer_enabled: bool = True

    @field_validator("admin_token")
    @classmethod
    def _strong_admin_token(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if len(text) < 24 or text.lower() in WEAK_SECRETS:
            raise ValueError("管理令牌至少24个字符且不能是默认值 admin token must be >= 24 chars and not a default")
        return value
