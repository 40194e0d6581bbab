"""Worker processes: one started by `okrbot serve` (an InboxWorker, told by its server
over a pipe when requests arrive on SQLite and when to stop), or `okrbot worker` on
its own, on any machine that shares the database.

It runs at a lower CPU priority than the server, so acks never wait behind work; it
ignores Ctrl-C and SIGTERM (the server stops it once its work is done) and dies with
the server if the server is killed. What it had claimed is in the inbox: its server
hands it to the next worker.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading

from okrbot.config import Settings
from okrbot.runtime.jobs.runner import JobRunner
from okrbot.runtime.jobs.worker import InboxWorker, worker_name
from okrbot.observability.logs import configure_logging
from okrbot.runtime.scheduler import start_scheduler
from okrbot.store.db import Database
from okrbot.store.inbox import open_inbox

READY = "ready"
WAKE = "wake"
WORKER_NICENESS = 10  # Linux gives a nice-0 process about 9 times the CPU of a nice-10 one
# How long a work thread may hold the GIL while another waits (Python's default: 5 ms). A
# request makes a dozen database and HTTP round trips, each letting the GIL go, and getting
# it back behind a busy thread cost up to a whole slice each time (PostgreSQL, M, 20 clients:
# answer p50 240 ms at 5 ms, 150 ms at 1 ms; bench/latency.py).
WORK_SWITCH_INTERVAL = 0.001
_PR_SET_PDEATHSIG = 1

log = logging.getLogger("okrbot.runtime.jobs")


def worker_main(conn, settings: Settings, server_pid: int, run_scheduler: bool, name: str) -> None:
    _die_with(server_pid)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)
    if hasattr(os, "nice"):  # POSIX; elsewhere the worker runs at the server's priority
        os.nice(WORKER_NICENESS)
    configure_logging(settings.log_format)
    sys.setswitchinterval(WORK_SWITCH_INTERVAL)
    try:
        db = Database(settings.database_url)
        inbox = open_inbox(settings.database_url)
        runner = JobRunner(settings, db)
        worker = InboxWorker(inbox, runner, name=name)
        scheduler = start_scheduler(settings, runner.bot) if run_scheduler else None
    except Exception as error:  # noqa: BLE001 - the server reports it and exits
        conn.send(("failed", f"{error.__class__.__name__}: {error}"))
        return
    worker.start()
    conn.send(READY)
    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break  # the server is gone
            if message is None:
                break
            worker.wake.set()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        worker.stop()
        inbox.dispose()
        db.dispose()


def run_worker(settings: Settings) -> None:
    """`okrbot worker`: claim and run requests that any server acknowledged, until SIGTERM
    or Ctrl-C; then finish what was claimed. Wakes on PostgreSQL's NOTIFY, and polls."""
    configure_logging(settings.log_format)
    sys.setswitchinterval(WORK_SWITCH_INTERVAL)
    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda _signum, _frame: stop.set())
    db = Database(settings.database_url)
    inbox = open_inbox(settings.database_url)
    runner = JobRunner(settings, db)
    worker = InboxWorker(inbox, runner, name=worker_name("worker"), poll=1.0 if inbox.notifies else 0.2)
    scheduler = start_scheduler(settings, runner.bot)
    worker.start()
    log.info("okrbot worker %s taking requests", worker.name)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=False)
        worker.stop()
        inbox.dispose()
        db.dispose()
        log.info("okrbot worker stopped")


def _die_with(server_pid: int) -> None:
    """Ask Linux to kill this process when the server dies (even by SIGKILL), so no worker
    goes on sending after its server is gone. Elsewhere the closed pipe stops it."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != server_pid:  # the server died before prctl took effect
        os._exit(0)
