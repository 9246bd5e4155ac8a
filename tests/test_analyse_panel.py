"""The Analyse panel end to end with qtbot: files (buttons' API and drag & drop), preview pickers,
run, results table and detail, chart, evaluation, warnings, pause/resume, cancel + resume, export, compare."""

from __future__ import annotations

import csv
import json

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

import gui.dialogs
from gui.context import AppContext
from gui.analyse.panel import AnalysePanel
from gui.analyse.results_model import COLUMNS
from tests import tiny_models

WAIT = 120_000


@pytest.fixture
def panel(qtbot, settings):
    context = AppContext(settings)
    widget = AnalysePanel(context)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    yield widget
    context.runner.shutdown()


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "reviews"
    root.mkdir()
    (root / "notes.txt").write_text("Maria Lopez lives in Berlin.\nThe soup was cold.\n\nGreat hotel!\n")
    rows = [("The film was a delight", "positive"), ("Slow service, cold food", "negative"),
            ("I could not put the book down", "positive"), ("The app crashes on start", "negative")]
    with open(root / "labelled.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review", "sentiment"])
        for number, (text, label) in enumerate(rows):
            writer.writerow([number, text, label])
    (root / "broken.jsonl").write_text('{"review": "ok line"}\n{broken\n')
    (root / "image.txt").write_bytes(b"\x00\x01PNG")
    return root


def run_and_wait(qtbot, panel, start=None):
    """Start an analysis and wait until it ended and the table shows every result it wrote."""
    job = (start or panel.start_analysis)()
    assert job is not None, gui.dialogs.shown_errors
    with qtbot.waitSignals([job.finished, panel.sig_results_shown], timeout=WAIT):
        pass
    return job


