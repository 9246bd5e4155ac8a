"""Result views for the Run panel, one per task (the NER view lives in ``entity_view.py``).

Each view has ``show_result(result: dict)`` taking one result dict from ``services.run.predict``
(or ``similarity``) and ``clear()``.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHeaderView, QLabel, QProgressBar, QScrollArea,
                               QTableWidget, QTableWidgetItem, QTextEdit, QVBoxLayout, QWidget)

from services.core.tasks import DEFAULT_TEMPLATE

BAR_STEPS = 1000


def _headline() -> QLabel:
    label = QLabel()
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    font.setBold(True)
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ScoreBars(QScrollArea):
    """One row per label: name, a bar as long as the score, the score as a number."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self._body = QWidget()
        self._grid = QGridLayout(self._body)
        self._grid.setColumnStretch(1, 1)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.setWidget(self._body)
        self._rows: list[tuple[str, float]] = []

    def set_scores(self, pairs: list[tuple[str, float]], *, probability: bool = True) -> None:
        self.clear()
        self._rows = [(str(label), float(score)) for label, score in pairs]
        for row, (label, score) in enumerate(self._rows):
            name = QLabel(label)
            name.setToolTip(label)
            bar = QProgressBar()
            bar.setRange(0, BAR_STEPS)
            bar.setValue(int(round(max(0.0, min(1.0, score)) * BAR_STEPS)))
            bar.setTextVisible(False)
            bar.setMaximumHeight(18)
            bar.setToolTip(f"{label}: {score:.6f}")
            value = QLabel(f"{score * 100:.1f}%" if probability else f"{score:.4f}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setMinimumWidth(60)
            self._grid.addWidget(name, row, 0)
            self._grid.addWidget(bar, row, 1)
            self._grid.addWidget(value, row, 2)

    def rows(self) -> list[tuple[str, float]]:
        return list(self._rows)

    def bars(self) -> list[QProgressBar]:
        return [self._grid.itemAtPosition(row, 1).widget() for row in range(len(self._rows))]

    def clear(self) -> None:
        while self._grid.count():
            widget = self._grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self._rows = []


class ClassificationView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.headline = _headline()
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.bars = ScoreBars()
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        layout.addWidget(self.bars, 1)

    def show_result(self, result: dict) -> None:
        function = result.get("function", "softmax")
        if function == "none":  # a regression head: the raw output is the answer, not a probability
            self.headline.setText(f"{result['label']}  ·  {result['score']:.4f}")
            self.detail.setText("A regression head: the model's raw output value (no softmax or sigmoid).")
        else:
            self.headline.setText(f"{result['label']}  ·  {result['score'] * 100:.1f}%")
            shown = len(result["scores"])
            self.detail.setText(f"{shown} class{'es' if shown != 1 else ''} shown, scores from the logits by {function}.")
        self.bars.set_scores(list(result["scores"].items()), probability=function != "none")

    def clear(self) -> None:
        self.headline.clear()
        self.detail.clear()
        self.bars.clear()


METHOD_TEXT = {
    "nli": "Method: NLI pipeline — transformers' zero-shot-classification; each label becomes the hypothesis "
           "“{template}” and the model's entailment score ranks it.",
    "embedding": "Method: embedding similarity — cosine between the text's mean-pooled embedding and each "
                 "hypothesis “{template}”; {scoring}.",
}


class ZeroShotView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.headline = _headline()
        self.method_label = QLabel()
        self.method_label.setWordWrap(True)
        self.method_label.setObjectName("zeroShotMethod")
        self.bars = ScoreBars()
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.method_label)
        layout.addWidget(self.bars, 1)
        self.method = ""

    def show_result(self, result: dict, template: str = DEFAULT_TEMPLATE) -> None:
        self.method = result["method"]
        self.headline.setText(f"{result['labels'][0]}  ·  {result['scores'][0] * 100:.1f}%")
        if result.get("multi_label"):
            scoring = "multi-label: each score is that label's cosine clipped to [0, 1], judged on its own"
        else:
            scoring = "single-label: softmax over the labels of 20 × cosine, so the scores sum to 100%"
        self.method_label.setText(METHOD_TEXT[self.method].format(template=template, scoring=scoring))
        self.bars.set_scores(list(zip(result["labels"], result["scores"])))

    def clear(self) -> None:
        self.headline.clear()
        self.method_label.clear()
        self.bars.clear()
        self.method = ""


