"""What a finished run produced: metrics, confusion matrix, wrong validation examples, and Save to library."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "entity_f1": "entity F1",
                "entity_precision": "precision", "entity_recall": "recall", "token_accuracy": "token accuracy"}


def metrics_text(metrics: dict[str, float]) -> str:
    return " · ".join(f"{METRIC_NAMES.get(k, k)} <b>{v:.3f}</b>" for k, v in metrics.items() if k in METRIC_NAMES)


class TrainResultsBox(QWidget):
    sig_save = Signal(str)  # the name to save under

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result = None
        self.summary = QLabel("Results appear here when training ends.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.confusion = QTableWidget(0, 0)
        self.confusion.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion.setToolTip("Rows: the true label. Columns: what the model predicted. The diagonal is right.")
        self.wrong = QTableWidget(0, 4)
        self.wrong.setHorizontalHeaderLabels(["Text", "True", "Predicted", "Confidence"])
        self.wrong.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.wrong.verticalHeader().setVisible(False)
        header = self.wrong.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.confusion, "Confusion matrix")
        self.tabs.addTab(self.wrong, "Wrong on validation")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("name in the library")
        self.save_button = QPushButton("Save to library")
        self.save_button.setEnabled(False)
        self.save_message = QLabel("")
        self.save_message.setWordWrap(True)
        save_row = QHBoxLayout()
        save_row.addWidget(QLabel("Name:"))
        save_row.addWidget(self.name_edit, 1)
        save_row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(save_row)
        layout.addWidget(self.save_message)
        self.save_button.clicked.connect(lambda: self.sig_save.emit(self.name_edit.text().strip()))
        self.name_edit.returnPressed.connect(self.save_button.click)

    def clear(self) -> None:
        self.result = None
        self.summary.setText("Training…")
        self.confusion.setRowCount(0)
        self.confusion.setColumnCount(0)
        self.wrong.setRowCount(0)
        self.save_button.setEnabled(False)
        self.save_message.setText("")

    def show_result(self, result, suggested_name: str = "") -> None:
        self.result = result
        lines = [f"Validation ({result.validation_size} examples): {metrics_text(result.metrics)}"]
        if result.test_metrics:
            lines.append(f"Held-out test ({result.test_source}, {int(result.test_metrics.get('examples', 0))} examples): "
                         f"{metrics_text(result.test_metrics)}")
        state = "cancelled — kept" if result.cancelled else ("stopped early — kept" if result.stopped_early else "kept")
        lines.append(f"{state} epoch {result.best_epoch:g} of {result.epochs_run:.3g} · {result.steps} steps · "
                     f"training {result.train_seconds:.0f} s ({result.samples_per_second:.0f} examples/s)")
        lines += [f"<span style='color:#b45309'>⚠ {html.escape(w)}</span>" for w in getattr(result, "warnings", [])]
        self.summary.setText("<br>".join(lines))
        self._fill_confusion(result.confusion, result.confusion_labels)
        self._fill_wrong(result.wrong)
        self.tabs.setTabText(1, f"Wrong on validation ({len(result.wrong)})")
        if result.saved_path:
            self.set_saved(result.saved_path)
        else:
            self.name_edit.setText(suggested_name)
            self.save_button.setEnabled(True)
            self.save_message.setStyleSheet("")
            self.save_message.setText("Not saved yet.")

    def _fill_confusion(self, matrix: list[list[int]], labels: list[str]) -> None:
        self.confusion.setRowCount(len(labels))
        self.confusion.setColumnCount(len(labels))
        self.confusion.setHorizontalHeaderLabels([f"→ {name}" for name in labels])
        self.confusion.setVerticalHeaderLabels(labels)
        largest = max((max(row) for row in matrix if row), default=1) or 1
        for g, row in enumerate(matrix):
            for p, count in enumerate(row):
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                strength = count / largest
                colour = QColor(46, 125, 50) if g == p else QColor(198, 40, 40)
                colour.setAlphaF(0.12 + 0.55 * strength if count else 0.0)
                item.setBackground(colour)
                self.confusion.setItem(g, p, item)
        self.confusion.resizeColumnsToContents()

    def _fill_wrong(self, wrong: list[dict]) -> None:
        self.wrong.setRowCount(len(wrong))
        for r, example in enumerate(wrong):
            confidence = example.get("confidence")
            values = [example["text"], example["gold"], example["predicted"],
                      f"{confidence:.0%}" if confidence is not None else ""]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 0:
                    item.setToolTip(value)
                self.wrong.setItem(r, c, item)

    def set_saved(self, path: str) -> None:
        from pathlib import Path

        self.name_edit.setText(Path(path).name)
        self.save_button.setEnabled(False)
        self.save_message.setStyleSheet("color: #2e7d32;")
        self.save_message.setText(f"Saved to the library: {path}")

    def set_save_error(self, text: str) -> None:
        self.save_button.setEnabled(True)
        self.save_message.setStyleSheet("color: #b00020;")
        self.save_message.setText(text)
