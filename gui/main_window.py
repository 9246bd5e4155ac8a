"""The main window: docks every panel, menus, status bar, saved layout. Panels do the work."""

from __future__ import annotations


from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFrame, QLabel, QMainWindow, QMessageBox,
                               QScrollArea, QWidget)

from gui.common import file_dialogs
from gui.common.layout import FormColumnLayout
from gui.context import AppContext
from gui.dialogs import offer_cpu_fallback, show_error
from gui.jobs.runner import Job
from gui.panels import PANELS
from gui.settings import Key
from services.core.errors import DeviceError, ModelError, WorkbenchError
from services.core.model_info import inspect_model

APP_TITLE = "Transformers Workbench"
AREAS = {
    "main": Qt.DockWidgetArea.LeftDockWidgetArea,
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}
DEFAULT_SIZE = (1280, 820)
# The Jobs/Log docks' height by default and after View ▸ Reset layout: a few job rows; the panels get the rest.
BOTTOM_HEIGHT = 150


def _detect_devices(progress, cancel):
    """Import torch/transformers (slow) and list devices: the first job, after the window shows."""
    from services.core.devices import available_devices
    from services.core.warmup import import_heavy_modules

    import_heavy_modules(progress=progress, cancel=cancel)
    return available_devices()


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(APP_TITLE)
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.panels: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._build_panels()
        self._build_menus()
        self._build_status_bar()
        context.runner.job_added.connect(self._watch_job)
        context.sig_status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        context.sig_model_loaded.connect(self._on_model_loaded)
        context.sig_open_model.connect(self._raise_panel_for)
        context.sig_device_changed.connect(lambda *_: (self._fill_device_menus(), self._update_device_widgets()))
        context.sig_precision_checked.connect(self._show_precision_check)
        self._default_state = self.saveState()  # View ▸ Reset layout goes back to this
        self._restore_layout()

    # -- construction ------------------------------------------------------------------------
    def _build_panels(self) -> None:
        # An empty central widget, no wider than nothing: with a central widget the panels' row takes a
        # taller window's new height (without one, Qt gives it all to the Jobs/Log docks at the bottom).
        spacer = QWidget()
        spacer.setObjectName("centralSpacer")
        spacer.setMaximumWidth(0)
        self.setCentralWidget(spacer)
        first_main: QDockWidget | None = None
        first_bottom: QDockWidget | None = None
        for panel_class in PANELS:
            panel = panel_class(self.context)
            dock = QDockWidget(panel_class.TITLE, self)
            dock.setObjectName(panel_class.OBJECT_NAME)
            area = getattr(panel_class, "AREA", "main")
            dock.setWidget(self._scrollable(panel) if area == "main" else panel)
            self.addDockWidget(AREAS[area], dock)
            if area == "main":
                if first_main is None:
                    first_main = dock
                else:
                    self.tabifyDockWidget(first_main, dock)
            elif area == "bottom":
                if first_bottom is None:
                    first_bottom = dock
                else:
                    self.tabifyDockWidget(first_bottom, dock)
            self.panels[panel_class.OBJECT_NAME] = panel
            self.docks[panel_class.OBJECT_NAME] = dock
        if first_main is not None:
            first_main.raise_()
        if first_bottom is not None:
            first_bottom.raise_()
        self.resize(*DEFAULT_SIZE)
        if first_bottom is not None:
            self.resizeDocks([first_bottom], [BOTTOM_HEIGHT], Qt.Orientation.Vertical)

    @staticmethod
    def _scrollable(panel: QWidget) -> QScrollArea:
        """Big panels scroll instead of forcing a minimum window size larger than small screens."""
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()  # sized by the panel's minimum, not its preferred height (see FormColumnLayout)
        holder.setObjectName(f"{panel.objectName() or type(panel).__name__}Holder")
        layout = FormColumnLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(panel)
        scroll.setWidget(holder)
        return scroll

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open model folder…", self, shortcut=QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self.open_model_folder_dialog)
        file_menu.addAction(open_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        self.reset_layout_action = QAction("&Reset layout", self)
        self.reset_layout_action.setStatusTip("Every panel back in its place, Jobs and Log small at the bottom")
        self.reset_layout_action.triggered.connect(self.reset_layout)
        view_menu.addAction(self.reset_layout_action)

        self.settings_menu = self.menuBar().addMenu("&Settings")
        self.device_menu = self.settings_menu.addMenu("&Device")
        self.dtype_menu = self.settings_menu.addMenu("&Precision")
        self.dtype_menu.setToolTipsVisible(True)  # why a precision is not offered here
        self.device_group = QActionGroup(self)
        self.dtype_group = QActionGroup(self)
        self._fill_device_menus()

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, APP_TITLE, "Transformers Workbench: run, inspect, fine-tune and manage Hugging Face "
            "Transformers models on your own machine, offline."))
        help_menu.addAction(about)

    def _build_status_bar(self) -> None:
        self.device_combo = QComboBox()
        self.device_combo.setToolTip("Device the models run on")
        self.device_combo.activated.connect(lambda _i: self._choose_device(self.device_combo.currentData()))
        self.dtype_label = QLabel()
        self.dtype_label.setObjectName("precisionLabel")
        self.model_label = QLabel("No model loaded")
        status = self.statusBar()
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(QLabel("Device:"))
        status.addPermanentWidget(self.device_combo)
        status.addPermanentWidget(self.dtype_label)
        self._update_device_widgets()

    # -- devices -----------------------------------------------------------------------------
    def start_device_detection(self) -> Job:
        return self.context.runner.submit("Preparing PyTorch", _detect_devices, lane="model",
                                          on_result=self._on_devices_detected)

    def _on_devices_detected(self, devices) -> None:
        self.context.devices = list(devices)
        names = [device.name for device in devices]
        if self.context.device not in names:
            self.context.sig_status.emit(f"Device {self.context.device} is not available here; using CPU.")
            self.context.set_device("cpu", "float32")
        self.context.sig_devices_detected.emit(devices)
        self._fill_device_menus()
        self._update_device_widgets()

    def _device_list(self):
        if self.context.devices:
            return self.context.devices
        from services.core.devices import DeviceInfo

        return [DeviceInfo("cpu", "CPU (detecting others…)", ("float32",))]

    def _fill_device_menus(self) -> None:
        self.device_menu.clear()
        self.dtype_menu.clear()
        for action in self.device_group.actions():
            self.device_group.removeAction(action)
        for action in self.dtype_group.actions():
            self.dtype_group.removeAction(action)
        current = self._current_device_info()
        for device in self._device_list():
            action = QAction(device.label, self, checkable=True)
            action.setChecked(device.name == self.context.device)
            action.triggered.connect(lambda _c=False, name=device.name: self._choose_device(name))
            self.device_group.addAction(action)
            self.device_menu.addAction(action)
        from services.core.precision import PRECISIONS

        reasons = {name: why for name, ok, why in (current.precisions if current else ()) if not ok}
        for name in PRECISIONS:
            supported = current.supports(name) if current else name in ("auto", "float32")
            label = "Auto (fastest that passes the agreement check)" if name == "auto" else name
            action = QAction(label if supported else f"{label} (not here)", self, checkable=True)
            action.setChecked(name == self.context.precision)
            action.setEnabled(supported)
            action.setToolTip(reasons.get(name, "") or ("Measured against float32 on a sample before use"
                                                        if name != "float32" else "Full precision"))
            action.triggered.connect(lambda _c=False, name=name: self.context.set_device(self.context.device, name))
            self.dtype_group.addAction(action)
            self.dtype_menu.addAction(action)

    def _current_device_info(self):
        return next((d for d in self._device_list() if d.name == self.context.device), None)

    def _choose_device(self, name: str | None) -> None:
        if not name:
            return
        info = next((d for d in self._device_list() if d.name == name), None)
        precision = self.context.precision if info and info.supports(self.context.precision) else "float32"
        self.context.set_device(name, precision)
        self._fill_device_menus()

    def _update_device_widgets(self) -> None:
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        for device in self._device_list():
            self.device_combo.addItem(device.label, device.name)
        index = self.device_combo.findData(self.context.device)
        self.device_combo.setCurrentIndex(max(index, 0))
        self.device_combo.blockSignals(False)
        self.dtype_label.setText(f"Precision: {self.context.precision}")
        self.dtype_label.setToolTip("Settings ▸ Precision. A reduced precision is checked against float32 on a "
                                    "sample of texts before it is used.")

    def _show_precision_check(self, check) -> None:
        """The setting and what the last model run used: "Precision: auto → bfloat16: 2.3× faster, ..."."""
        if check is None:
            return
        shown = check.outcome() if check.requested == check.precision else f"{check.requested} → {check.outcome()}"
        self.dtype_label.setText(f"Precision: {shown}")
        details = [check.summary()] + ([check.reason] if check.reason else []) + list(check.notes)
        if check.texts:
            details.append(f"Checked on {check.texts} texts ({check.sample}): {check.tolerance.describe(check.task)}.")
        self.dtype_label.setToolTip("\n".join(details))

    # -- models and jobs ---------------------------------------------------------------------
    def open_model_folder_dialog(self) -> None:
        folder = file_dialogs.existing_folder(self, "Open model folder")
        if folder:
            self.open_model_folder(folder)

    def open_model_folder(self, folder: str) -> bool:
        """Validate ``folder`` and offer it to the panels (the Run panel selects it)."""
        try:
            info = inspect_model(folder)
        except ModelError as error:
            show_error(self, "Cannot open model", error)
            return False
        self.context.remember_model(str(info.path))
        self.context.sig_open_model.emit(str(info.path), "")
        self.context.sig_status.emit(f"Opened {info.name}: it can do {', '.join(info.tasks) or 'no task this app runs'}.")
        return True

    def _raise_panel_for(self, _spec: str, panel: str) -> None:
        """A model opened for a panel (e.g. from the Library) brings that panel to the front."""
        dock = self.docks.get(panel or "RunDock")
        if dock is not None:
            dock.show()
            dock.raise_()

    def _on_model_loaded(self, label: str, task: str) -> None:
        self.model_label.setText(f"Model: {label} · {task}")

    def _watch_job(self, job: Job) -> None:
        job.error.connect(lambda error, job=job: self._on_job_error(job, error))

    def _on_job_error(self, job: Job, error: BaseException) -> None:
        if not job.show_errors:
            return
        if isinstance(error, DeviceError) and self.context.device != error.fallback:
            if offer_cpu_fallback(self, error):
                self._choose_device(error.fallback)
            return
        # the traceback under "Show Details…" only for a bug, not for an expected problem (offline, a bad file)
        show_error(self, f"{job.title} failed", error, "" if isinstance(error, WorkbenchError) else job.traceback_text)

    # -- layout ------------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.context.settings.get_bytes(Key.WINDOW_GEOMETRY)
        state = self.context.settings.get_bytes(Key.WINDOW_STATE)
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def reset_layout(self) -> None:
        """View ▸ Reset layout: every dock back where it started (none floating or hidden), Run and Jobs in
        front, Jobs/Log at their default height; the window keeps its size."""
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        bottom = [dock for dock in self.docks.values()
                  if self.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea]
        for name in ("RunDock", "JobsDock"):
            if name in self.docks:
                self.docks[name].raise_()
        if bottom:
            self.resizeDocks(bottom[:1], [BOTTOM_HEIGHT], Qt.Orientation.Vertical)
        self.context.sig_status.emit("Layout reset.")

    def save_layout(self) -> None:
        self.context.settings.set(Key.WINDOW_GEOMETRY, self.saveGeometry())
        self.context.settings.set(Key.WINDOW_STATE, self.saveState())
        self.context.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        for panel in self.panels.values():
            close = getattr(panel, "shutdown", None) or getattr(panel, "close_handler", None)
            if close:
                close()
        self.context.catalogue.stop()
        self.context.runner.shutdown()
        super().closeEvent(event)
