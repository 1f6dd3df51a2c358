"""Worker processes die with their parent, even when it is killed with SIGKILL (no Kafka, no database)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from support.process import ROOT
from support.waiting import until


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found |= {int(c) for c in f.read().split()}
    return found


def test_pool_workers_and_the_manager_exit_when_the_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent("""
        import os, sys, time
        from xinfang.processes import manager, process_pool

        if __name__ == "__main__":
            shared = manager()
            queue = shared.Queue()
            pool = process_pool(2)
            list(pool.map(abs, range(8)))  # the workers are started (the second may still be starting)
            print("ready", flush=True)
            time.sleep(600)
    """))
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}"}
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert parent.stdout.readline().strip() == "ready"
        children = _children(parent.pid)
        assert len(children) >= 3, children  # two workers and the manager's server (and the resource tracker)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        until(lambda: not [c for c in children if _alive(c)], "the workers exited after their parent was killed",
              timeout=10, every=0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
