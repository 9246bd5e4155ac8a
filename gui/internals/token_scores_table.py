"""Logits → probabilities as a table: one row per label (sequence classification), per candidate
label (zero-shot) or per token (token classification); the argmax is bold, "uncertain" marked."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from services.internals.manual_path import InternalsResult, Scores

WIN_COLOUR = "#d7f5dd"
UNCERTAIN_COLOUR = "#ffe8c2"


def _bar(probability: float) -> str:
    return "█" * int(round(probability * 20))


class TokenScoresTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)

    def show_scores(self, result: InternalsResult | None, scores: Scores | None) -> None:
        self.clear()
        if result is None or scores is None or not result.score_logits:
            self.setRowCount(0)
            self.setColumnCount(0)
            return
        t = scores.temperature
        if result.mode == "sequence-classification":
            headers = ["id", "label (id2label)", "logit", f"logit / T ({t:g})", result.activation, ""]
            logits, probs, best = result.score_logits[0], scores.probabilities[0], scores.predictions[0]
            rows = [[str(i), name, f"{logits[i]:.6f}", f"{logits[i] / t:.6f}", f"{probs[i]:.6f}", _bar(probs[i])]
                    for i, name in enumerate(result.score_labels)]
            marks = [(i == best.index, best.uncertain and i == best.index) for i in range(len(rows))]
        elif result.mode == "zero-shot":
            headers = ["candidate label"] + [f"logit {c}" for c in result.logit_columns] + [
                f"entailment / T ({t:g})", "softmax over candidates", ""]
            probs, best = scores.probabilities[0], scores.predictions[0]
            rows = []
            for i, label in enumerate(result.candidate_labels):
                entail = result.score_logits[0][i]
                rows.append([label] + [f"{v:.6f}" for v in result.logits[i]]
                            + [f"{entail / t:.6f}", f"{probs[i]:.6f}", _bar(probs[i])])
            marks = [(i == best.index, best.uncertain and i == best.index) for i in range(len(rows))]
        else:
            headers = ["#", "token", "argmax → id2label", "probability"] + [f"p({c})" for c in result.score_labels]
            rows, marks = [], []
            for i, (prediction, probs) in enumerate(zip(scores.predictions, scores.probabilities)):
                rows.append([str(i), prediction.row, prediction.shown_label, f"{prediction.probability:.6f}"]
                            + [f"{p:.4f}" for p in probs])
                marks.append((False, prediction.uncertain))
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for r, (values, (winner, uncertain)) in enumerate(zip(rows, marks)):
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if value.startswith("█"):
                    item.setForeground(QBrush(QColor("#2f80ed")))
                if winner:
                    item.setFont(bold)
                    item.setBackground(QBrush(QColor(UNCERTAIN_COLOUR if uncertain else WIN_COLOUR)))
                elif uncertain:
                    item.setBackground(QBrush(QColor(UNCERTAIN_COLOUR)))
                self.setItem(r, c, item)
        self.resizeColumnsToContents()
