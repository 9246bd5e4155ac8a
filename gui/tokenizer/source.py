"""Pick a tokenizer: the built-in model, library models, recent folders, or any folder opened here
(a tokenizer-only folder without a model is fine; the panel reports folders that have no tokenizer)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from gui.common import file_dialogs
from gui.catalogue import choice_label
from gui.common.first_paint import OnFirstPaint
from gui.context import AppContext


class TokenizerSourcePicker(QWidget):
    sig_source_changed = Signal(str)  # spec: "builtin" or a folder

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.extra_folders: list[str] = []
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(28)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip("Whose tokenizer to inspect: any model folder, or a folder with only a tokenizer")
        self.open_button = QPushButton("Open folder…")
        self.open_button.setToolTip("A folder written by save_pretrained(): a model with its tokenizer, "
                                    "or a tokenizer alone")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.open_button)
        self.open_button.clicked.connect(self.open_folder_dialog)
        self.combo.currentIndexChanged.connect(lambda _i: self.sig_source_changed.emit(self.current_spec() or ""))
        context.catalogue.sig_changed.connect(self._on_catalogue_changed)
        self._first_paint = OnFirstPaint(self, context.catalogue.start)
        self.refresh()

    def choices(self) -> list[tuple[str, str]]:
        result = []
        for entry in self.context.catalogue.entries():
            if entry.readable and entry.has_tokenizer:
                result.append((choice_label(entry), entry.spec))
        known = {spec for _, spec in result}
        for folder in self.extra_folders:
            if folder not in known:
                result.append((f"{Path(folder).name} (folder)", folder))
        return result

    def _on_catalogue_changed(self, changes) -> None:
        """The model list changed: a renamed model stays selected under its new name."""
        current = self.current_spec()
        followed = changes.follow(current) if current else None
        self.refresh(select=followed if followed != current else None)

    def refresh(self, select: str | None = None) -> None:
        current = self.current_spec()
        self.combo.blockSignals(True)
        self.combo.clear()
        for label, spec in self.choices():
            self.combo.addItem(label, spec)
            self.combo.setItemData(self.combo.count() - 1, spec, role=3)  # tooltip: the path
        if (select or current) is not None:
            index = self.combo.findData(select or current)
            if index >= 0:
                self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        if self.current_spec() != current:
            self.sig_source_changed.emit(self.current_spec() or "")

    def current_spec(self) -> str | None:
        data = self.combo.currentData()
        return str(data) if data is not None else None

    def open_folder(self, folder: str) -> None:
        """Add ``folder`` (checked when the panel loads it) and select it."""
        folder = str(Path(folder).expanduser())
        if folder not in self.extra_folders:
            self.extra_folders.append(folder)
        self.refresh()
        index = self.combo.findData(folder)
        if index < 0:  # the same model is listed under another path (e.g. the library): select that
            resolved = Path(folder).resolve()
            index = next((i for i in range(self.combo.count())
                          if Path(str(self.combo.itemData(i))).resolve() == resolved), -1)
        if index == self.combo.currentIndex():
            self.sig_source_changed.emit(self.current_spec() or "")
        else:
            self.combo.setCurrentIndex(index)

    def open_folder_dialog(self) -> None:
        folder = file_dialogs.existing_folder(self, "Open tokenizer or model folder")
        if folder:
            self.open_folder(folder)
