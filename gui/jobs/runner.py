"""The one job abstraction: every long operation runs here, on a worker thread (QtCore only).

A job wraps a plain service function ``fn(progress=..., cancel=...)``. The worker never touches
widgets: it hands events to the :class:`Job` object (which lives in the GUI thread) through a
queued signal, and the Job re-emits them as its public signals there. Only immutable data should
cross: progress payloads are replaced, never mutated, once sent (tuples, frozen dataclasses, fresh
dicts).

Lanes: ``"model"`` runs one job at a time (model work is serialised; one thread owns loaded
models), ``"io"`` runs a few at once (file scans, library file operations, downloads). The runner
keeps each lane's queue itself, so a queued job knows what it waits for (``waiting``), can be
cancelled at once without waiting for its turn, and its elapsed time starts when it runs. A job
submitted with a ``key`` supersedes (cancels) the previous unfinished job with the same key.

A cancelled job may still deliver what it had done: a function that notices the cancel and
returns a value anyway (e.g. training that keeps the best epoch so far), or raises
``Cancelled(partial=value)``, hands that value to ``partial_result`` (and ``Job.partial``) just
before ``cancelled``.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Qt, Signal, Slot

from services.core.cancel import CancelToken
from services.core.errors import Cancelled, WorkbenchError
from services.core.warmup import import_heavy_modules

log = logging.getLogger("workbench.jobs")

PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress events a second reach the GUI


class JobState:
    PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"


@dataclass(frozen=True, slots=True)
class JobProgress:
    """One progress report: ``done`` of ``total`` (None = unknown), a message, optional data."""

    done: float
    total: float | None
    message: str
    data: Any

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


class Job(QObject):
    started = Signal()
    progress = Signal(object)  # JobProgress
    result = Signal(object)
    error = Signal(object)  # the exception
    partial_result = Signal(object)  # what a cancelled job had done, when it had something (before ``cancelled``)
    cancelled = Signal()
    paused = Signal()
    resumed = Signal()
    waiting = Signal(str)  # the title of the job it waits for in its lane; "" once it no longer waits
    finished = Signal()  # always last, whatever happened

    _relay = Signal(str, object)  # worker thread -> GUI thread

    def __init__(self, title: str, fn: Callable[..., Any], *, lane: str = "model", key: str | None = None,
                 show_errors: bool = True, can_pause: bool = False, needs_torch: bool = True, listed: bool = True):
        super().__init__()
        self.needs_torch = needs_torch
        self.title = title
        self.fn = fn
        self.lane = lane
        self.key = key
        self.show_errors = show_errors
        self.can_pause = can_pause
        self.listed = listed  # shown in the Jobs dock (False for short internal steps such as reading results)
        self.token = CancelToken()
        self.state = JobState.PENDING
        self.error_value: BaseException | None = None
        self.traceback_text = ""
        self.partial: Any = None  # set when a cancelled job delivered what it had done
        self.waiting_for = ""  # title of the job ahead of it in its lane, while queued
        self.started_at: float | None = None  # when it started running (time.monotonic), not when it was queued
        self.finished_at: float | None = None
        self._queued = False  # in the runner's lane queue, not yet handed to a worker
        self._relay.connect(self._on_relay, Qt.ConnectionType.QueuedConnection)

    # -- called from the GUI -------------------------------------------------------------
    def cancel(self) -> None:
        if not self.is_active:
            return
        was_paused = self.token.paused
        self.token.cancel()  # also wakes a paused job
        if was_paused:
            self.resumed.emit()
        if self._queued:  # never reached a worker: it ends now instead of after the jobs ahead of it
            self._queued = False
            self._end_cancelled(None)

    def pause(self) -> None:
        if self.is_active and not self.token.cancelled and not self.token.paused:
            self.token.pause()
            self.paused.emit()

    def resume(self) -> None:
        if self.token.paused:
            self.token.resume()
            self.resumed.emit()

    @property
    def is_active(self) -> bool:
        return self.state in (JobState.PENDING, JobState.RUNNING)

    @property
    def is_paused(self) -> bool:
        return self.is_active and self.token.paused

    @property
    def is_waiting(self) -> bool:
        return self._queued and bool(self.waiting_for)

    @property
    def elapsed(self) -> float | None:
        """Seconds since it started running (to when it finished); None if it never ran."""
        if self.started_at is None:
            return None
        return (self.finished_at or time.monotonic()) - self.started_at

    def status_text(self) -> str:
        """One short line for the job's state: 'waiting for: …', 'running', 'paused', 'done in 2.3 s'…"""
        if self.is_active and self.token.cancelled:
            return "cancelling…"
        if self.is_paused:
            return "paused"
        if self.state == JobState.PENDING:
            if self._queued:
                return f"waiting for: {self.waiting_for}" if self.waiting_for else "queued"
            return "starting"
        if self.state == JobState.RUNNING:
            return "running"
        took = self.elapsed
        after = f" after {took:.1f} s" if took is not None else ""
        if self.state == JobState.DONE:
            return f"done in {took:.1f} s" if took is not None else "done"
        return f"{self.state}{after}"  # "failed after 1.2 s", "cancelled after 3.0 s", "cancelled"

    def _set_waiting_for(self, title: str) -> None:
        if title != self.waiting_for:
            self.waiting_for = title
            self.waiting.emit(title)

    # -- runs on the worker thread -------------------------------------------------------
    def _run(self) -> None:
        last_emit = 0.0
        pending: list[JobProgress] = []

        def progress(done: float, total: float | None = None, message: str = "", data: Any = None) -> None:
            nonlocal last_emit
            event = JobProgress(done, total, message, data)
            now = time.monotonic()
            finishing = total is not None and done >= total
            if finishing or now - last_emit >= PROGRESS_INTERVAL_S:
                last_emit = now
                pending.clear()
                self._relay.emit("progress", event)
            else:
                pending[:] = [event]  # latest wins; delivered before the result

        self._relay.emit("started", time.monotonic())
        if self.token.cancelled:
            self._relay.emit("cancelled", None)
            return
        try:
            if self.needs_torch:
                import_heavy_modules()  # once per process, thread-safe; instant afterwards
                self.token.check()
            value = self.fn(progress=progress, cancel=self.token)
        except Cancelled as stop:
            if pending:
                self._relay.emit("progress", pending[0])
            self._relay.emit("cancelled", getattr(stop, "partial", None))
        except BaseException as error:  # noqa: BLE001 - every error reaches the GUI, never silence
            self._relay.emit("error", (error, traceback.format_exc()))
        else:
            if pending:
                self._relay.emit("progress", pending[0])
            if self.token.cancelled:  # it noticed the cancel and returned what it had: that is the partial result
                self._relay.emit("cancelled", value)
            else:
                self._relay.emit("result", value)

    # -- back on the GUI thread ----------------------------------------------------------
    @Slot(str, object)
    def _on_relay(self, kind: str, payload: object) -> None:
        if kind == "started":
            self.state = JobState.RUNNING
            self.started_at = payload  # type: ignore[assignment]
            self.started.emit()
        elif kind == "progress":
            self.progress.emit(payload)
        elif kind == "result":
            self.state = JobState.DONE
            self.finished_at = time.monotonic()
            self.result.emit(payload)
            self.finished.emit()
        elif kind == "error":
            error, text = payload  # type: ignore[misc]
            self.state = JobState.FAILED
            self.finished_at = time.monotonic()
            self.error_value, self.traceback_text = error, text
            if isinstance(error, WorkbenchError):  # expected (offline, a bad file...): one line; its trace at debug
                log.warning("%s failed: %s", self.title, error)
                log.debug("%s", text)
            else:  # a bug: the whole traceback
                log.error("%s failed: %s\n%s", self.title, error, text)
            self.error.emit(error)
            self.finished.emit()
        elif kind == "cancelled":
            self._end_cancelled(payload)

    def _end_cancelled(self, partial: Any) -> None:
        self.state = JobState.CANCELLED
        self.finished_at = time.monotonic()
        log.info("%s cancelled", self.title)
        if partial is not None:
            self.partial = partial
            self.partial_result.emit(partial)
        self.cancelled.emit()
        self.finished.emit()


