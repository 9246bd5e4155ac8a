"""The Library dock and the Hub dialog, driven like a user would (offscreen, real jobs, local Hub server)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from PySide6.QtCore import Qt

import gui.dialogs
from gui.context import AppContext
from gui.settings import Key
from services.library.folder import library_dir, save_model_atomic
from services.library.hub import recommended_models
from services.core.models import default_host, load_model
from tests.hub_server import FakeHub

CARD = "---\nlicense: mit\n---\n# My sentiment model\n\nTrained on **reviews**. <script>alert('x')</script>\n"


@pytest.fixture(scope="module")
def loaded_classifier(tiny_classifier):
    return load_model(str(tiny_classifier), "text-classification")


@pytest.fixture
def context(settings):
    ctx = AppContext(settings)
    yield ctx
    ctx.runner.shutdown()
    default_host.forget()


@pytest.fixture
def panel(qtbot, context, loaded_classifier):
    from gui.library.panel import LibraryPanel

    save_model_atomic(loaded_classifier.model, loaded_classifier.tokenizer, "my-sentiment",
                      extra_files={"README.md": CARD})
    widget = LibraryPanel(context)
    qtbot.addWidget(widget)
    widget.resize(1200, 600)
    widget.show()
    with qtbot.waitSignal(widget.sig_refreshed, timeout=30_000):
        pass
    return widget


def finish(qtbot, job, timeout=60_000):
    """Wait for ``job`` and return its result (or the error it raised)."""
    outcome = {}
    job.result.connect(lambda value: outcome.setdefault("result", value))
    job.error.connect(lambda error: outcome.setdefault("error", error))
    with qtbot.waitSignal(job.finished, timeout=timeout):
        pass
    return outcome


def refreshed(qtbot, panel, job, timeout=60_000):
    with qtbot.waitSignal(panel.sig_refreshed, timeout=timeout):
        outcome = finish(qtbot, job, timeout)
    return outcome


def select_and_read(qtbot, panel, name: str) -> str:
    """Select ``name`` and wait for its details (read on an io job); returns the details' text."""
    with qtbot.waitSignal(panel.details.sig_shown, timeout=30_000,
                          check_params_cb=lambda entry: entry is not None and entry.name == name):
        assert panel.select_name(name)
    return panel.details.text()


def test_lists_builtin_and_saved_model_with_details(panel, qtbot):
    names = panel.visible_names()
    assert names[0] == "all-MiniLM-L6-v2 (built-in)" and "my-sentiment" in names
    text = select_and_read(qtbot, panel, "my-sentiment")
    assert "BertForSequenceClassification" in text and "negative" in text and "positive" in text
    assert "model.safetensors" in text and "My sentiment model" in text
    assert "<script>alert('x')</script>" in text  # shown as text, not run
    assert "<script>" not in panel.details.html()
    row = [panel.proxy.index(names.index("my-sentiment"), c).data() for c in range(10)]
    assert row[4].endswith(("K", "M")) and row[6] == "safetensors" and row[9] == "library" and row[3] == "negative, positive"


def test_filter_by_text_and_task_and_sort(panel, qtbot, tiny_ner):
    finish(qtbot, panel.import_folder(str(tiny_ner), "people-ner"))
    qtbot.waitUntil(lambda: "people-ner" in panel.visible_names(), timeout=30_000)
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("token-classification"))
    assert panel.visible_names() == ["people-ner"]
    panel.task_combo.setCurrentIndex(0)
    qtbot.keyClicks(panel.filter_edit, "sentiment")
    assert panel.visible_names() == ["my-sentiment"]
    panel.filter_edit.clear()
    panel.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)  # parameters, descending: the 22.7 M built-in model first
    assert panel.visible_names()[0] == "all-MiniLM-L6-v2 (built-in)"
    panel.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert panel.visible_names() == sorted(panel.visible_names(), key=str.lower)


