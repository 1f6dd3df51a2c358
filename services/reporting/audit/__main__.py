"""``python -m reporting.audit`` — 审计工具 the auditors' CLI.

Output: JSON on stdout, progress on stderr.  Exit codes:
  0  everything checked and consistent
  1  findings: differences between rebuilt and live figures, or integrity findings
  2  wrong usage (bad arguments)
  3  Kafka or PostgreSQL unreachable, or a topic missing
"""
from __future__ import annotations

import json
import sys
import time
from typing import Optional

import httpx
import typer
from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xinfang.settings import CommonSettings

from reporting.audit import integrity, reading
from reporting.audit.timeline import timeline as build_timeline

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="信访统计审计工具 Audit: replay, verify, report as of a time, timelines.")
err = Console(stderr=True)
OK, FINDINGS, USAGE, UNREACHABLE = 0, 1, 2, 3


def emit(document: dict) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[rate]}"), console=err)


def topics(settings: CommonSettings) -> dict[str, str]:
    return {"events": settings.topic_events, "routing": settings.topic_routing}


@app.command()
def verify_integrity(bootstrap: Optional[str] = typer.Option(None, help="Kafka bootstrap servers")) -> None:
    """校验完整性：每件事项在两个主题上的序号与哈希链。Check every matter's sequence numbers and hash chains
    on both topics; name each altered, missing, reordered or injected event. Exit 1 on any finding."""
    settings = CommonSettings(**({"kafka_bootstrap": bootstrap} if bootstrap else {}))
    try:
        sizes = {role: reading.total(settings.kafka_bootstrap, topic) for role, topic in topics(settings).items()}
        started = time.perf_counter()
        with progress_bar() as bar:
            task = bar.add_task("校验 verify", total=sum(sizes.values()), rate="")

            def advance(n: int) -> None:
                done = bar.tasks[0].completed + n
                bar.update(task, advance=n, rate=f"{done / max(time.perf_counter() - started, 1e-6):,.0f} events/s")

            report = integrity.verify({role: reading.read_topic(settings.kafka_bootstrap, topic)
                                       for role, topic in topics(settings).items()}, advance)
    except (KafkaError, LookupError) as exc:
        err.print(f"[red]Kafka 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE)
    emit({"integrity": report.as_dict(), "seconds": round(time.perf_counter() - started, 2)})
    raise typer.Exit(FINDINGS if report.serious else OK)


@app.command()
def timeline(matter: str = typer.Argument(..., help="事项编号 petition id"),
             bootstrap: Optional[str] = typer.Option(None),
             reveal: bool = typer.Option(False, help="show personal data (needs an intake terminal token with the right)"),
             intake_url: str = typer.Option("http://127.0.0.1:8001", envvar="XINFANG_INTAKE_URL"),
             token: Optional[str] = typer.Option(None, envvar="XINFANG_TERMINAL_TOKEN")) -> None:
    """一件事项的完整时间线。Every event of one matter from both topics, in order: actor, occurred and recorded
    times, due times, escalations. Personal data is masked unless --reveal, which asks intake (and is logged there)."""
    settings = CommonSettings(**({"kafka_bootstrap": bootstrap} if bootstrap else {}))
    people = None
    if reveal:
        if not token:
            err.print("[red]--reveal 需要终端令牌 needs --token or XINFANG_TERMINAL_TOKEN")
            raise typer.Exit(USAGE)
        answer = httpx.get(f"{intake_url}/v1/petitions/{matter}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if answer.status_code != 200:
            err.print(f"[red]intake 拒绝 refused ({answer.status_code}): {answer.text[:200]}")
            raise typer.Exit(FINDINGS)
        people = {p["ref"]: p for p in answer.json()["petitioners"]}
    try:
        entries = build_timeline(settings.kafka_bootstrap, topics(settings), matter, settings.partitions, people)
    except (KafkaError, LookupError) as exc:
        err.print(f"[red]Kafka 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE)
    emit({"matter": matter, "events": entries})
    raise typer.Exit(OK if entries else FINDINGS)


if __name__ == "__main__":
    app()
