"""Run a service as a real process (python -m <service>) and wait until it is ready."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from support.waiting import until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """One service process with its environment; start, wait ready, SIGKILL, restart."""

    def __init__(self, module: str, env: dict[str, str], port: int, log: Path) -> None:
        self.module, self.port, self.log = module, port, log
        self.env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'services'}", **env}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0, **extra_env: str) -> ServiceProcess:
        """Start the process and wait until it is ready."""
        return self.launch(**extra_env).wait_ready(timeout)

    def launch(self, **extra_env: str) -> ServiceProcess:
        """Start the process, not waiting: several services then come up side by side (see wait_ready)."""
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", self.module], cwd=ROOT, env={**self.env, **extra_env},
                                     stdout=out, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 30.0) -> ServiceProcess:
        until(self.ready, f"{self.module} ready (log: {self.log})", timeout, every=0.1)
        return self

    def ready(self) -> bool:
        """Whether /readyz answers 200; a process that has exited is an error, with the end of its log."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.module} exited with {self.proc.returncode}; log: {self.log}\n"
                               + self.log.read_text(errors="replace")[-3000:])
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
