"""The step view: ``tokenize`` → ``convert_tokens_to_ids`` → ``decode`` (with and without special
tokens), and the round-trip verdict that explains what decoding lost."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFormLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from services.tokenizer.inspect import Steps

PREVIEW_CHARS = 20_000  # long inputs: show the start of each step (the whole is in the token table)


def _mono_box(tooltip: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setReadOnly(True)
    box.setMaximumHeight(64)
    box.setMinimumHeight(36)  # a small window keeps all five steps on screen (each box scrolls)
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.Monospace)
    box.setFont(font)
    box.setToolTip(tooltip)
    return box


class TokenStepsView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tokens_box = _mono_box("tokenizer.tokenize(text): the pieces, before any special token is added")
        self.ids_box = _mono_box("tokenizer.convert_tokens_to_ids(tokens): each piece's row in the vocabulary")
        self.full_ids_box = _mono_box("tokenizer(text)['input_ids']: what the model receives (special tokens added)")
        self.decoded_special_box = _mono_box("tokenizer.decode(input_ids)")
        self.decoded_box = _mono_box("tokenizer.decode(input_ids, skip_special_tokens=True)")
        self.verdict = QLabel("Type some text to see the steps.")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        form = QFormLayout()
        form.addRow("1. tokenize(text)", self.tokens_box)
        form.addRow("2. convert_tokens_to_ids", self.ids_box)
        form.addRow("3. tokenizer(text) input_ids", self.full_ids_box)
        form.addRow("4. decode(input_ids)", self.decoded_special_box)
        form.addRow("   decode(…, skip_special_tokens=True)", self.decoded_box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Round trip</b>: does decode(convert_tokens_to_ids(tokenize(text))) give the text back?"))
        layout.addWidget(self.verdict)
        layout.addStretch(1)
        self.steps: Steps | None = None

    def set_steps(self, steps: Steps | None) -> None:
        self.steps = steps
        if steps is None:
            for box in (self.tokens_box, self.ids_box, self.full_ids_box, self.decoded_special_box, self.decoded_box):
                box.clear()
            self.verdict.setText("Type some text to see the steps.")
            return
        self.tokens_box.setPlainText(_preview(repr(steps.tokens)))
        self.ids_box.setPlainText(_preview(repr(steps.ids)))
        self.full_ids_box.setPlainText(_preview(repr(steps.ids_with_special)))
        self.decoded_special_box.setPlainText(_preview(steps.decoded_with_special))
        self.decoded_box.setPlainText(_preview(steps.decoded_without_special))
        self.verdict.setText(self.verdict_html(steps))

    @staticmethod
    def verdict_html(steps: Steps) -> str:
        if steps.lossless:
            return "<span style='color:#1a7f37'>✔ Lossless: decoding gives back exactly the text you typed.</span>"
        items = "".join(f"<li><b>{loss.kind}</b>: {_escape(loss.explanation)}</li>" for loss in steps.losses)
        return f"<span style='color:#b35900'>✘ Lossy: decoding does not give the text back.</span><ul>{items}</ul>"


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + f" … ({len(text):,} characters in all)"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
