"""The one model catalogue: what a scan finds and what changed, the file-system watch, every picker
following it (a model made by the CLI in another process, a deleted folder, a rename while a job
waits), the hint when no model can do a task, and the Library details read on a worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from PySide6.QtCore import Qt

import gui.dialogs
from gui.common.model_picker import missing_model_hint
from services.library.catalogue import ModelChanges, diff_entries, scan
from services.library.folder import library_dir
from services.library.ops import edit_labels, import_folder, rename_model
from tests.test_library import make_cache_entry

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 90_000  # generous: nothing here asserts a duration


# -- the service: a scan and what changed (no Qt) -----------------------------------------------------
def test_scan_then_rename_edit_and_delete_are_told_apart(tiny_classifier, tiny_encoder, tmp_path):
    import_folder(tiny_classifier, "reviews")
    import_folder(tiny_encoder, "encoder")
    opened = tmp_path / "opened"
    shutil.copytree(tiny_encoder, opened)
    first = scan(opened=[str(opened), str(tmp_path / "gone")])
    names = [(e.name, e.source) for e in first]
    assert names[0][1] == "built-in" and ("reviews", "library") in names and ("encoder", "library") in names
    assert ("opened", "folder") in names and not any(name == "gone" for name, _ in names)
    assert diff_entries(first, first) == ModelChanges() and not diff_entries(first, first)

    reviews = next(e for e in first if e.name == "reviews")
    rename_model(reviews, "sentiment")
    shutil.rmtree(opened)
    known = {e.spec: e for e in first}
    second = scan(opened=[str(opened)], known=known)
    changes = diff_entries(first, second)
    assert [(b.name, a.name) for b, a in changes.renamed] == [("reviews", "sentiment")]
    assert [e.name for e in changes.removed] == ["opened"] and not changes.added and not changes.changed
    assert changes.follow(reviews.spec) == str(library_dir() / "sentiment")
    assert changes.follow(str(opened)) is None
    # Unchanged folders keep their entry without being read again.
    encoder = next(e for e in second if e.name == "encoder")
    assert encoder is known[encoder.spec]

    sentiment = next(e for e in second if e.name == "sentiment")
    edit_labels(sentiment, ["bad", "good"])
    third = scan(known={e.spec: e for e in second})
    changes = diff_entries(second, third)
    assert [e.labels for e in changes.changed] == [["bad", "good"]] and not changes.renamed and not changes.removed


def test_missing_model_hint_says_train_only_for_what_training_makes():
    classify = missing_model_hint("text-classification")
    assert "Train starter sentiment model" in classify and "Train panel" in classify and "Hugging Face Hub" in classify
    ner = missing_model_hint("token-classification")
    assert "Train starter NER model" in ner and "Hugging Face Hub" in ner
    for task in ("fill-mask", "text-generation", "question-answering", "summarization", "translation"):
        hint = missing_model_hint(task)
        assert "Library → Hugging Face Hub…" in hint and "train" not in hint.lower(), hint


# -- the GUI ------------------------------------------------------------------------------------------
def wait_scanned(qtbot, context) -> None:
    """Until the first scan is in and nothing more is scheduled: what changes after this, only the watch sees."""
    qtbot.waitUntil(lambda: context.catalogue.scanned and context.catalogue.idle, timeout=TIMEOUT)


def pickers(main_window) -> dict:
    """Every model picker of the window: name -> the picker's listed specs (a function)."""
    panels = main_window.panels
    combos = {
        "run": panels["RunDock"].picker.combo,
        "internals": panels["InternalsDock"].picker.combo,
        "analyse": panels["AnalyseDock"].picker.combo,
        "analyse-compare": panels["AnalyseDock"].compare_picker.combo,
        "train": panels["TrainDock"].picker.combo,
        "tokenizer": panels["TokenizerDock"].source.combo,
    }
    return {name: [combo.itemData(i) for i in range(combo.count())] for name, combo in combos.items()}


def library_names(main_window) -> list[str]:
    return [entry.name for entry in main_window.panels["LibraryDock"].entries()]


