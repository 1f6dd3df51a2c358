"""The tests' database on the shared server, and a private PostgreSQL 15 for fault drills (restart it
without touching the shared server).

initdb and pg_ctl refuse to run as root, so as root they run as the ``postgres`` user on a folder
it owns (under /tmp, which that user can reach).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from support.process import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
TEST_DATABASE = "xinfang_test"


def test_database(dsn: str) -> str:
    """The DSN of the tests' database on the server ``dsn`` names: each run's schemas go there."""
    return dsn.rsplit("/", 1)[0] + "/" + TEST_DATABASE


class PrivatePostgres:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="xinfang-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
            os.chmod(self.folder, 0o755)
        self._run(BIN / "initdb", "-D", str(self.data), "-U", "xinfang", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.folder}'\n"
                       "max_connections = 200\nshared_buffers = 128MB\n")

    @property
    def dsn(self) -> str:
        return f"postgresql://xinfang@127.0.0.1:{self.port}/xinfang"

    def _run(self, *args) -> None:
        cmd = [str(a) for a in args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(BIN / "pg_ctl", "-D", self.data, "-l", self.folder / "log", "-w", "-t", "60", "start")
        subprocess.run([BIN / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "xinfang", "xinfang"],
                       capture_output=True, timeout=60)

    def restart(self) -> None:
        self._run(BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "restart", "-l", self.folder / "log")

    def stop(self) -> None:
        subprocess.run((["runuser", "-u", "postgres", "--"] if self.as_root else []) +
                       [str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
