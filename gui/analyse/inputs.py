"""The input side of the Analyse panel: a file list (buttons and drag & drop), how text files are
split into records, and the text / gold-label pickers filled from a preview of the first rows.

Nothing here reads files or walks folders: a change of the list asks the panel (``sig_files_changed``)
to find and preview the right file on a worker, and ``show_inputs_preview`` shows what it found.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from gui.common import file_dialogs

from services.core.readers import ReadOptions

FILE_FILTER = "Text files (*.txt *.md *.csv *.tsv *.jsonl *.ndjson *.json);;All files (*)"
NO_GOLD = "(none)"


class FileList(QListWidget):
    """Paths to analyse; accepts files and folders dropped from a file manager."""

    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setToolTip("Files and folders to analyse. Drop them here or use the buttons.")

    def paths(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def add_paths(self, paths) -> int:
        known = set(self.paths())
        added = 0
        for path in paths:
            path = os.path.abspath(os.fspath(path))
            if path in known:
                continue
            known.add(path)
            label = path + (os.sep if os.path.isdir(path) else "")
            self.addItem(label)
            self.item(self.count() - 1).setData(Qt.ItemDataRole.UserRole, path)
            added += 1
        if added:
            self.sig_changed.emit()
        return added

    def remove_selected(self) -> None:
        for item in self.selectedItems():
            self.takeItem(self.row(item))
        self.sig_changed.emit()

    def clear_all(self) -> None:
        self.clear()
        self.sig_changed.emit()

    # drag & drop -----------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        urls = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if urls:
            self.add_paths(urls)
            event.acceptProposedAction()
        else:
            super().dropEvent(event)


class InputsWidget(QWidget):
    """Files + record options. ``read_options()`` gives what the engine needs."""

    sig_files_changed = Signal(tuple)  # the paths now listed (not empty): find the file to preview

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.files = FileList()
        self.add_files_button = QPushButton("Add files…")
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear")
        buttons = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.remove_button, self.clear_button):
            buttons.addWidget(button)
        self.mode = QComboBox()
        self.mode.addItem("One record per line", "lines")
        self.mode.addItem("One record per file", "file")
        self.mode.setToolTip("How .txt and .md files are split into records")
        self.column = QComboBox()
        self.column.setToolTip("CSV/TSV column or JSON field that holds the text")
        self.gold = QComboBox()
        self.gold.setToolTip("Column or field with the correct label, to evaluate the model (optional)")
        self.preview = QTableWidget(0, 0)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setMaximumHeight(150)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.preview_label = QLabel("Add a CSV, TSV or JSON lines file to pick its text column.")
        self.preview_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Text files:", self.mode)
        form.addRow("Text column / field:", self.column)
        form.addRow("Gold label:", self.gold)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.files, 1)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addWidget(self.preview_label)
        layout.addWidget(self.preview)
        self.add_files_button.clicked.connect(self.add_files_dialog)
        self.add_folder_button.clicked.connect(self.add_folder_dialog)
        self.remove_button.clicked.connect(self.files.remove_selected)
        self.clear_button.clicked.connect(self.files.clear_all)
        self.files.sig_changed.connect(self._files_changed)
        self.set_columns([], None, None)

    def add_files_dialog(self) -> None:
        paths = file_dialogs.open_files(self, "Add files to analyse", FILE_FILTER)
        self.files.add_paths(paths)

    def add_folder_dialog(self) -> None:
        folder = file_dialogs.existing_folder(self, "Add a folder to analyse")
        if folder:
            self.files.add_paths([folder])

    def _files_changed(self) -> None:
        paths = tuple(self.files.paths())
        if paths:
            self.preview_label.setText("Looking for a CSV, TSV or JSON file to preview…")
            self.sig_files_changed.emit(paths)
        else:
            self.show_inputs_preview(None)

    def show_inputs_preview(self, found) -> None:
        """Show a :class:`services.analyse.preview.InputsPreview` (None: no files listed)."""
        skipped = [str(warning) for warning in (found.skipped if found is not None else ())]
        if found is not None and found.preview is not None:
            self.show_preview(found.preview, skipped)
            return
        self.set_columns([], None, None)
        self.preview.setRowCount(0)
        self.preview.setColumnCount(0)
        notes = ["Text files need no column. CSV, TSV and JSON files show a preview here."]
        self.preview_label.setText("\n".join(notes + skipped[:3]))

    def show_preview(self, preview, skipped=()) -> None:
        """Fill the preview table and the pickers from a :class:`services.core.readers.Preview`
        (``skipped``: why other structured files were not previewed)."""
        self.set_columns(preview.columns, preview.text_column, preview.gold_column)
        self.preview.clear()
        self.preview.setColumnCount(len(preview.columns))
        self.preview.setHorizontalHeaderLabels(preview.columns)
        self.preview.setRowCount(len(preview.rows))
        for r, row in enumerate(preview.rows):
            for c, value in enumerate(row[: len(preview.columns)]):
                self.preview.setItem(r, c, QTableWidgetItem(value.replace("\n", " ⏎ ")))
        notes = [f"Preview of {os.path.basename(preview.path)} ({preview.encoding})"]
        notes += [str(w) for w in preview.warnings[:3]] + list(skipped[:3])
        self.preview_label.setText("\n".join(notes))

    def set_columns(self, columns: list[str], text: str | None, gold: str | None) -> None:
        self.column.clear()
        self.gold.clear()
        self.gold.addItem(NO_GOLD, None)
        if not columns:
            self.column.addItem("(guess: 'text' or the first column)", None)
        for name in columns:
            self.column.addItem(name, name)
            self.gold.addItem(name, name)
        if text is not None:
            self.column.setCurrentIndex(max(0, self.column.findData(text)))
        if gold is not None:
            self.gold.setCurrentIndex(max(0, self.gold.findData(gold)))

    def read_options(self) -> ReadOptions:
        return ReadOptions(mode=self.mode.currentData(), column=self.column.currentData(), gold=self.gold.currentData())
