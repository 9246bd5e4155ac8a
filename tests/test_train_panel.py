"""The Train panel driven like a user would: choose data, train a tiny model, watch curves, cancel, save."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMetaObject, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

import gui.dialogs
from gui.context import AppContext
from gui.train.panel import TrainPanel
from services.training.trainer import _Run
from tests.test_training_data import sentiment_rows, write_conll, write_csv

TIMEOUT = 60_000


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def panel(qtbot, settings, tiny_encoder):
    context = AppContext(settings)
    widget = TrainPanel(context)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.picker.open_folder(str(tiny_encoder))
    widget.params.epochs.setValue(3)
    widget.params.min_steps.setValue(0)  # exactly the epochs: these tests count epochs
    widget.params.learning_rate.setCurrentText("1e-2")
    widget.params.batch_size.setValue(8)
    widget.params.max_length.setValue(32)
    widget.params.warmup.setValue(0)
    widget.params.patience.setValue(0)
    yield widget
    widget.shutdown()
    context.runner.shutdown()


def load(qtbot, panel, path):
    with qtbot.waitSignal(panel.data_box.sig_summary, timeout=TIMEOUT) as blocker:
        panel.data_box.load_file(str(path))
    return blocker.args[0]


def train(qtbot, panel, start=None):
    with qtbot.waitSignal(panel.sig_finished, timeout=TIMEOUT) as blocker:
        (start or panel.start_training)()
    return blocker.args[0]


def test_train_end_to_end_then_save_to_library(qtbot, panel, tmp_path, tiny_encoder):
    summary = load(qtbot, panel, write_csv(tmp_path / "reviews.csv", sentiment_rows(48)))
    assert summary["counts"] == {"negative": 24, "positive": 24}
    assert panel.data_box.preview.rowCount() == 20 and panel.data_box.preview.columnCount() == 2
    assert panel.data_box.text_combo.currentText() == "text" and panel.data_box.label_combo.currentText() == "label"
    assert panel.data_box.labels.rowCount() == 2 and panel.data_box.labels.item(1, 2).text() == "24"
    panel.data_box.labels.item(1, 1).setText("good")  # rename a label
    assert panel.picker.current_spec() == str(tiny_encoder)

    models_changed = []
    panel.context.sig_models_changed.connect(lambda: models_changed.append(True))
    assert train(qtbot, panel) == "done"
    assert panel.curves.loss_points() >= 10 and panel.curves.metric_points() == 3
    assert panel.curves.progress.value() == panel.curves.progress.maximum()
    result = panel.result
    assert result.label_names == ["negative", "good"] and result.model.config.id2label == {0: "negative", 1: "good"}
    assert panel.results.confusion.rowCount() == 2 and panel.results.confusion.verticalHeaderItem(1).text() == "good"
    assert sum(int(panel.results.confusion.item(r, c).text()) for r in range(2) for c in range(2)) == result.validation_size
    assert "accuracy" in panel.results.summary.text() and panel.results.save_button.isEnabled()
    assert panel.train_button.isEnabled() and not panel.cancel_button.isEnabled()

    panel.results.name_edit.setText("my reviews")
    with qtbot.waitSignal(panel.sig_saved, timeout=TIMEOUT) as saved:
        panel.results.save_button.click()
    folder = panel.context.library_dir / "my reviews"
    assert saved.args[0] == str(folder) and (folder / "README.md").is_file() and models_changed
    assert "Saved to the library" in panel.results.save_message.text()
    # the new model is offered as a base model now (the model catalogue reads it on a worker)
    qtbot.waitUntil(lambda: panel.picker.combo.findData(str(folder)) >= 0, timeout=TIMEOUT)
    # The same name again: a clear message, nothing overwritten.
    panel.results.save_button.setEnabled(True)
    job = panel.save("my reviews")
    qtbot.waitUntil(lambda: not job.is_active, timeout=TIMEOUT)
    assert "already exists" in panel.results.save_message.text() and panel.results.save_button.isEnabled()


def click_cancel_when(monkeypatch, panel, condition):
    """Click the panel's Cancel button at an exact point of the run.

    The worker waits (blocking queued call) while the GUI thread handles the click, so the cancel
    lands right at the step chosen, however fast the tiny model trains.
    """
    original = _Run.check_cancel

    def check(run):
        if condition(run) and not run.cancel.cancelled:
            QMetaObject.invokeMethod(panel.cancel_button, "click", Qt.ConnectionType.BlockingQueuedConnection)
        return original(run)

    monkeypatch.setattr(_Run, "check_cancel", check)


def test_cancel_in_the_first_step(qtbot, panel, tmp_path, monkeypatch):
    load(qtbot, panel, write_csv(tmp_path / "reviews.csv", sentiment_rows(48)))
    steps = []
    click_cancel_when(monkeypatch, panel, lambda run: steps.append(run.step) or run.step == 1)
    assert train(qtbot, panel) == "cancelled" and steps == [1] and panel.result is None
    assert "nothing to keep" in panel.results.summary.text() and not panel.results.save_button.isEnabled()
    assert panel.train_button.isEnabled()


@pytest.mark.parametrize("keep", [True, False])
def test_cancel_in_the_last_epoch_keeps_the_best_if_asked(qtbot, panel, tmp_path, keep, monkeypatch):
    assert gui.dialogs.DIALOGS_ENABLED is False  # the answer comes from keep_best_on_cancel
    panel.keep_best_on_cancel = keep
    load(qtbot, panel, write_csv(tmp_path / "reviews.csv", sentiment_rows(48)))
    click_cancel_when(monkeypatch, panel, lambda run: run.epoch > 2.2)
    outcome = train(qtbot, panel)
    if keep:
        assert outcome == "kept"
        assert panel.result.cancelled and len(panel.result.history) == 2 and panel.results.save_button.isEnabled()
        assert "cancelled — kept epoch" in panel.results.summary.text()
    else:
        assert outcome == "discarded" and panel.result is None
        assert "discarded" in panel.results.summary.text() and not panel.results.save_button.isEnabled()


def test_bad_inputs_are_explained(qtbot, panel, tmp_path):
    assert train(qtbot, panel) == "failed"
    assert "Choose a labelled data file" in gui.dialogs.shown_errors[-1]
    # only one class: the data box says so at once, and Train refuses with the same reason
    one = write_csv(tmp_path / "one.csv", [(f"good {i}", "positive") for i in range(20)])
    summary = load(qtbot, panel, one)
    assert summary["problems"] and "two classes" in panel.data_box.message.text()
    assert train(qtbot, panel) == "failed" and "at least two classes" in gui.dialogs.shown_errors[-1]
    # too few rows, missing label column
    load(qtbot, panel, write_csv(tmp_path / "few.csv", sentiment_rows(6)))
    assert "at least 10" in panel.data_box.message.text()
    only_text = tmp_path / "only.csv"
    only_text.write_text("text\n" + "\n".join(t for t, _ in sentiment_rows(20)))
    load(qtbot, panel, only_text)
    assert "no label column" in panel.data_box.message.text()
    assert train(qtbot, panel) == "failed" and "no label column" in gui.dialogs.shown_errors[-1]
    # a learning rate that is not a number
    load(qtbot, panel, write_csv(tmp_path / "ok.csv", sentiment_rows(20)))
    panel.params.learning_rate.setCurrentText("fast")
    assert train(qtbot, panel) == "failed" and "not a number" in gui.dialogs.shown_errors[-1]
    # an unreadable file: the message replaces the preview
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    assert load(qtbot, panel, tmp_path / "x.xlsx") is None and "file type" in panel.data_box.message.text()


def test_imbalance_warning_and_numeric_labels(qtbot, panel, tmp_path):
    rows = [(f"good thing {i}", "1") for i in range(40)] + [(f"bad thing {i}", "0") for i in range(4)]
    load(qtbot, panel, write_csv(tmp_path / "skew.csv", rows))
    assert "imbalance" in panel.data_box.message.text()
    assert [panel.data_box.labels.item(r, 0).text() for r in range(2)] == ["0", "1"]
    assert panel.data_box.labels.item(0, 2).background().color().name() == "#ffe0b2"


def test_drop_a_file_and_ner_task(qtbot, panel, tmp_path):
    panel.set_task("token-classification")
    assert not panel.data_box.label_combo.isVisibleTo(panel)
    path = write_conll(tmp_path / "ner.conll", repeat=4)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(panel.data_box.sig_summary, timeout=TIMEOUT) as blocker:
        panel.data_box.dropEvent(event)
    assert panel.data_box.path() == str(path) and blocker.args[0]["labels"][0] == "O"
    assert panel.data_box.labels.rowCount() == 9
    panel.params.epochs.setValue(2)
    panel.data_box.validation_edit.setText(str(write_conll(tmp_path / "val.conll", repeat=1)))
    panel.data_box.file_radio.setChecked(True)
    assert train(qtbot, panel) == "done"
    assert panel.result.metric_name == "entity_f1" and panel.curves.metric_points() == 2
    assert panel.result.validation_source == "val.conll" and panel.result.validation_size == 4
    assert panel.results.confusion.rowCount() == 9


def test_switching_task_shows_its_default_learning_rate_but_keeps_one_the_user_typed(qtbot, settings):
    context = AppContext(settings)
    widget = TrainPanel(context)
    qtbot.addWidget(widget)
    rate = widget.params.learning_rate
    assert widget.task() == "text-classification" and rate.currentText() == "5e-5"
    assert widget.params.hyperparameters().learning_rate == 5e-5
    widget.set_task("token-classification")
    assert rate.currentText() == "1e-4"
    widget.set_task("text-classification")
    assert rate.currentText() == "5e-5"
    rate.setCurrentText("2e-5")
    widget.set_task("token-classification")
    assert rate.currentText() == "2e-5"
    widget.shutdown()
    context.runner.shutdown()


def test_the_train_dock_is_in_the_main_window(main_window):
    assert "TrainDock" in main_window.docks
    panel = main_window.panels["TrainDock"]
    assert panel.picker.current_spec() == "builtin" and panel.task() == "text-classification"


def test_the_starter_button_sets_everything_up_and_trains_the_built_in_model(qtbot, panel, monkeypatch):
    """One click: built-in model, starter data, starter settings (stopped after its first real step here)."""
    from services.training.data import prepare_data
    from services.training.starter import STARTERS, starter_files

    steps = []
    click_cancel_when(monkeypatch, panel, lambda run: steps.append(run.step) or run.step == 1)
    assert train(qtbot, panel, panel.starter_button.click) == "cancelled" and steps == [1]
    assert panel.picker.current_spec() == "builtin" and panel.task() == "text-classification"
    assert panel.data_box.path() == str(starter_files()[0]) and panel.data_box.split_spin.value() == 10
    assert panel.params.hyperparameters() == STARTERS["text-classification"].hyperparameters
    starter = STARTERS["text-classification"]
    hp = starter.hyperparameters
    train_texts = len(prepare_data(starter_files()[0], "text-classification",
                                   validation_fraction=starter.validation_fraction, seed=hp.seed).train)
    assert panel.curves.loss_points() == 1
    assert panel.curves.progress.maximum() == -(-train_texts // hp.batch_size) * hp.planned_epochs(train_texts)
    assert not (panel.context.library_dir / "starter-sentiment").exists()  # a cancelled starter run is not saved
