"""Event-loop stall: the longest gap between ticks of a 10 ms QTimer on the GUI thread, measured over
a window (``start()`` … ``stop()``), e.g. while a job's work runs. A GUI thread kept busy for N ms
anywhere inside the window shows up as a gap of at least N ms, however many ticks came before it."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

BOUND_S = 1.0  # generous: a healthy window stays near 10-50 ms; the mutations checked stall 2-3 s


class StallMeter:
    def __init__(self, interval_ms: int = 10):
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.marks: list[float] = []
        self.started = self.stopped = False

    def start(self) -> None:
        self.marks = [time.perf_counter()]
        self.started, self.stopped = True, False
        self.timer.start()

    def _tick(self) -> None:
        if self.started and not self.stopped:
            self.marks.append(time.perf_counter())

    def stop(self) -> None:
        """End the window (the gap from the last tick to now counts: a slot that ran just before stops here)."""
        if self.started and not self.stopped:
            self.marks.append(time.perf_counter())
            self.stopped = True
        self.timer.stop()

    @property
    def ticks(self) -> int:
        return max(0, len(self.marks) - 2)

    @property
    def longest_gap(self) -> float:
        assert self.started and self.stopped, "the window never opened and closed"
        return max(b - a for a, b in zip(self.marks, self.marks[1:]))
