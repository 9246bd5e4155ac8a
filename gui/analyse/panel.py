"""The Analyse panel: run a task over local files (streamed, resumable), browse and filter the
results, see a summary chart, evaluate against gold labels, compare two models, export.

All work runs on ``context.runner``: the analysis on lane "model" (key "analyse", pausable),
previews (folders walked there too), evaluation, comparison and exports on lane "io". Results are
read back from the results file as it grows by :class:`ResultsTail`: parsed on a worker, appended here
a chunk at a time, so the window never stalls and results show as they arrive.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QProgressBar, QPushButton, QSpinBox,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from gui.common import file_dialogs
from gui.context import AppContext
from gui.dialogs import show_error
from gui.jobs.runner import Job, JobProgress
from gui.analyse.charts import SummaryChart
from gui.analyse.evaluation import CompareView, EvaluationView
from gui.analyse.inputs import InputsWidget
from gui.analyse.results_view import ResultsView
from gui.common.layout import FormColumnLayout, vertical_scroll
from gui.common.model_picker import ModelPicker
from gui.analyse.results_model import COLUMNS, ResultsModel
from gui.analyse.tail import ResultsTail
from services.core.errors import InputError
from services.core.tasks import DEFAULT_TEMPLATE, TASKS, parse_labels


def _fetch_line(path: str):
    def fetch(offset: int) -> dict:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return json.loads(handle.readline())
    return fetch


class AnalysePanel(QWidget):
    TITLE = "Analyse"
    OBJECT_NAME = "AnalyseDock"
    AREA = "main"

    sig_results_shown = Signal()  # a run ended and every result it wrote is in the table

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.job: Job | None = None
        self.last_result = None  # RunResult of model A
        self.last_request = None
        self.compare_result = None
        self.entity_counts: Counter = Counter()
        self._results_path: str | None = None
        self._ended = ""  # how the last run ended ("done", "cancelled", "failed"); "" while it runs
        self.tail = ResultsTail(context.runner, self)
        self._build()
        self._wire()
        self._task_changed()

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        self.inputs = InputsWidget()
        self.task = QComboBox()
        for task, label in TASKS.items():
            self.task.addItem(label, task)
        self.task.setCurrentIndex(self.task.findData("text-classification"))
        self.picker = ModelPicker(self.context)
        self.picker.combo.setMinimumContentsLength(16)  # the settings column fits a 1024-pixel window
        self.labels_edit = QLineEdit()
        self.labels_edit.setPlaceholderText("zero-shot labels, e.g. praise, complaint, question")
        self.template_edit = QLineEdit()
        self.template_edit.setPlaceholderText(DEFAULT_TEMPLATE)
        self.chunk = QCheckBox("Split long texts into overlapping chunks")
        self.chunk.setToolTip("Off: texts longer than the model's limit are truncated and flagged.\n"
                              "On: they are split into chunks; class scores are averaged, entities mapped back.")
        self.stride = QSpinBox()
        self.stride.setRange(0, 256)
        self.stride.setValue(32)
        self.stride.setSuffix(" tokens overlap")
        options = QFormLayout()
        options.addRow("Task:", self.task)
        options.addRow("Model:", self.picker)
        options.addRow("Labels:", self.labels_edit)
        options.addRow("Template:", self.template_edit)
        from gui.analyse.text_task_inputs import TextTaskInputs

        self.text_tasks = TextTaskInputs(options, self.picker)  # question (QA), languages (translation)
        options.addRow("Long texts:", self.chunk)
        options.addRow("", self.stride)  # its own row: the settings column fits a 1024-pixel window
        self.run_button = QPushButton("Analyse")
        self.run_button.setDefault(True)
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.pause_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button, 1)
        run_row.addWidget(self.pause_button)
        run_row.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.status = QLabel("Add files or folders, pick a task and a model, then Analyse.")
        self.status.setWordWrap(True)
        self.compare_picker = ModelPicker(self.context)
        self.compare_picker.combo.setMinimumContentsLength(16)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Run the second model on the same input and compare the labels")
        self.compare_button.setEnabled(False)
        compare_row = QHBoxLayout()
        compare_row.addWidget(self.compare_picker, 1)
        compare_row.addWidget(self.compare_button)
        self.export_csv = QPushButton("Export CSV…")
        self.export_jsonl = QPushButton("Export JSONL…")
        for button in (self.export_csv, self.export_jsonl):
            button.setEnabled(False)
        export_row = QHBoxLayout()
        export_row.addWidget(self.export_csv)
        export_row.addWidget(self.export_jsonl)

        left = QWidget()
        left_layout = FormColumnLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        inputs_box = QGroupBox("Input files")
        QVBoxLayout(inputs_box).addWidget(self.inputs)
        left_layout.addWidget(inputs_box, 1)
        run_box = QGroupBox("Run")
        run_layout = QVBoxLayout(run_box)
        run_layout.addLayout(options)
        left_layout.addWidget(run_box)
        more_box = QGroupBox("Compare with · export")
        more_layout = QVBoxLayout(more_box)
        more_layout.addLayout(compare_row)
        more_layout.addLayout(export_row)
        left_layout.addWidget(more_box)

        self.model = ResultsModel(self)
        self.results = ResultsView(self.model)
        self.chart = SummaryChart()
        self.evaluation = EvaluationView()
        self.compare = CompareView()
        self.warnings = QListWidget()
        self.warnings.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.evaluation, "Evaluation")
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.addTab(self.warnings, "Warnings")
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.chart)
        lower.addWidget(self.tabs)
        lower.setSizes([300, 420])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.results)
        right.addWidget(lower)
        right.setSizes([480, 300])
        # The settings column scrolls on its own (vertically) so that the results, the chart and the
        # evaluation get the panel's full height instead of the window scrolling past them; Analyse, Pause,
        # Cancel and the progress stay under it, on screen at any window size.
        left_scroll = vertical_scroll(left)
        left_column = QWidget()
        column_layout = QVBoxLayout(left_column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(left_scroll, 1)
        column_layout.addLayout(run_row)
        column_layout.addWidget(self.progress)
        column_layout.addWidget(self.status)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left_column)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([400, 880])
        main.setMinimumSize(main.minimumSizeHint())  # below this the main window's scroll area scrolls
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(main)

    def _wire(self) -> None:
        self.task.currentIndexChanged.connect(self._task_changed)
        self.run_button.clicked.connect(self.start_analysis)
        self.cancel_button.clicked.connect(self.cancel)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.compare_button.clicked.connect(self.start_compare)
        self.export_csv.clicked.connect(lambda: self.export_dialog("csv"))
        self.export_jsonl.clicked.connect(lambda: self.export_dialog("jsonl"))
        self.inputs.sig_files_changed.connect(self.load_preview)
        self.tail.sig_chunk.connect(self._on_chunk)
        self.tail.sig_caught_up.connect(self._on_caught_up)

    def _task_changed(self) -> None:
        task = self.task.currentData()
        self.picker.set_task(task)
        self.compare_picker.set_task(task)
        zero_shot = task == "zero-shot-classification"
        self.labels_edit.setEnabled(zero_shot)
        self.text_tasks.show_task(task)
        self.template_edit.setEnabled(zero_shot)

    # -- preview -------------------------------------------------------------------------------
    def load_preview(self, paths) -> Job:
        """Find the file whose preview fills the pickers (walking folders) and preview it, on a worker."""
        paths = tuple(paths)

        def work(progress, cancel):
            from services.analyse.preview import preview_inputs

            return preview_inputs(paths, cancel)

        return self.context.runner.submit("Preview the inputs", work, lane="io", key="analyse-preview",
                                          on_result=self.inputs.show_inputs_preview, needs_torch=False)

    # -- analysis ------------------------------------------------------------------------------
    def build_request(self, model_spec: str | None = None):
        from services.core.engine import EngineOptions
        from services.analyse.run import AnalyseRequest

        paths = self.inputs.files.paths()
        if not paths:
            raise InputError("There are no files to analyse.", hint="Add files or a folder first.")
        spec = model_spec or self.picker.current_spec()
        if not spec:
            raise InputError("No model can do this task.", hint="Open a model folder that can.")
        labels = parse_labels(self.labels_edit.text())
        engine = EngineOptions(chunking=self.chunk.isChecked(), stride=self.stride.value(), labels=labels,
                               template=self.template_edit.text().strip(),
                               task_options=self.text_tasks.options(self.task.currentData()))
        return AnalyseRequest(paths=paths, task=self.task.currentData(), model=spec,
                              read=self.inputs.read_options(), engine=engine, device=self.context.device,
                              precision=self.context.precision)

    def start_analysis(self) -> Job | None:
        try:
            request = self.build_request()
        except InputError as error:
            show_error(self, "Cannot analyse", error)
            return None
        self.last_request = request
        self.last_result = None
        self.compare_result = None
        self._reset_results()
        return self._submit(request, self._on_done, f"Analyse {len(request.paths)} input(s)")

    def _submit(self, request, on_result, title: str) -> Job:
        from services.analyse.run import analyse

        def work(progress, cancel):
            return analyse(request, progress=progress, cancel=cancel)

        job = self.context.runner.submit(title, work, lane="model", key="analyse", on_result=on_result,
                                         can_pause=True)
        self.job = job
        comparing = self._comparing
        if not comparing:
            self._ended = ""
        job.progress.connect(self._on_progress)
        job.finished.connect(lambda job=job, comparing=comparing: self._on_finished(job, comparing))
        job.cancelled.connect(lambda job=job: self._on_cancelled(job))
        job.error.connect(lambda error: self.status.setText(f"Failed: {error}"))
        job.paused.connect(lambda job=job: self._on_paused(job))
        job.resumed.connect(lambda job=job: self._on_resumed(job))
        self._set_running(True)
        self.status.setText("Starting…")
        return job

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.compare_button.setEnabled(not running and self.last_result is not None)
        for button in (self.export_csv, self.export_jsonl):
            button.setEnabled(not running and self.last_result is not None)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling…")

    def toggle_pause(self) -> None:
        """Pause or resume the analysis; the button and status follow the job's paused/resumed signals
        (so they agree with the Jobs dock, whichever was clicked)."""
        if self.job is None or not self.job.is_active:
            return
        if self.job.is_paused:
            self.job.resume()
        else:
            self.job.pause()

    def _on_paused(self, job: Job) -> None:
        if job is self.job:
            self.pause_button.setText("Resume")
            self.status.setText(f"Paused after {self.model.total_rows:,} records.")

    def _on_resumed(self, job: Job) -> None:
        if job is self.job and job.is_active and not job.token.cancelled:
            self.pause_button.setText("Pause")
            self.status.setText("Resumed…")

    def _on_progress(self, event: JobProgress) -> None:
        if self.job is not None and self.job.is_paused:
            return
        fraction = event.fraction
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
        if event.message:
            self.status.setText(event.message)
        data = event.data if isinstance(event.data, dict) else {}
        if self._comparing is False:
            if data.get("results"):
                self._follow(data["results"])
            self.tail.poke()
            self.show_warnings(data.get("warning_list") or (), data.get("warnings"))

    _comparing = False
    MAX_WARNINGS_SHOWN = 1000

    def show_warnings(self, warnings, total: int | None = None) -> None:
        """Add warnings not listed yet (the list only grows while a run goes on); ``total`` counts all."""
        shown = self.warnings.count()
        for warning in warnings[shown:self.MAX_WARNINGS_SHOWN]:
            self.warnings.addItem(str(warning))
        total = len(warnings) if total is None else total
        self.tabs.setTabText(2, f"Warnings ({total})" if total else "Warnings")

    def _on_finished(self, job: Job, comparing: bool) -> None:
        if job is self.job:
            self._set_running(False)
            if self.progress.maximum() == 0:
                self.progress.setRange(0, 1000)
            if not comparing:
                self._ended = self._ended or job.state
                self.tail.finish()  # the rest of the results, then _on_caught_up

    def _on_cancelled(self, job: Job) -> None:
        if job is self.job and not self._comparing:
            self._ended = "cancelled"
            self.status.setText("Cancelled. Reading the results saved so far…")

    def _reset_results(self) -> None:
        self.tail.reset()
        self.model.clear()
        self.entity_counts.clear()
        self._results_path = None
        self._comparing = False
        self.warnings.clear()
        self.chart.set_counts("Run an analysis to see a summary.", [])
        self.evaluation.show_evaluation(None)
        self.results.detail.clear()  # a new analysis: no detail row or comparison of the old one on screen
        self.compare.clear()

    def _follow(self, path: str) -> None:
        """Show the results of ``path`` (the results file of the run in progress)."""
        if path != self._results_path:
            self._results_path = path
            self.model.fetch = _fetch_line(path)
            self.tail.start(path)

    def _on_chunk(self, chunk) -> None:
        """A chunk of results parsed on a worker: append it (no file reading or parsing here)."""
        self.entity_counts.update(dict(chunk.entity_counts))
        self.model.append_table_rows(chunk.rows, chunk.offsets)
        self.results.refresh_labels()
        self.update_chart()

    def _on_caught_up(self) -> None:
        """The run ended and the table holds every result it wrote."""
        if self._ended == "done" and self.model.sort_column is None:
            if self.last_request is not None and self.last_request.task == "question-answering":
                # every document was asked the same question: the best answers first
                self.results.table.sortByColumn(COLUMNS.index("Score"), Qt.SortOrder.DescendingOrder)
            else:  # rows arrive in length-sorted batches; show them in input order
                self.results.table.sortByColumn(COLUMNS.index("File"), Qt.SortOrder.AscendingOrder)
        elif self._ended == "cancelled":
            self.status.setText(f"Cancelled. {self.model.total_rows:,} results are saved; Analyse again to resume.")
        self.sig_results_shown.emit()

    def update_chart(self) -> None:
        task = self.last_request.task if self.last_request else ""
        if task == "token-classification":
            self.chart.set_counts("Top entities by count", self.entity_counts.most_common(15))
        elif task == "sentence-similarity":
            self.chart.set_counts("Embeddings have no labels to count.", [])
        elif task in ("summarization", "translation"):
            self.chart.set_counts("Summaries and translations have no labels to count: click a row to read one.", [])
        else:
            self.chart.set_counts("Label distribution", self.model.label_counts())

    def _on_done(self, result) -> None:
        self.last_result = result
        self._ended = "done"
        self._follow(str(result.results_path))
        self.warnings.clear()
        self.show_warnings(result.warnings)
        resumed = f" ({result.resumed_rows:,} resumed from an earlier run)" if result.resumed_rows else ""
        precision = result.precision.get("summary", "") if result.precision.get("requested") != "float32" else ""
        if result.precision_check is not None:
            self.context.sig_precision_checked.emit(result.precision_check)
        self.status.setText(f"Done: {result.rows:,} records{resumed}. Warnings: {len(result.warnings)}. "
                            f"Results: {result.results_path.parent}" + (f"\nPrecision: {precision}" if precision else ""))
        self.progress.setRange(0, 1000)
        self.progress.setValue(1000)
        self._set_running(False)
        if self.last_request is not None and self.last_request.read.gold:
            self.run_evaluation()

    def run_evaluation(self) -> Job:
        result = self.last_result

        def work(progress, cancel):
            from services.analyse.evaluate import evaluate_file

            return evaluate_file(result.results_path, result.id2label)

        return self.context.runner.submit("Evaluate results", work, lane="io", key="analyse-evaluate",
                                          on_result=self.evaluation.show_evaluation)

    # -- compare -------------------------------------------------------------------------------
    def start_compare(self) -> Job | None:
        if self.last_result is None:
            return None
        spec = self.compare_picker.current_spec()
        try:
            request = self.build_request(spec)
        except InputError as error:
            show_error(self, "Cannot compare", error)
            return None
        request.read = self.last_request.read
        request.paths = self.last_request.paths
        self._comparing = True
        return self._submit(request, self._on_compare_done, "Analyse with the second model")

    def _on_compare_done(self, result_b) -> None:
        self._comparing = False
        result_a = self.last_result
        self.compare_result = result_b
        self._set_running(False)
        name_a = Path(result_a.model).name
        name_b = Path(result_b.model).name

        def work(progress, cancel):
            from services.analyse.evaluate import compare_files

            return compare_files(result_a.results_path, result_b.results_path)

        def show(comparison) -> None:
            self.compare.show_comparison(comparison, name_a, name_b)
            self.tabs.setCurrentWidget(self.compare)
            self.status.setText(comparison.summary())

        self.context.runner.submit("Compare models", work, lane="io", key="analyse-compare", on_result=show)

    # -- export --------------------------------------------------------------------------------
    def export_dialog(self, fmt: str) -> None:
        if self.last_result is None:
            return
        pattern = "CSV (*.csv)" if fmt == "csv" else "JSON lines (*.jsonl)"
        path = file_dialogs.save_file(self, "Export results", f"analysis.{fmt}", pattern)
        if path:
            self.export_to(path, fmt)

    def export_to(self, path: str, fmt: str) -> Job | None:
        """Export in input order (atomic) and put the run manifest next to the file."""
        result = self.last_result
        if result is None:
            return None

        def work(progress, cancel):
            from services.analyse.results_store import export, write_json_atomic
            from services.analyse.run import manifest_path_for

            target = export(result.results_path, path, result.file_paths, result.task, fmt)
            manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
            manifest["export"] = {"path": str(target), "format": fmt}
            write_json_atomic(manifest_path_for(Path(target)), manifest)
            return target

        job = self.context.runner.submit(f"Export {Path(path).name}", work, lane="io", key="analyse-export",
                                         on_result=lambda target: self.status.setText(f"Exported to {target}"))
        job.error.connect(lambda error: self.status.setText(f"Export failed: {error}"))
        return job

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.cancel()
