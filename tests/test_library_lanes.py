"""Library file operations run on the "io" lane: they finish while a training run holds the "model" lane."""

from __future__ import annotations

import dataclasses
import json
import threading

from gui.jobs.runner import JobState
from services.library.folder import library_dir
from tests.test_library_panel import context, finish, loaded_classifier, panel  # noqa: F401 - fixtures

WAIT = 30_000  # were they queued behind the blocked model lane, they would never finish


def test_rename_delete_edit_labels_duplicate_import_do_not_wait_for_training(qtbot, panel, context, tmp_path,
                                                                            tiny_ner):
    gate, inside = threading.Event(), threading.Event()

    def training(progress, cancel):
        inside.set()
        while not gate.wait(0.01):
            cancel.check()
        return "trained"

    train_job = context.runner.submit("Training on reviews.csv", training, lane="model")
    assert inside.wait(10)
    try:
        entry = next(e for e in panel.entries() if e.name == "my-sentiment")
        jobs = {}
        jobs["rename"] = panel.rename(entry, "reviews")
        assert "result" in finish(qtbot, jobs["rename"], WAIT) and (library_dir() / "reviews").is_dir()
        renamed = dataclasses.replace(entry, name="reviews", path=library_dir() / "reviews",
                                      spec=str(library_dir() / "reviews"))
        jobs["labels"] = panel.edit_labels(renamed, ["bad", "good"])
        assert "result" in finish(qtbot, jobs["labels"], WAIT)
        config = json.loads((library_dir() / "reviews" / "config.json").read_text())
        assert config["id2label"] == {"0": "bad", "1": "good"}
        jobs["duplicate"] = panel.duplicate(renamed, "reviews-copy")
        assert "result" in finish(qtbot, jobs["duplicate"], WAIT)
        jobs["import"] = panel.import_folder(str(tiny_ner), "people-ner")
        assert "result" in finish(qtbot, jobs["import"], WAIT)
        jobs["delete"] = panel.delete(renamed)
        assert "result" in finish(qtbot, jobs["delete"], WAIT)
        assert all(job.lane == "io" and job.state == JobState.DONE for job in jobs.values()), jobs
        assert train_job.is_active and not gate.is_set()  # all of it while the training run went on
        assert not (library_dir() / "reviews").exists() and (library_dir() / "reviews-copy").is_dir()
        # what loads a model still queues behind the training run, and says so
        copy = dataclasses.replace(entry, name="reviews-copy", path=library_dir() / "reviews-copy",
                                   spec=str(library_dir() / "reviews-copy"))
        verify = panel.verify(copy)
        assert verify.lane == "model" and verify.status_text() == "waiting for: Training on reviews.csv"
    finally:
        gate.set()
    with qtbot.waitSignal(verify.finished, timeout=60_000):
        pass
    assert verify.state == JobState.DONE