class _JobRunnable(QRunnable):
    def __init__(self, job: Job):
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job._run()


class JobRunner(QObject):
    """Submits jobs to worker threads; knows every active job; cancels and waits on quit."""

    job_added = Signal(object)  # Job

    LANE_THREADS = {"model": 1, "io": 3}

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pools: dict[str, QThreadPool] = {}
        self._queues: dict[str, deque[Job]] = {}
        self._running: dict[str, list[Job]] = {}  # handed to the lane's threads, not finished yet
        for lane, threads in self.LANE_THREADS.items():
            pool = QThreadPool(self)
            pool.setMaxThreadCount(threads)
            pool.setExpiryTimeout(-1)  # keep the model thread alive: it owns loaded models
            self._pools[lane] = pool
            self._queues[lane] = deque()
            self._running[lane] = []
        self._jobs: list[Job] = []

    def submit(self, title: str, fn: Callable[..., Any], *, lane: str = "model", key: str | None = None,
               on_result: Callable[[Any], None] | None = None, on_error: Callable[[BaseException], None] | None = None,
               show_errors: bool = True, can_pause: bool = False, needs_torch: bool = True,
               listed: bool = True) -> Job:
        """Run ``fn(progress=..., cancel=...)`` on ``lane``; returns the :class:`Job` to watch.

        ``needs_torch=False`` lets a job that never touches torch/transformers (a file scan, a
        download in a child process) start before the start-up import has finished. ``listed=False``
        keeps a short internal step out of the Jobs dock.
        """
        if lane not in self._pools:
            raise ValueError(f"unknown lane {lane!r}")
        if key is not None:
            for old in self._jobs:
                if old.key == key and old.is_active:
                    old.cancel()
        job = Job(title, fn, lane=lane, key=key, show_errors=show_errors and on_error is None, can_pause=can_pause,
                  needs_torch=needs_torch, listed=listed)
        if on_result is not None:
            job.result.connect(on_result)
        if on_error is not None:
            job.error.connect(on_error)
        job.finished.connect(lambda job=job: self._forget(job))
        self._jobs.append(job)
        job._queued = True
        self._queues[lane].append(job)
        self.job_added.emit(job)
        self._dispatch(lane)
        return job

    def _dispatch(self, lane: str) -> None:
        """Hand queued jobs to free threads of ``lane``; tell the others what they wait for."""
        queue, running = self._queues[lane], self._running[lane]
        while queue and len(running) < self.LANE_THREADS[lane]:
            job = queue.popleft()
            if not job._queued:  # cancelled while it waited
                continue
            job._queued = False
            job._set_waiting_for("")
            running.append(job)
            self._pools[lane].start(_JobRunnable(job))
        ahead = running[0].title if running else ""
        for job in queue:
            if job._queued:
                job._set_waiting_for(ahead)

    def _forget(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if job in self._running[job.lane]:
            self._running[job.lane].remove(job)
        if job in self._queues[job.lane]:
            self._queues[job.lane].remove(job)
        self._dispatch(job.lane)

    def active_jobs(self) -> list[Job]:
        return [job for job in self._jobs if job.is_active]

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job and wait for the worker threads; True if all stopped in time."""
        self.cancel_all()
        deadline = time.monotonic() + timeout_ms / 1000
        ok = True
        for pool in self._pools.values():
            remaining = max(0, int((deadline - time.monotonic()) * 1000))
            ok = pool.waitForDone(remaining) and ok
        return ok
