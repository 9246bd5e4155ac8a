"""Results table (filter by label, score range, flagged rows) and the text of the clicked row,
with its entities highlighted."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QHeaderView,
                               QLabel, QSplitter, QTableView, QTextBrowser, QVBoxLayout, QWidget)

from gui.common.entity_view import colour_for, entity_group
from gui.analyse.results_model import ResultsModel

ALL_LABELS = "All labels"
DETAIL_CHARS = 20_000  # the detail view shows at most this much of a record's text


def highlighted_html(text: str, entities: list[dict], limit: int = DETAIL_CHARS) -> str:
    """The text as HTML with each entity in a coloured span labelled with its type (the Run
    panel's colours, so PER looks the same everywhere)."""
    shown = text[:limit]
    parts = []
    at = 0
    for entity in sorted(entities or [], key=lambda e: e.get("start", 0)):
        start, end = int(entity.get("start", 0)), int(entity.get("end", 0))
        if start < at or end > len(shown) or end <= start:
            continue
        parts.append(html.escape(shown[at:start]))
        kind = entity_group(entity)
        colour = colour_for(kind)
        tip = f"{kind} {float(entity.get('score', 0)):.3f}"
        parts.append(f'<span style="background-color:{colour}" title="{html.escape(tip)}">'
                     f'{html.escape(shown[start:end])}<sub> {html.escape(kind)}</sub></span>')
        at = end
    parts.append(html.escape(shown[at:]))
    body = "".join(parts).replace("\n", "<br>")
    if len(text) > limit:
        body += f"<p><i>… {len(text) - limit:,} more characters not shown.</i></p>"
    return body


def detail_html(record: dict) -> str:
    head = [f"<b>{html.escape(record.get('file', '').rsplit('/', 1)[-1])}</b>, line {record.get('line')}"]
    if record.get("label") is not None:
        head.append(f"label <b>{html.escape(str(record['label']))}</b> ({float(record.get('score') or 0):.4f})")
    elif record.get("labels"):
        pairs = ", ".join(f"{html.escape(str(l))} {float(s):.3f}" for l, s in zip(record["labels"], record["scores"]))
        head.append(f"zero-shot ({html.escape(str(record.get('method', '')))}): {pairs}")
    if record.get("gold"):
        head.append(f"gold <b>{html.escape(str(record['gold']))}</b>")
    if record.get("entities") is not None:
        head.append(f"{len(record['entities'])} entities")
    if record.get("shape"):
        head.append(f"embedding of {record['shape'][0]} numbers")
    if record.get("flags"):
        head.append(f"<span style='color:#b71c1c'>flags: {html.escape(', '.join(record['flags']))}</span>")
    marks = record.get("entities") or []
    if "answer" in record:  # question answering: the answer highlighted where it was found
        head.append(f"Q: {html.escape(str(record.get('question', '')))} → <b>{html.escape(record['answer']) or '(no answer)'}"
                    f"</b> ({float(record.get('score') or 0):.4f}), characters {record.get('start')}–{record.get('end')}")
        if record["answer"]:
            marks = [{"start": record["start"], "end": record["end"], "entity_group": "ANSWER",
                      "score": record.get("score") or 0.0}]
    output = record.get("summary_text", record.get("translation_text"))
    if output is not None:  # summarisation / translation: the output above its source
        what = "Summary" if "summary_text" in record else "Translation"
        chunks = f" (the chunk outputs of {record['chunks']} chunks, joined)" if record.get("chunks") else ""
        output = f"<p><b>{what}{chunks}:</b> {html.escape(output) or '<i>(empty)</i>'}</p>"
    return " · ".join(head) + (output or "") + "<hr>" + highlighted_html(record.get("text", ""), marks)


class ResultsView(QWidget):
    def __init__(self, model: ResultsModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.label_filter = QComboBox()
        self.label_filter.addItem(ALL_LABELS)
        self.label_filter.setToolTip("Show only rows with this label")
        self.min_score = QDoubleSpinBox()
        self.max_score = QDoubleSpinBox()
        for spin, value in ((self.min_score, 0.0), (self.max_score, 1.0)):
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            spin.setValue(value)
        self.flagged = QCheckBox("Flagged only")
        self.flagged.setToolTip("Rows that were too long, truncated, chunked or empty")
        self.count_label = QLabel("")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Label:"))
        bar.addWidget(self.label_filter)
        bar.addWidget(QLabel("Score from"))
        bar.addWidget(self.min_score)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.max_score)
        bar.addWidget(self.flagged)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((60, 110, 50, 90, 70, 80, 70)):
            self.table.setColumnWidth(column, width)
        self.detail = QTextBrowser()
        self.detail.setPlaceholderText("Click a row to see its text (entities highlighted).")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setSizes([400, 140])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        self.label_filter.currentIndexChanged.connect(self.apply_filter)
        self.min_score.valueChanged.connect(self.apply_filter)
        self.max_score.valueChanged.connect(self.apply_filter)
        self.flagged.toggled.connect(self.apply_filter)
        self.table.selectionModel().currentRowChanged.connect(lambda current, _prev: self.show_row(current.row()))
        self.table.clicked.connect(lambda index: self.show_row(index.row()))
        model.modelReset.connect(self.update_count)
        model.rowsInserted.connect(self.update_count)

    def refresh_labels(self) -> None:
        current = self.label_filter.currentText()
        names = [name for name, _count in self.model.label_counts()]
        if [self.label_filter.itemText(i) for i in range(1, self.label_filter.count())] == names:
            return
        self.label_filter.blockSignals(True)
        self.label_filter.clear()
        self.label_filter.addItem(ALL_LABELS)
        self.label_filter.addItems(names)
        self.label_filter.setCurrentIndex(max(0, self.label_filter.findText(current)))
        self.label_filter.blockSignals(False)

    def apply_filter(self) -> None:
        label = self.label_filter.currentText()
        low, high = self.min_score.value(), self.max_score.value()
        score_range = None if (low, high) == (0.0, 1.0) else (low, high)
        self.model.set_filter({label} if label != ALL_LABELS else None, score_range, self.flagged.isChecked())

    def update_count(self, *_args) -> None:
        shown, total = self.model.rowCount(), self.model.total_rows
        self.count_label.setText(f"{shown:,} rows" if shown == total else f"{shown:,} of {total:,} rows")

    def show_row(self, row: int) -> None:
        if row < 0 or row >= self.model.rowCount():
            return
        record = self.model.record(row)
        if record is None:
            self.detail.setPlainText("(text not available)")
            return
        self.detail.setHtml(detail_html(record))
