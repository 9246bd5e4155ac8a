"""The job runner: results, errors, cancel mid-job, supersede by key, throttled progress, shutdown."""

import threading

import pytest

from gui.jobs.runner import JobRunner, JobState
from services.core.errors import Cancelled, InputError


@pytest.fixture
def runner(qapp):
    runner = JobRunner()
    yield runner
    runner.shutdown()


def test_result_arrives_on_gui_thread(qtbot, runner):
    seen = {}

    def work(progress, cancel):
        seen["worker"] = threading.current_thread()
        progress(1, 2, "half")
        return 42

    job = runner.submit("answer", work)
    with qtbot.waitSignal(job.result, timeout=5000) as blocker:
        pass
    assert blocker.args == [42]
    assert seen["worker"] is not threading.main_thread()
    assert job.state == JobState.DONE


def test_error_is_reported_not_swallowed(qtbot, runner):
    def work(progress, cancel):
        raise InputError("The text is empty.")

    job = runner.submit("fails", work)
    with qtbot.waitSignal(job.error, timeout=5000) as blocker:
        pass
    assert str(blocker.args[0]) == "The text is empty."
    assert job.state == JobState.FAILED and "InputError" in job.traceback_text


def test_cancel_mid_job(qtbot, runner):
    started = threading.Event()
    steps = []

    def work(progress, cancel):
        started.set()
        for i in range(10_000):
            cancel.check()
            steps.append(i)
            threading.Event().wait(0.001)
        return "finished"

    job = runner.submit("long", work)
    assert started.wait(5)
    job.cancel()
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        pass
    assert job.state == JobState.CANCELLED
    assert len(steps) < 10_000


def test_same_key_supersedes_previous_job(qtbot, runner):
    gate = threading.Event()

    def slow(progress, cancel):
        while not gate.wait(0.01):
            cancel.check()
        cancel.check()
        return "old"

    first = runner.submit("first", slow, key="run")
    second = runner.submit("second", lambda progress, cancel: "new", key="run")
    with qtbot.waitSignal(second.result, timeout=5000) as blocker:
        gate.set()
    assert blocker.args == ["new"]
    assert first.state == JobState.CANCELLED


def test_progress_is_throttled_but_last_event_kept(qtbot, runner):
    events = []

    def work(progress, cancel):
        for i in range(20_000):
            progress(i, None, data=i)
        return "ok"

    job = runner.submit("chatty", work)
    job.progress.connect(events.append)
    with qtbot.waitSignal(job.finished, timeout=10_000):
        pass
    assert 0 < len(events) < 2000
    assert events[-1].data == 19_999


def test_shutdown_cancels_running_jobs(qtbot, runner):
    started = threading.Event()

    def forever(progress, cancel):
        started.set()
        while True:
            cancel.check()
            threading.Event().wait(0.005)

    runner.submit("forever", forever)
    assert started.wait(5)
    assert runner.shutdown(timeout_ms=5000)


def test_pause_and_resume(qtbot, runner):
    counter = []
    paused_seen = threading.Event()

    def work(progress, cancel):
        for i in range(200):
            cancel.check()
            counter.append(i)
            if i == 10:
                paused_seen.set()
                cancel.pause()
        return len(counter)

    job = runner.submit("pausable", work, can_pause=True)
    assert paused_seen.wait(5)
    qtbot.waitUntil(lambda: job.token.paused, timeout=2000)
    assert len(counter) == 11
    with qtbot.waitSignal(job.result, timeout=5000) as blocker:
        job.resume()
    assert blocker.args == [200]


def test_jobs_wait_for_the_one_heavy_import(qtbot, runner):
    """Two lanes starting at once both see a complete transformers module."""
    seen = []

    def needs_transformers(progress, cancel):
        import transformers

        return transformers.AutoModel.__name__, transformers.CONFIG_MAPPING["bert"].__name__

    jobs = [runner.submit("model lane", needs_transformers, lane="model"),
            runner.submit("io lane", needs_transformers, lane="io")]
    for job in jobs:
        job.result.connect(seen.append)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=120_000)
    assert seen == [("AutoModel", "BertConfig")] * 2


