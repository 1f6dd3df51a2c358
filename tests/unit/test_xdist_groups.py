"""`deploy/dev test` runs the suite in two xdist workers with ``--dist loadgroup``: tests/conftest.py puts each
module in a group of its own (the e2e tier in one), so a module's tests share one module fixture, in their order.
pytest 9.2 keeps node ids where pytest-xdist 3.8 no longer suffixes them with the group: every test was then
scheduled alone and a module's fixture was built on both workers (CI saw a test run before the one it follows).
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("tests/unit/test_retry.py", "tests/unit/test_layers.py")


def test_each_modules_tests_run_in_one_worker_under_its_group():
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
                           "-p", "no:cacheprovider", *MODULES], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, module, group in re.findall(r"\[(gw\d)\] .*?PASSED (tests/[^:]+)::\S+@(\S+)", done.stdout):
        assert group == module  # the group is the module's path
        workers[module].add(worker)
    assert set(workers) == set(MODULES), done.stdout[-3000:]  # every test reported with its group
    assert all(len(w) == 1 for w in workers.values()), dict(workers)
