"""The Run panel as a new user first meets it: no unlabelled bar before a run, a second run on the same
model reuses it (no "Loading" job, the same model object), Show code follows the task on screen."""

from __future__ import annotations

import pytest

from gui.run.panel import RunPanel

TIMEOUT = 120_000  # generous: shared machines; nothing here asserts a duration


@pytest.fixture(scope="module", autouse=True)
def heavy_modules_imported():
    from services.core.warmup import import_heavy_modules

    import_heavy_modules()


@pytest.fixture
def panel(main_window) -> RunPanel:
    return main_window.panels["RunDock"]


def run_and_wait(qtbot, panel, jobs):
    jobs.clear()
    with qtbot.waitSignal(panel.sig_run_finished, timeout=TIMEOUT) as blocker:
        panel.run()
    assert blocker.args == ["done"], panel.status.text()


def test_no_bar_before_the_first_similarity(qtbot, panel):
    panel.set_task("sentence-similarity")
    view = panel.views["sentence-similarity"]
    assert not view.bar.isVisible() and not view.bar.isVisibleTo(panel)
    view.show_result({"cosine": 0.5, "shape": [384], "pooling": "mean"})
    assert view.bar.isVisibleTo(panel) and "cosine +0.500" in view.bar.format()
    view.clear()
    assert not view.bar.isVisibleTo(panel)


def test_a_second_zero_shot_run_on_the_builtin_model_does_not_reload_it(qtbot, main_window, panel):
    from services.core.models import default_host

    default_host.forget()
    jobs = []
    main_window.context.runner.job_added.connect(lambda job: jobs.append(job))
    panel.set_task("zero-shot-classification")
    assert panel.picker.current_spec() == "builtin"
    run_and_wait(qtbot, panel, jobs)
    first = [job for job in jobs if job.lane == "model"]
    assert first[0].title == "Loading the built-in model"
    held = default_host.loaded_models()
    assert len(held) == 1
    run_and_wait(qtbot, panel, jobs)
    second = [job for job in jobs if job.lane == "model"]
    assert [job.title for job in second][0] == "Using the built-in model"
    assert not any(job.title.startswith("Loading") for job in second)
    assert default_host.loaded_models() == held and default_host.loaded_models()[0].model is held[0].model
    assert panel.last_results[0]["labels"]


def test_show_code_follows_the_task_on_screen(qtbot, main_window, panel, tiny_classifier):
    jobs = []
    panel.set_task("zero-shot-classification")
    run_and_wait(qtbot, panel, jobs)
    assert "label_vectors" in panel.current_code()
    panel.set_task("sentence-similarity")  # the last run was zero-shot: the code is for similarity now
    code = panel.current_code()
    assert "label_vectors" not in code and '"cosine"' in code
    panel.set_task("text-classification")  # no model can do it: no code, and the button says why
    assert panel.picker.current_spec() is None and not panel.code_button.isEnabled()