def test_rename_edit_labels_verify_and_delete_the_loaded_model(panel, qtbot):
    entry = next(e for e in panel.entries() if e.name == "my-sentiment")
    refreshed(qtbot, panel, panel.rename(entry, "reviews"))
    assert "reviews" in panel.visible_names() and "my-sentiment" not in panel.visible_names()
    entry = next(e for e in panel.entries() if e.name == "reviews")
    refreshed(qtbot, panel, panel.edit_labels(entry, ["bad", "good"]))
    config = json.loads((library_dir() / "reviews" / "config.json").read_text())
    assert config["id2label"] == {"0": "bad", "1": "good"}
    entry = next(e for e in panel.entries() if e.name == "reviews")
    assert entry.labels == ["bad", "good"]
    outcome = finish(qtbot, panel.verify(entry))
    assert outcome["result"].passed and "PASS" in panel.status_label.text()

    default_host.get(str(entry.path), "text-classification")  # the Run panel has it loaded
    outcome = refreshed(qtbot, panel, panel.delete(entry))
    assert outcome["result"].was_loaded and "unloaded" in panel.status_label.text()
    assert "freeing" in panel.status_label.text()
    assert str(entry.path.resolve()) not in default_host.loaded_paths()
    assert "reviews" not in panel.visible_names() and not entry.path.exists()


def test_context_menu_respects_read_only_sources(panel):
    builtin = next(e for e in panel.entries() if e.source == "built-in")
    mine = next(e for e in panel.entries() if e.name == "my-sentiment")
    actions = {a.text(): a.isEnabled() for a in panel.build_menu(builtin).actions() if a.text()}
    assert actions["Load into Run"] and actions["Load into Tokenizer"] and actions["Load into Internals"]
    assert not actions["Rename…"] and not actions["Delete…"] and not actions["Edit labels…"]
    assert actions["Duplicate into the library…"] and actions["Verify (reload and compare)"]
    actions = {a.text(): a.isEnabled() for a in panel.build_menu(mine).actions() if a.text()}
    assert actions["Rename…"] and actions["Delete…"] and actions["Edit labels…"] and actions["Reveal in file manager"]
    assert panel.reveal_url(mine).toLocalFile() == str(mine.path)


def test_load_into_panels_and_remote_code_needs_consent(panel, qtbot, context):
    mine = next(e for e in panel.entries() if e.name == "my-sentiment")
    with qtbot.waitSignal(context.sig_open_model, timeout=5000) as blocker:
        assert panel.load_into(mine, "TokenizerDock")
    assert blocker.args == [str(mine.path), "TokenizerDock"]

    config_path = mine.path / "config.json"
    config = json.loads(config_path.read_text())
    config["auto_map"] = {"AutoModel": "modeling_custom.CustomModel"}
    config_path.write_text(json.dumps(config))
    finish(qtbot, panel.refresh())
    mine = next(e for e in panel.entries() if e.name == "my-sentiment")
    assert mine.remote_code
    opened = []
    context.sig_open_model.connect(lambda spec, dock: opened.append(spec))
    assert not panel.load_into(mine, "RunDock")  # dialogs are off in tests: no consent
    assert opened == [] and "trust_remote_code" in gui.dialogs.shown_errors[-1]
    context.settings.set_list(Key.TRUSTED_REMOTE_CODE, [str(mine.path)])  # consent given earlier
    assert panel.load_into(mine, "RunDock") and opened == [str(mine.path)]


def test_bad_input_import_not_a_model_and_name_collision(panel, qtbot, tmp_path, tiny_classifier):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    outcome = finish(qtbot, panel.import_folder(str(folder), "notes"))
    assert "no config.json" in str(outcome["error"]) and "no config.json" in gui.dialogs.shown_errors[-1]
    outcome = finish(qtbot, panel.import_folder(str(tiny_classifier), "my-sentiment"))
    assert "already exists" in gui.dialogs.shown_errors[-1]


def test_save_loaded_model_then_it_is_listed_and_verified(panel, qtbot, loaded_classifier):
    outcome = refreshed(qtbot, panel, panel.save_loaded(loaded_classifier, "from-memory"))
    path, result, entry = outcome["result"]  # the new library entry is read on the worker that saved it
    assert entry.path == path and entry.source == "library"
    assert result.passed and result.reference == "memory"
    assert "from-memory" in panel.visible_names() and "PASS" in panel.status_label.text()


