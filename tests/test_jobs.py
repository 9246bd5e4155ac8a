"""The job runner: results, errors, cancel mid-job, supersede by key, throttled progress, shutdown."""

import threading

import pytest

from gui.jobs.runner import JobRunner, JobState
from services.core.errors import InputError


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
