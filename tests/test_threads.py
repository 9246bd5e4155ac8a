"""Torch thread count: other processes' load counts against the cores, this process's own work does not."""

from __future__ import annotations

import math
import time

import pytest

from services.core import threads
from services.core.threads import OwnLoad, ThreadChoice, choose_threads


class FakeProcess:
    """A clock and a CPU-time counter that the test advances."""

    def __init__(self):
        self.now = 1000.0
        self.cpu = 0.0

    def run(self, seconds: float, cores: float) -> None:
        self.now += seconds
        self.cpu += seconds * cores


def test_own_load_follows_the_load_average_rule():
    process = FakeProcess()
    tracker = OwnLoad(clock=lambda: process.now, cpu=lambda: process.cpu, start=(process.now, 0.0))
    process.run(60, cores=2)  # a minute of work on two cores (e.g. a training run)
    assert tracker.sample() == pytest.approx(2 * (1 - math.exp(-1)), rel=1e-6)
    process.run(60, cores=0)  # a quiet minute after it
    assert tracker.sample() == pytest.approx(2 * (1 - math.exp(-1)) * math.exp(-1), rel=1e-6)


def test_own_load_measures_this_process():
    tracker = OwnLoad()
    before = tracker.sample()
    started = time.process_time()
    while time.process_time() - started < 0.3:  # burn 0.3 s of CPU in this process
        sum(range(1000))
    assert tracker.sample() > before


def test_our_own_load_leaves_the_cores_to_us():
    # the whole load average is our own recent work: all cores are ours
    assert choose_threads(cores=2, load=2.0, own=2.0, others_now=None).threads == 2
    # the same load from someone else: one thread
    assert choose_threads(cores=2, load=2.0, own=0.0, others_now=None).threads == 1
    # a busy neighbour (one core's worth) on a 4-core machine, plus our own work
    choice = choose_threads(cores=4, load=3.0, own=2.0, others_now=None)
    assert choice.threads == 3 and choice.others == pytest.approx(1.0)


def test_a_process_that_has_ended_no_longer_counts():
    """The load average lags (a previous benchmark run still shows); the run queue now says who runs."""
    choice = choose_threads(cores=2, load=1.8, own=0.0, others_now=0.0)
    assert choice.threads == 2
    busy = choose_threads(cores=2, load=1.8, own=0.0, others_now=2.0)
    assert busy.threads == 1


def test_without_any_reading_all_cores():
    assert choose_threads(cores=3, load=None, own=0.0, others_now=None).threads == 3


def test_choice_is_described_for_the_jobs_dock_and_manifest():
    choice = ThreadChoice(2, 2, 3.5, 2.0, 0.4, 0.4)
    assert choice.describe() == "2 threads of 2 cores"
    assert "load average 3.5, ours 2.0" in choice.explain()
    assert choice.to_dict()["own_load"] == 2.0


def test_runnable_now_reads_the_run_queue():
    value = threads.others_runnable_now(samples=2, interval=0.0)
    assert value is None or value >= 0


def test_engine_threads_exclude_our_own_recent_work(tiny_classifier, monkeypatch):
    """The engine's default thread count: the load average is all ours (say, a training run that just
    ended), nobody else runs now: every usable core is used, and the choice says why."""
    import torch

    from services.core import engine as engine_module
    from services.core.engine import Engine, EngineOptions
    from services.core.models import load_model

    cores = threads.usable_cores()
    process = FakeProcess()
    own = OwnLoad(clock=lambda: process.now, cpu=lambda: process.cpu, start=(process.now, 0.0), decay_seconds=1e-9)
    process.run(10, cores=cores)
    monkeypatch.setattr(threads, "own_load", own)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (float(cores), float(cores), float(cores)))
    # no run queue to read (as on macOS or Windows): the load average alone, less our share, decides
    monkeypatch.setattr(threads, "others_runnable_now", lambda *a, **k: None)
    previous = torch.get_num_threads()
    try:
        engine = Engine(load_model(tiny_classifier, "text-classification"), EngineOptions())
        assert engine.thread_choice.own_load == pytest.approx(cores)
        assert engine.threads == cores == torch.get_num_threads()
        assert engine_module.cpu_threads() == cores
    finally:
        torch.set_num_threads(previous)