# -- pause/resume signals, partial results, lanes that say what they wait for ------------------------------
def _gate_job(runner, title="Training on reviews.csv", lane="model"):
    """A job that runs until ``gate`` is set (or it is cancelled)."""
    gate, inside = threading.Event(), threading.Event()

    def work(progress, cancel):
        inside.set()
        while not gate.wait(0.005):
            cancel.check()
        return "released"

    return runner.submit(title, work, lane=lane), gate, inside


def test_paused_and_resumed_signals(qtbot, runner):
    job, gate, inside = _gate_job(runner)
    job.can_pause = True
    assert inside.wait(5)
    qtbot.waitUntil(lambda: job.state == JobState.RUNNING, timeout=5000)
    seen = []
    job.paused.connect(lambda: seen.append("paused"))
    job.resumed.connect(lambda: seen.append("resumed"))
    with qtbot.waitSignal(job.paused, timeout=1000):
        job.pause()
    assert job.is_paused and job.token.paused and job.status_text() == "paused"
    job.pause()  # already paused: no second signal
    with qtbot.waitSignal(job.resumed, timeout=1000):
        job.resume()
    job.resume()
    assert seen == ["paused", "resumed"] and not job.is_paused
    job.pause()
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.cancel()  # a cancel wakes the paused job, and says it is no longer paused
    assert seen == ["paused", "resumed", "paused", "resumed"]
    gate.set()


def test_a_cancelled_job_delivers_what_it_returned_as_its_partial_result(qtbot, runner):
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        done = []
        try:
            while True:
                cancel.check()
                done.append(len(done))
                threading.Event().wait(0.001)
        except Cancelled:
            return tuple(done)  # what was done so far

    job = runner.submit("partial", work)
    results, partials = [], []
    job.result.connect(results.append)
    job.partial_result.connect(partials.append)
    assert started.wait(5)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.cancel()
    assert job.state == JobState.CANCELLED and results == []
    assert len(partials) == 1 and partials[0] is job.partial and len(job.partial) > 0


def test_a_cancelled_job_may_raise_its_partial_result(qtbot, runner):
    def work(progress, cancel):
        raise Cancelled(partial=("best epoch", 2))

    job = runner.submit("raises", work)
    with qtbot.waitSignal(job.partial_result, timeout=5000) as blocker:
        pass
    assert blocker.args == [("best epoch", 2)] and job.state == JobState.CANCELLED
    plain = runner.submit("plain", lambda progress, cancel: (_ for _ in ()).throw(Cancelled()))
    with qtbot.waitSignal(plain.cancelled, timeout=5000):
        pass
    assert plain.partial is None


def test_a_queued_job_says_what_it_waits_for_and_counts_time_from_its_start(qtbot, runner):
    import time

    training, gate, inside = _gate_job(runner)
    assert inside.wait(5)
    ran = threading.Event()
    with qtbot.waitSignal(runner.job_added) as added:
        runner.submit("Loading the built-in model", lambda progress, cancel: ran.set() or "loaded")
    load = added.args[0]
    assert load.waiting_for == "Training on reviews.csv"
    assert load.status_text() == "waiting for: Training on reviews.csv"
    assert load.state == JobState.PENDING and load.started_at is None and not ran.is_set()
    with qtbot.waitSignal(load.finished, timeout=5000):
        released = time.monotonic()
        gate.set()
    assert ran.is_set() and load.state == JobState.DONE and load.waiting_for == ""
    assert load.started_at >= released  # its clock started when it ran, not when it was queued
    assert training.finished_at <= load.finished_at


