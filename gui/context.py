"""State shared by the panels: settings, the job runner, device choice and the list of models.

Panels never talk to each other directly; they use the ``sig_*`` signals here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.jobs.runner import JobRunner
from gui.settings import Key, Settings
from services.library import folder as library
from services.core.errors import ModelError
from services.core.model_info import BUILTIN, BUILTIN_NAME, ModelInfo, inspect_model


@dataclass
class ModelChoice:
    label: str  # what the picker shows
    spec: str  # "builtin" or a folder path
    source: str  # "built-in", "library", "recent", "folder"
    info: ModelInfo | None  # None when the folder cannot be read (shown with its problem)
    problem: str = ""


class AppContext(QObject):
    sig_models_changed = Signal()  # the list of known models changed
    sig_device_changed = Signal(str, str)  # device, dtype
    sig_model_loaded = Signal(str, str)  # model label, task
    sig_open_model = Signal(str, str)  # spec, panel object name ("" = the Run panel)
    sig_status = Signal(str)  # a short message for the status bar
    sig_devices_detected = Signal(object)  # list[DeviceInfo]

    def __init__(self, settings: Settings, runner: JobRunner | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.runner = runner or JobRunner(self)
        self.devices: list = []  # filled by a worker once torch is imported
        # Every model picker asks for the list; read the folders once per change, not once per picker.
        self._choices: list[ModelChoice] | None = None
        self.sig_models_changed.connect(self._forget_choices)  # connected first, so it runs first

    # -- device ------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return str(self.settings.get(Key.DEVICE))

    @property
    def dtype(self) -> str:
        return str(self.settings.get(Key.DTYPE))

    def set_device(self, device: str, dtype: str | None = None) -> None:
        self.settings.set(Key.DEVICE, device)
        if dtype is not None:
            self.settings.set(Key.DTYPE, dtype)
        self.sig_device_changed.emit(self.device, self.dtype)

    # -- models ------------------------------------------------------------------------------
    @property
    def library_dir(self) -> Path:
        import os

        override = os.environ.get("WORKBENCH_LIBRARY") or self.settings.get(Key.LIBRARY_DIR) or None
        return library.library_dir(override)

    def remember_model(self, spec: str) -> None:
        if spec == BUILTIN:
            return
        recent = [p for p in self.settings.get_list(Key.RECENT_MODELS) if p != spec]
        self.settings.set_list(Key.RECENT_MODELS, [spec] + recent[:9])
        self.sig_models_changed.emit()

    def _forget_choices(self) -> None:
        self._choices = None

    def model_choices(self) -> list[ModelChoice]:
        """Built-in model first, then the library, then recently opened folders (cached until
        ``sig_models_changed``)."""
        if self._choices is None:
            self._choices = self._read_model_choices()
        return list(self._choices)

    def _read_model_choices(self) -> list[ModelChoice]:
        choices = [ModelChoice(BUILTIN_NAME, BUILTIN, "built-in", inspect_model(BUILTIN))]
        seen = {str(choices[0].info.path.resolve())}
        candidates = [(str(p), "library") for p in library.list_library_models(self.library_dir)]
        candidates += [(p, "recent") for p in self.settings.get_list(Key.RECENT_MODELS)]
        for spec, source in candidates:
            try:
                info = inspect_model(spec)
            except ModelError as error:
                if source == "recent":
                    continue
                choices.append(ModelChoice(f"{Path(spec).name} (unreadable)", spec, source, None, str(error)))
                continue
            resolved = str(info.path.resolve())
            if resolved in seen:
                continue
            seen.add(resolved)
            choices.append(ModelChoice(f"{info.name} ({source})", spec, source, info))
        return choices
