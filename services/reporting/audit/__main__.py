"""``python -m reporting.audit`` — 审计工具 the auditors' CLI.

Output: JSON on stdout, progress on stderr.  Exit codes:
  0  everything checked and consistent
  1  findings: differences between rebuilt and live figures, or integrity findings
  2  wrong usage (bad arguments)
  3  Kafka or PostgreSQL unreachable, or a topic missing
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import httpx
import typer
from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reporting.active import active_schema, switch
from reporting.audit import city as checks
from reporting.audit import integrity, reading
from reporting.audit.clocks import Clocks
from reporting.audit.compare import compare
from reporting.audit.timeline import timeline as build_timeline
from reporting.periods import PeriodError, parse_period
from reporting.settings import ReportingSettings
from reporting.stats import Reporter, ScopeError, parse_moment
from reporting.store import connect
from reporting.store import pool as connection_pool
from xinfang.city import CityConfigError, load_city, load_city_tree
from xinfang.county import load_county
from xinfang.settings import CommonSettings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="信访统计审计工具 Audit: replay, verify, report as of and known at a time, timelines.")
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


def _moment(text: str | None, county) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        err.print(f"[red]时间格式应为 ISO 8601 bad time {text!r}: use e.g. 2026-04-14T18:00:00+08:00")
        raise typer.Exit(USAGE) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=county.zone)


AS_OF_HELP = ("发生时间截至 what had happened by then (occurred time), as /v1/stats as_of: RFC 3339, or a local "
              "date YYYY-MM-DD meaning the end of that day")
KNOWN_AT_HELP = ("记录时间截至 what the system had recorded by then (recorded time), as /v1/stats known_at: RFC 3339, "
                 "or a local date YYYY-MM-DD meaning the end of that day")


def _clocks(as_of: str | None, known_at: str | None, county) -> Clocks:
    """The two clocks read as /v1/stats reads them; a bad time is a usage error naming the option."""
    try:
        return Clocks(parse_moment(as_of, "as_of", county), parse_moment(known_at, "known_at", county))
    except ScopeError as exc:
        err.print(f"[red]--{exc.field.replace('_', '-')}: {exc.zh} / {exc.en}")
        raise typer.Exit(USAGE) from None


async def _replay(settings: CommonSettings, schema: str, until: datetime | None, fresh: bool,
                  upto: dict[tuple[str, int], int] | None = None, clocks: Clocks | None = None) -> dict:
    from reporting.replay import replay as run_replay

    conn = await connect(settings.database_url)
    try:
        if fresh:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
    # a fresh schema reads everything; one that holds offsets only what it lacks (no total known up front)
    total = sum(reading.total(settings, t, until) for t in topics(settings).values()) if fresh else None
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("重放 replay", total=total, rate="")

        def advance(n: int) -> None:
            done = bar.tasks[0].completed + n
            bar.update(task, advance=n, rate=f"{done / max(time.perf_counter() - started, 1e-6):,.0f} events/s")

        result = await run_replay(settings, settings.database_url, schema, until=until, upto=upto, progress=advance,
                                  select=clocks if clocks is not None and clocks.limited else None)
    seconds = time.perf_counter() - started
    return {"schema": schema, **(clocks.as_dict() if clocks else {}), "records": result.records,
            "events": result.events, "unreadable": result.unreadable,
            "seconds": round(seconds, 2), "events_per_s": round(result.records / max(seconds, 1e-6)),
            "mode": result.mode, "processes": result.processes, "phases": result.phases}


async def _active(settings: ReportingSettings) -> str:
    conn = await connect(settings.database_url)
    try:
        return await active_schema(conn, settings.reporting_schema)
    finally:
        await conn.close()


def _settings(bootstrap: str | None) -> ReportingSettings:
    return ReportingSettings(**({"kafka_bootstrap": bootstrap} if bootstrap else {}))


@app.command()
def replay(schema: str = typer.Option("audit_replay", help="scratch schema to rebuild into (dropped first)"),
           as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
           known_at: str | None = typer.Option(None, "--known-at", help=KNOWN_AT_HELP),
           until: str | None = typer.Option(None, help="a third time, the broker's: only what it had appended before "
                                                       "this time (ISO 8601)"),
           bootstrap: str | None = typer.Option(None)) -> None:
    """重放：从头重建统计表到临时模式。Rebuild the reporting projections from the beginning of both topics into a
    fresh scratch schema, through the reporting service's own projection module: every event, or only those that
    had happened by --as-of and been recorded by --known-at."""
    settings = _settings(bootstrap)
    county = load_county(settings.county_file)
    clocks = _clocks(as_of, known_at, county)
    try:
        emit({"replay": asyncio.run(_replay(settings, schema, _moment(until, county), fresh=True, clocks=clocks))})
    except (KafkaError, LookupError, OSError, asyncpg.PostgresError) as exc:
        err.print(f"[red]Kafka 或 PostgreSQL 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE) from None


@app.command()
def rebuild(into: str | None = typer.Option(None, help="the new schema (default: <name>_<UTC time>)"),
            attempts: int = typer.Option(20, help="catch-up rounds before giving up"),
            bootstrap: str | None = typer.Option(None)) -> None:
    """蓝绿重建：在在用统计表旁重建新版本，追平后切换，服务不中断。Blue/green rebuild of the live projections: replay
    both topics into a new schema beside the live one while the service keeps serving and projecting, catch up,
    then switch the service to it in one step (see reporting.active). The old schema is kept for the auditors."""
    settings = _settings(bootstrap)
    name = settings.reporting_schema
    new = into or f"{name}_{datetime.now(timezone.utc):%Y%m%d%H%M%S}"

    async def run() -> dict:
        conn = await connect(settings.database_url)
        try:
            old = await active_schema(conn, name)
            if new == old:
                err.print(f"[red]{new} 正在使用 is the schema in use")
                raise typer.Exit(USAGE) from None
            exists = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", new)
        finally:
            await conn.close()
        if exists:
            err.print(f"[red]模式 {new} 已存在 schema {new} exists: choose another --into")
            raise typer.Exit(USAGE) from None
        started = time.perf_counter()
        first = await _replay(settings, new, None, fresh=True)  # from the beginning, bulk
        rounds: list[dict] = []
        for _ in range(attempts):  # what arrived meanwhile, until little is left
            rounds.append(await _replay(settings, new, None, fresh=False))
            if rounds[-1]["records"] < 1000:
                break
        conn = await connect(settings.database_url)
        try:
            async def last_round(upto: dict[tuple[str, int], int]) -> None:
                rounds.append(await _replay(settings, new, None, fresh=False, upto=upto))

            paused = time.perf_counter()
            missing = await switch(conn, name, old, new, last_round)  # the live projection waits meanwhile
            paused = time.perf_counter() - paused
        finally:
            await conn.close()
        return {"name": name, "previous": old, "schema": new, "switched": missing == 0, "replay": first,
                "catch_up_rounds": rounds, "behind_at_switch": missing, "projection_paused_s": round(paused, 2),
                "seconds": round(time.perf_counter() - started, 2)}

    try:
        outcome = asyncio.run(run())
    except (KafkaError, LookupError, OSError, asyncpg.PostgresError) as exc:
        err.print(f"[red]Kafka 或 PostgreSQL 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE) from None
    emit({"rebuild": outcome})
    raise typer.Exit(OK if outcome["switched"] else FINDINGS)


@app.command()
def verify(live: str | None = typer.Option(None, help="live schema (default: the service's)"),
           scratch: str = typer.Option("audit_verify", help="scratch schema for the rebuild"),
           as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
           known_at: str | None = typer.Option(None, "--known-at", help=KNOWN_AT_HELP),
           bootstrap: str | None = typer.Option(None)) -> None:
    """核验：重建并与在用统计表逐表、逐项比对，并校验两个主题的哈希链。Rebuild, compare with the live tables table by
    table and figure by figure, and check every matter's hash chains on both topics. With --as-of/--known-at the
    rebuild holds what those clocks admit, the fact tables are compared on those rows and the figures as of and
    known at those times. Exit 1 on any difference or finding."""
    settings = _settings(bootstrap)
    county = load_county(settings.county_file)
    clocks, now = _clocks(as_of, known_at, county), datetime.now(timezone.utc)
    try:
        live = live or asyncio.run(_active(settings))
        rebuilt = asyncio.run(_replay(settings, scratch, None, fresh=True, clocks=clocks))
        compared = asyncio.run(compare(settings.database_url, live, scratch, county, clocks, now))
        report = integrity.verify({role: reading.read_topic(settings, topic)
                                   for role, topic in topics(settings).items()})
    except (KafkaError, LookupError, OSError, asyncpg.PostgresError) as exc:
        err.print(f"[red]Kafka 或 PostgreSQL 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE) from None
    emit({"replay": rebuilt, "live_schema": live, **clocks.as_dict(), **compared, "integrity": report.as_dict()})
    clean = not compared["tables"] and not compared["figure_differences"] and not report.serious
    raise typer.Exit(OK if clean else FINDINGS)


@app.command()
def report(as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
           known_at: str | None = typer.Option(None, "--known-at", help=KNOWN_AT_HELP),
           year: str | None = typer.Option(None), quarter: str | None = typer.Option(None),
           month: str | None = typer.Option(None), jurisdiction: str | None = typer.Option(None),
           scratch: str = typer.Option("audit_as_of"), bootstrap: str | None = typer.Option(None)) -> None:
    """当时的统计：按发生时间（--as-of）和记录时间（--known-at）重算。The figures of /v1/stats with the same two clocks,
    from the events alone: both topics replayed into a scratch schema (only the events the clocks admit), and the
    figures computed from it as of and known at those times (without --as-of: as of now). The period defaults to
    the local year of --as-of (else --known-at, else now)."""
    settings = _settings(bootstrap)
    county = load_county(settings.county_file)
    clocks, now = _clocks(as_of, known_at, county), datetime.now(timezone.utc)
    try:
        asked = clocks.request(clocks.period(county, now, year=year, quarter=quarter, month=month), jurisdiction, now)
        Reporter(None, scratch, county).check(asked)  # before the replay: a wrong place is a usage error
    except (PeriodError, ScopeError) as exc:
        err.print(f"[red]--{exc.field}: {exc.zh} / {exc.en}")
        raise typer.Exit(USAGE) from None

    async def run() -> dict:
        rebuilt = await _replay(settings, scratch, None, fresh=True, clocks=clocks)
        pool = await connection_pool(settings.database_url, max_size=2)
        try:
            figures = await Reporter(pool, scratch, county).stats(asked)
        finally:
            await pool.close()
        return {"as_of": (clocks.as_of or now).isoformat(), "known_at": clocks.as_dict()["known_at"],
                "replay": rebuilt, "stats": figures}

    try:
        emit(asyncio.run(run()))
    except (KafkaError, LookupError, OSError, asyncpg.PostgresError) as exc:
        err.print(f"[red]Kafka 或 PostgreSQL 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE) from None


@app.command()
def verify_integrity(bootstrap: str | None = typer.Option(None, help="Kafka bootstrap servers")) -> None:
    """校验完整性：每件事项在两个主题上的序号与哈希链。Check every matter's sequence numbers and hash chains
    on both topics; name each altered, missing, reordered or injected event. Exit 1 on any finding."""
    settings = CommonSettings(**({"kafka_bootstrap": bootstrap} if bootstrap else {}))
    try:
        sizes = {role: reading.total(settings, topic) for role, topic in topics(settings).items()}
        started = time.perf_counter()
        with progress_bar() as bar:
            task = bar.add_task("校验 verify", total=sum(sizes.values()), rate="")

            def advance(n: int) -> None:
                done = bar.tasks[0].completed + n
                bar.update(task, advance=n, rate=f"{done / max(time.perf_counter() - started, 1e-6):,.0f} events/s")

            report = integrity.verify({role: reading.read_topic(settings, topic)
                                       for role, topic in topics(settings).items()}, advance)
    except (KafkaError, LookupError) as exc:
        err.print(f"[red]Kafka 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE) from None
    emit({"integrity": report.as_dict(), "seconds": round(time.perf_counter() - started, 2)})
    raise typer.Exit(FINDINGS if report.serious else OK)


def _token_file(path: str | None) -> dict[str, str]:
    """The audit's tokens: ``city`` → the city's reporting terminal, ``<alias>`` → each county's own (YAML)."""
    if path is None:
        return {}
    import yaml

    try:
        tokens = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        err.print(f"[red]--tokens {path}: 无法读取 cannot read: {exc}")
        raise typer.Exit(USAGE) from None
    if not isinstance(tokens, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tokens.items()):
        err.print(f"[red]--tokens {path}: 应为 别名: 令牌 a mapping of alias (and `city`) to token")
        raise typer.Exit(USAGE) from None
    return tokens


