"""A progress callback that draws a one-line bar on stderr (for CLI verbs)."""

from __future__ import annotations

import sys
import time

from services.core.eta import format_eta, remaining_seconds


class StderrProgress:
    def __init__(self, label: str = "", stream=None, interval: float = 0.2):
        self.label = label
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = 0.0
        self._started = time.monotonic()
        self._drawn = False

    def __call__(self, done: float, total: float | None = None, message: str = "", data=None) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last < self.interval:
            return
        self._last = now
        if total:
            fraction = max(0.0, min(1.0, done / total))
            bar = "#" * int(fraction * 30)
            elapsed = now - self._started
            left = remaining_seconds(done, total, elapsed)
            eta = f" ETA {format_eta(left)}" if left is not None and "ETA" not in message else ""
            line = f"\r{self.label} [{bar:<30}] {fraction * 100:5.1f}% {message[:60]}{eta}"
        else:
            line = f"\r{self.label} {message[:60]}"
        self.stream.write(line.ljust(100))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
