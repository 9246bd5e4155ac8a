"""Two or more tokenizers side by side on the same text, aligned by character offsets: one row per
tokenizer, one column per piece of text that some tokenizer cuts out; a token spans the columns it
covers, and tokens whose edges fall where the others do not split are marked."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from services.tokenizer.compare import Comparison

DIFFERENT_COLOUR = "#ffd8a8"
SAME_COLOUR = "#eef4ff"
MAX_COLUMNS = 600


class TokenCompareView(QWidget):
    sig_requested = Signal()  # the list of tokenizers changed
    sig_open_folder = Signal()  # the user wants to add a folder

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.add_combo = QComboBox()
        self.add_combo.setToolTip("A tokenizer to compare with the one chosen above")
        self.add_button = QPushButton("Add")
        self.folder_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.list = QListWidget()
        self.list.setMaximumHeight(70)
        self.list.setToolTip("Compared with the panel's tokenizer (always the first row)")
        self.summary = QTableWidget()
        self.summary.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.alignment = QTableWidget()
        self.alignment.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.alignment.horizontalHeader().setDefaultSectionSize(40)
        self.alignment.horizontalHeader().setMinimumSectionSize(12)
        self.message = QLabel("Add a tokenizer to compare with.")
        self.message.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Compare with:"))
        top.addWidget(self.add_combo, 1)
        top.addWidget(self.add_button)
        top.addWidget(self.folder_button)
        top.addWidget(self.remove_button)
        for view in (self.list, self.alignment, self.summary):
            view.setMinimumHeight(36)  # a small window keeps all of the tab on screen (the views scroll)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.list)
        layout.addWidget(QLabel("<b>Aligned by character offsets</b> (orange: a split the other tokenizers do not make)"))
        layout.addWidget(self.alignment, 2)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("<b>Properties</b>"))
        layout.addWidget(self.summary, 2)
        self.add_button.clicked.connect(lambda: self.add_spec(self.add_combo.currentData(), self.add_combo.currentText()))
        self.folder_button.clicked.connect(self.sig_open_folder.emit)
        self.remove_button.clicked.connect(self._remove_selected)
        self.comparison: Comparison | None = None
        self.dropped_note = ""  # "No longer on disk ..." stays under the results until the user changes the list

    def set_choices(self, choices: list[tuple[str, str]]) -> None:
        self.add_combo.clear()
        for label, spec in choices:
            self.add_combo.addItem(label, spec)

    def specs(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def add_spec(self, spec: str | None, label: str = "") -> None:
        if not spec or spec in self.specs():
            return
        item = QListWidgetItem(label or spec)
        item.setData(Qt.ItemDataRole.UserRole, spec)
        item.setToolTip(spec)
        self.list.addItem(item)
        self.dropped_note = ""
        self.sig_requested.emit()

    def follow(self, changes) -> None:
        """The model list changed (a ``ModelChanges``): a renamed model keeps its row under its new name
        and path; a deleted one leaves the comparison, and the message says so."""
        renamed = {before.spec: after for before, after in changes.renamed + changes.moved}
        dropped, moved = [], False
        for row in reversed(range(self.list.count())):
            item = self.list.item(row)
            spec = item.data(Qt.ItemDataRole.UserRole)
            if spec in renamed:
                moved = True
                item.setData(Qt.ItemDataRole.UserRole, renamed[spec].spec)
                item.setText(renamed[spec].name)
                item.setToolTip(renamed[spec].spec)
            elif changes.follow(spec) is None:
                dropped.append(item.text())
                self.list.takeItem(row)
        if dropped:
            self.dropped_note = f"No longer on disk, so no longer compared: {', '.join(reversed(dropped))}."
        if dropped or moved:
            self.sig_requested.emit()  # with nothing left to compare this says so at once; the note goes on top
        if dropped:
            self.set_message(self.dropped_note)

    def _remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.dropped_note = ""
        self.sig_requested.emit()

    def set_message(self, text: str) -> None:
        self.message.setText(text)

    def set_comparison(self, comparison: Comparison | None) -> None:
        self.comparison = comparison
        self.alignment.clear()
        self.summary.clear()
        if comparison is None:
            self.alignment.setRowCount(0)
            self.summary.setRowCount(0)
            return
        self._fill_alignment(comparison)
        self._fill_summary(comparison)
        differing = len(comparison.differing_splits)
        self.message.setText(
            f"{differing} place(s) where the tokenizers split a word differently. "
            + "  ".join(f"{t.name}: {t.count} tokens" for t in comparison.tokenizers)
            + (f"  {self.dropped_note}" if self.dropped_note else ""))

    def _fill_alignment(self, comparison: Comparison) -> None:
        columns = min(len(comparison.columns), MAX_COLUMNS)
        table = self.alignment
        table.setRowCount(len(comparison.tokenizers))
        table.setColumnCount(columns)
        table.setHorizontalHeaderLabels([comparison.column_text(i).replace(" ", "␣") for i in range(columns)])
        table.setVerticalHeaderLabels([t.name for t in comparison.tokenizers])
        differing = set(comparison.differing_splits)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        for row, compared in enumerate(comparison.tokenizers):
            for cell in compared.cells:
                if cell.first >= columns:
                    break
                last = min(cell.last, columns)
                start, end = comparison.columns[cell.first][0], comparison.columns[last - 1][1]
                item = QTableWidgetItem(" ".join(cell.tokens))
                item.setFont(font)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip(f"{' '.join(cell.tokens)!r} covers {comparison.text[start:end]!r} "
                                f"(characters {start}–{end})")
                edges = {start, end}
                item.setBackground(QBrush(QColor(DIFFERENT_COLOUR if edges & differing else SAME_COLOUR)))
                table.setItem(row, cell.first, item)
                if last - cell.first > 1:
                    table.setSpan(row, cell.first, 1, last - cell.first)
        table.resizeColumnsToContents()

    def _fill_summary(self, comparison: Comparison) -> None:
        properties = [
            ("algorithm", lambda t: t.family),
            ("tokens (with special)", lambda t: str(t.count)),
            ("special tokens at the start", lambda t: " ".join(t.start_specials) or "—"),
            ("special tokens at the end", lambda t: " ".join(t.end_specials) or "—"),
            ("special tokens go", lambda t: t.special_placement),
            ("padding side", lambda t: t.padding_side),
            ("vocabulary size", lambda t: f"{t.vocab_size:,}"),
            ("model_max_length", lambda t: f"{t.model_max_length:,}" if t.model_max_length else "unlimited"),
            ("lower-cases", lambda t: "yes" if t.normalisation.lowercases else "no"),
            ("strips accents", lambda t: "yes" if t.normalisation.strips_accents else "no"),
            ("Unicode normalisation", lambda t: t.normalisation.unicode_form or "—"),
            ("unknown tokens", lambda t: str(t.encoding.unknown_count)),
        ]
        table = self.summary
        table.setRowCount(len(properties))
        table.setColumnCount(len(comparison.tokenizers))
        table.setHorizontalHeaderLabels([t.name for t in comparison.tokenizers])
        table.setVerticalHeaderLabels([name for name, _ in properties])
        for row, (_name, getter) in enumerate(properties):
            values = [getter(t) for t in comparison.tokenizers]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if len(set(values)) > 1:
                    item.setBackground(QBrush(QColor(DIFFERENT_COLOUR)))
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