def drop_paths(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event


def test_analyse_a_folder_end_to_end(qtbot, panel, folder, tmp_path, tiny_classifier):
    event = drop_paths(panel.inputs.files, [folder])
    assert event.isAccepted() and panel.inputs.files.paths() == [str(folder)]
    qtbot.waitUntil(lambda: panel.inputs.column.findData("review") >= 0, timeout=WAIT)
    assert panel.inputs.column.currentData() == "review"  # guessed from the preview
    assert panel.inputs.gold.currentData() == "sentiment"
    assert panel.inputs.preview.rowCount() == 4
    panel.picker.open_folder(str(tiny_classifier))
    job = run_and_wait(qtbot, panel)
    assert job.state == "done", job.error_value
    result = panel.last_result
    assert result.rows == 8 and panel.model.rowCount() == 8  # 1 jsonl + 4 csv + 3 txt
    texts = sorted(panel.model.record(r)["text"] for r in range(8))
    assert "Great hotel!" in texts and "ok line" in texts and "The film was a delight" in texts
    # results table: click a row, the detail shows its text
    row = next(r for r in range(8) if panel.model.record(r)["text"] == "Great hotel!")
    qtbot.mouseClick(panel.results.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.results.table.visualRect(panel.model.index(row, 0)).center())
    assert "Great hotel!" in panel.results.detail.toPlainText()
    # chart and label filter
    assert sum(count for _name, count in panel.chart.counts) == 8
    names = [panel.results.label_filter.itemText(i) for i in range(1, panel.results.label_filter.count())]
    assert set(names) <= {"negative", "positive"} and names
    panel.results.label_filter.setCurrentText(names[0])
    assert panel.model.rowCount() == dict(panel.model.label_counts())[names[0]]
    assert {panel.model.data(panel.model.index(r, COLUMNS.index("Label"))) for r in range(panel.model.rowCount())} \
        == {names[0]}
    panel.results.label_filter.setCurrentIndex(0)
    # evaluation against the gold column
    qtbot.waitUntil(lambda: "Accuracy" in panel.evaluation.summary.text(), timeout=WAIT)
    assert "4 records" in panel.evaluation.summary.text()
    assert panel.evaluation.confusion.rowCount() == 2 and panel.evaluation.per_class.rowCount() == 2
    # per-file warnings
    warnings = [panel.warnings.item(i).text() for i in range(panel.warnings.count())]
    assert any("image.txt" in w and "binary" in w for w in warnings)
    assert any("broken.jsonl line 2" in w for w in warnings)
    assert panel.tabs.tabText(2) == f"Warnings ({len(warnings)})"
    # export next to a manifest
    target = tmp_path / "exports" / "labels.csv"
    export_job = panel.export_to(str(target), "csv")
    with qtbot.waitSignal(export_job.finished, timeout=WAIT):
        pass
    with open(target, newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 8
    manifest = json.loads((target.parent / "labels.manifest.json").read_text())
    assert manifest["export"]["format"] == "csv" and manifest["counts"]["records"] == 8
    # compare with a second model on the same input
    other = tiny_models.build_classifier(tmp_path / "other-model", seed=9)
    panel.compare_picker.open_folder(str(other))
    compare_job = panel.start_compare()
    with qtbot.waitSignal(compare_job.finished, timeout=WAIT):
        pass
    qtbot.waitUntil(lambda: "Agreement" in panel.compare.summary.text(), timeout=WAIT)
    disagreements = panel.compare.table.rowCount()
    assert f"{8 - disagreements:,} of 8 records" in panel.compare.summary.text()
    assert panel.model.rowCount() == 8  # the table still shows model A


def test_export_failure_is_shown(qtbot, panel, folder, tmp_path, tiny_classifier):
    panel.inputs.files.add_paths([folder / "notes.txt"])
    panel.picker.open_folder(str(tiny_classifier))
    run_and_wait(qtbot, panel)
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    job = panel.export_to(str(blocker / "out.csv"), "csv")
    with qtbot.waitSignal(job.finished, timeout=WAIT):
        pass
    assert job.state == "failed" and job.show_errors  # the main window shows it in a dialog and the log
    assert "Export failed: Cannot write to" in panel.status.text() and "is a file, not a folder" in panel.status.text()


def test_entities_are_highlighted_and_counted(qtbot, panel, folder, tiny_ner):
    panel.task.setCurrentIndex(panel.task.findData("token-classification"))
    panel.inputs.files.add_paths([folder / "notes.txt"])
    panel.picker.open_folder(str(tiny_ner))
    run_and_wait(qtbot, panel)
    assert panel.model.rowCount() == 3
    assert panel.chart.title.text() == "Top entities by count" and panel.chart.counts
    row = next(r for r in range(3) if panel.model.record(r)["entities"])
    panel.results.show_row(row)
    assert "background-color" in panel.results.detail.toHtml()


def test_cancel_then_analyse_again_resumes(qtbot, panel, tmp_path, tiny_classifier):
    data = tmp_path / "many.txt"
    data.write_text("".join(f"line {i} " + "word " * (i % 29) + "\n" for i in range(3000)))
    panel.inputs.files.add_paths([data])
    panel.picker.open_folder(str(tiny_classifier))
    job = panel.start_analysis()
    job.progress.connect(lambda event: job.cancel() if isinstance(event.data, dict) and event.data.get("rows") else None)
    with qtbot.waitSignals([job.finished, panel.sig_results_shown], timeout=WAIT):
        pass
    assert job.state == "cancelled"
    assert "Cancelled" in panel.status.text()
    done = panel.model.total_rows
    assert 0 < done < 3000
    run_and_wait(qtbot, panel)
    assert panel.last_result.resumed_rows >= done and panel.last_result.rows == 3000
    qtbot.waitUntil(lambda: panel.model.total_rows == 3000, timeout=WAIT)
    assert "resumed" in panel.status.text()


def test_pause_and_resume(qtbot, panel, tmp_path, tiny_classifier):
    """The panel's Pause button and the Jobs dock's follow the job's paused/resumed signals, so they agree."""
    from gui.jobs.panel import JobsPanel

    dock = JobsPanel(panel.context)
    qtbot.addWidget(dock)
    data = tmp_path / "many.txt"
    data.write_text("".join(f"pause test {i}\n" for i in range(2000)))
    panel.inputs.files.add_paths([data])
    panel.picker.open_folder(str(tiny_classifier))
    job = panel.start_analysis()
    assert job.can_pause
    row = dock.row_for(job)
    qtbot.waitUntil(lambda: panel.model.total_rows > 0, timeout=WAIT)
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert job.token.paused and panel.pause_button.text() == "Resume"
    assert row.pause_button.text() == "Resume" and row.item.text(2) == "paused"
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)  # resumed from the dock
    assert not job.token.paused and panel.pause_button.text() == "Pause" and "Resumed" in panel.status.text()
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)  # paused from the dock
    assert job.token.paused and panel.pause_button.text() == "Resume" and "Paused after" in panel.status.text()
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert not job.token.paused and row.pause_button.text() == "Pause"
    with qtbot.waitSignal(job.finished, timeout=WAIT):
        pass
    assert job.state == "done" and panel.last_result.rows == 2000


