"""``python -m escalation [worker]``: run the faust worker (topics checked, county file validated first)."""
from __future__ import annotations

import sys

import faust

from xinfang import logs
from xinfang.county import CountyConfigError, load_county

from escalation.app import Escalation
from escalation.settings import EscalationSettings
from escalation.topics import TopicLayoutError, prepare


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args != ["worker"]:
        print("usage: python -m escalation [worker]", file=sys.stderr)
        return 2
    settings = EscalationSettings()
    logs.configure("escalation", settings.log_level)
    try:
        county = load_county(settings.county_file)
    except CountyConfigError as exc:
        print(f"escalation: 县配置文件有误 the county file is refused:\n{exc}", file=sys.stderr)
        return 1
    try:
        prepare(settings)
    except (TopicLayoutError, RuntimeError) as exc:
        print(f"escalation: {exc}", file=sys.stderr)
        return 1
    settings.escalation_data_dir.mkdir(parents=True, exist_ok=True)
    worker = Escalation(settings, county)
    faust.Worker(worker.app, loglevel=settings.log_level, override_logging=False, quiet=True,
                 redirect_stdouts=False).execute_from_commandline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
