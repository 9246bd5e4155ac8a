"""Live training curves: the training loss per step and the validation metrics per epoch, with progress and ETA.

pyqtgraph (and numpy) take half a second to import, so the plots are built the first time the
widget is shown (or gets data), not while the main window is being put together.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from gui.common.first_paint import OnFirstPaint
from services.core.eta import format_eta

METRIC_STYLES = {  # metric key: (legend name, colour, symbol, size); accuracy is drawn big, dashed, underneath
    "accuracy": ("accuracy", "#1f77b4", "s", 11),
    "macro_f1": ("macro-F1", "#d62728", "o", 7),
    "entity_f1": ("entity F1", "#d62728", "o", 7),
    "token_accuracy": ("token accuracy", "#1f77b4", "s", 11),
}


def format_seconds(seconds: float | None) -> str:
    return "…" if seconds is None else format_eta(seconds)


class TrainCurves(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss_plot = self.loss_curve = self.metric_plot = None  # pyqtgraph items, built on first use
        self.metric_curves: dict = {}
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status = QLabel("Not started")
        self.eta = QLabel("")
        self._plots = QHBoxLayout()
        status_row = QHBoxLayout()
        status_row.addWidget(self.progress, 1)
        status_row.addWidget(self.eta)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._plots, 1)
        self.setMinimumHeight(200)
        self._first_paint = OnFirstPaint(self, self._ensure_plots)
        layout.addLayout(status_row)
        layout.addWidget(self.status)
        self.last_snapshot = None

    def _ensure_plots(self) -> None:
        if self.loss_plot is not None:
            return
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        self.loss_plot = pg.PlotWidget(title="Training loss")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.3)
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#2ca02c", width=2))
        self.metric_plot = pg.PlotWidget(title="Validation (per epoch)")
        self.metric_plot.setLabel("bottom", "epoch")
        self.metric_plot.showGrid(x=True, y=True, alpha=0.3)
        self.metric_plot.setYRange(0, 1.02)
        self.metric_plot.addLegend(offset=(-10, -10))
        for plot in (self.loss_plot, self.metric_plot):
            plot.setMinimumHeight(150)
            plot.setMenuEnabled(False)
            self._plots.addWidget(plot)


    def clear(self) -> None:
        self._ensure_plots()
        self.loss_curve.setData([], [])
        for curve in self.metric_curves.values():
            self.metric_plot.removeItem(curve)
        self.metric_curves.clear()
        self.metric_plot.addLegend().clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.eta.setText("")
        self.status.setText("Starting…")
        self.last_snapshot = None

    def _metric_curve(self, key: str):
        import pyqtgraph as pg

        if key not in self.metric_curves:
            name, colour, symbol, size = METRIC_STYLES[key]
            dashed = symbol == "s"
            pen = pg.mkPen(colour, width=2, style=pg.QtCore.Qt.PenStyle.DashLine if dashed else pg.QtCore.Qt.PenStyle.SolidLine)
            self.metric_curves[key] = self.metric_plot.plot([], [], name=name, pen=pen, symbol=symbol, symbolSize=size,
                                                            symbolBrush=colour)
        return self.metric_curves[key]

    def show_snapshot(self, snapshot, message: str = "") -> None:
        """Draw a :class:`~services.training.config.TrainingSnapshot` (each replaces the previous)."""
        self.last_snapshot = snapshot
        self._ensure_plots()
        if snapshot.losses:
            steps, losses = zip(*snapshot.losses)
            self.loss_curve.setData(list(steps), list(losses))
        if snapshot.epochs:
            self.metric_plot.setXRange(0.8, snapshot.epochs + 0.2)
        if snapshot.evals:
            keys = ["accuracy", "macro_f1"] if snapshot.metric_name == "macro_f1" else ["token_accuracy", "entity_f1"]
            epochs = [e["epoch"] for e in snapshot.evals]
            for key in keys:
                self._metric_curve(key).setData(epochs, [e.get(key, 0.0) for e in snapshot.evals])
        if snapshot.total_steps:
            self.progress.setRange(0, snapshot.total_steps)
            self.progress.setValue(min(snapshot.step, snapshot.total_steps))
        self.eta.setText(f"elapsed {format_seconds(snapshot.elapsed_s)} · ETA {format_seconds(snapshot.eta_s)}"
                         if snapshot.phase in ("training", "evaluating") else f"elapsed {format_seconds(snapshot.elapsed_s)}")
        if message:
            self.status.setText(message)

    def loss_points(self) -> int:
        if self.loss_curve is None:
            return 0
        x, _y = self.loss_curve.getData()
        return 0 if x is None else len(x)

    def metric_points(self) -> int:
        counts = [len(c.getData()[0]) for c in self.metric_curves.values() if c.getData()[0] is not None]
        return max(counts, default=0)
