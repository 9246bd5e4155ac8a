"""Run panel views for question answering (the context with the answer highlighted, and the top-k
answers) and for summarisation/translation (the output streamed in as it is generated)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QSplitter, QTableWidget, QTableWidgetItem,
                               QTextBrowser, QTextEdit, QVBoxLayout, QWidget)

HIGHLIGHT = "background:#ffe08a; border-bottom:2px solid #d4a000; font-weight:bold"
OTHER = "background:#e3edf9"


def highlighted_html(context: str, start: int, end: int, others: list[tuple[int, int]] = ()) -> str:
    """The context as HTML: the answer ``context[start:end]`` marked, other answers tinted (escaped text)."""
    chosen = [(start, end, "best")] if 0 <= start < end <= len(context) else []
    for s, e in sorted(set(others)):  # other answers, where they do not overlap one already marked
        if 0 <= s < e <= len(context) and all(e <= a or s >= b for a, b, _k in chosen):
            chosen.append((s, e, "other"))
    pieces, at = [], 0
    for s, e, kind in sorted(chosen):
        pieces.append(html.escape(context[at:s]))
        style = HIGHLIGHT if kind == "best" else OTHER
        title = "the answer" if kind == "best" else "another of the top answers"
        pieces.append(f"<span style='{style}' title='{title}'>{html.escape(context[s:e])}</span>")
        at = e
    pieces.append(html.escape(context[at:]))
    return f"<div style='white-space: pre-wrap'>{''.join(pieces)}</div>"


def _headline() -> QLabel:
    label = QLabel()
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class AnswerView(QWidget):
    """The best answer as a headline, the context with it highlighted, and the top-k answers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.headline = _headline()
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.context_view = QTextBrowser()
        self.context_view.setFont(QFont("DejaVu Sans", 11))
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Answer", "Score", "Start", "End"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._on_row_selected)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.context_view)
        splitter.addWidget(self.table)
        splitter.setSizes([140, 200])
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        layout.addWidget(splitter, 1)
        self.context = ""
        self.result: dict | None = None

    def set_context(self, context: str) -> None:
        """The text the answer is searched in (the panel's input)."""
        self.context = context

    def show_result(self, result: dict) -> None:
        self.result = result
        answers = result.get("answers") or [result]
        best = answers[0]
        if best["answer"]:
            self.headline.setText(best["answer"])
        else:
            self.headline.setText("(no answer)")
        where = (f"characters {best['start']}–{best['end']} of the context" if best["answer"]
                 else "the model's no-answer score beat every span")
        windows = result.get("windows", 1)
        self.detail.setText(f"Score {best['score']:.4f} · {where}"
                            + (f" · read in {windows} overlapping windows" if windows and windows > 1 else "")
                            + (f" · no-answer score {result['no_answer_score']:.4f}"
                               if result.get("no_answer_score") is not None else ""))
        self._highlight(best["start"], best["end"])
        self.table.setRowCount(len(answers))
        for row, answer in enumerate(answers):
            values = [answer["answer"] or "(no answer)", f"{answer['score']:.4f}", str(answer["start"]),
                      str(answer["end"])]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)

    def _highlight(self, start: int, end: int) -> None:
        answers = (self.result or {}).get("answers") or []
        others = [(a["start"], a["end"]) for a in answers if a["answer"]]
        self.context_view.setHtml(highlighted_html(self.context, start, end, others))

    def _on_row_selected(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        answers = (self.result or {}).get("answers") or []
        if len(rows) == 1 and answers:
            answer = answers[min(rows.pop(), len(answers) - 1)]
            self._highlight(answer["start"], answer["end"])

    def highlighted_text(self) -> str:
        """The marked answer as shown (tests read it)."""
        if not self.result:
            return ""
        return self.context[self.result["start"]:self.result["end"]]

    def clear(self) -> None:
        self.result = None
        self.headline.clear()
        self.detail.clear()
        self.context_view.clear()
        self.table.setRowCount(0)


class Seq2SeqView(QWidget):
    """The summary or translation, streamed in token by token (greedy search), then the final text."""

    def __init__(self, what: str, key: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.what, self.key = what, key
        self.title = QLabel(what)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.text_view = QTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setFont(QFont("DejaVu Sans", 12))
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.text_view, 1)
        layout.addWidget(self.info)
        self.updates = 0  # streamed updates received (tests read it)

    def start(self) -> None:
        self.updates = 0
        self.text_view.clear()
        self.info.setText("Generating…")

    def on_progress(self, event) -> None:
        """A progress event from the job: ``data`` is the text so far (None during beam search)."""
        if isinstance(event.data, str):
            self.stream(event.data)
        elif event.message:
            self.info.setText(event.message + "…")

    def stream(self, text_so_far: str) -> None:
        self.updates += 1
        self.text_view.setPlainText(text_so_far)

    def text(self) -> str:
        return self.text_view.toPlainText()

    def show_result(self, result: dict) -> None:
        self.text_view.setPlainText(result.get(self.key, ""))
        settings = result.get("settings") or {}
        how = "greedy search" if settings.get("num_beams", 1) == 1 else f"beam search ({settings['num_beams']} beams)"
        parts = [f"{result.get('new_tokens', 0)} new tokens from {result.get('input_tokens', 0)} input tokens, {how}"]
        if result.get("src_lang") or result.get("tgt_lang"):
            parts.append(f"{result.get('src_lang') or '?'} → {result.get('tgt_lang') or '?'}")
        if result.get("prefix"):
            parts.append(f"prefix {result['prefix']!r}")
        text = " · ".join(parts) + "."
        if result.get("notice"):
            text += f"\n{result['notice']}"
        self.info.setText(text)

    def cancelled(self) -> None:
        self.info.setText("Cancelled: the text above is what was generated until then.")

    def clear(self) -> None:
        self.text_view.clear()
        self.info.clear()
