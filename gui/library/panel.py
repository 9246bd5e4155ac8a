"""The Library dock: every model on this machine, its details, and what you can do with it.

Scanning, copying, deleting and verifying run as jobs (``context.runner``); the panel only shows
results. File operations (import, duplicate, rename, delete, edit labels) run on the "io" lane, so
they never wait behind a training run or an analysis on the "model" lane; only what loads a model
(verify, save a loaded model) runs there. Each action has a method taking plain arguments (used by
tests and by the dialogs) and a ``*_dialog`` wrapper that asks the user first.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu, QSplitter, QTableView,
                               QToolBar, QVBoxLayout, QWidget)

import gui.dialogs
from gui.context import AppContext
from gui.jobs.runner import Job
from gui.settings import Key
from gui.library.dialogs import (EditLabelsDialog, LibrarySettingsDialog, ask_folder, ask_item, ask_text,
                                         confirm, is_trusted, remote_code_consent)
from gui.common.first_paint import OnFirstPaint
from gui.library.model_table import ENTRY_ROLE, LibraryFilterProxy, LibraryTableModel
from gui.library.details import ModelDetails
from services.core.errors import InputError
from services.library.ops import format_size
from services.library.catalogue import ModelChanges
from services.library.scan import ModelEntry, describe_folder
from services.core.tasks import TASKS

LOAD_TARGETS = [("RunDock", "Run"), ("TokenizerDock", "Tokenizer"), ("InternalsDock", "Internals")]


class LibraryPanel(QWidget):
    TITLE = "Library"
    OBJECT_NAME = "LibraryDock"
    AREA = "main"

    sig_refreshed = Signal()  # the list was re-read

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.scan_job: Job | None = None
        self.hub_dialog = None
        self.model = LibraryTableModel(self)
        self.proxy = LibraryFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(9, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.details = ModelDetails(context.runner)
        self.catalogue = context.catalogue
        self.model.set_entries(self.catalogue.entries())

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name, architecture, label or folder")
        self.filter_edit.setClearButtonEnabled(True)
        self.task_combo = QComboBox()
        self.task_combo.addItem("All tasks", "")
        for task, label in TASKS.items():
            self.task_combo.addItem(label, task)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)

        self.toolbar = QToolBar()
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, slot in [("refresh", "Refresh", self.refresh), ("import", "Import folder…", self.import_dialog),
                                 ("save", "Save loaded model…", self.save_loaded_dialog),
                                 ("hub", "Hugging Face Hub…", self.open_hub), ("verify", "Verify", self._verify_selected),
                                 ("delete", "Delete…", self.delete_dialog), ("folders", "Folders…", self.settings_dialog)]:
            action = QAction(text, self)
            action.triggered.connect(lambda _checked=False, slot=slot: slot())
            self.toolbar.addAction(action)
            self.actions_by_name[name] = action

        filters = QHBoxLayout()
        filters.addWidget(self.filter_edit, 1)
        filters.addWidget(self.task_combo)
        splitter = QSplitter(Qt.Orientation.Vertical)  # the table gets the full width for its ten columns
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status_label)

        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.task_combo.currentIndexChanged.connect(lambda _i: self.proxy.set_task(self.task_combo.currentData()))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.details.show_entry(self.selected_entry()))
        self.table.customContextMenuRequested.connect(self._show_context_menu)
        self.table.doubleClicked.connect(lambda _i: self.load_into(self.selected_entry(), "RunDock"))
        self.catalogue.sig_changed.connect(self._on_changes)
        self.catalogue.sig_scanned.connect(self._on_scanned)
        self._columns_fitted = False
        self._first_paint = OnFirstPaint(self, self.catalogue.start)  # the first scan, on a worker, once on screen

    # -- listing -----------------------------------------------------------------------------
    def extra_dirs(self) -> list[str]:
        return [str(p) for p in self.context.settings.get_list(Key.EXTRA_MODEL_DIRS)]

    def refresh(self) -> Job | None:
        """Re-read every folder (the Refresh button): a full scan of the catalogue, on the io lane."""
        self.scan_job = self.catalogue.refresh(full=True)
        if self.scan_job is not None:
            self.scan_job.error.connect(lambda error: self._on_error("Scanning models", error))
        return self.scan_job

    def _on_changes(self, changes: ModelChanges) -> None:
        """Apply what changed to the rows that changed; the selection follows a renamed model."""
        selected = self.selected_entry()
        self.model.apply(changes)
        if selected is not None:
            spec = changes.follow(selected.spec)
            now = self.catalogue.find(spec) if spec else None
            if now is not None and now != selected:
                self.select_path(now.path)
                self.details.show_entry(self.selected_entry())
        self._fit_columns()
        self.sig_refreshed.emit()

    def _on_scanned(self) -> None:
        self._fit_columns()
        self.sig_refreshed.emit()

    def _fit_columns(self) -> None:
        if self._columns_fitted or self.model.rowCount() <= 1:
            return
        self._columns_fitted = True
        for column in range(self.model.columnCount() - 1):
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(self.table.columnWidth(column) + 8, 240))

    def entries(self) -> list[ModelEntry]:
        return list(self.model.entries)

    def visible_names(self) -> list[str]:
        return [self.proxy.entry_at(row).name for row in range(self.proxy.rowCount())]

    def selected_entry(self) -> ModelEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ENTRY_ROLE) if rows else None

    def select_path(self, path) -> bool:
        for row in range(self.proxy.rowCount()):
            if Path(self.proxy.entry_at(row).path) == Path(path):
                self.table.selectionModel().select(
                    self.proxy.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
                self.table.scrollTo(self.proxy.index(row, 0))
                return True
        return False

    def select_name(self, name: str) -> bool:
        entry = next((e for e in self.model.entries if e.name == name), None)
        return entry is not None and self.select_path(entry.path)

    # -- results -----------------------------------------------------------------------------
    def _done(self, message: str) -> None:
        """An action ended; what it changed was already applied to the catalogue (every picker follows)."""
        self.status_label.setText(message)
        self.context.sig_status.emit(message)

    def _submit(self, title: str, fn, *, lane: str, key: str | None = None, on_result=None) -> Job:
        """Run ``fn`` as a job; its error is shown here (dialog + status line), once."""
        return self.context.runner.submit(title, fn, lane=lane, key=key, on_result=on_result,
                                          on_error=lambda error: self._on_error(title, error))

    def _on_error(self, title: str, error: BaseException) -> None:
        gui.dialogs.show_error(self, f"{title} failed", error)
        self.status_label.setText(gui.dialogs.error_text(error))

    def _fail(self, message: str) -> None:
        gui.dialogs.show_error(self, "Library", InputError(message))
        self.status_label.setText(message)

    # -- actions -----------------------------------------------------------------------------
    def load_into(self, entry: ModelEntry | None, dock: str) -> bool:
        """Ask a panel (RunDock, TokenizerDock, InternalsDock) to load ``entry``."""
        if entry is None:
            return False
        if entry.problem and entry.format == "none":
            self._fail(f"'{entry.name}' cannot be loaded: {entry.problem}")
            return False
        if not remote_code_consent(self, self.context.settings, entry):
            self._fail(f"'{entry.name}' was not loaded: it needs trust_remote_code and you did not allow it.")
            return False
        self.context.remember_model(entry.spec)
        self.context.sig_open_model.emit(entry.spec, dock)
        self._done(f"Opening {entry.name} in the {dock.removesuffix('Dock')} panel.")
        return True

    def save_loaded(self, loaded, name: str) -> Job:
        """Save a loaded model (a services.core.models.LoadedModel) into the library, then verify it against memory."""
        from services.library.folder import save_model_atomic
        from services.library.verify import verify_model

        root = self.context.library_dir

        def work(progress, cancel):
            path = save_model_atomic(loaded.model, loaded.tokenizer, name, root, progress=progress, cancel=cancel)
            result = verify_model(str(path), reference=(loaded.model, loaded.tokenizer), cancel=cancel)
            return path, result, describe_folder(path, "library")

        def saved(value) -> None:
            path, result, entry = value
            self.catalogue.put(entry)
            self._done(f"Saved '{path.name}' to the library. Verify: {result.message}")

        return self._submit(f"Save {name} to the library", work, lane="model", on_result=saved)

    def save_loaded_dialog(self) -> Job | None:
        from services.core.models import default_host

        loaded = default_host.loaded_models()
        if not loaded:
            self._fail("No model is loaded. Load one in the Run panel (or train one) first.")
            return None
        labels = [f"{m.info.display_name} ({m.task}, {m.device})" for m in loaded]
        index = ask_item(self, "Save a loaded model", "Model:", labels)
        if index is None:
            return None
        name = ask_text(self, "Save a loaded model", "Name in the library:", loaded[index].info.name + "-copy")
        return self.save_loaded(loaded[index], name) if name else None

    def import_folder(self, folder: str, name: str) -> Job:
        from services.library.ops import import_folder

        root = self.context.library_dir
        return self._submit(
            f"Import {Path(folder).name}",
            lambda progress, cancel: _described(import_folder(folder, name, root, progress=progress, cancel=cancel)),
            lane="io", on_result=lambda entry: self._added(entry, f"Imported '{entry.name}' into the library."))

    def import_dialog(self) -> Job | None:
        folder = ask_folder(self, "Import a model folder")
        if not folder:
            return None
        name = ask_text(self, "Import a model folder", "Name in the library:", Path(folder).name)
        return self.import_folder(folder, name) if name else None

    def duplicate(self, entry: ModelEntry, name: str) -> Job:
        from services.library.ops import duplicate_model

        root = self.context.library_dir
        return self._submit(
            f"Duplicate {entry.name}",
            lambda progress, cancel: _described(duplicate_model(entry, name, root, progress=progress, cancel=cancel)),
            lane="io", on_result=lambda copy: self._added(copy, f"Duplicated '{entry.name}' as '{copy.name}'."))

    def _added(self, entry: ModelEntry, message: str) -> None:
        self.catalogue.put(entry)
        self._done(message)

    def rename(self, entry: ModelEntry, new_name: str) -> Job:
        from services.library.ops import rename_model

        root = self.context.library_dir
        return self._submit(
            f"Rename {entry.name}", lambda progress, cancel: rename_model(entry, new_name, root), lane="io",
            on_result=lambda path: self._renamed(entry, path))

    def _renamed(self, entry: ModelEntry, path: Path) -> None:
        self.catalogue.rename(entry, path)  # every picker shows the new name; a selected model stays selected
        self._done(f"Renamed '{entry.name}' to '{Path(path).name}'.")

    def delete(self, entry: ModelEntry) -> Job:
        """Delete (no question asked: ``delete_dialog`` asks). A loaded copy is unloaded first and the message says so."""
        from services.library.ops import delete_model

        root = self.context.library_dir
        return self._submit(
            f"Delete {entry.name}", lambda progress, cancel: delete_model(entry, root), lane="io",
            on_result=lambda result: self._deleted(entry, result.message))

    def _deleted(self, entry: ModelEntry, message: str) -> None:
        self.catalogue.remove(entry)
        self._done(message)

    def delete_dialog(self, entry: ModelEntry | None = None) -> Job | None:
        from services.library.ops import is_loaded

        entry = entry or self.selected_entry()
        if entry is None:
            return None
        text = f"Delete '{entry.name}'? This frees {format_size(entry.size_bytes)} and cannot be undone."
        if entry.source == "hf-cache":
            text += "\n\nIt is removed from the Hugging Face cache (other programs that use it will download it again)."
        if is_loaded(entry):
            text += "\n\nThis model is loaded right now: it will be unloaded, and panels using it must load another model."
        return self.delete(entry) if confirm(self, "Delete model", text) else None

    def edit_labels(self, entry: ModelEntry, labels: list[str]) -> Job:
        from services.library.ops import edit_labels

        root = self.context.library_dir
        def work(progress, cancel):
            mapping = edit_labels(entry, labels, root)
            return mapping, describe_folder(entry.path, entry.source)

        def edited(value) -> None:
            mapping, changed = value
            self.catalogue.put(changed)
            self._done(f"Saved labels of '{entry.name}': {', '.join(mapping.values())}.")

        return self._submit(f"Edit labels of {entry.name}", work, lane="io", on_result=edited)

    def edit_labels_dialog(self, entry: ModelEntry | None = None) -> Job | None:
        entry = entry or self.selected_entry()
        if entry is None or not gui.dialogs.DIALOGS_ENABLED:
            return None
        dialog = EditLabelsDialog(entry, self)
        return self.edit_labels(entry, dialog.labels()) if dialog.exec() else None

    def verify(self, entry: ModelEntry) -> Job | None:
        from services.library.verify import verify_model

        if not remote_code_consent(self, self.context.settings, entry):
            self._fail(f"'{entry.name}' was not verified: it needs trust_remote_code and you did not allow it.")
            return None
        trusted = entry.remote_code and is_trusted(self.context.settings, entry)
        return self._submit(
            f"Verify {entry.name}",
            lambda progress, cancel: verify_model(entry.spec, trust_remote_code=trusted, progress=progress, cancel=cancel),
            lane="model", on_result=lambda result: self._done(f"{entry.name}: {result.message}"))

    def _verify_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.verify(entry)

    def count_parameters(self, entry: ModelEntry) -> Job:
        from services.library.scan import count_parameters_by_loading

        def on_result(count: int) -> None:
            self.catalogue.put(replace(entry, parameters=count))  # the row and the details follow
            self._done(f"{entry.name} has {count:,} parameters.")

        return self._submit(f"Count parameters of {entry.name}",
                                          lambda progress, cancel: count_parameters_by_loading(entry.path),
                                          lane="io", on_result=on_result)

    def reveal_url(self, entry: ModelEntry) -> QUrl:
        return QUrl.fromLocalFile(str(entry.path))

    def reveal(self, entry: ModelEntry) -> QUrl:
        url = self.reveal_url(entry)
        if gui.dialogs.DIALOGS_ENABLED:  # tests never launch a file manager
            QDesktopServices.openUrl(url)
        return url

    def open_hub(self):
        from gui.library.hub_dialog import HubDialog

        if self.hub_dialog is None:
            self.hub_dialog = HubDialog(self.context, self)
        self.hub_dialog.show()
        self.hub_dialog.raise_()
        return self.hub_dialog

    def settings_dialog(self) -> None:
        if not gui.dialogs.DIALOGS_ENABLED:
            return
        dialog = LibrarySettingsDialog(self.context.settings, str(self.context.library_dir), self)
        if dialog.exec():
            dialog.save()
            self.catalogue.refresh()  # the library or the extra folders moved: list what is there now

    # -- context menu ------------------------------------------------------------------------
    def build_menu(self, entry: ModelEntry) -> QMenu:
        menu = QMenu(self)
        for dock, label in LOAD_TARGETS:
            action = menu.addAction(f"Load into {label}", lambda dock=dock: self.load_into(entry, dock))
            action.setEnabled(entry.format != "none")
        menu.addSeparator()
        menu.addAction("Verify (reload and compare)", lambda: self.verify(entry)).setEnabled(entry.format != "none")
        if entry.parameters is None and entry.pickle_weights:
            menu.addAction("Count parameters (loads the weights)", lambda: self.count_parameters(entry))
        menu.addAction("Duplicate into the library…", lambda: self._ask_then(
            "Duplicate", "Name of the copy:", entry.name.replace("/", "-") + "-copy", lambda n: self.duplicate(entry, n)))
        rename = menu.addAction("Rename…", lambda: self._ask_then("Rename", "New name:", entry.name,
                                                                  lambda n: self.rename(entry, n)))
        labels = menu.addAction("Edit labels…", lambda: self.edit_labels_dialog(entry))
        rename.setEnabled(entry.source == "library")
        labels.setEnabled(entry.source == "library" and bool(entry.labels))
        menu.addAction("Reveal in file manager", lambda: self.reveal(entry))
        menu.addSeparator()
        delete = menu.addAction("Delete…", lambda: self.delete_dialog(entry))
        delete.setEnabled(entry.source in ("library", "hf-cache"))
        menu.addSeparator()
        menu.addAction("Save loaded model…", self.save_loaded_dialog)
        menu.addAction("Import folder…", self.import_dialog)
        return menu

    def _ask_then(self, title: str, label: str, default: str, then) -> None:
        name = ask_text(self, title, label, default)
        if name:
            then(name)

    def _show_context_menu(self, position) -> None:
        index = self.table.indexAt(position)
        if not index.isValid():
            return
        entry = index.data(ENTRY_ROLE)
        self.build_menu(entry).exec(self.table.viewport().mapToGlobal(position))

    def shutdown(self) -> None:
        if self.hub_dialog is not None:
            self.hub_dialog.close()


def _described(path: Path) -> ModelEntry:
    """The library entry of a folder just written (on the worker that wrote it)."""
    return describe_folder(path, "library")
