"""``python -m intake.history_upload FILE``: import an NDJSON history file through the API, with a progress bar.

The file goes in chunks of lines; each chunk carries an Idempotency-Key derived from the file's
content and the chunk's position, so an interrupted import can simply be run again: chunks
already done answer from the key, matters already imported answer ``exists``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from xinfang.retry import retrying_blocking

log = logging.getLogger("intake.history_upload")
app = typer.Typer(add_completion=False, help="导入历史信访事项 Import petition history (NDJSON) into intake.")


def chunks(path: Path, size: int):
    lines: list[bytes] = []
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                lines.append(line if line.endswith(b"\n") else line + b"\n")
            if len(lines) == size:
                yield lines
                lines = []
    if lines:
        yield lines


def post(client: httpx.Client, body: bytes, key: str, attempts: int = 8) -> dict:
    def attempt() -> dict:
        r = client.post("/v1/imports", content=body, headers={"Idempotency-Key": key,
                                                              "Content-Type": "application/x-ndjson"})
        r.raise_for_status()
        return r.json()

    return retrying_blocking(attempt, "import request", log, attempts=attempts, retry_if=_worth_retrying)


def _worth_retrying(exc: Exception) -> bool:
    """No answer, busy (409: the same key in flight; 429) or a server error; any other refusal is final."""
    if isinstance(exc, httpx.TransportError):
        return True
    status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else 0
    return status in (409, 429) or status >= 500


@app.command()
def main(file: Path = typer.Argument(..., exists=True, readable=True, help="NDJSON, one matter per line"),
         url: str = typer.Option("http://127.0.0.1:8001", envvar="XINFANG_INTAKE_URL"),
         token: str = typer.Option(..., envvar="XINFANG_TERMINAL_TOKEN", help="a supervisor terminal's token"),
         chunk: int = typer.Option(200, min=1, max=5000, help="matters per request")) -> None:
    """Import FILE; prints a JSON summary on stdout; exit 1 if any line was refused."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()[:32]
    total = sum(1 for line in file.open("rb") if line.strip())
    summary = {"created": 0, "existing": 0, "refused": 0, "problems": []}
    columns = (TextColumn("[bold]导入 import"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with httpx.Client(base_url=url, timeout=300, headers={"Authorization": f"Bearer {token}"}) as client, \
            Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("import", total=total)
        offset = 0
        for index, lines in enumerate(chunks(file, chunk)):
            answer = post(client, b"".join(lines), f"import-{digest}-{chunk}-{index}")
            for key in ("created", "existing", "refused"):
                summary[key] += answer[key]
            summary["problems"] += [{**r, "line": r["line"] + offset} for r in answer["results"]
                                    if r["outcome"] in ("refused", "invalid")]
            offset += len(lines)
            progress.update(task, advance=len(lines))
    json.dump(summary, sys.stdout, ensure_ascii=False, indent=2)
    print()
    raise typer.Exit(1 if summary["refused"] else 0)


if __name__ == "__main__":
    app()
