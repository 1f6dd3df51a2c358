"""JSON log lines carry the request and matter ids set by whoever handles the work; every line a service writes is
JSON, uvicorn's and helper processes' too (escalation's faust worker: tests/integration/escalation/test_logs.py)."""
import io
import logging
import os
import signal
import subprocess
import sys
import textwrap

import httpx
import orjson

from support.process import ROOT, free_port
from xinfang.logs import JsonFormatter, petition_id, relay, request_id


def test_a_log_line_is_json_with_the_ids_in_context():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("intake"))
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    tokens = request_id.set("r-1"), petition_id.set("m-1")
    try:
        logger.info("已登记 registered", extra={"receipt_no": "2026-361402-0000001"})
    finally:
        request_id.reset(tokens[0])
        petition_id.reset(tokens[1])
    logger.info("outside")
    first, second = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert first["request_id"] == "r-1" and first["petition_id"] == "m-1" and first["service"] == "intake"
    assert first["message"] == "已登记 registered" and first["receipt_no"] == "2026-361402-0000001"
    assert "request_id" not in second


def every_line_is_json(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line]
    for line in lines:
        assert line.startswith("{"), repr(line)
    return [orjson.loads(line) for line in lines]


def test_a_relayed_line_becomes_json_and_a_json_line_passes_as_it_is():
    out = io.StringIO()
    relay("reporting", "multiprocessing.resource_tracker",
          io.BytesIO(b'plain warning\n\n{"already": "json"}\r\n{not json\n'), out)
    first, second, third = every_line_is_json(out.getvalue())
    assert (first["message"], first["level"], first["logger"], first["service"]) == (
        "plain warning", "WARNING", "multiprocessing.resource_tracker", "reporting")
    assert second == {"already": "json"} and third["message"] == "{not json"


def run_python(code: str, tmp_path) -> subprocess.Popen:
    """``code`` in a process of its own, stdout and stderr piped (stderr at its end: that process and every one
    it started are gone)."""
    script = tmp_path / "service.py"
    script.write_text(textwrap.dedent(code))
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}"}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    return proc


def test_a_killed_service_with_worker_processes_leaves_only_json_on_stderr(tmp_path):
    proc = run_python("""
        import time
        from xinfang import logs
        from xinfang.processes import manager, process_pool

        if __name__ == "__main__":
            logs.configure("reporting")
            shared, pool = manager(), process_pool(2)
            list(pool.map(abs, range(8)))
            print("ready", flush=True)
            time.sleep(600)
    """, tmp_path)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGKILL)
        text = proc.stderr.read()  # to its end: the workers, the manager, the tracker and its relay have exited
    finally:
        proc.kill()
        proc.wait(10)
    entries = every_line_is_json(text)
    assert any("leaked semaphore" in e["message"] and e["service"] == "reporting" for e in entries), text


def test_uvicorn_run_as_intake_and_reporting_run_it_logs_json_lines_errors_too(tmp_path):
    proc = run_python("""
        import uvicorn
        from xinfang import logs

        async def app(scope, receive, send):
            if scope["type"] == "http":
                raise RuntimeError("故障 a handler failed")

        if __name__ == "__main__":
            logs.configure("intake")
            uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="info", access_log=False, log_config=None)
    """.replace("PORT", str(free_port())), tmp_path)
    try:
        lines = []
        while not any("Uvicorn running" in line for line in lines):
            lines.append(proc.stderr.readline())
            assert lines[-1], "uvicorn exited: " + "".join(lines)
        url = lines[-1].split("running on ")[1].split(" ")[0]
        assert httpx.get(url, timeout=10).status_code == 500
        proc.send_signal(signal.SIGTERM)
        text = "".join(lines) + proc.stderr.read()
    finally:
        proc.kill()
        proc.wait(10)
    entries = every_line_is_json(text)
    [failed] = [e for e in entries if e["level"] == "ERROR"]
    assert failed["logger"] == "uvicorn.error" and "故障 a handler failed" in failed["exception"]
    assert {e["service"] for e in entries} == {"intake"} and any(e["message"] == "Shutting down" for e in entries)
