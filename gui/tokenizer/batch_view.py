"""The batch view: several lines in, padding / padding side / truncation / max_length / stride as
controls, and the padded ``input_ids`` and ``attention_mask`` as grids (padding greyed, overflowing
pieces marked), with the tensor shapes and dtypes ``return_tensors="pt"`` gives."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from services.tokenizer.batch import PADDING, PADDING_SIDES, TRUNCATION, BatchResult

PAD_COLOUR = "#e4e4e4"
OVERFLOW_COLOUR = "#fff3d6"
MAX_GRID_COLUMNS = 1024


class TokenBatchView(QWidget):
    sig_requested = Signal()  # the lines or an option changed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.lines_edit = QPlainTextEdit()
        self.lines_edit.setPlaceholderText("One text per line. Write 'first ||| second' for a sentence pair.")
        self.lines_edit.setPlainText("Short line.\nI'm so excited to be learning about large language models.\n"
                                     "A tokenizer splits text into pieces.")
        self.lines_edit.setMaximumHeight(90)
        self.padding = self._combo(PADDING, "padding=: pad every row to the longest row, to max_length, or not at all")
        self.side = self._combo(PADDING_SIDES, "padding_side: where the [PAD] tokens go (XLNet pads on the left)")
        self.truncation = self._combo(TRUNCATION, "truncation=: which text to cut when a row is longer than max_length")
        self.use_max_length = QCheckBox("max_length")
        self.use_max_length.setToolTip("Off: the tokenizer's model_max_length is the limit")
        self.max_length = QSpinBox()
        self.max_length.setRange(2, 100_000)
        self.max_length.setValue(12)
        self.max_length.setEnabled(False)
        self.use_max_length.toggled.connect(self.max_length.setEnabled)
        self.stride = QSpinBox()
        self.stride.setRange(0, 10_000)
        self.stride.setToolTip("stride: how many tokens consecutive overflowing pieces share")
        self.show_tokens = QCheckBox("show tokens")
        self.show_tokens.setToolTip("Show the token strings in the grid instead of the ids")
        options = QGridLayout()
        for column, (label, widget) in enumerate((("padding", self.padding), ("padding side", self.side),
                                                  ("truncation", self.truncation))):
            options.addWidget(QLabel(label), 0, column)
            options.addWidget(widget, 1, column)
        options.addWidget(self.use_max_length, 0, 3)
        options.addWidget(self.max_length, 1, 3)
        options.addWidget(QLabel("stride"), 0, 4)
        options.addWidget(self.stride, 1, 4)
        options.addWidget(self.show_tokens, 1, 5)
        self.ids_grid = self._grid()
        self.mask_grid = self._grid()
        self.shapes_label = QLabel()
        self.shapes_label.setWordWrap(True)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        for view in (self.lines_edit, self.ids_grid, self.mask_grid):
            view.setMinimumHeight(36)  # a small window keeps all of the tab on screen (the views scroll)
        layout = QVBoxLayout(self)
        layout.addWidget(self.lines_edit)
        layout.addLayout(options)
        layout.addWidget(QLabel("<b>input_ids</b> (grey: padding; yellow rows: overflowing pieces)"))
        layout.addWidget(self.ids_grid, 3)
        layout.addWidget(QLabel("<b>attention_mask</b> (1 = a real token the model attends to, 0 = padding)"))
        layout.addWidget(self.mask_grid, 2)
        row = QHBoxLayout()
        row.addWidget(self.shapes_label, 1)
        layout.addLayout(row)
        layout.addWidget(self.notes_label)
        for widget in (self.padding, self.side, self.truncation):
            widget.currentIndexChanged.connect(lambda _i: self.sig_requested.emit())
        for spin in (self.max_length, self.stride):
            spin.valueChanged.connect(lambda _v: self.sig_requested.emit())
        self.use_max_length.toggled.connect(lambda _c: self.sig_requested.emit())
        self.lines_edit.textChanged.connect(self.sig_requested.emit)
        self.show_tokens.toggled.connect(lambda _c: self.set_result(self.result))
        self.result: BatchResult | None = None

    @staticmethod
    def _combo(values, tooltip: str) -> QComboBox:
        combo = QComboBox()
        combo.addItems(list(values))
        combo.setToolTip(tooltip)
        return combo

    @staticmethod
    def _grid() -> QTableWidget:
        grid = QTableWidget()
        grid.horizontalHeader().setDefaultSectionSize(52)
        grid.verticalHeader().setDefaultSectionSize(22)
        grid.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        return grid

    def options(self) -> dict:
        return dict(padding=self.padding.currentText(), padding_side=self.side.currentText(),
                    truncation=self.truncation.currentText(),
                    max_length=self.max_length.value() if self.use_max_length.isChecked() else None,
                    stride=self.stride.value())

    def text(self) -> str:
        return self.lines_edit.toPlainText()

    def set_error(self, message: str) -> None:
        self.result = None
        for grid in (self.ids_grid, self.mask_grid):
            grid.clear()
            grid.setRowCount(0)
            grid.setColumnCount(0)
        self.shapes_label.setText("")
        self.notes_label.setText(f"<span style='color:#b00020'>{message}</span>")

    def set_result(self, result: BatchResult | None) -> None:
        self.result = result
        if result is None:
            return
        width = min(result.width, MAX_GRID_COLUMNS)
        labels = [f"line {row.sample + 1}" + (f" · piece {row.piece + 1}" if row.is_overflow else "")
                  for row in result.rows]
        for grid, values in ((self.ids_grid, "ids"), (self.mask_grid, "mask")):
            grid.clear()
            grid.setRowCount(len(result.rows))
            grid.setColumnCount(width)
            grid.setVerticalHeaderLabels(labels)
            grid.setHorizontalHeaderLabels([str(i) for i in range(width)])
            for r, row in enumerate(result.rows):
                for c in range(min(width, len(row.input_ids))):
                    is_pad = row.attention_mask[c] == 0
                    if values == "mask":
                        text = str(row.attention_mask[c])
                    else:
                        text = row.tokens[c] if self.show_tokens.isChecked() else str(row.input_ids[c])
                    item = QTableWidgetItem(text)
                    item.setToolTip(f"{row.tokens[c]!r} id {row.input_ids[c]}, attention_mask {row.attention_mask[c]}"
                                    + (f", token_type_id {row.token_type_ids[c]}" if row.token_type_ids else ""))
                    if is_pad:
                        item.setBackground(QBrush(QColor(PAD_COLOUR)))
                    elif row.is_overflow:
                        item.setBackground(QBrush(QColor(OVERFLOW_COLOUR)))
                    grid.setItem(r, c, item)
        if result.tensors:
            shapes = ", ".join(f"{name}: {list(shape)} {dtype}" for name, (shape, dtype) in result.tensors.items())
            self.shapes_label.setText(f"<b>return_tensors=\"pt\"</b> gives {shapes}")
        else:
            self.shapes_label.setText(f"<b>return_tensors=\"pt\"</b>: {result.tensor_note}")
        notes = list(result.notes)
        if result.width > MAX_GRID_COLUMNS:
            notes.append(f"The grid shows the first {MAX_GRID_COLUMNS} of {result.width} columns.")
        notes.insert(0, f"{len(result.lines)} line(s) → {len(result.rows)} row(s) × {result.width} tokens; "
                        f"pad token {result.pad_token!r} (id {result.pad_token_id}) on the {result.padding_side}.")
        self.notes_label.setText("<br>".join(notes))
