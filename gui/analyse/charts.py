"""Summary chart of an analysis (pyqtgraph): label distribution, or the top entities by count.

pyqtgraph (and numpy) take half a second to import, so the plot is built the first time the
chart is shown, not while the main window is being put together.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.common.first_paint import OnFirstPaint

TOP = 15


class SummaryChart(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel("Run an analysis to see a summary.")
        self.plot = None  # a pyqtgraph PlotWidget, once shown
        self.bars = None
        self.counts: list[tuple[str, int]] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.title)
        self.setMinimumHeight(180)
        self._first_paint = OnFirstPaint(self, self._ensure_plot)

    def _ensure_plot(self):
        if self.plot is None:
            import pyqtgraph as pg

            self.plot = pg.PlotWidget(background="w")
            self.plot.setMouseEnabled(x=False, y=False)
            self.plot.hideButtons()
            self.plot.showGrid(x=True, alpha=0.3)
            self.plot.setMinimumHeight(160)
            self._layout.addWidget(self.plot, 1)
            self._draw()
        return self.plot


    def set_counts(self, title: str, counts: list[tuple[str, int]]) -> None:
        """Horizontal bars, largest on top (at most ``TOP``)."""
        counts = sorted(counts, key=lambda p: -p[1])[:TOP]
        if counts == self.counts and self.title.text() == title:
            return
        self.counts = counts
        self.title.setText(title)
        if self.plot is not None:
            self._draw()
        elif not self.visibleRegion().isEmpty():
            self._ensure_plot()  # draws

    def _draw(self) -> None:
        import pyqtgraph as pg

        counts = self.counts
        self.plot.clear()
        if not counts:
            return
        positions = list(range(len(counts)))[::-1]
        self.bars = pg.BarGraphItem(x0=0, y=positions, height=0.7, width=[c for _n, c in counts],
                                    brush=pg.mkBrush("#5c8dd6"), pen=pg.mkPen("#3b6cb5"))
        self.plot.addItem(self.bars)
        axis = self.plot.getAxis("left")
        axis.setTicks([[(p, f"{name[:24]}  ") for p, (name, _c) in zip(positions, counts)]])
        for p, (_name, count) in zip(positions, counts):
            text = pg.TextItem(f" {count:,}", color="#333", anchor=(0, 0.5))
            text.setPos(count, p)
            self.plot.addItem(text)
        self.plot.setXRange(0, max(c for _n, c in counts) * 1.15, padding=0)
        self.plot.setYRange(-0.6, len(counts) - 0.4, padding=0)
