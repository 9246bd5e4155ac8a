"""The Log dock: what the app did, including every error with its details."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from gui.context import AppContext


class _LogBridge(QObject):
    """A logging handler's records, delivered to the GUI thread by a queued signal."""

    record = Signal(str)


class _QtLogHandler(logging.Handler):
    def __init__(self, bridge: _LogBridge):
        super().__init__(logging.INFO)
        self.bridge = bridge
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.record.emit(self.format(record))
        except RuntimeError:  # the panel is gone (app quitting)
            pass


class LogPanel(QWidget):
    TITLE = "Log"
    OBJECT_NAME = "LogDock"
    AREA = "bottom"

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(5000)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.view)
        self.bridge = _LogBridge(self)
        self.bridge.record.connect(self.view.appendPlainText)
        self.handler = _QtLogHandler(self.bridge)
        logger = logging.getLogger("workbench")
        logger.setLevel(logging.INFO)
        logger.addHandler(self.handler)
        self.destroyed.connect(lambda *_: logger.removeHandler(self.handler))

    def close_handler(self) -> None:
        logging.getLogger("workbench").removeHandler(self.handler)
