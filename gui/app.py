"""Start the GUI: QApplication, settings, the main window; heavy imports happen afterwards on a worker."""

from __future__ import annotations

import sys
import time

from PySide6.QtWidgets import QApplication

from gui.context import AppContext
from gui.main_window import MainWindow
from gui.settings import Settings
from gui.common.first_paint import OnFirstPaint

WINDOW_SHOWN_MARKER = "WORKBENCH_WINDOW_SHOWN"  # benchmarks/startup.py waits for this line


def create_window(settings: Settings | None = None) -> MainWindow:
    """Build the main window (a QApplication must exist)."""
    context = AppContext(settings or Settings())
    return MainWindow(context)


def run_gui(argv: list[str] | None = None, *, started_at: float | None = None) -> int:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Transformers Workbench")
    app.setOrganizationName("TransformersWorkbench")
    window = create_window()

    def on_first_paint() -> None:
        if started_at is not None:
            print(f"{WINDOW_SHOWN_MARKER} {time.perf_counter() - started_at:.3f}", flush=True)
        window.start_device_detection()  # imports torch/transformers on a worker

    window._first_paint = OnFirstPaint(window, on_first_paint)
    window.show()
    code = app.exec()
    window.context.runner.shutdown()  # normally done on close already; never leave a worker running
    return code
