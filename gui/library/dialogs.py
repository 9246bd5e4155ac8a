"""Small dialogs of the Library: folders settings, label editor, confirmations, remote-code consent."""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel,
                               QLineEdit, QListWidget, QMessageBox, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

import gui.dialogs
from gui.common import file_dialogs
from gui.settings import Key, Settings
from services.library.scan import ModelEntry


def dialogs_enabled() -> bool:
    return gui.dialogs.DIALOGS_ENABLED


def confirm(parent: QWidget | None, title: str, text: str) -> bool:
    """Ask Yes/No; with dialogs disabled (tests) the answer is No, so nothing destructive happens by itself."""
    if not dialogs_enabled():
        return False
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    if not dialogs_enabled():
        return None
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value.strip() if ok and value.strip() else None


def ask_item(parent: QWidget | None, title: str, label: str, items: list[str]) -> int | None:
    if not dialogs_enabled() or not items:
        return None
    value, ok = QInputDialog.getItem(parent, title, label, items, 0, False)
    return items.index(value) if ok else None


def ask_folder(parent: QWidget | None, title: str) -> str | None:
    if not dialogs_enabled():
        return None
    return file_dialogs.existing_folder(parent, title) or None


def is_trusted(settings: Settings, entry: ModelEntry) -> bool:
    return str(entry.path) in settings.get_list(Key.TRUSTED_REMOTE_CODE)


def remote_code_consent(parent: QWidget | None, settings: Settings, entry: ModelEntry) -> bool:
    """True if ``entry`` may run its own code: it needs none, was trusted before, or the user agrees now."""
    if not entry.remote_code or is_trusted(settings, entry):
        return True
    text = (f"'{entry.name}' asks for trust_remote_code: its config points at Python files shipped with the model. "
            "Loading it runs that code on this computer with your permissions — it could read, change or send "
            "your files.\n\nOnly allow this for a model whose code you have read and whose author you trust.\n\n"
            "Allow code from this model (remembered for this folder only)?")
    if not confirm(parent, "Run code shipped with a model?", text):
        return False
    trusted = settings.get_list(Key.TRUSTED_REMOTE_CODE)
    settings.set_list(Key.TRUSTED_REMOTE_CODE, trusted + [str(entry.path)])
    return True


class LibrarySettingsDialog(QDialog):
    """The library folder and the extra folders scanned for models."""

    def __init__(self, settings: Settings, current_dir: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Library folders")
        self.settings = settings
        self.folder_edit = QLineEdit(str(settings.get(Key.LIBRARY_DIR) or ""))
        self.folder_edit.setPlaceholderText(current_dir)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_library)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        self.extra_list = QListWidget()
        self.extra_list.addItems([str(p) for p in settings.get_list(Key.EXTRA_MODEL_DIRS)])
        add, remove = QPushButton("Add folder…"), QPushButton("Remove")
        add.clicked.connect(self._add_extra)
        remove.clicked.connect(lambda: [self.extra_list.takeItem(self.extra_list.row(i)) for i in self.extra_list.selectedItems()])
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add)
        buttons_row.addWidget(remove)
        buttons_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Library folder (empty = default):", row)
        form.addRow(QLabel("Extra folders scanned for models (read-only here):"))
        form.addRow(self.extra_list)
        form.addRow(buttons_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _browse_library(self) -> None:
        folder = ask_folder(self, "Library folder")
        if folder:
            self.folder_edit.setText(folder)

    def _add_extra(self) -> None:
        folder = ask_folder(self, "Add a folder of models")
        if folder:
            self.add_extra(folder)

    def add_extra(self, folder: str) -> None:
        if folder not in self.extra_folders():
            self.extra_list.addItem(folder)

    def extra_folders(self) -> list[str]:
        return [self.extra_list.item(i).text() for i in range(self.extra_list.count())]

    def save(self) -> None:
        self.settings.set(Key.LIBRARY_DIR, self.folder_edit.text().strip())
        self.settings.set_list(Key.EXTRA_MODEL_DIRS, self.extra_folders())


class EditLabelsDialog(QDialog):
    """A two-column table: class id and an editable label name."""

    def __init__(self, entry: ModelEntry, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Labels of {entry.name}")
        self.table = QTableWidget(len(entry.labels), 2)
        self.table.setHorizontalHeaderLabels(["id", "label"])
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, name in enumerate(entry.labels):
            id_item = QTableWidgetItem(str(row))
            id_item.setFlags(id_item.flags() & ~id_item.flags().ItemIsEditable)
            self.table.setItem(row, 0, id_item)
            self.table.setItem(row, 1, QTableWidgetItem(name))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Give the classes readable names (e.g. replace LABEL_0, LABEL_1)."))
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def labels(self) -> list[str]:
        return [self.table.item(row, 1).text() for row in range(self.table.rowCount())]
