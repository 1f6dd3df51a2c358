"""JSON logs, one object a line, carrying the request id and the matter id of what is being done.

Services call :func:`configure` once at start; code that handles a request or an event sets
:data:`request_id` / :data:`petition_id` (context variables), and every log line made while it
runs carries them.  A helper process that writes plain text to stderr and cannot be configured
(multiprocessing's resource tracker) is started through :func:`relay_stderr_of`.
"""
from __future__ import annotations

import contextvars
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
petition_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("petition_id", default=None)
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_service = "xinfang"  # the name configure() was given
_relays: list[subprocess.Popen] = []


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
    global _service
    _service = service
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


def relay(service: str, source: str, lines: IO[bytes], out: IO[str]) -> None:
    """Each line of another program's output as a JSON log line of logger ``source`` (JSON lines pass as they are)."""
    formatter = JsonFormatter(service)
    for line in lines:
        text = line.decode(errors="replace").rstrip("\r\n")
        if not text.strip():
            continue
        if not (text.startswith("{") and _is_json(text)):
            text = formatter.format(logging.makeLogRecord(
                {"name": source, "levelname": "WARNING", "levelno": logging.WARNING, "msg": text}))
        out.write(text + "\n")
        out.flush()


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def relay_stderr_of(start: Callable[[], None], source: str) -> None:
    """Call ``start``, which starts a process inheriting stderr, with stderr a pipe to a relay process that writes
    each line to this stderr as JSON; the relay ends when every process holding the pipe has ended."""
    read, write = os.pipe()
    shared = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [shared, os.environ.get("PYTHONPATH")]))}
    _relays.append(subprocess.Popen([sys.executable, "-m", "xinfang.logs", _service, source], stdin=read, env=env))
    os.close(read)
    saved = os.dup(2)
    try:
        os.dup2(write, 2)  # for the moment start() takes: its process inherits the pipe as its stderr
        start()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(write)


if __name__ == "__main__":  # the relay: python -m xinfang.logs SERVICE SOURCE < its output
    relay(sys.argv[1], sys.argv[2], sys.stdin.buffer, sys.stderr)
