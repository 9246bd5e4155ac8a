"""The library as a Qt table model, and a proxy that filters by task and text and sorts by raw values."""

from __future__ import annotations

import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

from gui.catalogue import SOURCE_LABELS
from services.library.catalogue import ModelChanges
from services.library.ops import format_size
from services.library.scan import ModelEntry

COLUMNS = ["Name", "Architecture", "Tasks", "Labels", "Parameters", "Size", "Format", "Tokenizer", "Modified", "Source"]
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2
TASK_SHORT = {
    "text-classification": "classify",
    "token-classification": "NER",
    "zero-shot-classification": "zero-shot",
    "fill-mask": "fill-mask",
    "sentence-similarity": "similarity",
    "text-generation": "generate",
    "question-answering": "QA",
    "summarization": "summarise",
    "translation": "translate",
}


def format_parameters(count: int | None) -> str:
    if not count:
        return "unknown"
    if count >= 1e9:
        return f"{count / 1e9:.2f} B"
    if count >= 1e6:
        return f"{count / 1e6:.1f} M"
    return f"{count / 1e3:.0f} K"


def format_date(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d") if timestamp else ""


class LibraryTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list[ModelEntry] = []

    def set_entries(self, entries: list[ModelEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def apply(self, changes: ModelChanges) -> None:
        """Update only the rows that changed: removed rows go, renamed/changed rows are redrawn, new rows
        are appended (the proxy sorts them into place)."""
        removed = {entry.spec for entry in changes.removed}
        for row in reversed(range(len(self.entries))):
            if self.entries[row].spec in removed:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.entries[row]
                self.endRemoveRows()
        replaced = {before.spec: after for before, after in changes.renamed + changes.moved}
        replaced.update({entry.spec: entry for entry in changes.changed})
        for row, existing in enumerate(self.entries):
            if existing.spec in replaced:
                self.entries[row] = replaced[existing.spec]
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        present = {entry.spec for entry in self.entries}
        added = [entry for entry in changes.added if entry.spec not in present]
        if added:
            self.beginInsertRows(QModelIndex(), len(self.entries), len(self.entries) + len(added) - 1)
            self.entries.extend(added)
            self.endInsertRows()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def entry(self, row: int) -> ModelEntry:
        return self.entries[row]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, column)
        if role == SORT_ROLE:
            return self._sort_key(entry, column)
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = str(entry.path)
            if entry.problem:
                tip += f"\nProblem: {entry.problem}"
            if entry.pickle_weights:
                tip += "\nPickle (.bin) weights: loading them can run code. Prefer safetensors."
            if entry.remote_code:
                tip += "\nNeeds trust_remote_code: runs Python code shipped with the model."
            return tip
        if role == Qt.ItemDataRole.ForegroundRole:
            if entry.problem and column == "Name":
                return QBrush(QColor("#b00020"))
            if column == "Format" and entry.pickle_weights:
                return QBrush(QColor("#b35c00"))
        return None

    @staticmethod
    def _text(entry: ModelEntry, column: str) -> str:
        if column == "Name":
            return ("⚠ " if entry.problem else "") + entry.name
        if column == "Architecture":
            return entry.architecture or "—"
        if column == "Tasks":
            return ", ".join(TASK_SHORT.get(t, t) for t in entry.tasks) or "—"
        if column == "Labels":
            shown = ", ".join(entry.labels[:5])
            return shown + (f" … (+{len(entry.labels) - 5})" if len(entry.labels) > 5 else "") or "—"
        if column == "Parameters":
            return format_parameters(entry.parameters)
        if column == "Size":
            return format_size(entry.size_bytes)
        if column == "Format":
            return "⚠ pickle (.bin)" if entry.pickle_weights else entry.format
        if column == "Tokenizer":
            return entry.tokenizer_class or "—"
        if column == "Modified":
            return format_date(entry.modified)
        if column == "Source":
            return SOURCE_LABELS.get(entry.source, entry.source)
        return ""

    @staticmethod
    def _sort_key(entry: ModelEntry, column: str):
        if column == "Parameters":
            return entry.parameters or 0
        if column == "Size":
            return entry.size_bytes
        if column == "Modified":
            return entry.modified
        return LibraryTableModel._text(entry, column).lower()


class LibraryFilterProxy(QSortFilterProxyModel):
    """Rows whose entry can do ``task`` (None = any) and whose name/architecture/labels/path contain the text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.task: str | None = None
        self.text = ""
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_task(self, task: str | None) -> None:
        self.task = task or None
        self.invalidate()

    def set_text(self, text: str) -> None:
        self.text = text.strip().lower()
        self.invalidate()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        entry: ModelEntry = model.entry(source_row)
        if self.task and self.task not in entry.tasks:
            return False
        if self.text:
            haystack = " ".join([entry.name, entry.architecture, " ".join(entry.labels), str(entry.path),
                                 entry.source, entry.tokenizer_class, entry.repo_id]).lower()
            return self.text in haystack
        return True

    def entry_at(self, proxy_row: int) -> ModelEntry:
        source = self.mapToSource(self.index(proxy_row, 0))
        return self.sourceModel().entry(source.row())
