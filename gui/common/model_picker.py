"""A combo box of the models this machine has, filtered to those that can do a task."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QWidget

from gui.context import AppContext, ModelChoice
from services.core.errors import ModelError
from services.core.model_info import inspect_model


class ModelPicker(QWidget):
    sig_model_changed = Signal(str)  # spec

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.task: str | None = None
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(28)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip("The model to run. Only models that can do the chosen task are listed.")
        self.open_button = QPushButton("Open folder…")
        self.open_button.setToolTip("Load any folder written by save_pretrained()")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.open_button)
        self.open_button.clicked.connect(self.open_folder_dialog)
        self.combo.currentIndexChanged.connect(lambda _i: self.sig_model_changed.emit(self.current_spec() or ""))
        context.sig_models_changed.connect(self.refresh)
        self.refresh()

    def set_task(self, task: str | None) -> None:
        self.task = task
        self.refresh()

    def choices(self) -> list[ModelChoice]:
        result = []
        for choice in self.context.model_choices():
            if choice.info is None:
                continue
            if self.task is None or self.task in choice.info.tasks:
                result.append(choice)
        return result

    def refresh(self) -> None:
        current = self.current_spec()
        self.combo.blockSignals(True)
        self.combo.clear()
        for choice in self.choices():
            self.combo.addItem(choice.label, choice.spec)
            index = self.combo.count() - 1
            tip = f"{choice.info.path}\nTasks: {', '.join(choice.info.tasks)}"
            if choice.source == "built-in":
                tip += "\nBuilt-in, read-only: ships with the app, no download needed."
            self.combo.setItemData(index, tip, role=3)  # Qt.ToolTipRole
        self.combo.setPlaceholderText("" if self.combo.count() else
                                      "No model for this task: open a folder or train one")
        self.combo.setToolTip(self.combo.placeholderText() or
                              "The model to run. Only models that can do the chosen task are listed.")
        self.combo.blockSignals(False)
        if current is not None:
            self.set_current_spec(current, emit=False)
        self.sig_model_changed.emit(self.current_spec() or "")

    def current_spec(self) -> str | None:
        data = self.combo.currentData()
        return str(data) if data is not None else None

    def set_current_spec(self, spec: str, emit: bool = True) -> bool:
        index = self.combo.findData(spec)
        if index < 0:
            return False
        if not emit:
            self.combo.blockSignals(True)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        return True

    def open_folder(self, folder: str) -> None:
        """Add a model folder (validated) to the recent list and select it."""
        try:
            info = inspect_model(folder)
        except ModelError as error:
            self.context.sig_status.emit(str(error))
            raise
        self.context.remember_model(str(info.path))
        if not self.set_current_spec(str(info.path)) and self.task and self.task not in info.tasks:
            raise ModelError(f"'{info.name}' cannot do this task.", hint=f"It can do: {', '.join(info.tasks) or 'nothing'}.")

    def open_folder_dialog(self) -> None:
        from gui.dialogs import show_error

        folder = QFileDialog.getExistingDirectory(self, "Open model folder")
        if folder:
            try:
                self.open_folder(folder)
            except ModelError as error:
                show_error(self, "Cannot open model", error)
