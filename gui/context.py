"""State shared by the panels: settings, the job runner, device choice and the list of models.

Panels never talk to each other directly; they use the ``sig_*`` signals here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gui.catalogue import ModelCatalogue
from gui.jobs.runner import JobRunner
from gui.settings import Key, Settings
from services.library import folder as library
from services.core.model_info import BUILTIN


class AppContext(QObject):
    # "Models on disk may have changed" (a save, an import, a download): the catalogue reads what changed.
    # Listeners of the list itself connect to ``catalogue.sig_changed``, which says what changed.
    sig_models_changed = Signal()
    sig_device_changed = Signal(str, str)  # device, precision
    sig_precision_checked = Signal(object)  # the PrecisionCheck of the model a panel just ran (services.core.precision)
    sig_model_loaded = Signal(str, str)  # model label, task
    sig_open_model = Signal(str, str)  # spec, panel object name ("" = the Run panel)
    sig_status = Signal(str)  # a short message for the status bar
    sig_devices_detected = Signal(object)  # list[DeviceInfo]

    def __init__(self, settings: Settings, runner: JobRunner | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.runner = runner or JobRunner(self)
        self.devices: list = []  # filled by a worker once torch is imported
        # The one list of models every picker and the Library read; it scans on the io lane and watches the disk.
        self.catalogue = ModelCatalogue(
            self.runner, library_dir=lambda: self.library_dir,
            extra_dirs=lambda: [str(p) for p in self.settings.get_list(Key.EXTRA_MODEL_DIRS)],
            opened=lambda: [str(p) for p in self.settings.get_list(Key.RECENT_MODELS)], parent=self)
        self.sig_models_changed.connect(lambda: self.catalogue.refresh())
        self.catalogue.sig_status.connect(self.sig_status)

    # -- device ------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return str(self.settings.get(Key.DEVICE))

    @property
    def dtype(self) -> str:
        """The dtype to load a model in for panels that do not check precision (Internals): auto and int8 load float32."""
        from services.core.precision import loading_dtype

        return loading_dtype(self.precision)

    @property
    def precision(self) -> str:
        """The precision setting: auto, float32, bfloat16, float16 or int8 (stored where the dtype was)."""
        from services.core.precision import PRECISIONS

        value = str(self.settings.get(Key.DTYPE))
        return value if value in PRECISIONS else "float32"

    def set_device(self, device: str, precision: str | None = None) -> None:
        self.settings.set(Key.DEVICE, device)
        if precision is not None:
            self.settings.set(Key.DTYPE, precision)
        self.sig_device_changed.emit(self.device, self.precision)

    # -- models ------------------------------------------------------------------------------
    @property
    def library_dir(self) -> Path:
        import os

        override = os.environ.get("WORKBENCH_LIBRARY") or self.settings.get(Key.LIBRARY_DIR) or None
        return library.library_dir(override)

    def remember_model(self, spec: str) -> None:
        """A model folder the user opened: remembered for next time and listed in every picker (no rescan)."""
        if spec == BUILTIN:
            return
        recent = [p for p in self.settings.get_list(Key.RECENT_MODELS) if p != spec]
        self.settings.set_list(Key.RECENT_MODELS, [spec] + recent[:9])
        self.catalogue.add_folder(spec)
