"""The one job abstraction: every long operation runs here, on a worker thread (QtCore only).

A job wraps a plain service function ``fn(progress=..., cancel=...)``. The worker never touches
widgets: it hands events to the :class:`Job` object (which lives in the GUI thread) through a
queued signal, and the Job re-emits them as its public signals there.

Lanes: ``"model"`` runs one job at a time (model work is serialised; one thread owns loaded
models), ``"io"`` runs a few at once (file scans, downloads). A job submitted with a ``key``
supersedes (cancels) the previous unfinished job with the same key.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Qt, Signal, Slot

from services.core.cancel import CancelToken
from services.core.errors import Cancelled
from services.core.warmup import import_heavy_modules

log = logging.getLogger("workbench.jobs")

PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress events a second reach the GUI


class JobState:
    PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"


class Job(QObject):
    started = Signal()
    progress = Signal(object)  # JobProgress
    result = Signal(object)
    error = Signal(object)  # the exception
    cancelled = Signal()
    finished = Signal()  # always last, whatever happened

    _relay = Signal(str, object)  # worker thread -> GUI thread

    def __init__(self, title: str, fn: Callable[..., Any], *, lane: str = "model", key: str | None = None,
                 show_errors: bool = True, can_pause: bool = False, needs_torch: bool = True):
        super().__init__()
        self.needs_torch = needs_torch
        self.title = title
        self.fn = fn
        self.lane = lane
        self.key = key
        self.show_errors = show_errors
        self.can_pause = can_pause
        self.token = CancelToken()
        self.state = JobState.PENDING
        self.last_progress: JobProgress | None = None
        self.error_value: BaseException | None = None
        self.traceback_text = ""
        self.started_at: float | None = None
        self._relay.connect(self._on_relay, Qt.ConnectionType.QueuedConnection)

    # -- called from the GUI -------------------------------------------------------------
    def cancel(self) -> None:
        if self.state in (JobState.PENDING, JobState.RUNNING):
            self.token.cancel()

    def pause(self) -> None:
        self.token.pause()

    def resume(self) -> None:
        self.token.resume()

    @property
    def is_active(self) -> bool:
        return self.state in (JobState.PENDING, JobState.RUNNING)

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

        self._relay.emit("started", None)
        if self.token.cancelled:
            self._relay.emit("cancelled", None)
            return
        try:
            if self.needs_torch:
                import_heavy_modules()  # once per process, thread-safe; instant afterwards
                self.token.check()
            value = self.fn(progress=progress, cancel=self.token)
        except Cancelled:
            self._relay.emit("cancelled", None)
        except BaseException as error:  # noqa: BLE001 - every error reaches the GUI, never silence
            self._relay.emit("error", (error, traceback.format_exc()))
        else:
            if pending:
                self._relay.emit("progress", pending[0])
            if self.token.cancelled:
                self._relay.emit("cancelled", None)
            else:
                self._relay.emit("result", value)

    # -- back on the GUI thread ----------------------------------------------------------
    @Slot(str, object)
    def _on_relay(self, kind: str, payload: object) -> None:
        if kind == "started":
            self.state = JobState.RUNNING
            self.started_at = time.monotonic()
            self.started.emit()
        elif kind == "progress":
            self.last_progress = payload  # type: ignore[assignment]
            self.progress.emit(payload)
        elif kind == "result":
            self.state = JobState.DONE
            self.result.emit(payload)
            self.finished.emit()
        elif kind == "error":
            error, text = payload  # type: ignore[misc]
            self.state = JobState.FAILED
            self.error_value, self.traceback_text = error, text
            log.error("%s failed: %s\n%s", self.title, error, text)
            self.error.emit(error)
            self.finished.emit()
        elif kind == "cancelled":
            self.state = JobState.CANCELLED
            log.info("%s cancelled", self.title)
            self.cancelled.emit()
            self.finished.emit()


class JobProgress:
    """One progress report: ``done`` of ``total`` (None = unknown), a message, optional data."""

    __slots__ = ("done", "total", "message", "data")

    def __init__(self, done: float, total: float | None, message: str, data: Any):
        self.done, self.total, self.message, self.data = done, total, message, data

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


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
        for lane, threads in self.LANE_THREADS.items():
            pool = QThreadPool(self)
            pool.setMaxThreadCount(threads)
            pool.setExpiryTimeout(-1)  # keep the model thread alive: it owns loaded models
            self._pools[lane] = pool
        self._jobs: list[Job] = []

    def submit(self, title: str, fn: Callable[..., Any], *, lane: str = "model", key: str | None = None,
               on_result: Callable[[Any], None] | None = None, on_error: Callable[[BaseException], None] | None = None,
               show_errors: bool = True, can_pause: bool = False, needs_torch: bool = True) -> Job:
        """Run ``fn(progress=..., cancel=...)`` on ``lane``; returns the :class:`Job` to watch.

        ``needs_torch=False`` lets a job that never touches torch/transformers (a file scan, a
        download in a child process) start before the start-up import has finished.
        """
        if lane not in self._pools:
            raise ValueError(f"unknown lane {lane!r}")
        if key is not None:
            for old in self._jobs:
                if old.key == key and old.is_active:
                    old.cancel()
        job = Job(title, fn, lane=lane, key=key, show_errors=show_errors and on_error is None, can_pause=can_pause,
                  needs_torch=needs_torch)
        if on_result is not None:
            job.result.connect(on_result)
        if on_error is not None:
            job.error.connect(on_error)
        job.finished.connect(lambda job=job: self._forget(job))
        self._jobs.append(job)
        self.job_added.emit(job)
        self._pools[lane].start(_JobRunnable(job))
        return job

    def _forget(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)

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
