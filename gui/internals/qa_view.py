"""Internals for question answering: the start and end logits of every token as bars over the tokens,
the context tokens shaded (only they may hold the answer), the chosen start and end marked, and in
words and as a table how the best span was chosen.

pyqtgraph takes half a second to import, so the plot is built when the first result arrives.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

START_COLOUR = "#1f77b4"
END_COLOUR = "#ff7f0e"


def explanation(detail: dict, window: int) -> str:
    """In words (HTML): which tokens may hold the answer, what won, and why."""
    win = detail["windows_detail"][window]
    settings = detail["settings"]
    tokens = win["tokens"]
    parts = [f"Question: <b>{html.escape(detail['question'])}</b>. "]
    n_windows = len(detail["windows_detail"])
    if n_windows > 1:
        parts.append(f"The context is longer than one window, so it was read in {n_windows} windows of at most "
                     f"{settings['max_seq_len']} tokens that overlap by {settings['stride']} tokens; this is window "
                     f"{window + 1}. ")
    context_tokens = sum(win["context"])
    parts.append(f"{context_tokens} of its {len(tokens)} tokens belong to the context (shaded): only they may start "
                 "or end the answer — never the question or a special token. Each token's start and end logits become "
                 "probabilities by a softmax over those tokens"
                 + (" and the CLS token" if win["null_index"] is not None else "") + ". ")
    if win["spans"]:
        best = win["spans"][0]
        a, b = best["start_token"], best["end_token"]
        parts.append(f"The best span here runs from token {a} <code>{html.escape(tokens[a])}</code> "
                     f"(p<sub>start</sub> = {win['start_probs'][a]:.4f}) to token {b} <code>{html.escape(tokens[b])}"
                     f"</code> (p<sub>end</sub> = {win['end_probs'][b]:.4f}): score p<sub>start</sub> × p<sub>end</sub> = "
                     f"{best['score']:.5f}, the highest over all pairs with start ≤ end and at most "
                     f"{settings['max_answer_len']} tokens. ")
    if win["null_score"] is not None:
        parts.append(f"No-answer score (CLS × CLS): {win['null_score']:.5f}"
                     + (" — allowed, so it competes with the spans. " if settings["allow_no_answer"]
                        else " — not allowed (tick 'Allow no answer' for SQuAD 2.0 models). "))
    answer = detail["answer"]
    parts.append(f"Answer over all windows: <b>{html.escape(answer) if answer else '(no answer)'}</b> "
                 f"(score {detail['score']:.5f}, characters {detail['start']}–{detail['end']}).")
    return "".join(parts)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """``(first, last)`` index of every run of true flags."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


class QaLogitsView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.detail: dict | None = None
        self.window_combo = QComboBox()
        self.window_combo.setToolTip("Long contexts are read in overlapping windows; pick one to see its logits")
        self.explain = QLabel("Run a question-answering model to see how its answer is chosen.")
        self.explain.setWordWrap(True)
        self.explain.setTextFormat(Qt.TextFormat.RichText)
        self.plot = None  # a pyqtgraph PlotWidget, built with the first result
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["Span", "Start token", "End token", "p start", "p end", "Score"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setMaximumHeight(170)
        top = QHBoxLayout()
        top.addWidget(QLabel("Window:"))
        top.addWidget(self.window_combo)
        top.addStretch(1)
        self.legend = QLabel(f"<span style='color:{START_COLOUR}'>■ start logits</span> &nbsp; "
                             f"<span style='color:{END_COLOUR}'>■ end logits</span> &nbsp; "
                             "<span style='background:#e8f3e0'>&nbsp;context&nbsp;</span> &nbsp; │ chosen start / end")
        top.addWidget(self.legend)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(top)
        self._layout.addWidget(self.explain)
        self._plot_index = self._layout.count()
        self._layout.addWidget(self.table)
        self.window_combo.currentIndexChanged.connect(lambda i: self.show_window(i) if i >= 0 else None)

    def _ensure_plot(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(260)
        self.plot.showGrid(y=True, alpha=0.3)
        self.plot.setLabel("left", "logit")
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # logits as they are, not ×0.001
        self._layout.insertWidget(self._plot_index, self.plot, 1)

    def set_detail(self, detail: dict) -> None:
        """``services.run.question_answering.explain`` output."""
        self.detail = detail
        self._ensure_plot()
        self.window_combo.blockSignals(True)
        self.window_combo.clear()
        for i in range(len(detail["windows_detail"])):
            self.window_combo.addItem(f"{i + 1} of {len(detail['windows_detail'])}")
        best = detail.get("best_window")
        index = best if isinstance(best, int) else 0
        self.window_combo.setCurrentIndex(index)
        self.window_combo.blockSignals(False)
        self.show_window(index)

    def show_window(self, index: int) -> None:
        import pyqtgraph as pg

        detail = self.detail
        if detail is None:
            return
        win = detail["windows_detail"][index]
        tokens, n = win["tokens"], len(win["tokens"])
        plot = self.plot
        plot.clear()
        low = min(min(win["start_logits"]), min(win["end_logits"]), 0.0)
        high = max(max(win["start_logits"]), max(win["end_logits"]), 0.0)
        for first, last in _runs(win["context"]):  # the context, shaded
            plot.addItem(pg.LinearRegionItem((first - 0.5, last + 0.5), movable=False, brush=(232, 243, 224, 160),
                                             pen=pg.mkPen(None)))
        plot.addItem(pg.BarGraphItem(x=[i - 0.2 for i in range(n)], height=win["start_logits"], width=0.4,
                                     brush=START_COLOUR, pen=pg.mkPen(None)))
        plot.addItem(pg.BarGraphItem(x=[i + 0.2 for i in range(n)], height=win["end_logits"], width=0.4,
                                     brush=END_COLOUR, pen=pg.mkPen(None)))
        if win["spans"]:
            best = win["spans"][0]
            for position, colour in ((best["start_token"], START_COLOUR), (best["end_token"], END_COLOUR)):
                plot.addItem(pg.InfiniteLine(position, angle=90, pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine)))
        step = max(1, -(-n // 30))  # at most ~30 token labels, so they stay readable
        ticks = [(i, tokens[i]) for i in range(0, n, step)]
        plot.getAxis("bottom").setTicks([ticks])
        plot.setXRange(-1, n, padding=0)
        plot.setYRange(low - 0.1 * (high - low or 1), high + 0.1 * (high - low or 1), padding=0)
        self.explain.setText(explanation(detail, index))
        self.table.setRowCount(len(win["spans"]))
        for row, span in enumerate(win["spans"]):
            a, b = span["start_token"], span["end_token"]
            values = [span["text"], f"{a} {tokens[a]}", f"{b} {tokens[b]}", f"{win['start_probs'][a]:.4f}",
                      f"{win['end_probs'][b]:.4f}", f"{span['score']:.5f}"]
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))

    def clear(self) -> None:
        self.detail = None
        self.window_combo.clear()
        self.table.setRowCount(0)
        if self.plot is not None:
            self.plot.clear()
