"""A worker process: receives jobs over its pipe, runs them, sends the answers back.

It runs at a lower CPU priority than the server, so acks never wait behind work; it
ignores Ctrl-C and SIGTERM (the server stops it once its queue is done) and dies with
the server if the server is killed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading

from okrbot.config import Settings
from okrbot.jobs.job import Answer
from okrbot.jobs.runner import JobRunner
from okrbot.scheduler import start_scheduler
from okrbot.store.db import Database

READY = "ready"
WORKER_NICENESS = 10  # Linux gives a nice-0 process about 9 times the CPU of a nice-10 one
_PR_SET_PDEATHSIG = 1

log = logging.getLogger("okrbot.jobs")


def worker_main(conn, settings: Settings, server_pid: int, run_scheduler: bool) -> None:
    _die_with(server_pid)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)
    if hasattr(os, "nice"):  # POSIX; elsewhere the worker runs at the server's priority
        os.nice(WORKER_NICENESS)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sending = threading.Lock()

    def send(message: Answer | str | tuple) -> None:
        with sending:
            try:
                conn.send(message)
            except OSError:
                log.warning("the server is gone; an answer was not delivered")

    try:
        db = Database(settings.database_url)
        runner = JobRunner(settings, db)
        scheduler = start_scheduler(settings, runner.bot) if run_scheduler else None
    except Exception as error:  # noqa: BLE001 - the server reports it and exits
        send(("failed", f"{error.__class__.__name__}: {error}"))
        return
    runner.start(send)
    send(READY)
    try:
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                break  # the server is gone
            if job is None:
                break
            runner.put(job)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        runner.stop()
        db.dispose()


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