def show_task(main_window, task: str) -> None:
    main_window.panels["RunDock"].set_task(task)
    main_window.panels["AnalyseDock"].picker.set_task(task)
    main_window.panels["AnalyseDock"].compare_picker.set_task(task)


def test_a_model_trained_by_the_cli_in_another_process_reaches_the_run_picker(qtbot, main_window, tmp_path,
                                                                              tiny_encoder):
    from tests.test_training_data import sentiment_rows, write_csv

    context = main_window.context
    run = main_window.panels["RunDock"]
    run.set_task("text-classification")
    wait_scanned(qtbot, context)
    assert run.picker.current_spec() is None  # nothing here can classify yet: the notice says how to get one
    assert "Train starter sentiment model" in run.notice.text() and run.notice.isVisible()

    data = write_csv(tmp_path / "reviews.csv", sentiment_rows(24))
    command = [sys.executable, str(ROOT / "main.py"), "--library", str(context.library_dir), "train",
               "--model", str(tiny_encoder), "--data", str(data), "--text-column", "text", "--label-column", "label",
               "--epochs", "1", "--batch-size", "8", "--max-length", "32", "--warmup", "0", "--name", "cli-made"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # No Refresh, no restart: the file-system watch notices the new folder and the picker lists it.
        qtbot.waitUntil(lambda: run.picker.combo.findText("cli-made (library)") >= 0, timeout=TIMEOUT * 2)
    finally:
        out, err = process.communicate(timeout=TIMEOUT / 1000)
    assert process.returncode == 0, err
    assert run.picker.current_spec() == str(context.library_dir / "cli-made")
    assert not run.notice.isVisible()
    assert "cli-made" in library_names(main_window)  # the Library lists it too


def test_a_model_imported_by_the_cli_reaches_every_picker_and_hf_cache_models_are_listed(
        qtbot, main_window, tiny_classifier, tiny_ner):
    make_cache_entry(Path(os.environ["HF_HOME"]) / "hub", "org/people-ner", tiny_ner)  # never opened in the app
    context = main_window.context
    show_task(main_window, "token-classification")
    wait_scanned(qtbot, context)
    listed = pickers(main_window)
    cached = next(e for e in context.catalogue.entries() if e.name == "org/people-ner")
    assert cached.source == "hf-cache"
    for name in ("run", "analyse", "analyse-compare", "train", "tokenizer", "internals"):
        assert cached.spec in listed[name], name
    assert main_window.panels["RunDock"].picker.combo.currentText() == "org/people-ner (HF cache)"

    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--library", str(context.library_dir), "library",
                             "import", str(tiny_classifier), "--name", "from-cli"],
                            cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT / 1000)
    assert result.returncode == 0, result.stderr
    spec = str(context.library_dir / "from-cli")
    main_window.panels["RunDock"].set_task("text-classification")
    qtbot.waitUntil(lambda: all(spec in specs for name, specs in pickers(main_window).items()
                                if name not in ("analyse", "analyse-compare")), timeout=TIMEOUT)
    assert "from-cli" in library_names(main_window)


def test_a_deleted_model_folder_leaves_every_picker_and_a_run_on_it_says_it_is_gone(
        qtbot, main_window, tiny_classifier):
    folder = import_folder(tiny_classifier, "short-lived")
    context = main_window.context
    run = main_window.panels["RunDock"]
    show_task(main_window, "text-classification")
    wait_scanned(qtbot, context)
    qtbot.waitUntil(lambda: all(str(folder) in specs for specs in pickers(main_window).values()), timeout=TIMEOUT)
    assert run.picker.set_current_spec(str(folder))

    shutil.rmtree(folder)  # deleted behind the app's back (a file manager, another program)
    with qtbot.waitSignal(run.sig_run_finished, timeout=TIMEOUT) as finished:
        qtbot.mouseClick(run.run_button, Qt.MouseButton.LeftButton)  # before the watch has told the picker
    assert finished.args == ["failed"]
    message = gui.dialogs.shown_errors[-1]
    assert str(folder) in message and "does not exist" in message and "deleted" in message, message

    qtbot.waitUntil(lambda: not any(str(folder) in specs for specs in pickers(main_window).values()), timeout=TIMEOUT)
    assert "short-lived" not in library_names(main_window)
    assert run.picker.current_spec() is None and "No model on this machine" in run.notice.text()


