"""Every line the real worker writes is a JSON log line: through starts, a dead letter, a stop and a SIGKILL."""
from __future__ import annotations

import orjson
import pytest

from support.escalation import FAST_COUNTY, Run, wait_ready
from support.waiting import until

pytestmark = pytest.mark.integration


def test_every_line_of_the_workers_log_is_json_across_starts_a_stop_and_a_kill(settings, kafka_bootstrap, tmp_path):
    run = Run(settings, tmp_path, FAST_COUNTY)
    worker = run.worker()
    try:
        worker.start(timeout=60)
        wait_ready([worker], run.partitions)
        worker.stop()
        worker.start(timeout=60)  # faust's spinner wrote its escape at every start
        wait_ready([worker], run.partitions)
        run.send_raw(b"junk", b"not json at all")
        run.flush()
        until(lambda: b"dead-lettered" in worker.log.read_bytes(), "the unreadable record dead-lettered in the log",
              timeout=30, every=0.2)
        worker.kill()
    finally:
        worker.kill()
        run.close()
    lines = worker.log.read_bytes().split(b"\n")
    assert lines[-1] == b""  # the last line ended too
    entries = []
    for line in lines[:-1]:
        assert line.startswith(b"{"), line[:200]
        entries.append(orjson.loads(line))
    assert {e["service"] for e in entries} == {"escalation"}
    assert sum(e["message"] == "[^Worker]: Ready" for e in entries) == 2  # faust's line when it has no spinner
