"""JSON logs, one object a line, carrying the request id and the matter id of what is being done.

Services call :func:`configure` once at start; code that handles a request or an event sets
:data:`request_id` / :data:`petition_id` (context variables), and every log line made while it
runs carries them.
"""
from __future__ import annotations

import contextvars
import logging
import sys
from datetime import datetime, timezone

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
petition_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("petition_id", default=None)
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"at", "level", "logger", "message", "service", "request_id", "petition_id", ...extra}``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "service": self.service,
        }
        if (rid := request_id.get()) is not None:
            entry["request_id"] = rid
        if (pid := petition_id.get()) is not None:
            entry["petition_id"] = pid
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(service: str, level: str = "INFO") -> None:
    """Route every logger (uvicorn's, faust's, ours) through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