def test_a_model_renamed_in_the_library_while_a_run_waits_for_it(qtbot, main_window, tiny_classifier):
    import_folder(tiny_classifier, "another")  # listed first: a picker that lost the selection would fall on it
    folder = import_folder(tiny_classifier, "before")
    context = main_window.context
    run, library = main_window.panels["RunDock"], main_window.panels["LibraryDock"]
    run.set_task("text-classification")
    wait_scanned(qtbot, context)
    qtbot.waitUntil(lambda: run.picker.set_current_spec(str(folder)), timeout=TIMEOUT)
    run.input.setPlainText("A fine film.")

    gate = threading.Event()
    holder = context.runner.submit("Training (held open by the test)", lambda progress, cancel: gate.wait(60),
                                   lane="model", needs_torch=False)
    try:
        qtbot.mouseClick(run.run_button, Qt.MouseButton.LeftButton)  # the run waits behind the "training"
        assert run.job is not None and run.job.is_active
        entry = next(e for e in library.entries() if e.name == "before")
        scans, scans_at_change = [], []
        context.runner.job_added.connect(lambda job: scans.append(job) if job.title == "Scanning models" else None)
        context.catalogue.sig_changed.connect(lambda _changes: scans_at_change.append(len(scans)))
        with qtbot.waitSignal(context.catalogue.sig_changed, timeout=TIMEOUT) as changed:
            rename = library.rename(entry, "after")
        assert [(b.name, a.name) for b, a in changed.args[0].renamed] == [("before", "after")]
        assert scans_at_change[0] == 0  # the Library said what it did: no scan was needed to learn it
        qtbot.waitUntil(lambda: not rename.is_active, timeout=TIMEOUT)
        # Every picker shows the new name at once (no scan needed), and the Run panel keeps it selected.
        new_spec = str(context.library_dir / "after")
        assert run.picker.current_spec() == new_spec and run.picker.combo.currentText() == "after (library)"
        assert all(str(folder) not in specs and new_spec in specs for specs in pickers(main_window).values())
        assert "after" in library_names(main_window) and "before" not in library_names(main_window)
    finally:
        with qtbot.waitSignal(run.sig_run_finished, timeout=TIMEOUT) as finished:
            gate.set()
        qtbot.waitUntil(lambda: not holder.is_active, timeout=TIMEOUT)
    # The run was asked for the old folder: it fails and says the folder is no longer there.
    assert finished.args == ["failed"]
    assert str(folder) in gui.dialogs.shown_errors[-1] and "renamed" in gui.dialogs.shown_errors[-1]
    with qtbot.waitSignal(run.sig_run_finished, timeout=TIMEOUT) as finished:
        qtbot.mouseClick(run.run_button, Qt.MouseButton.LeftButton)  # again: the picker has the new name
    assert finished.args == ["done"]


def test_loading_from_the_library_does_not_rescan(qtbot, main_window, tiny_classifier):
    import_folder(tiny_classifier, "loaded-one")
    context = main_window.context
    library = main_window.panels["LibraryDock"]
    wait_scanned(qtbot, context)
    qtbot.waitUntil(lambda: "loaded-one" in library_names(main_window), timeout=TIMEOUT)
    submitted, changes = [], []
    context.runner.job_added.connect(lambda job: submitted.append(job.title))
    context.catalogue.sig_changed.connect(changes.append)
    entry = next(e for e in library.entries() if e.name == "loaded-one")
    assert library.load_into(entry, "RunDock")
    assert main_window.panels["RunDock"].picker.current_spec() == entry.spec
    assert "Scanning models" not in submitted and changes == []


