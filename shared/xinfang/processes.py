"""Worker processes that never outlive the process that started them.

A service killed with SIGKILL (the OOM killer, a fault drill, ``deploy/dev down`` after its grace) cannot
stop its pool; its spawned workers would wait on their call queue for ever. Each worker here watches its
parent and exits within a second of losing it.

What a kill leaves behind, the named semaphores of the pool's queues, multiprocessing's resource tracker
removes once the service and its workers are gone; it says so on stderr ("leaked semaphore objects"),
in plain text: it is started here with its stderr relayed as JSON log lines (:func:`xinfang.logs.relay_stderr_of`).
"""
from __future__ import annotations

import functools
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import resource_tracker
from multiprocessing.managers import SyncManager

from xinfang.logs import relay_stderr_of

WATCH_SECONDS = 0.5


def die_with_parent(parent: int) -> None:
    """In a child process: exit as soon as ``parent`` (the pid that started it, passed from the parent's side:
    a child starting late may already have been re-parented) is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)  # noqa: SLF001 — nothing of the dead parent's work is left to finish

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


@functools.cache
def _tracker_logging_json() -> None:
    # before the first semaphore: whatever creates one starts the tracker, with the log as its stderr
    relay_stderr_of(resource_tracker.ensure_running, "multiprocessing.resource_tracker")


def process_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes (no fork of an event loop, sockets or threads) that die with this one."""
    _tracker_logging_json()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent,
                               initargs=(os.getpid(),))


def manager() -> SyncManager:
    """A started multiprocessing manager (shared queues) whose server process dies with this one."""
    _tracker_logging_json()
    started = SyncManager(ctx=multiprocessing.get_context("spawn"))
    started.start(die_with_parent, (os.getpid(),))
    return started