def _stats(url: str, token: str | None, params: dict[str, str], who: str) -> dict:
    """One /v1/stats answer; a refusal is a usage error naming whose token, a failure 'unreachable'."""
    try:
        answer = httpx.get(f"{url}/v1/stats", params=params, timeout=120,
                           headers={"Authorization": f"Bearer {token}"} if token else {})
    except httpx.HTTPError as exc:
        err.print(f"[red]{who} 的统计服务不可用 reporting of {who} unreachable at {url}: {exc}")
        raise typer.Exit(UNREACHABLE) from None
    if answer.status_code in (401, 403, 404):
        err.print(f"[red]{who} 的统计服务拒绝 reporting of {who} refused ({answer.status_code}): {answer.text[:300]} — "
                  f"give an auditor or supervisor token of {who} in --tokens")
        raise typer.Exit(USAGE) from None
    if answer.status_code != 200:
        err.print(f"[red]{who} 的统计服务出错 reporting of {who} failed ({answer.status_code}): {answer.text[:300]}")
        raise typer.Exit(UNREACHABLE) from None
    return answer.json()


@app.command("city-verify")
def city_verify(city_file: str = typer.Argument(..., help="市配置文件 the city file (deploy/cities/*.yaml)"),
                tokens: str | None = typer.Option(None, help="YAML file: `city: <token>` (the city's reporting) and "
                                                             "`<alias>: <token>` per county (its own reporting)"),
                year: str | None = typer.Option(None), quarter: str | None = typer.Option(None),
                month: str | None = typer.Option(None),
                as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
                known_at: str | None = typer.Option(None, "--known-at", help=KNOWN_AT_HELP),
                figures: bool = typer.Option(True, "--figures/--no-figures",
                                             help="compare the two deployments' /v1/stats (needs the reporting URLs "
                                                  "in the city file and --tokens)"),
                townships: bool = typer.Option(True, "--townships/--no-townships",
                                               help="compare each township's figures too, not only each county's")
                ) -> None:
    """市级核验：各县历史在市里的副本与各县的数字。For every county of the city file: its own petition.events and
    petition.routing against their copies in the city's Kafka by event id (missing, injected, duplicated records
    named), every matter's hash chains on the copies, and — the two deployments' answers — the county's own
    /v1/stats against the city's for that county (and its townships) for the same period and clocks (pass
    --known-at a moment both have recorded). Exit 1 on any missing or injected record, broken chain or difference;
    duplicates are named but harmless (an event id counts once)."""
    try:  # the figures need the city's tree (the county files the city file names); the records only the city file
        city, tree = load_city_tree(city_file) if figures else (load_city(city_file), None)
    except CityConfigError as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(USAGE) from None
    period = {k: v for k, v in (("year", year), ("quarter", quarter), ("month", month)) if v}
    clocks = {k: v for k, v in (("as_of", as_of), ("known_at", known_at)) if v}
    try:
        parse_period(**period) if period else None
    except PeriodError as exc:
        err.print(f"[red]--{exc.field}: {exc.zh} / {exc.en}")
        raise typer.Exit(USAGE) from None
    keys = _token_file(tokens)
    if tree is not None:
        _clocks(as_of, known_at, tree)  # a bad time: a usage error naming the option
        lacking = [link.alias for link in city.counties if link.reporting_url is None]
        if city.reporting_url is None or lacking:
            err.print("[red]比对数字需要市和各县统计服务的地址 comparing figures needs reporting_url of the city"
                      + (f" and of {', '.join(lacking)}" if lacking else "") + " in the city file (or --no-figures)")
            raise typer.Exit(USAGE)
    settings = CommonSettings()
    on_city = settings.model_copy(update={"kafka_bootstrap": city.kafka.bootstrap})
    counties, clean = [], True
    try:
        for link in city.counties:
            on_county = settings.model_copy(update={"kafka_bootstrap": link.bootstrap})
            # each copy read once from the city's Kafka (one county's at a time), for the records and the chains
            held = {role: list(reading.read_topic(on_city, city.remote_topic(link.alias, topic)))
                    for role, topic in topics(settings).items()}
            copies = [checks.compare_copies(link.alias, topic, city.remote_topic(link.alias, topic),
                                            reading.read_topic(on_county, topic), held[role])
                      for role, topic in topics(settings).items()]
            chains = integrity.verify(held)
            compared = []
            if figures:
                places = [link.code] + ([j.code for j in tree.jurisdictions if j.tier == "township"
                                         and tree.is_within(j.code, link.code)] if townships else [])
                for code in places:
                    params = {**period, **clocks, "jurisdiction": code}
                    own = _stats(link.reporting_url, keys.get(link.alias), params, link.alias)
                    theirs = _stats(city.reporting_url, keys.get("city"), params, "city")
                    differences = checks.compare_figures(own, theirs)
                    compared.append({"jurisdiction": code, "name": tree.jurisdiction(code).name,
                                     "figures": len(checks.figures_of(own)), "differences": differences})
            clean = clean and not any(c.serious for c in copies) and not chains.serious \
                and not any(c["differences"] for c in compared)
            counties.append({"alias": link.alias, "code": link.code, "name": link.name,
                             "records": [c.as_dict() for c in copies], "integrity": chains.as_dict(),
                             "figures": compared})
    except (KafkaError, LookupError) as exc:
        err.print(f"[red]Kafka 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE) from None
    emit({"city": {"code": city.code, "name": city.name}, "period": period, **clocks, "counties": counties,
          "consistent": clean})
    raise typer.Exit(OK if clean else FINDINGS)


@app.command()
def timeline(matter: str = typer.Argument(..., help="事项编号 petition id"),
             bootstrap: str | None = typer.Option(None),
             reveal: bool = typer.Option(False, help="show personal data and the summary (needs the token of an intake "
                                                     "terminal that may see the matter)"),
             intake_url: str = typer.Option("http://127.0.0.1:8001", envvar="XINFANG_INTAKE_URL"),
             token: str | None = typer.Option(None, envvar="XINFANG_TERMINAL_TOKEN")) -> None:
    """一件事项的完整时间线。Every event of one matter from both topics, in order: actor, occurred and recorded
    times, due times, escalations. Personal data and the free-text summary (content, not metadata) are masked unless
    --reveal, which asks intake whether the caller's terminal may see the matter (and is logged there)."""
    settings = CommonSettings(**({"kafka_bootstrap": bootstrap} if bootstrap else {}))
    people = None
    if reveal:
        if not token:
            err.print("[red]--reveal 需要终端令牌 needs --token or XINFANG_TERMINAL_TOKEN")
            raise typer.Exit(USAGE) from None
        answer = httpx.get(f"{intake_url}/v1/petitions/{matter}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if answer.status_code != 200:
            err.print(f"[red]intake 拒绝 refused ({answer.status_code}): {answer.text[:200]}")
            raise typer.Exit(FINDINGS) from None
        people = {p["ref"]: p for p in answer.json()["petitioners"]}
    try:
        entries = build_timeline(settings, topics(settings), matter, settings.partitions, people)
    except (KafkaError, LookupError) as exc:
        err.print(f"[red]Kafka 不可用 unreachable: {exc}")
        raise typer.Exit(UNREACHABLE) from None
    emit({"matter": matter, "events": entries})
    raise typer.Exit(OK if entries else FINDINGS)


if __name__ == "__main__":
    app()
