"""The Run panel (placeholder until the Run panel lands): pick a task and a model."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.context import AppContext
from gui.widgets.model_picker import ModelPicker


class RunPanel(QWidget):
    TITLE = "Run"
    OBJECT_NAME = "RunDock"
    AREA = "main"

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = ModelPicker(context)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(QLabel("Run panel"))
        layout.addStretch(1)
