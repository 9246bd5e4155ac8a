"""A combo box of the models this machine has, filtered to those that can do a task.

It reads the one model catalogue (``context.catalogue``) and follows its changes: a model saved,
imported or made by the CLI appears, a deleted one disappears, and a renamed one keeps its place
(and stays selected) under its new name. When no model can do the task, it says what would make
the task available.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from gui.common import file_dialogs
from gui.catalogue import choice_label
from gui.common.first_paint import OnFirstPaint
from gui.context import AppContext
from services.core.errors import ModelError
from services.core.model_info import inspect_model
from services.core.tasks import SPECS
from services.library.catalogue import ModelChanges
from services.library.scan import ModelEntry

def missing_model_hint(task: str | None) -> str:
    """What would make ``task`` available when no model on this machine can do it.

    Training (the Train panel) makes only the tasks ``services.training`` trains, and the starter
    buttons only theirs; every other task needs a model from the Hub.
    """
    from services.training import TRAIN_TASKS
    from services.training.starter import STARTERS

    ways = []
    if task in TRAIN_TASKS:
        starter = f" (one click: Train {STARTERS[task].title})" if task in STARTERS else ""
        ways.append(f"Train one in the Train panel{starter}")
    ways.append(f"{'d' if ways else 'D'}ownload one from the Hugging Face Hub (Library → Hugging Face Hub…)")
    ways.append("or open a model folder you have")
    name = SPECS[task].name.lower() if task in SPECS else task
    head = f"No model on this machine can do {name} yet." if task else "No model is listed yet."
    return f"{head} {', '.join(ways)}."


def missing_model_placeholder(task: str | None) -> str:
    """The same advice, short enough for the empty combo box itself."""
    from services.training import TRAIN_TASKS

    if task in TRAIN_TASKS:
        return "None yet: train one or download one (Library → Hub…)"
    return "None yet: download one (Library → Hub…)"


class ModelPicker(QWidget):
    sig_model_changed = Signal(str)  # spec ("" when none)

    TOOLTIP = "The model to run. Only models that can do the chosen task are listed."

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.catalogue = context.catalogue
        self.task: str | None = None
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(28)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip(self.TOOLTIP)
        self.open_button = QPushButton("Open folder…")
        self.open_button.setToolTip("Load any folder written by save_pretrained()")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.open_button)
        self.open_button.clicked.connect(self.open_folder_dialog)
        self.combo.currentIndexChanged.connect(lambda _i: self.sig_model_changed.emit(self.current_spec() or ""))
        self.catalogue.sig_changed.connect(self._on_catalogue_changed)
        self._first_paint = OnFirstPaint(self, self.catalogue.start)  # the first scan, once something shows a list
        self.refresh()

    # -- what is listed ------------------------------------------------------------------------
    def accepts(self, entry: ModelEntry) -> bool:
        return entry.readable and (self.task is None or self.task in entry.tasks)

    def choices(self) -> list[ModelEntry]:
        return [entry for entry in self.catalogue.entries() if self.accepts(entry)]

    def set_task(self, task: str | None) -> None:
        self.task = task
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the list from the catalogue (keeping the selection) and say which model is chosen."""
        self._fill(self.current_spec())
        self.sig_model_changed.emit(self.current_spec() or "")

    def _on_catalogue_changed(self, changes: ModelChanges) -> None:
        current = self.current_spec()
        followed = changes.follow(current) if current else None  # a renamed model stays selected
        self._fill(followed)
        if self.current_spec() != current:
            self.sig_model_changed.emit(self.current_spec() or "")

    def _fill(self, select: str | None) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for entry in self.choices():
            self.combo.addItem(choice_label(entry), entry.spec)
            tip = f"{entry.path}\nTasks: {', '.join(entry.tasks)}"
            if entry.source == "built-in":
                tip += "\nBuilt-in, read-only: ships with the app, no download needed."
            if entry.problem:
                tip += f"\nProblem: {entry.problem}"
            self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        index = self.combo.findData(select) if select else -1
        if index >= 0:
            self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        hint = self.missing_hint()  # the empty box says what would make the task available; its tooltip says it all
        self.combo.setPlaceholderText(missing_model_placeholder(self.task) if hint else "")
        self.combo.setToolTip(hint or self.TOOLTIP)

    def missing_hint(self) -> str:
        """What would make the task available, when no listed model can do it ("" otherwise); a panel
        with room for it shows it in full (the Run panel's notice)."""
        return "" if self.combo.count() else missing_model_hint(self.task)

    # -- the selection ---------------------------------------------------------------------------
    def current_spec(self) -> str | None:
        data = self.combo.currentData()
        return str(data) if data is not None else None

    def set_current_spec(self, spec: str, emit: bool = True) -> bool:
        """Select ``spec`` (or the listed entry for the same folder); False when it is not listed."""
        index = self.combo.findData(spec)
        if index < 0:
            entry = self.catalogue.find(spec)
            index = self.combo.findData(entry.spec) if entry is not None else -1
        if index < 0:
            return False
        if not emit:
            self.combo.blockSignals(True)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        return True

    def open_folder(self, folder: str) -> None:
        """Add a model folder (validated) to the catalogue and select it."""
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

        folder = file_dialogs.existing_folder(self, "Open model folder")
        if folder:
            try:
                self.open_folder(folder)
            except ModelError as error:
                show_error(self, "Cannot open model", error)