def test_no_files_is_a_clear_error(qtbot, panel):
    assert panel.start_analysis() is None
    assert any("no files" in e for e in gui.dialogs.shown_errors)


def test_detail_view_never_loads_a_huge_text_whole():
    from gui.analyse.results_view import DETAIL_CHARS, highlighted_html

    text = "x" * 5_000_000
    shown = highlighted_html(text, [{"entity_group": "PER", "start": 0, "end": 3, "score": 0.9},
                                    {"entity_group": "LOC", "start": 4_000_000, "end": 4_000_005, "score": 0.8}])
    assert len(shown) < DETAIL_CHARS + 1000 and "4,980,000 more characters not shown" in shown
    assert shown.count("<span") == 1  # the entity beyond the shown part is not drawn


# -- no file reading, parsing or folder walking on the GUI thread --------------------------------------------
def test_results_are_parsed_on_a_worker_and_shown_as_they_arrive(qtbot, panel, tmp_path, tiny_classifier,
                                                                 monkeypatch):
    import threading

    import services.analyse.tail as tail

    parsed_on = []
    real_table_row = tail.table_row

    def table_row(row):
        parsed_on.append(threading.current_thread() is threading.main_thread())
        return real_table_row(row)

    monkeypatch.setattr(tail, "table_row", table_row)
    monkeypatch.setattr(tail, "CHUNK_ROWS", 50)  # many chunks, so rows arrive while the run goes on
    data = tmp_path / "many.txt"
    data.write_text("".join(f"stream {i} " + "word " * (i % 13) + "\n" for i in range(1500)))
    panel.inputs.files.add_paths([data])
    panel.picker.open_folder(str(tiny_classifier))
    shown_while_running = []
    job = panel.start_analysis()
    panel.model.rowsInserted.connect(lambda *_: shown_while_running.append(job.is_active))
    with qtbot.waitSignals([job.finished, panel.sig_results_shown], timeout=WAIT):
        pass
    assert job.state == "done" and panel.model.total_rows == 1500
    assert len(parsed_on) == 1500 and not any(parsed_on)  # every line parsed once, none on the GUI thread
    assert any(shown_while_running)  # results showed while the analysis still ran
    assert panel.model.sort_column == COLUMNS.index("File")  # sorted into input order once all were in


def test_dropped_folder_is_walked_on_a_worker_and_a_binary_csv_is_skipped(qtbot, panel, folder, monkeypatch):
    import threading

    import services.analyse.preview as preview

    walked_on = []
    real_collect = preview.collect_files

    def collect_files(paths, cancel):
        walked_on.append(threading.current_thread() is threading.main_thread())
        return real_collect(paths, cancel)

    monkeypatch.setattr(preview, "collect_files", collect_files)
    (folder / "a-binary.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)  # sorts before labelled.csv
    with qtbot.waitSignal(panel.context.runner.job_added, timeout=WAIT) as added:
        drop_paths(panel.inputs.files, [folder])
    with qtbot.waitSignal(added.args[0].finished, timeout=WAIT):
        pass
    assert walked_on == [False]
    assert panel.inputs.column.currentData() == "review" and panel.inputs.gold.currentData() == "sentiment"
    assert "labelled.csv" in panel.inputs.preview_label.text() and "a-binary.csv" in panel.inputs.preview_label.text()
    assert not gui.dialogs.shown_errors  # a skipped file is a note, never a modal