def test_extra_folders_with_a_symlink_loop(panel, qtbot, context, tmp_path, tiny_encoder):
    extra = tmp_path / "my-models"
    (extra / "nested").mkdir(parents=True)
    shutil.copytree(tiny_encoder, extra / "nested" / "encoder")
    os.symlink(extra, extra / "nested" / "loop")
    context.settings.set_list(Key.EXTRA_MODEL_DIRS, [str(extra)])
    finish(qtbot, panel.refresh())
    folder_entries = [e for e in panel.entries() if e.source == "folder"]
    assert [e.name for e in folder_entries] == ["encoder"]
    actions = {a.text(): a.isEnabled() for a in panel.build_menu(folder_entries[0]).actions() if a.text()}
    assert not actions["Delete…"] and not actions["Rename…"]


def test_folders_settings_dialog_saves_library_and_extra_folders(panel, context, tmp_path):
    from gui.library.dialogs import LibrarySettingsDialog

    dialog = LibrarySettingsDialog(context.settings, str(context.library_dir), panel)
    dialog.folder_edit.setText(str(tmp_path / "elsewhere"))
    dialog.add_extra(str(tmp_path / "a"))
    dialog.add_extra(str(tmp_path / "a"))  # no duplicates
    dialog.save()
    assert context.settings.get(Key.LIBRARY_DIR) == str(tmp_path / "elsewhere")
    assert context.settings.get_list(Key.EXTRA_MODEL_DIRS) == [str(tmp_path / "a")]
    assert context.library_dir == tmp_path / "elsewhere"


@pytest.fixture
def hub(tiny_classifier, monkeypatch):
    import huggingface_hub.constants

    fake = FakeHub()
    fake.add_model("course/tiny-sentiment", folder=tiny_classifier, downloads=42, pipeline_tag="text-classification")
    fake.add_model("course/tiny-other", files={"config.json": b"{}"}, downloads=7, pipeline_tag="fill-mask")
    fake.start()
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.setenv("WORKBENCH_DOWNLOAD_CHUNK", str(64 * 1024))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    yield fake
    fake.stop()


def test_hub_dialog_search_download_cancel_and_resume(panel, qtbot, hub):
    dialog = panel.open_hub()
    assert dialog.table.rowCount() == len(recommended_models())  # the recommended list, without any network
    qtbot.keyClicks(dialog.search_edit, "tiny")
    finish(qtbot, dialog.search())
    assert [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())] == \
        ["course/tiny-sentiment", "course/tiny-other"]
    dialog.table.selectRow(0)
    assert dialog.repo_edit.text() == "course/tiny-sentiment" and dialog.name_edit.text() == "tiny-sentiment"

    size = len(hub.repos["course/tiny-sentiment"].files["model.safetensors"])
    hub.pause_after("model.safetensors", size // 2 // 65536 * 65536)
    job = dialog.download()
    assert not dialog.download_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: hub.paused.is_set() and dialog.file_bar.value() > 0, timeout=60_000)
    with qtbot.waitSignal(job.cancelled, timeout=30_000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert "Cancelled" in dialog.status.text() and dialog.download_button.isEnabled()

    hub.gate.set()
    with qtbot.waitSignal(panel.sig_refreshed, timeout=60_000):
        outcome = finish(qtbot, dialog.download())
    assert "result" in outcome, outcome
    ranges = [r.range for r in hub.file_requests("model.safetensors")]
    assert ranges[0] is None and ranges[-1] not in (None, "bytes=0-")  # resumed, not restarted
    assert dialog.total_bar.value() == dialog.total_bar.maximum()
    assert "tiny-sentiment" in panel.visible_names()
    dialog.close()


def test_hub_dialog_offline_message(panel, qtbot):
    dialog = panel.open_hub()
    outcome = finish(qtbot, dialog.search())  # conftest sets HF_HUB_OFFLINE=1
    assert "Offline mode" in str(outcome["error"]) and "Offline mode" in dialog.status.text()
    dialog.close()
