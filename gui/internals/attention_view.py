"""Layer / head / average-over-heads controls above a scrollable attention heatmap."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from gui.internals.attention_heatmap import MAX_TOKENS, AttentionHeatmap


class AttentionView(QWidget):
    sig_selection_changed = Signal()  # layer, head or averaging changed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer = QSpinBox()
        self.layer.setToolTip("Which transformer layer (0 = closest to the input)")
        self.head = QSpinBox()
        self.head.setToolTip("Which attention head of that layer")
        self.average = QCheckBox("average over heads")
        self.average.setToolTip("The mean of all heads of the layer")
        self.caption = QLabel("Run the model to see where each token looks.")
        self.caption.setWordWrap(True)
        self.heatmap = AttentionHeatmap()
        scroll = QScrollArea()
        scroll.setWidget(self.heatmap)
        scroll.setWidgetResizable(False)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("layer"))
        controls.addWidget(self.layer)
        controls.addWidget(QLabel("head"))
        controls.addWidget(self.head)
        controls.addWidget(self.average)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addWidget(scroll, 1)
        self.layer.valueChanged.connect(lambda _v: self._changed())
        self.head.valueChanged.connect(lambda _v: self._changed())
        self.average.toggled.connect(lambda on: (self.head.setEnabled(not on), self._changed()))
        self.attentions = None
        self.tokens: list[str] = []

    def set_attentions(self, attentions, tokens: list[str]) -> None:
        """``attentions``: numpy [layers, heads, tokens, tokens] (None: the model returned none)."""
        self.attentions, self.tokens = attentions, tokens
        if attentions is None:
            self.heatmap.set_matrix(None, [])
            self.caption.setText("This model returned no attention weights.")
            return
        for spin, size in ((self.layer, attentions.shape[0]), (self.head, attentions.shape[1])):
            spin.blockSignals(True)
            spin.setRange(0, size - 1)
            spin.blockSignals(False)
        self._changed()

    def selection(self) -> tuple[int, int | None]:
        """(layer, head) with head None for the average over heads."""
        return self.layer.value(), None if self.average.isChecked() else self.head.value()

    def current_matrix(self):
        if self.attentions is None:
            return None
        layer, head = self.selection()
        return self.attentions[layer].mean(axis=0) if head is None else self.attentions[layer, head]

    def _changed(self) -> None:
        if self.attentions is None:
            return
        layer, head = self.selection()
        layers, heads, n, _ = self.attentions.shape
        self.heatmap.set_matrix(self.current_matrix(), self.tokens)
        which = "average over heads" if head is None else f"head {head} of {heads}"
        cut = f" Showing the first {MAX_TOKENS} of {n} tokens." if n > MAX_TOKENS else ""
        self.caption.setText(f"Layer {layer} of {layers}, {which}: row = the token attending, column = the token it "
                             f"attends to; each row sums to 1 (output_attentions=True, shape {list(self.attentions.shape)})."
                             + cut)
        self.sig_selection_changed.emit()
