"""Start the GUI: QApplication, settings, the main window; heavy imports happen afterwards on a worker."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from gui.common import file_dialogs
from gui.context import AppContext
from gui.main_window import MainWindow
from gui.settings import Settings
from gui.common.first_paint import OnFirstPaint
from gui.common.wheel_guard import install_wheel_guard

# With WORKBENCH_DEBUG_STARTUP=1 the first paint prints this line and the seconds since start on stdout
# (benchmarks/startup.py, benchmarks/bundle_startup.py and packaging/smoke_test wait for it).
WINDOW_SHOWN_MARKER = "WORKBENCH_WINDOW_SHOWN"
# ... and once the start-up job has imported torch/transformers on its worker, one of these lines.
HEAVY_IMPORTS_MARKER = "WORKBENCH_TORCH_READY"
HEAVY_IMPORTS_FAILED_MARKER = "WORKBENCH_TORCH_FAILED"
# With WORKBENCH_DEBUG_VISIT_PANELS=1 as well, every dock is then raised in turn so that it paints (and makes
# what it makes on first paint: plots, pickers), then this line lists them (packaging/smoke_test).
VISIT_PANELS_ENV = "WORKBENCH_DEBUG_VISIT_PANELS"
PANELS_MARKER = "WORKBENCH_PANELS_SHOWN"
VISIT_PANEL_MS = 400
DEBUG_STARTUP_ENV = "WORKBENCH_DEBUG_STARTUP"
ICONS_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """The app's icon (resources/icons, drawn for the project), at every size it ships."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = ICONS_DIR / f"transformers-workbench-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon


def visit_panels(window: MainWindow, done) -> None:
    """Raise each dock for a moment, in order, then call ``done(titles)`` (a start-up check of every panel)."""
    docks = list(window.docks.values())
    visited: list[str] = []

    def next_dock() -> None:
        if not docks:
            done(visited)
            return
        dock = docks.pop(0)
        dock.show()
        dock.raise_()
        visited.append(dock.windowTitle())
        QTimer.singleShot(VISIT_PANEL_MS, next_dock)

    next_dock()


def create_window(settings: Settings | None = None) -> MainWindow:
    """Build the main window (a QApplication must exist)."""
    install_wheel_guard()  # the wheel scrolls forms; it changes a spin box or combo box only once focused
    context = AppContext(settings or Settings())
    file_dialogs.use_settings(context.settings)  # dialogs open in the last folder used, else Documents
    return MainWindow(context)


def run_gui(argv: list[str] | None = None, *, started_at: float | None = None, notices: list[str] = ()) -> int:
    """Open the window; ``notices`` (e.g. main.py's data-folder warning) go to the Log and the status bar."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Transformers Workbench")
    app.setOrganizationName("TransformersWorkbench")
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("transformers-workbench")  # matches packaging/linux/*.desktop
    window = create_window()
    report_startup = os.environ.get(DEBUG_STARTUP_ENV) == "1" and started_at is not None
    for notice in notices:
        logging.getLogger("workbench").warning(notice)
        window.statusBar().showMessage(notice)

    def on_first_paint() -> None:
        if report_startup:
            print(f"{WINDOW_SHOWN_MARKER} {time.perf_counter() - started_at:.3f}", flush=True)
        job = window.start_device_detection()  # imports torch/transformers on a worker
        if report_startup:
            job.result.connect(lambda devices: print(
                f"{HEAVY_IMPORTS_MARKER} {time.perf_counter() - started_at:.3f} "
                f"{','.join(getattr(d, 'name', str(d)) for d in devices)}", flush=True))
            if os.environ.get(VISIT_PANELS_ENV) == "1":
                job.finished.connect(lambda: visit_panels(window, lambda titles: print(
                    f"{PANELS_MARKER} {','.join(titles)}", flush=True)))
            job.error.connect(lambda error: print(f"{HEAVY_IMPORTS_FAILED_MARKER} {type(error).__name__}: {error}",
                                                  flush=True))

    window._first_paint = OnFirstPaint(window, on_first_paint)
    window.show()
    code = app.exec()
    window.context.runner.shutdown()  # normally done on close already; never leave a worker running
    return code
