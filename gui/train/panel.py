"""The Train dock: fine-tune a library model on a labelled file, watch it learn, keep the result.

Training runs on the job runner's "model" lane through ``services.training``; every progress event
carries a snapshot (loss curve, per-epoch metrics, ETA) that the curves redraw. Cancel stops after
the current step; if an epoch was evaluated already, the job delivers the best one as its partial
result (``Job.partial``) and it is offered to keep.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMessageBox, QPushButton, QSplitter, QVBoxLayout, QWidget

import gui.dialogs
from gui.common.layout import FormColumnLayout, vertical_scroll
from gui.context import AppContext
from gui.jobs.runner import Job, JobProgress
from gui.train.base_picker import BaseModelPicker
from gui.train.curves import TrainCurves
from gui.train.data_view import TrainDataBox
from gui.train.params import TrainParamsBox
from gui.train.results_view import TrainResultsBox
from services.training import TEXT_CLASSIFICATION, TOKEN_CLASSIFICATION, TRAIN_TASKS


class TrainPanel(QWidget):
    TITLE = "Train"
    OBJECT_NAME = "TrainDock"
    AREA = "main"

    sig_finished = Signal(str)  # "done", "kept", "discarded", "cancelled", "failed"
    sig_saved = Signal(str)  # the saved folder

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.job: Job | None = None
        self.result = None  # the TrainResult being shown
        self._outcome = ""
        self.keep_best_on_cancel = True  # the answer used when dialogs are disabled (tests, scripts)

        self.picker = BaseModelPicker(context)
        self.picker.combo.setMinimumContentsLength(16)
        self.task_combo = QComboBox()
        for task, label in TRAIN_TASKS.items():
            self.task_combo.addItem(label, task)
        self.task_combo.setToolTip("Text classification: one label per text (e.g. sentiment). "
                                   "Token classification: a BIO tag per word (named entities).")
        self.data_box = TrainDataBox(context)
        self.params = TrainParamsBox(context)
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Fine-tune the base model on the data with these settings")
        self.starter_button = QPushButton("Train starter sentiment model")
        self.starter_button.setToolTip("One click: fine-tune the built-in model on the starter sentiment data set "
                                       "(10,162 reviews written for this app), test it on a separately written held-out "
                                       "set and save it to the library as starter-sentiment. About 15 minutes on two "
                                       "CPU cores.")
        self.starter_ner_button = QPushButton("Train starter NER model")
        self.starter_ner_button.setToolTip("One click: fine-tune the built-in model on the starter NER data set "
                                           "(1,600 news and sports sentences written for this app), test it on a "
                                           "separately written held-out set and save it as starter-ner. About 2.5 minutes "
                                           "on two CPU cores.")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop after the current step; the best epoch so far can be kept")
        self.curves = TrainCurves()
        self.results = TrainResultsBox()

        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Base model:"))
        model_row.addWidget(self.picker, 1)
        task_row = QHBoxLayout()
        task_row.addWidget(QLabel("Task:"))
        task_row.addWidget(self.task_combo, 1)
        # The one-click starters on top and Train/Cancel at the bottom stay on screen at any window size;
        # only the form between them scrolls (vertically: it is never wider than its column).
        starters = QHBoxLayout()
        starters.addWidget(self.starter_button)
        starters.addWidget(self.starter_ner_button)
        starters.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        setup = QWidget()
        setup_layout = FormColumnLayout(setup)
        setup_layout.setContentsMargins(0, 0, 4, 0)
        setup_layout.addLayout(model_row)
        setup_layout.addLayout(task_row)
        setup_layout.addWidget(self.data_box)
        setup_layout.addWidget(self.params)
        setup_layout.addStretch(1)
        form_scroll = vertical_scroll(setup)
        scroll = QWidget()
        scroll.setMinimumWidth(420)
        left = QVBoxLayout(scroll)
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(starters)
        left.addWidget(form_scroll, 1)
        left.addLayout(buttons)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.curves)
        right.addWidget(self.results)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([500, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        self.task_combo.currentIndexChanged.connect(self._task_changed)
        self.params.set_task(self.task())
        self.train_button.clicked.connect(self.start_training)
        self.starter_button.clicked.connect(lambda: self.start_starter(TEXT_CLASSIFICATION))
        self.starter_ner_button.clicked.connect(lambda: self.start_starter(TOKEN_CLASSIFICATION))
        self.cancel_button.clicked.connect(self.cancel)
        self.results.sig_save.connect(self.save)

    # -- settings ---------------------------------------------------------------------------------
    def task(self) -> str:
        return str(self.task_combo.currentData())

    def set_task(self, task: str) -> None:
        self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(task)))

    def _task_changed(self, _index: int) -> None:
        self.data_box.set_task(self.task())
        self.params.set_task(self.task())

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.is_active

    # -- starting ---------------------------------------------------------------------------------
    def start_training(self) -> Job | None:
        """Train with what the panel shows. Bad settings are reported before anything starts."""
        from services.core.errors import InputError

        try:
            if not self.data_box.path():
                raise InputError("Choose a labelled data file first.", hint="Browse, or drop a file onto the Data box.")
            hp = self.params.hyperparameters()
        except InputError as error:
            self._fail(error)
            return None
        spec = self.picker.current_spec() or "builtin"
        task, path, device = self.task(), self.data_box.path(), self.params.device_name()
        options = dict(text_column=self.data_box.text_column(), label_column=self.data_box.label_column(),
                       validation_path=self.data_box.validation_path(),
                       validation_fraction=self.data_box.validation_fraction(), seed=hp.seed,
                       label_names=self.data_box.label_names())

        def work(progress, cancel):
            from services.training.data import prepare_data
            from services.training.trainer import train_model

            data = prepare_data(path, task, **options)
            return train_model(data, spec, hp, device=device, progress=progress, cancel=cancel)

        return self._submit(f"Training on {Path(path).name}", work)

    def start_starter(self, task: str = TEXT_CLASSIFICATION) -> Job | None:
        """One click: the built-in model, the starter data for ``task``, the starter settings; saved when done."""
        from services.core.errors import InputError
        from services.training.starter import starter_files, starter_for, train_starter

        try:
            starter = starter_for(task)
            train_file, _test = starter_files(task)
        except InputError as error:
            self._fail(error)
            return None
        self.set_task(task)
        self.picker.set_current_spec("builtin", emit=False)
        self.params.set_hyperparameters(starter.hyperparameters)
        self.data_box.split_radio.setChecked(True)
        self.data_box.split_spin.setValue(round(starter.validation_fraction * 100))
        self.data_box.load_file(str(train_file))
        root, device = self.context.library_dir, self.params.device_name()
        return self._submit(f"Training the {starter.title}",
                            lambda progress, cancel: train_starter(None, root=root, device=device, task=task,
                                                                   progress=progress, cancel=cancel))

    def _submit(self, title: str, work) -> Job:
        self.curves.clear()
        self.results.clear()
        self.result = None
        self._set_running(True)
        self.job = self.context.runner.submit(title, work, lane="model", key="train", on_result=self._on_result,
                                              on_error=self._show_failure)
        self.job.progress.connect(self._on_progress)
        self.job.cancelled.connect(lambda job=self.job: self._on_cancelled(job.partial))
        self.job.finished.connect(self._on_finished)
        self._outcome = "failed"
        return self.job

    def _on_finished(self) -> None:
        self._set_running(False)
        self.sig_finished.emit(self._outcome)

    def _set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.starter_button.setEnabled(not running)
        self.starter_ner_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    # -- while it runs ----------------------------------------------------------------------------
    def _on_progress(self, event: JobProgress) -> None:
        from services.training.config import TrainingSnapshot

        snapshot = event.data
        if isinstance(snapshot, TrainingSnapshot):
            self.curves.show_snapshot(snapshot, event.message)
        elif event.message:
            self.curves.status.setText(event.message)

    def cancel(self) -> None:
        if self.job is not None and self.job.is_active:
            self.curves.status.setText("Stopping after the current step…")
            self.job.cancel()

    def ask_keep_best(self, result) -> bool:
        """Ask whether to keep the best epoch of a cancelled run (``keep_best_on_cancel`` without dialogs)."""
        if not gui.dialogs.DIALOGS_ENABLED:
            return self.keep_best_on_cancel
        score = result.metrics.get(result.metric_name, 0.0)
        answer = QMessageBox.question(
            self, "Training cancelled",
            f"Training was cancelled. Keep the best epoch so far (epoch {result.best_epoch:g}, "
            f"{result.metric_name.replace('_', '-')} {score:.3f})?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    # -- when it ends -----------------------------------------------------------------------------
    def _on_result(self, result) -> None:
        self._show(result)
        self.curves.status.setText("Finished" + (f" — saved to {result.saved_path}" if result.saved_path else ""))
        if result.saved_path:
            self.context.sig_models_changed.emit()
            self.sig_saved.emit(result.saved_path)
        self._outcome = "done"

    def _on_cancelled(self, result) -> None:
        """``result``: the job's partial result (the best epoch so far), None if no epoch was evaluated."""
        if result is None:
            self.curves.status.setText("Cancelled before the first evaluation: nothing to keep.")
            self.results.summary.setText("Cancelled: no epoch was evaluated, so there is nothing to keep.")
            self._outcome = "cancelled"
            return
        if self.ask_keep_best(result):
            self._show(result)
            self.curves.status.setText(f"Cancelled — kept the best epoch ({result.best_epoch:g}); save it if you like.")
            self._outcome = "kept"
        else:
            self.results.clear()
            self.results.summary.setText("Cancelled: the trained model was discarded.")
            self._outcome = "discarded"

    def _show(self, result) -> None:
        from services.training.save import unique_name

        self.result = result
        stem = Path(result.data_file).stem.replace(" ", "-")
        suffix = "ner" if result.task != TEXT_CLASSIFICATION else "classifier"
        self.results.show_result(result, unique_name(f"{stem}-{suffix}", self.context.library_dir))

    def _show_failure(self, error: BaseException) -> None:
        """Show why training could not start or failed (in the panel and as a dialog). Out of memory on a
        GPU offers the CPU, as the rest of the app does: yes switches the app's device (and this chooser)."""
        from gui.dialogs import error_text, offer_cpu_fallback, show_error
        from gui.train.params import choose_app_device
        from services.core.errors import DeviceError

        self.curves.status.setText(f"<span style='color:#b00020'>{error_text(error)}</span>")
        self._outcome = "failed"
        if isinstance(error, DeviceError) and self.params.device_name() != error.fallback:
            if offer_cpu_fallback(self, error):
                choose_app_device(self.context, error.fallback)
                self.curves.status.setText(f"{error_text(error)} Switched to {error.fallback.upper()}: press Train "
                                           "to train there.")
            return
        show_error(self, "Training failed", error)

    def _fail(self, error: BaseException) -> None:
        """A problem found before anything started."""
        self._show_failure(error)
        self.sig_finished.emit("failed")

    # -- saving -----------------------------------------------------------------------------------
    def save(self, name: str) -> Job | None:
        from services.core.errors import InputError

        result = self.result
        if result is None:
            return None
        if not name:
            self.results.set_save_error("Give the model a name first.")
            return None
        root = self.context.library_dir

        def work(progress, cancel):
            from services.training.save import save_result

            progress(0, 1, f"Saving {name}")
            return str(save_result(result, name, root=root))

        def saved(path: str) -> None:
            self.results.set_saved(path)
            self.context.sig_models_changed.emit()
            self.sig_saved.emit(path)

        def failed(error: BaseException) -> None:
            self.results.set_save_error(str(error))
            if not isinstance(error, InputError):
                gui.dialogs.show_error(self, "Saving failed", error)

        self.results.save_button.setEnabled(False)
        self.results.save_message.setText("Saving…")
        return self.context.runner.submit(f"Saving {name}", work, lane="model", on_result=saved, on_error=failed)

    def shutdown(self) -> None:
        if self.job is not None and self.job.is_active:
            self.job.cancel()
