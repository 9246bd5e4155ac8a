"""Cooperative cancel (and pause) tokens, and the progress-callback convention.

Every long service function takes ``progress`` and ``cancel`` keyword arguments:

* ``progress(done, total=None, message="", data=None)`` reports how far it got. ``data`` carries a
  payload that *replaces* the previous one (e.g. the text generated so far), so a throttled
  receiver may drop intermediate events without losing anything.
* ``cancel.check()`` is called between steps: it blocks while paused and raises
  :class:`~services.core.errors.Cancelled` once cancelled.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from services.core.errors import Cancelled


class Progress(Protocol):
    def __call__(self, done: float, total: float | None = None, message: str = "", data: Any = None) -> None: ...


def no_progress(done: float, total: float | None = None, message: str = "", data: Any = None) -> None:
    """A progress callback that ignores everything (for callers that do not care)."""


class CancelToken:
    """Thread-safe flag a job polls between steps; also supports pause/resume."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake a paused job so it can notice the cancel

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def pause(self) -> None:
        if not self.cancelled:
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def check(self) -> None:
        """Block while paused; raise :class:`Cancelled` if cancelled."""
        self._running.wait()
        if self._cancelled.is_set():
            raise Cancelled()


class _NeverCancelled(CancelToken):
    def cancel(self) -> None:  # a shared default must never be switched off for everyone
        pass

    def pause(self) -> None:
        pass


NEVER_CANCELLED = _NeverCancelled()

