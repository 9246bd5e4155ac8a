"""Evaluation (accuracy, macro-F1, per-class precision/recall, confusion matrix) and the
comparison of two models (agreement and the records where they disagree)."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

SHOWN_DISAGREEMENTS = 5000


def _table(rows: int, columns: int, headers: list[str]) -> QTableWidget:
    table = QTableWidget(rows, columns)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setDefaultSectionSize(22)
    return table


class EvaluationView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = QLabel("Choose a gold-label column before analysing to see accuracy and a confusion matrix.")
        self.summary.setWordWrap(True)
        self.per_class = _table(0, 5, ["Label", "Precision", "Recall", "F1", "Support"])
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.confusion = _table(0, 0, [])
        self.confusion.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for table in (self.per_class, self.confusion):
            table.setMinimumHeight(48)  # a small window keeps both tables on screen (they scroll)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Per class:"))
        layout.addWidget(self.per_class, 1)
        confusion_label = QLabel("Confusion matrix (rows: gold label, columns: predicted):")
        confusion_label.setWordWrap(True)
        layout.addWidget(confusion_label)
        layout.addWidget(self.confusion, 1)

    def show_evaluation(self, evaluation) -> None:
        if evaluation is None:
            self.summary.setText("No gold labels in these results: choose the gold-label column and analyse again.")
            self.per_class.setRowCount(0)
            self.confusion.setRowCount(0)
            self.confusion.setColumnCount(0)
            return
        note = f"; {evaluation.without_gold:,} rows without a gold label were left out" if evaluation.without_gold else ""
        self.summary.setText(f"<b>Accuracy {evaluation.accuracy * 100:.1f}%</b> · macro-F1 {evaluation.macro_f1:.3f} · "
                             f"{evaluation.total:,} records{note}")
        self.per_class.setRowCount(len(evaluation.per_class))
        for row, item in enumerate(evaluation.per_class):
            values = [item["label"], f"{item['precision']:.3f}", f"{item['recall']:.3f}", f"{item['f1']:.3f}",
                      f"{item['support']:,}"]
            for column, value in enumerate(values):
                self.per_class.setItem(row, column, QTableWidgetItem(value))
        labels = evaluation.labels
        matrix = evaluation.confusion
        self.confusion.clear()
        self.confusion.setRowCount(len(labels))
        self.confusion.setColumnCount(len(labels))
        self.confusion.setHorizontalHeaderLabels(labels)
        self.confusion.setVerticalHeaderLabels(labels)
        peak = max(1, int(matrix.max()) if matrix.size else 1)
        for r in range(len(labels)):
            for c in range(len(labels)):
                value = int(matrix[r, c])
                cell = QTableWidgetItem(f"{value:,}")
                strength = value / peak
                base = (76, 175, 80) if r == c else (229, 57, 53)
                cell.setBackground(QColor(*(int(255 - (255 - v) * strength * 0.7) for v in base)))
                self.confusion.setItem(r, c, cell)


class CompareView(QWidget):
    HINT = ("Pick a second model under “Compare with” and press Compare: both models run on the same input and "
            "the records where they disagree are listed here.")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = QLabel(self.HINT)
        self.summary.setWordWrap(True)
        self.table = _table(0, 5, ["Line", "Text", "Model A", "Model B", "File"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def clear(self) -> None:
        """Back to the hint: a new analysis has no comparison yet."""
        self.summary.setText(self.HINT)
        self.table.setRowCount(0)

    def show_comparison(self, comparison, name_a: str, name_b: str) -> None:
        shown = comparison.disagreements[:SHOWN_DISAGREEMENTS]
        more = len(comparison.disagreements) - len(shown)
        self.summary.setText(f"<b>Agreement {comparison.agreement * 100:.1f}%</b> between {name_a} (A) and {name_b} (B): "
                             f"{comparison.agree:,} of {comparison.total:,} records; "
                             f"{comparison.total - comparison.agree:,} disagreements"
                             + (f" ({more:,} more not listed)" if more > 0 else ""))
        self.table.setRowCount(len(shown))
        for row, item in enumerate(shown):
            a = f"{item['label_a']} ({item['score_a']:.3f})" if item["score_a"] is not None else str(item["label_a"])
            b = f"{item['label_b']} ({item['score_b']:.3f})" if item["score_b"] is not None else str(item["label_b"])
            values = [str(item["line"]), item["text"][:300].replace("\n", " "), a, b,
                      str(item["file"]).rsplit("/", 1)[-1]]
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
