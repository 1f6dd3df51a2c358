"""Worker processes that never outlive the process that started them.

A service killed with SIGKILL (the OOM killer, a fault drill, ``deploy/dev down`` after its grace) cannot
stop its pool; its spawned workers would wait on their call queue for ever. Each worker here watches its
parent and exits within a second of losing it.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.managers import SyncManager

WATCH_SECONDS = 0.5


def die_with_parent(parent: int) -> None:
    """In a child process: exit as soon as ``parent`` (the pid that started it, passed from the parent's side:
    a child starting late may already have been re-parented) is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)  # noqa: SLF001 — nothing of the dead parent's work is left to finish

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes (no fork of an event loop, sockets or threads) that die with this one."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent,
                               initargs=(os.getpid(),))


def manager() -> SyncManager:
    """A started multiprocessing manager (shared queues) whose server process dies with this one."""
    started = SyncManager(ctx=multiprocessing.get_context("spawn"))
    started.start(die_with_parent, (os.getpid(),))
    return started
