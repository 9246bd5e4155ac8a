"""How many torch CPU threads to use: the usable cores that *other* processes leave free.

Intra-op threads that compete with other busy processes for the same cores spin and stall each
other (on a 2-core machine under load, 2 threads ran ~30x slower than 1), so a loaded machine gets
fewer threads. But the 1-minute load average also counts this process's own recent work: after a
training run, or in a benchmark's second phase, the app would see its own load and starve itself of
threads. So two estimates of what others use, each blind to our own work, and the lower one counts:

* **load average minus our share**: the 1-minute load average less this process's own recent CPU use,
  decayed the way the kernel decays the load average (time constant 60 s). It lags: a process that
  ended half a minute ago still counts.
* **runnable now**: the run queue (``procs_running`` in ``/proc/stat``, Linux) less this process's own
  running threads, averaged over a few samples in ~0.1 s. It misses a process that happens to sleep
  during the samples.

Our CPU use stands for our share of the load average. When the machine is oversubscribed our
threads wait in the run queue without using a core, so the share is underestimated, but then the
others' load alone already exceeds the cores and the answer (one thread) is the same.

Plain Python (os, psutil); no torch import here.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable

DECAY_SECONDS = 60.0  # the 1-minute load average's time constant
RUNNABLE_SAMPLES = 5
RUNNABLE_INTERVAL = 0.02  # seconds between samples of the run queue


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def process_cpu_seconds() -> float:
    """CPU time used by this process so far, all threads, user + system."""
    times = os.times()
    return times.user + times.system


def _process_start() -> tuple[float, float]:
    """(monotonic time the process started, CPU seconds used by then): the tracker's first sample."""
    now_mono, now_wall = time.monotonic(), time.time()
    try:
        import psutil

        started = psutil.Process().create_time()
        return now_mono - max(0.0, now_wall - started), 0.0
    except Exception:  # noqa: BLE001 - psutil missing or refused: count from now on
        return now_mono, process_cpu_seconds()


class OwnLoad:
    """This process's own contribution to the load average, estimated from its CPU time.

    Each :meth:`sample` folds the CPU time used since the previous sample into an exponentially
    decayed average (the kernel's load-average rule, applied to our average use over the interval).
    The first sample is the process start, so even a first call sees the work done since then.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = process_cpu_seconds,
                 start: tuple[float, float] | None = None, decay_seconds: float = DECAY_SECONDS):
        self._clock, self._cpu, self._decay = clock, cpu, decay_seconds
        self._time, self._cpu_seen = start if start is not None else _process_start()
        self._load = 0.0
        self._lock = threading.Lock()

    def sample(self) -> float:
        """Update with the CPU time used since the last sample; return the current estimate (cores)."""
        with self._lock:
            now, used = self._clock(), self._cpu()
            elapsed = now - self._time
            if elapsed > 0:
                rate = max(0.0, used - self._cpu_seen) / elapsed
                keep = math.exp(-elapsed / self._decay)
                self._load = self._load * keep + rate * (1.0 - keep)
                self._time, self._cpu_seen = now, used
            return self._load


own_load = OwnLoad()  # one per process; the engine samples it after every window


def _own_running_threads() -> int | None:
    try:
        names = os.listdir("/proc/self/task")
    except OSError:
        return None
    running = 0
    for name in names:
        try:
            with open(f"/proc/self/task/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the state follows the command name, which is in parentheses and may contain spaces
        state = stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3]
        running += state == b"R"
    return running


def _procs_running() -> int | None:
    try:
        with open("/proc/stat", "rb") as handle:
            for line in handle:
                if line.startswith(b"procs_running "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def others_runnable_now(samples: int = RUNNABLE_SAMPLES, interval: float = RUNNABLE_INTERVAL) -> float | None:
    """Other processes' runnable threads, averaged over a few samples (Linux; None elsewhere)."""
    counts = []
    for index in range(samples):
        if index:
            time.sleep(interval)
        total, ours = _procs_running(), _own_running_threads()
        if total is None or ours is None:
            return None
        counts.append(max(0, total - ours))
    return sum(counts) / len(counts)


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


@dataclass(frozen=True)
class ThreadChoice:
    """The torch thread count and the figures it came from (shown in the Jobs dock, written to the manifest)."""

    threads: int
    cores: int
    load_1min: float | None  # the system's 1-minute load average (everyone, us included)
    own_load: float  # our own share of it (estimated from our CPU time)
    others_now: float | None  # other processes' runnable threads right now
    others: float  # the load counted against the cores

    def describe(self) -> str:
        return f"{self.threads} thread{'s' if self.threads != 1 else ''} of {self.cores} cores"

    def explain(self) -> str:
        parts = [self.describe()]
        if self.load_1min is not None:
            parts.append(f"load average {self.load_1min:.1f}, ours {self.own_load:.1f}")
        if self.others_now is not None:
            parts.append(f"others runnable now {self.others_now:.1f}")
        return " · ".join(parts)

    def to_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def choose_threads(*, cores: int | None = None, load: float | None = ..., own: float | None = None,
                   others_now: float | None = ...) -> ThreadChoice:
    """The usable cores not busy with other processes' work, at least one.

    Every figure can be given (tests); by default each is measured: ``load`` from ``os.getloadavg``,
    ``own`` from :data:`own_load`, ``others_now`` from the run queue.
    """
    cores = cores if cores is not None else usable_cores()
    load = _load_average() if load is ... else load
    own = own_load.sample() if own is None else own
    others_now = others_runnable_now() if others_now is ... else others_now
    estimates = []
    if load is not None:
        estimates.append(max(0.0, load - own))
    if others_now is not None:
        estimates.append(others_now)
    others = min(estimates) if estimates else 0.0
    threads = max(1, min(cores, int(cores - others + 0.5)))
    return ThreadChoice(threads, cores, load, own, others_now, others)
