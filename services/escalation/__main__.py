"""``python -m escalation [worker]``: run the faust worker (topics checked, county file validated first)."""
from __future__ import annotations

import logging
import sys

from escalation.app import Escalation
from escalation.faust_adapter import Worker
from escalation.settings import EscalationSettings
from escalation.topics import TopicLayoutError, prepare
from xinfang import logs
from xinfang.county import CountyConfigError, load_county

log = logging.getLogger("escalation")


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
        log.error("县配置文件有误 the county file is refused:\n%s", exc)
        return 1
    try:
        prepare(settings)
    except (TopicLayoutError, RuntimeError) as exc:
        log.error("%s", exc)
        return 1
    settings.escalation_data_dir.mkdir(parents=True, exist_ok=True)
    worker = Escalation(settings, county)
    worker.calendar.announce()
    Worker(worker.app, settings.log_level).execute_from_commandline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
