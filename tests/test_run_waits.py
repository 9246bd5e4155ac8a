"""A Run requested while training holds the model lane says what it waits for, can stop waiting at
once, and its time counts from when its load starts, not from the click."""

from __future__ import annotations

import threading

from gui.jobs.runner import JobState

TIMEOUT = 90_000


def test_a_run_behind_training_says_so_and_counts_from_its_start(qtbot, main_window):
    panel = main_window.panels["RunDock"]
    runner = main_window.context.runner
    gate, inside = threading.Event(), threading.Event()

    def training(progress, cancel):
        inside.set()
        while not gate.wait(0.01):
            cancel.check()
        return "trained"

    runner.submit("Training on reviews.csv", training, lane="model")
    assert inside.wait(30)
    panel.set_task("sentence-similarity")
    panel.picker.set_current_spec("builtin")
    job = panel.run()
    assert job.is_waiting and panel.status.text() == "Waiting for: Training on reviews.csv (Cancel stops waiting)"
    with qtbot.waitSignal(panel.sig_run_finished, timeout=5000) as finished:
        panel.cancel()  # stop waiting: no need to wait for the training run to end
    assert finished.args == ["cancelled"] and job.state == JobState.CANCELLED and not gate.is_set()
    job = panel.run()
    assert "Waiting for: Training on reviews.csv" in panel.status.text()
    with qtbot.waitSignal(job.started, timeout=TIMEOUT):
        gate.set()
    assert panel._started == job.started_at  # the clock starts with the load, not at the click
    with qtbot.waitSignal(panel.sig_run_finished, timeout=TIMEOUT) as finished:
        pass
    assert finished.args == ["done"] and panel.status.text().startswith("Done in")