class FillMaskView(QWidget):
    COLUMNS = ("#", "Token", "Score", "Sequence")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.headline = _headline()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.table, 1)

    def show_result(self, result: dict) -> None:
        candidates = result["candidates"]
        masks = len(result.get("masks", [candidates]))
        note = f" (first of {masks} masks)" if masks > 1 else ""
        self.headline.setText(f"{result.get('mask_token', 'mask')} → {candidates[0]['token_str']}{note}")
        self.table.setRowCount(len(candidates))
        for row, candidate in enumerate(candidates):
            cells = (str(row + 1), candidate["token_str"], f"{candidate['score'] * 100:.2f}%", candidate["sequence"])
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"token id {candidate['token']}, score {candidate['score']:.6f}")
                self.table.setItem(row, column, item)

    def tokens(self) -> list[str]:
        return [self.table.item(row, 1).text() for row in range(self.table.rowCount())]

    def clear(self) -> None:
        self.headline.clear()
        self.table.setRowCount(0)


class SimilarityView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.headline = _headline()
        self.bar = QProgressBar()
        self.bar.setRange(-BAR_STEPS, BAR_STEPS)
        self.bar.setToolTip("The cosine on a scale from −1 (opposite) through 0 (unrelated) to +1 (same direction)")
        self.bar.hide()  # no half-filled bar before there is a cosine to show
        self.shape_label = QLabel()
        self.shape_label.setWordWrap(True)
        self.shape_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.bar)
        layout.addWidget(self.shape_label)
        layout.addStretch(1)
        self.cosine: float | None = None

    def show_result(self, result: dict) -> None:
        if "cosine" in result:
            self.cosine = float(result["cosine"])
            self.headline.setText(f"cosine similarity  {self.cosine:.4f}")
            self.bar.setValue(int(round(self.cosine * BAR_STEPS)))
            self.bar.setFormat(f"cosine {self.cosine:+.3f}  (−1 … +1)")
            self.bar.setVisible(True)
            self.shape_label.setText(
                f"Each sentence → a vector of shape {tuple(result['shape'])} ({result.get('pooling', 'mean')} pooling "
                "over the token vectors, then L2-normalised); the cosine is their dot product (1 = same direction, "
                "0 = unrelated).")
        else:
            self.cosine = None
            self.bar.setVisible(False)
            vector = result["embedding"]
            self.headline.setText(f"embedding shape {tuple(result['shape'])}")
            preview = ", ".join(f"{value:+.4f}" for value in vector[:8])
            self.shape_label.setText(f"[{preview}, …]  (L2 norm 1; type a second sentence to compare)")

    def clear(self) -> None:
        self.headline.clear()
        self.shape_label.clear()
        self.bar.setValue(0)
        self.bar.hide()
        self.cosine = None


class GenerationView(QWidget):
    """The prompt in grey, then the generated text as it streams in."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text_view = QTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setFont(QFont("DejaVu Sans", 11))
        self.info = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.text_view, 1)
        layout.addWidget(self.info)
        self.prompt = ""
        self.updates = 0  # how many streamed updates arrived (tests read it)

    def start(self, prompt: str) -> None:
        self.prompt = prompt
        self.updates = 0
        self._render(prompt)
        self.info.setText("Generating…")

    def stream(self, text_so_far: str) -> None:
        self.updates += 1
        self._render(text_so_far)

    def _render(self, text: str) -> None:
        prompt = self.prompt if text.startswith(self.prompt) else ""
        new = text[len(prompt):]
        self.text_view.setHtml(
            f"<div style='white-space: pre-wrap'><span style='color:#777'>{html.escape(prompt)}</span>"
            f"<b>{html.escape(new)}</b></div>")

    def generated(self) -> str:
        return self.text_view.toPlainText()

    def show_result(self, result: dict) -> None:
        self._render(result["generated_text"])
        self.info.setText(f"{result.get('new_tokens', 0)} new tokens.")

    def cancelled(self) -> None:
        self.info.setText("Cancelled: the text above is what was generated until then.")

    def clear(self) -> None:
        self.text_view.clear()
        self.info.clear()
        self.prompt = ""
