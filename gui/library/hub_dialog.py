"""Search the Hugging Face Hub and download a model into the library (a non-modal dialog)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from gui.context import AppContext
from gui.jobs.runner import Job
from gui.library.model_table import TASK_SHORT
from services.library.hub import HubModel, default_model_name, recommended_models, search_models
from services.library.ops import format_size
from services.library.scan import describe_folder
from services.core.tasks import TASKS


class HubDialog(QDialog):

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Hugging Face Hub")
        self.resize(820, 520)
        self.results: list[HubModel] = []
        self.search_job: Job | None = None
        self.download_job: Job | None = None

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search models, e.g. bert sentiment")
        self.task_combo = QComboBox()
        self.task_combo.addItem("Any task", "")
        for task, label in TASKS.items():
            self.task_combo.addItem(label, task)
        self.search_button = QPushButton("Search")
        self.recommended_button = QPushButton("Recommended for the course")
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.task_combo)
        top.addWidget(self.search_button)
        top.addWidget(self.recommended_button)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Model", "Task", "Downloads", "Notes"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)

        self.repo_edit = QLineEdit()
        self.repo_edit.setPlaceholderText("owner/name")
        self.revision_edit = QLineEdit("main")
        self.revision_edit.setMaximumWidth(120)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("name in the library")
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(QLabel("Repository:"))
        row.addWidget(self.repo_edit, 2)
        row.addWidget(QLabel("Revision:"))
        row.addWidget(self.revision_edit)
        row.addWidget(QLabel("Save as:"))
        row.addWidget(self.name_edit, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_button)

        self.file_label = QLabel("")
        self.file_bar = QProgressBar()
        self.total_bar = QProgressBar()
        self.file_bar.setFormat("file %p%")
        self.total_bar.setFormat("total %p%")
        self.status = QLabel("Safetensors weights are preferred; other frameworks' files are skipped. "
                             "An interrupted download resumes where it stopped.")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.file_label)
        layout.addWidget(self.file_bar)
        layout.addWidget(self.total_bar)
        layout.addWidget(self.status)

        self.search_button.clicked.connect(self.search)
        self.search_edit.returnPressed.connect(self.search)
        self.recommended_button.clicked.connect(self.show_recommended)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.download_button.clicked.connect(self.download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.show_recommended()

    # -- results -----------------------------------------------------------------------------
    def set_results(self, models: list[HubModel]) -> None:
        self.results = list(models)
        self.table.setRowCount(len(self.results))
        for row, model in enumerate(self.results):
            downloads = QTableWidgetItem(f"{model.downloads:,}" if model.downloads else "")
            downloads.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for column, item in enumerate([QTableWidgetItem(model.repo_id),
                                           QTableWidgetItem(TASK_SHORT.get(model.task, model.task)),
                                           downloads, QTableWidgetItem(model.note or model.last_modified)]):
                self.table.setItem(row, column, item)

    def show_recommended(self) -> None:
        self.set_results(recommended_models())
        self.status.setText("Recommended for the course (needs a connection to download).")

    def search(self) -> Job:
        text, task = self.search_edit.text().strip(), self.task_combo.currentData() or None
        self.status.setText("Searching the Hub…")
        self.search_job = self.context.runner.submit(
            "Hub search", lambda progress, cancel: search_models(text, task), lane="io", key="hub-search",
            on_result=self._on_search_result, on_error=self._on_error)
        return self.search_job

    def _on_search_result(self, models: list[HubModel]) -> None:
        self.set_results(models)
        self.status.setText(f"{len(models)} models, most downloaded first.")

    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            repo = self.results[rows[0].row()].repo_id
            self.repo_edit.setText(repo)
            self.name_edit.setText(default_model_name(repo))

    # -- download ----------------------------------------------------------------------------
    def download(self) -> Job | None:
        from services.library.hub_download import download_model

        repo = self.repo_edit.text().strip()
        if not repo:
            self.status.setText("Choose a model in the list or type its repository id.")
            return None
        revision = self.revision_edit.text().strip() or "main"
        name = self.name_edit.text().strip() or default_model_name(repo)
        root = self.context.library_dir
        self.file_bar.setValue(0)
        self.total_bar.setValue(0)
        self.status.setText(f"Downloading {repo}…")
        self.download_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        def work(progress, cancel):
            folder = download_model(repo, revision, root, name, progress=progress, cancel=cancel)
            return folder, describe_folder(folder, "library")  # the new library entry, read here on the worker

        job = self.context.runner.submit(f"Download {repo}", work, lane="io", key=f"download:{repo}",
                                         on_result=self._on_downloaded, on_error=self._on_error)
        job.progress.connect(self._on_progress)
        job.cancelled.connect(lambda: (self.file_label.setText(""),
                                       self.status.setText("Cancelled. Download again to resume where it stopped.")))
        job.finished.connect(self._on_finished)
        self.download_job = job
        return job

    def cancel_download(self) -> None:
        if self.download_job is not None:
            self.download_job.cancel()

    def _on_progress(self, event) -> None:
        if event.total:
            self.total_bar.setMaximum(1000)
            self.total_bar.setValue(int(1000 * (event.fraction or 0)))
        data = event.data or {}
        if "file" in data and data.get("file_size"):
            self.file_bar.setMaximum(1000)
            self.file_bar.setValue(int(1000 * min(1.0, data["file_done"] / data["file_size"])))
            self.file_label.setText(f"{data['file']}: {format_size(data['file_done'])} of {format_size(data['file_size'])}"
                                    f" — total {format_size(data['done'])} of {format_size(data['total'])}")
        elif event.message:
            self.file_label.setText(event.message)

    def _on_downloaded(self, value) -> None:
        folder, entry = value
        self.status.setText(f"Downloaded into the library: {folder}")
        self.total_bar.setValue(self.total_bar.maximum())
        self.context.catalogue.put(entry)  # every picker lists it now

    def _on_error(self, error: BaseException) -> None:
        from gui.dialogs import error_text

        self.file_label.setText("")  # "Contacting …" or the last file: over once it failed
        self.status.setText(error_text(error))

    def _on_finished(self) -> None:
        self.download_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
