"""First use of the other panels: Train follows the app's device (and its out-of-memory → CPU offer) and
forgets a bad file's predecessor; the Batch tab's advice names truncation; Internals opens a tab with
content for the built-in model; the Hub dialog clears "Contacting …" after a failure; file dialogs open
in Documents or the last folder; the Log gives expected errors one line and bugs their traceback."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtWidgets import QFileDialog

import gui.dialogs
from gui.common import file_dialogs
from gui.context import AppContext
from gui.settings import Key, Settings
from services.core.devices import DeviceInfo
from services.core.errors import DeviceError, InputError

WAIT = 60_000
CPU = DeviceInfo("cpu", "CPU", ("float32",), (("float32", True, ""),))
GPU = DeviceInfo("cuda:0", "GPU 0 (test)", ("float32", "float16"), (("float32", True, ""), ("float16", True, "")))


def finish(qtbot, job):
    with qtbot.waitSignal(job.finished, timeout=WAIT):
        pass


# -- Train -------------------------------------------------------------------------------------------------
def test_train_device_follows_the_app_and_its_cpu_offer(qtbot, main_window, monkeypatch):
    context, train = main_window.context, main_window.panels["TrainDock"]
    context.devices = [CPU, GPU]
    context.sig_devices_detected.emit(context.devices)
    combo = train.params.device
    assert [combo.itemData(i) for i in range(combo.count())] == ["cpu", "cuda:0"]
    context.set_device("cuda:0", "float16")  # Settings ▸ Device (or the status bar)
    assert train.params.device_name() == "cuda:0"
    combo.setCurrentIndex(0)
    combo.activated.emit(0)  # the user picks CPU in the Train form: the app's device follows
    assert context.device == "cpu" and context.precision == "float32" and main_window.device_combo.currentData() == "cpu"
    context.set_device("cuda:0", "float32")

    def out_of_memory(progress, cancel):
        raise DeviceError("cuda:0 ran out of memory while training.", fallback="cpu")

    monkeypatch.setitem(gui.dialogs.auto_answers, "cpu_fallback", True)
    finish(qtbot, train._submit("Training on nothing", out_of_memory))
    assert "ran out of memory" in gui.dialogs.shown_errors[-1]
    assert context.device == "cpu" and train.params.device_name() == "cpu"
    assert "Switched to CPU" in train.curves.status.text()


def test_train_bad_file_clears_the_previous_files_columns(qtbot, main_window, tmp_path):
    data = main_window.panels["TrainDock"].data_box
    good = tmp_path / "reviews.csv"
    good.write_text("review,stars\n" + "".join(f"text {i},{'pos' if i % 2 else 'neg'}\n" for i in range(20)))
    data.load_file(str(good))
    qtbot.waitUntil(lambda: data.summary is not None, timeout=WAIT)
    assert data.text_combo.count() == 2 and data.preview.columnCount() == 2
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 64)
    data.load_file(str(binary))
    qtbot.waitUntil(lambda: data.summary is None and "Reading" not in data.message.text(), timeout=WAIT)
    assert data.preview.columnCount() == 0 and data.preview.rowCount() == 0
    assert data.text_combo.count() == 0 and data.label_combo.count() == 0 and data.labels.rowCount() == 0


# -- Tokenizer ---------------------------------------------------------------------------------------------
def test_batch_advice_names_truncation_when_max_length_padding_is_ragged():
    from services.tokenizer.batch import encode_batch
    from services.tokenizer.inspect import load_tokenizer

    handle = load_tokenizer("builtin")
    lines = ["Short.", "A much longer line that has many more tokens than the limit."]
    padded = encode_batch(handle, lines, padding="max_length", max_length=6, truncation="none")
    assert "Turn truncation on" in padded.tensor_note and "Choose padding" not in padded.tensor_note
    unpadded = encode_batch(handle, lines, padding="none")
    assert "Choose padding 'longest' or 'max_length'" in unpadded.tensor_note
    assert encode_batch(handle, lines, padding="max_length", max_length=6, truncation="longest_first").tensor_note == ""


# -- Internals ---------------------------------------------------------------------------------------------
def test_internals_shows_a_tab_with_content_for_the_builtin_model(qtbot, settings):
    from gui.internals.panel import InternalsPanel

    panel = InternalsPanel(AppContext(settings))
    qtbot.addWidget(panel)
    panel.resize(1100, 800)
    panel.show()
    panel.picker.set_current_spec("builtin")
    assert panel.tabs.currentWidget() is panel.scores_table
    with qtbot.waitSignal(panel.sig_result, timeout=WAIT):
        panel.run_button.click()
    assert panel.tabs.currentWidget() is panel.attention_view
    assert not panel.tabs.isTabEnabled(panel.tabs.indexOf(panel.scores_table))
    panel.context.runner.shutdown()


# -- Library: the Hub dialog -------------------------------------------------------------------------------
def test_hub_download_failure_clears_contacting(qtbot, main_window, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    dialog = main_window.panels["LibraryDock"].open_hub()
    seen = []
    dialog.repo_edit.setText("someone/some-model")
    job = dialog.download()
    job.progress.connect(lambda event: seen.append(event.message))
    finish(qtbot, job)
    assert "Cannot reach the Hub" in dialog.status.text()
    assert "Contacting" not in dialog.file_label.text() and dialog.file_label.text() == ""
    dialog.close()


# -- File dialogs ------------------------------------------------------------------------------------------
def test_dialogs_open_in_documents_then_the_last_folder(qtbot, main_window, settings, tmp_path, monkeypatch):
    asked = []

    def fake_open(parent, title, folder, file_filter):
        asked.append(folder)
        return str(tmp_path / "data" / "reviews.csv"), file_filter

    def fake_save(parent, title, path, file_filter):
        asked.append(path)
        return "", file_filter

    (tmp_path / "data").mkdir()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_open))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    documents = file_dialogs.documents_folder()
    assert file_dialogs.start_folder() == documents
    main_window.panels["TrainDock"].data_box._browse()  # Train ▸ Browse… opens in Documents
    assert asked[-1] == str(documents)
    assert file_dialogs.start_folder() == tmp_path / "data"  # then where the file was
    file_dialogs.save_file(None, "Export results", "analysis.csv", "CSV (*.csv)")
    assert asked[-1] == str(tmp_path / "data" / "analysis.csv")
    main_window.context.settings.sync()
    assert Settings(settings.path).get(Key.LAST_FOLDER) == str(tmp_path / "data")  # kept for the next session


# -- Log ---------------------------------------------------------------------------------------------------
def test_log_one_line_for_expected_errors_traceback_for_bugs(qtbot, main_window, monkeypatch):
    import gui.main_window

    details = []
    monkeypatch.setattr(gui.main_window, "show_error", lambda parent, title, error, text="": details.append(text))
    log_view = main_window.panels["LogDock"].view

    def bad_file(progress, cancel):
        raise InputError("'photo.csv' is a binary file, not text.", hint="Choose a CSV, TSV or JSON lines file.")

    def bug(progress, cancel):
        raise ZeroDivisionError("division by zero")

    finish(qtbot, main_window.context.runner.submit("Reading photo.csv", bad_file, lane="io"))
    qtbot.waitUntil(lambda: "Reading photo.csv failed" in log_view.toPlainText(), timeout=5000)
    text = log_view.toPlainText()
    assert "binary file" in text and "Traceback" not in text
    assert details == [""]  # no "Show Details…" traceback either
    finish(qtbot, main_window.context.runner.submit("Counting", bug, lane="io"))
    qtbot.waitUntil(lambda: "Counting failed" in log_view.toPlainText(), timeout=5000)
    assert "Traceback" in log_view.toPlainText() and "ZeroDivisionError" in log_view.toPlainText()
    assert "Traceback" in details[-1]


@pytest.fixture(autouse=True)
def _no_settings_leak():
    yield
    file_dialogs.use_settings(None)  # the next test's window registers its own


# -- Analyse -----------------------------------------------------------------------------------------------
def test_a_new_analysis_clears_the_old_detail_and_comparison(qtbot, main_window, tmp_path):
    panel = main_window.panels["AnalyseDock"]
    texts = tmp_path / "notes.txt"
    texts.write_text("The match ended in a draw.\nParliament passed the bill.\n", encoding="utf-8")
    panel.results.detail.setPlainText("a record of the previous analysis")
    panel.compare.summary.setText("Agreement 50.0% between a (A) and b (B)")
    panel.compare.table.setRowCount(3)
    panel.inputs.files.add_paths([str(texts)])
    panel.task.setCurrentIndex(panel.task.findData("zero-shot-classification"))
    panel.picker.set_current_spec("builtin")
    panel.labels_edit.setText("sports, politics")
    job = panel.start_analysis()
    assert job is not None
    assert panel.results.detail.toPlainText() == "" and panel.compare.table.rowCount() == 0
    assert "Pick a second model" in panel.compare.summary.text()
    finish(qtbot, job)