def test_the_library_details_are_read_on_a_worker_and_the_latest_selection_wins(qtbot, main_window,
                                                                                tiny_classifier, monkeypatch):
    import gui.library.details as details_module

    import_folder(tiny_classifier, "first")
    import_folder(tiny_classifier, "second")
    library = main_window.panels["LibraryDock"]
    main_window.docks["LibraryDock"].raise_()
    wait_scanned(qtbot, main_window.context)
    qtbot.waitUntil(lambda: {"first", "second"} <= set(library.visible_names()), timeout=TIMEOUT)

    real = details_module.render_details
    threads, release_first = [], threading.Event()

    def spy(entry):
        threads.append(threading.current_thread() is threading.main_thread())
        if entry.name == "first":
            release_first.wait(30)  # the first selection is slow to read
        return real(entry)

    monkeypatch.setattr(details_module, "render_details", spy)
    shown = []
    library.details.sig_shown.connect(lambda entry: shown.append(entry.name if entry else None))
    assert library.select_name("first")
    first_job = library.details.job
    assert "Reading the folder" in library.details.text()  # the GUI thread only wrote the name
    with qtbot.waitSignal(library.details.sig_shown, timeout=TIMEOUT):
        assert library.select_name("second")
    assert shown == ["second"] and "second" in library.details.text()
    release_first.set()
    qtbot.waitUntil(lambda: not first_job.is_active, timeout=TIMEOUT)
    assert shown == ["second"] and library.details.browser.toPlainText().startswith("second")
    assert threads and not any(threads)  # never on the GUI thread


def test_the_no_model_hint_in_a_panel_picker(qtbot, main_window):
    analyse = main_window.panels["AnalyseDock"]
    analyse.picker.set_task("token-classification")
    assert analyse.picker.current_spec() is None
    assert analyse.picker.combo.toolTip() == missing_model_hint("token-classification")
    assert "train one" in analyse.picker.combo.placeholderText()
    analyse.picker.set_task("fill-mask")
    assert "Hub" in analyse.picker.combo.placeholderText() and "train" not in analyse.picker.combo.placeholderText()
    run = main_window.panels["RunDock"]
    run.set_task("fill-mask")
    assert run.picker.current_spec() is None and "Hugging Face Hub" in run.notice.text()
    assert "train" not in run.notice.text().lower()
    run.set_task("sentence-similarity")
    assert run.picker.current_spec() == "builtin" and not run.notice.isVisible()


def test_the_tokenizer_comparison_follows_a_rename_and_drops_a_deleted_model(qtbot, main_window, tiny_classifier,
                                                                             tiny_encoder):
    classifier = import_folder(tiny_classifier, "compared")
    encoder = import_folder(tiny_encoder, "also-compared")
    context = main_window.context
    tokenizer, library = main_window.panels["TokenizerDock"], main_window.panels["LibraryDock"]
    main_window.docks["TokenizerDock"].raise_()
    wait_scanned(qtbot, context)
    compare = tokenizer.compare_view
    compare.add_spec(str(classifier), "compared (library)")
    compare.add_spec(str(encoder), "also-compared (library)")

    entry = next(e for e in library.entries() if e.name == "compared")
    with qtbot.waitSignal(context.catalogue.sig_changed, timeout=TIMEOUT):
        library.rename(entry, "renamed")
    renamed = str(context.library_dir / "renamed")
    assert compare.specs() == [renamed, str(encoder)] and compare.list.item(0).text() == "renamed"

    shutil.rmtree(encoder)  # deleted outside the app: the watch tells the comparison
    qtbot.waitUntil(lambda: compare.specs() == [renamed], timeout=TIMEOUT)
    assert "No longer on disk" in compare.message.text() and "also-compared" in compare.message.text()
    qtbot.waitUntil(lambda: "tokens" in compare.message.text(), timeout=TIMEOUT)  # the comparison re-ran without it
    assert "No longer on disk" in compare.message.text() and "also-compared" in compare.message.text()
    assert compare.add_combo.findData(str(encoder)) < 0 and compare.add_combo.findData(renamed) >= 0
