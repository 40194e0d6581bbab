"""Acks first: at most a few listeners do their work at once; the others wait, off the GIL.

Bolt runs a listener on its pool and answers Slack's POST when the listener calls `ack()`
(events are acked by bolt itself before the listener starts). The ack is a few short steps
on three threads, and each step waits its turn for the GIL behind every thread busy with
an earlier request's work: with 20 `/okr status` in flight, acks took 4-6x as long as on a
server that only acks (bench/latency.py). Holding the work after the ack to a few slots
leaves the GIL to the acks; the queued work waits, off the GIL, in the order it came,
and the machine does the same total work with less time lost switching threads.

Three pieces: a middleware wraps each request's `ack` so that, once called from a listener
thread, that thread takes a slot before going on; a request bolt acks before its listener
runs (an event) takes its slot when its listener starts; the pool gives the slot back when
the listener returns. Work before an ack (a modal's check-in, validated before the modal
closes) is never held back.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import BoltContext

_local = threading.local()  # .in_listener, .holding (listener threads); .acked_early (bolt's dispatch thread)


class WorkGate:
    """`slots` at once, handed to waiters strictly in the order they came. (threading.Semaphore
    lets a newcomer take a slot just freed for a waiter, which then queues again at the back:
    under load some requests waited several times as long as the rest.)"""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()

    def enter(self) -> None:
        """On a listener thread, once: wait for a slot (a no-op elsewhere, or if held)."""
        if not getattr(_local, "in_listener", False) or getattr(_local, "holding", False):
            return
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                turn = None
            else:
                turn = threading.Event()
                self._waiting.append(turn)
        if turn is not None:
            turn.wait()  # the slot is handed over by leave()
        _local.holding = True

    def leave(self) -> None:
        if not getattr(_local, "holding", False):
            return
        _local.holding = False
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


class GatedAck:
    """Bolt's `ack`, which takes a work slot right after acknowledging from a listener thread."""

    def __init__(self, ack: Any, gate: WorkGate) -> None:
        self._ack, self._gate = ack, gate

    @property
    def response(self):
        return self._ack.response

    @response.setter
    def response(self, value) -> None:
        self._ack.response = value

    def __call__(self, *args: Any, **kwargs: Any):
        answer = self._ack(*args, **kwargs)
        if getattr(_local, "in_listener", False):
            self._gate.enter()
        else:
            _local.acked_early = True  # bolt acked an event itself: its listener takes a slot at start
        return answer


class GatedExecutor(ThreadPoolExecutor):
    """Bolt's listener pool: marks its threads, takes a slot at the start of a listener whose
    request is already acked, and gives the slot back when the listener returns."""

    def __init__(self, gate: WorkGate, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.gate = gate

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        acked = getattr(_local, "acked_early", False)
        _local.acked_early = False
        gate = self.gate

        def run() -> Any:
            _local.in_listener, _local.holding = True, False
            try:
                if acked:
                    gate.enter()
                return fn(*args, **kwargs)
            finally:
                gate.leave()
                _local.in_listener = False

        return super().submit(run)


def gate_middleware(gate: WorkGate) -> Callable[[BoltContext, Callable[[], Any]], Any]:
    def gated_ack(context: BoltContext, next: Callable[[], Any]) -> Any:  # noqa: A002 - bolt's name
        _local.acked_early = False
        if context.ack is not None:
            context["ack"] = GatedAck(context.ack, gate)
        return next()

    return gated_ack
