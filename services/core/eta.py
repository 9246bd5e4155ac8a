"""The one ETA rule: time left from work done so far, and how a person reads a duration.

Every progress display (the Jobs dock, the CLI's progress line, the Analyse rate line, the training
curves) computes time left here, so they agree: elapsed time per unit of work so far, times the
units left.
"""

from __future__ import annotations


def remaining_seconds(done: float, total: float | None, elapsed: float) -> float | None:
    """Seconds left at the rate so far; ``None`` while unknown (no total, nothing done yet, or finished)."""
    if total is None or total <= 0 or done <= 0 or elapsed <= 0 or done >= total:
        return None
    return elapsed * (total - done) / done


def format_eta(seconds: float) -> str:
    """A duration as a person reads it: ``42s``, ``3m 05s``, ``1h 07m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


class RecentRate:
    """Units per second over the last ~10 s (so a pause or a slow start fades out of the estimate)."""

    WINDOW_S = 10.0

    def __init__(self) -> None:
        from collections import deque

        self.samples = deque()

    def add(self, count: int, now: float | None = None) -> float:
        """Record the running ``count`` of units done; return the recent rate."""
        import time

        now = time.monotonic() if now is None else now
        self.samples.append((now, count))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.WINDOW_S:
            self.samples.popleft()
        first_t, first_n = self.samples[0]
        return (count - first_n) / (now - first_t) if now > first_t else 0.0

    @staticmethod
    def remaining(done: float, total: float | None, rate: float) -> float | None:
        """Seconds left at ``rate`` units per second; ``None`` while unknown."""
        if total is None or rate <= 0 or done >= total:
            return None
        return (total - done) / rate