def test_cancelling_a_queued_job_ends_it_at_once(qtbot, runner):
    training, gate, inside = _gate_job(runner)
    assert inside.wait(5)
    ran = threading.Event()
    queued = runner.submit("Run sentiment", lambda progress, cancel: ran.set())
    with qtbot.waitSignal(queued.finished, timeout=1000):
        queued.cancel()  # no waiting for the training run to end
    assert queued.state == JobState.CANCELLED and training.is_active
    gate.set()
    with qtbot.waitSignal(training.finished, timeout=5000):
        pass
    after = runner.submit("after", lambda progress, cancel: "ok")
    with qtbot.waitSignal(after.finished, timeout=5000):
        pass
    assert not ran.is_set()  # the cancelled job never ran, and the lane still works


def test_only_immutable_progress_events(qtbot, runner):
    import dataclasses

    def work(progress, cancel):
        progress(1, 2, "half", ("a", "b"))
        return "ok"

    job = runner.submit("frozen", work)
    events = []
    job.progress.connect(events.append)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].done = 2


# -- the Jobs dock ---------------------------------------------------------------------------------------------
@pytest.fixture
def dock(qtbot, settings):
    from gui.context import AppContext
    from gui.jobs.panel import JobsPanel

    context = AppContext(settings)
    panel = JobsPanel(context)
    qtbot.addWidget(panel)
    yield panel
    context.runner.shutdown()


def test_dock_shows_the_wait_then_compact_finished_rows(qtbot, dock):
    runner = dock.context.runner
    training, gate, inside = _gate_job(runner)
    assert inside.wait(5)
    load = runner.submit("Loading the built-in model", lambda progress, cancel: "loaded")
    row = dock.row_for(load)
    assert row.item.text(2) == "waiting for: Training on reviews.csv"
    assert dock.summary.text() == "1 job(s) running. 1 waiting."
    assert row.cancel_button.isEnabled()  # the wait can be cancelled
    with qtbot.waitSignal(load.finished, timeout=5000):
        gate.set()
    for job in (training, load):
        row = dock.row_for(job)
        assert row.compact and dock.tree.itemWidget(row.item, 1) is None  # no bar, no disabled buttons
        assert row.item.text(2) == "done" and row.item.text(1).endswith(" s")
    assert dock.summary.text() == "No jobs running."


def test_dock_pause_label_follows_the_job_signals(qtbot, dock):
    training, gate, inside = _gate_job(dock.context.runner)
    training.can_pause = True
    assert inside.wait(5)
    qtbot.waitUntil(lambda: training.state == JobState.RUNNING, timeout=5000)
    row = dock.row_for(training)
    training.pause()  # paused by someone else (e.g. the Analyse panel's button)
    assert row.pause_button.text() == "Resume" and row.item.text(2) == "paused"
    row.pause_button.click()
    assert not training.is_paused and row.pause_button.text() == "Pause" and row.item.text(2) == "running"
    gate.set()


def test_dock_keeps_one_row_per_key_and_a_few_finished_jobs(qtbot, dock):
    from gui.jobs.panel import KEEP_FINISHED

    runner = dock.context.runner
    for text in ("T", "Ty", "Typ", "Type", "Typed"):  # debounced keystrokes: each supersedes the last
        job = runner.submit("Tokenize", lambda progress, cancel, text=text: text, key="tokenizer-encode", lane="io")
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert [row.job.title for row in dock.rows] == ["Tokenize"]
    for number in range(KEEP_FINISHED + 4):
        job = runner.submit(f"Job {number}", lambda progress, cancel: None, lane="io")
        with qtbot.waitSignal(job.finished, timeout=5000):
            pass
    assert len(dock.rows) == dock.tree.topLevelItemCount() == KEEP_FINISHED
    assert dock.tree.topLevelItem(0).text(0) == f"Job {KEEP_FINISHED + 3}"  # newest first
    hidden = runner.submit("Reading results", lambda progress, cancel: None, lane="io", listed=False)
    assert dock.row_for(hidden) is None
