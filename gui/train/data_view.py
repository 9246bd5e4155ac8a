"""The Train panel's data section: file (browse or drop), preview, columns, labels, validation choice.

Reading the file runs on the job runner ("io" lane); the widget only shows what
``services.training.data.summarize`` found.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QComboBox, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QRadioButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from gui.common import file_dialogs
from services.training import TOKEN_CLASSIFICATION
from services.training.config import HELP

FILE_FILTER = "Labelled data (*.csv *.tsv *.jsonl *.json *.conll *.bio *.txt);;All files (*)"
WARNING_STYLE = "color: #a15c00;"
PROBLEM_STYLE = "color: #b00020;"


class TrainDataBox(QGroupBox):
    sig_summary = Signal(object)  # the summary dict of the current file (or None)

    def __init__(self, context, parent: QWidget | None = None):
        super().__init__("Data", parent)
        self.context = context
        self.task = "text-classification"
        self.summary: dict | None = None
        self.setAcceptDrops(True)

        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("Choose or drop a CSV / TSV / JSONL / CoNLL file")
        self.file_edit.setToolTip("The labelled training file. You can also drag a file onto this box.")
        self.browse_button = QPushButton("Browse…")
        self.preview = QTableWidget(0, 0)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setMaximumHeight(130)
        self.preview.verticalHeader().setVisible(False)
        self.preview.horizontalHeader().setStretchLastSection(True)
        self.preview.setWordWrap(False)
        self.preview.verticalHeader().setDefaultSectionSize(22)
        self.text_combo = QComboBox()
        self.text_combo.setToolTip("The column holding the text to classify")
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("The column holding each text's label")
        self.labels = QTableWidget(0, 3)
        self.labels.setHorizontalHeaderLabels(["Value in file", "Label name (editable)", "Count"])
        self.labels.verticalHeader().setVisible(False)
        self.labels.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.labels.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.labels.verticalHeader().setDefaultSectionSize(22)
        self.labels.setMaximumHeight(120)
        self.labels.setToolTip("The labels found in the file become the model's id2label; edit a name to rename it.")
        self.message = QLabel("")
        self.message.setWordWrap(True)

        self.split_radio = QRadioButton("Split off")
        self.split_radio.setChecked(True)
        self.split_spin = QSpinBox()
        self.split_spin.setRange(5, 50)
        self.split_spin.setValue(20)
        self.split_spin.setSuffix(" % (stratified)")
        self.file_radio = QRadioButton("Separate file:")
        self.validation_edit = QLineEdit()
        self.validation_edit.setPlaceholderText("a separate validation file")
        self.validation_browse = QPushButton("…")
        group = QButtonGroup(self)
        group.addButton(self.split_radio)
        group.addButton(self.file_radio)
        for widget in (self.split_radio, self.split_spin, self.file_radio, self.validation_edit):
            widget.setToolTip(HELP["validation"])

        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.browse_button)
        self.text_label, self.label_label = QLabel("Text column:"), QLabel("Label column:")
        columns_row = QHBoxLayout()
        columns_row.addWidget(self.text_label)
        columns_row.addWidget(self.text_combo, 1)
        columns_row.addWidget(self.label_label)
        columns_row.addWidget(self.label_combo, 1)
        validation_row = QHBoxLayout()
        validation_row.addWidget(QLabel("Validation:"))
        validation_row.addWidget(self.split_radio)
        validation_row.addWidget(self.split_spin)
        validation_row.addStretch(1)
        validation_file_row = QHBoxLayout()
        validation_file_row.addWidget(self.file_radio)
        validation_file_row.addWidget(self.validation_edit, 1)
        validation_file_row.addWidget(self.validation_browse)
        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addWidget(self.preview)
        layout.addLayout(columns_row)
        layout.addWidget(self.labels)
        layout.addWidget(self.message)
        layout.addLayout(validation_row)
        layout.addLayout(validation_file_row)

        self.browse_button.clicked.connect(self._browse)
        self.validation_browse.clicked.connect(self._browse_validation)
        self.file_edit.editingFinished.connect(lambda: self.load_file(self.file_edit.text()))
        self.text_combo.activated.connect(lambda _i: self.reload())
        self.label_combo.activated.connect(lambda _i: self.reload())
        self.validation_edit.textEdited.connect(lambda _t: self.file_radio.setChecked(True))

    # -- file choice --------------------------------------------------------------------------
    def _browse(self) -> None:
        path = file_dialogs.open_file(self, "Choose labelled data", FILE_FILTER)
        if path:
            self.load_file(path)

    def _browse_validation(self) -> None:
        path = file_dialogs.open_file(self, "Choose validation data", FILE_FILTER)
        if path:
            self.validation_edit.setText(path)
            self.file_radio.setChecked(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.load_file(urls[0].toLocalFile())
            event.acceptProposedAction()

    def set_task(self, task: str) -> None:
        self.task = task
        ner = task == TOKEN_CLASSIFICATION
        for widget in (self.text_label, self.text_combo, self.label_label, self.label_combo):
            widget.setVisible(not ner)
        self.split_spin.setSuffix(" % (random)" if ner else " % (stratified)")
        if self.path():
            self.reload(keep_columns=False)

    def path(self) -> str:
        return self.file_edit.text().strip()

    def load_file(self, path: str) -> None:
        self.file_edit.setText(path)
        self.reload(keep_columns=False)

    def reload(self, keep_columns: bool = True) -> None:
        from services.training.data import summarize

        path, task = self.path(), self.task
        if not path:
            return
        text = self.text_combo.currentText() if keep_columns else None
        label = self.label_combo.currentText() if keep_columns else None
        self.message.setText("Reading…")
        self.context.runner.submit(f"Reading {Path(path).name}", lambda progress, cancel: summarize(path, task, text, label),
                                   lane="io", key="train-data", on_result=self.show_summary, on_error=self.show_error)

    # -- showing what was found -----------------------------------------------------------------
    def show_error(self, error: BaseException) -> None:
        """A file that cannot be used: nothing of the previous file stays on screen (preview, columns, labels)."""
        self.summary = None
        self.preview.setRowCount(0)
        self.preview.setColumnCount(0)
        for combo in (self.text_combo, self.label_combo):
            combo.clear()
        self.labels.setRowCount(0)
        self.message.setStyleSheet(PROBLEM_STYLE)
        self.message.setText(str(error))
        self.sig_summary.emit(None)

    def show_summary(self, summary: dict) -> None:
        self.summary = summary
        self.preview.setColumnCount(len(summary["columns"]))
        self.preview.setHorizontalHeaderLabels(summary["columns"])
        self.preview.setRowCount(len(summary["rows"]))
        for r, row in enumerate(summary["rows"]):
            for c, value in enumerate(row):
                self.preview.setItem(r, c, QTableWidgetItem(value[:200]))
        for combo, value in ((self.text_combo, summary["text_column"]), (self.label_combo, summary["label_column"])):
            combo.clear()
            combo.addItems(summary["columns"])
            combo.setCurrentIndex(combo.findText(value) if value else -1)
        self.labels.setRowCount(len(summary["labels"]))
        for r, label in enumerate(summary["labels"]):
            value = QTableWidgetItem(label)
            value.setFlags(value.flags() & ~Qt.ItemFlag.ItemIsEditable)
            count = QTableWidgetItem(str(summary["counts"].get(label, 0)))
            count.setFlags(count.flags() & ~Qt.ItemFlag.ItemIsEditable)
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.labels.setItem(r, 0, value)
            self.labels.setItem(r, 1, QTableWidgetItem(label))
            self.labels.setItem(r, 2, count)
            if summary["warnings"] and summary["counts"]:
                if summary["counts"].get(label) == min(summary["counts"].values()):
                    count.setBackground(QColor("#ffe0b2"))
        usable = summary.get("usable", 0)
        lines = [f"{summary['format'].upper()}: {summary['total']} rows, {usable} usable, {len(summary['labels'])} labels."]
        style = ""
        if summary["warnings"]:
            lines += summary["warnings"]
            style = WARNING_STYLE
        if summary["problems"]:
            lines += summary["problems"]
            style = PROBLEM_STYLE
        self.message.setStyleSheet(style)
        self.message.setText("\n".join(lines))
        self.sig_summary.emit(summary)

    # -- what the training run needs -------------------------------------------------------------
    def label_names(self) -> dict[str, str]:
        names = {}
        for r in range(self.labels.rowCount()):
            value, name = self.labels.item(r, 0), self.labels.item(r, 1)
            if value is not None and name is not None:
                names[value.text()] = name.text()
        return names

    def text_column(self) -> str | None:
        return self.text_combo.currentText() or None if self.task != TOKEN_CLASSIFICATION else None

    def label_column(self) -> str | None:
        return self.label_combo.currentText() or None if self.task != TOKEN_CLASSIFICATION else None

    def validation_path(self) -> str | None:
        return self.validation_edit.text().strip() or None if self.file_radio.isChecked() else None

    def validation_fraction(self) -> float:
        return self.split_spin.value() / 100
