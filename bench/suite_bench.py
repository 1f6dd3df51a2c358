"""The whole test suite's wall time, beside a baseline commit's, each as CI runs it: a fresh clone, `bash .ci/run`
(setup, ruff where it exists, PostgreSQL and Kafka started and stopped on ports of its own, every tier). One after
the other and beside nothing else: a loaded machine is what the figure must not measure.

Three runs: the baseline commit's suite, this commit's whole suite, and this commit's suite without the test
files added since the baseline (the same tests as the baseline's, moved and renamed ones included), so the
figure separates a faster suite from a bigger one.

    python bench/suite_bench.py [--baseline 26e9fa6] [--head HEAD]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from common import ROOT, save

SUMMARY = re.compile(r"=+ (.*?) in [0-9.]+s")


def clone(rev: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="suite-bench-"))
    subprocess.run(["git", "clone", "-q", str(ROOT), str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), "checkout", "-q", rev], check=True)
    return folder


def ci(folder: Path, *pytest_args: str) -> dict:
    """Wall seconds and pytest's summary of one run: `.ci/run`, or `deploy/dev test` with arguments."""
    command = ["bash", ".ci/run"] if not pytest_args else ["bash", "-c", "bash deploy/dev setup && bash deploy/dev "
                                                           "test -n 2 --dist loadgroup tests/e2e tests/unit "
                                                           "tests/integration " + " ".join(pytest_args)]
    started = time.monotonic()
    # ports of its own: `bash bench/run` keeps a PostgreSQL and a Kafka of its own running on the usual ones
    env = {**os.environ, "CI": "true", "XINFANG_PG_PORT": "5733", "XINFANG_KAFKA_PORT": "9592"}
    env.pop("XINFANG_DATABASE_URL", None)
    env.pop("XINFANG_KAFKA_BOOTSTRAP", None)
    done = subprocess.run(command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    seconds = time.monotonic() - started
    summary = SUMMARY.findall(done.stdout + done.stderr)
    return {"wall_s": round(seconds, 1), "exit": done.returncode, "summary": summary[-1] if summary else "?",
            "load_at_end": round(os.getloadavg()[0], 2)}


def added_tests(baseline: str, head: str) -> list[str]:
    names = subprocess.run(["git", "-C", str(ROOT), "diff", "--name-only", "--diff-filter=A", "-M40%", baseline, head,
                            "--", "tests"], check=True, capture_output=True, text=True).stdout.split()
    return [n for n in names if Path(n).name.startswith("test_")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="26e9fa6")
    parser.add_argument("--head", default="HEAD")
    args = parser.parse_args()
    figures: dict = {"baseline_commit": args.baseline, "load_at_start": round(os.getloadavg()[0], 2)}
    for name, rev, extra in (("baseline", args.baseline, ()), ("head", args.head, ()),
                             ("head_baseline_tests", args.head,
                              tuple(f"--ignore={t}" for t in added_tests(args.baseline, args.head)))):
        folder = clone(rev)
        try:
            figures[name] = ci(folder, *extra)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    figures["head_vs_baseline_percent"] = round(100 * (figures["head"]["wall_s"] / figures["baseline"]["wall_s"] - 1), 1)
    figures["same_tests_vs_baseline_percent"] = round(
        100 * (figures["head_baseline_tests"]["wall_s"] / figures["baseline"]["wall_s"] - 1), 1)
    figures["targets"] = {"same_tests_vs_baseline_percent": "≤ -25"}
    save("suite", figures)


if __name__ == "__main__":
    main()
