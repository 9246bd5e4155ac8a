"""The Jobs dock: every running job with a progress bar, ETA and a Cancel (and Pause) button."""

from __future__ import annotations

import time

from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from gui.context import AppContext
from gui.jobs.runner import Job, JobProgress, JobState
from services.core.eta import format_eta, remaining_seconds

KEEP_FINISHED = 15


class JobRow:
    """The widgets of one job's row."""

    def __init__(self, tree: QTreeWidget, job: Job):
        self.job = job
        self.item = QTreeWidgetItem([job.title, "", "queued"])
        tree.insertTopLevelItem(0, self.item)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.bar.setTextVisible(True)
        tree.setItemWidget(self.item, 1, self.bar)
        buttons = QWidget()
        layout = QHBoxLayout(buttons)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setVisible(job.can_pause)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(f"Cancel '{job.title}'")
        layout.addWidget(self.pause_button)
        layout.addWidget(self.cancel_button)
        tree.setItemWidget(self.item, 3, buttons)
        self.cancel_button.clicked.connect(self.on_cancel)
        self.pause_button.clicked.connect(self.on_pause)
        job.started.connect(lambda: self.item.setText(2, "running"))
        job.progress.connect(self.on_progress)
        job.finished.connect(self.on_finished)

    def on_cancel(self) -> None:
        self.job.cancel()
        self.item.setText(2, "cancelling…")
        self.cancel_button.setEnabled(False)

    def on_pause(self) -> None:
        if self.job.token.paused:
            self.job.resume()
            self.pause_button.setText("Pause")
            self.item.setText(2, "running")
        else:
            self.job.pause()
            self.pause_button.setText("Resume")
            self.item.setText(2, "paused")

    def on_progress(self, event: JobProgress) -> None:
        fraction = event.fraction
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
        status = event.message or "running"
        left = None if self.job.started_at is None or fraction is None else \
            remaining_seconds(fraction, 1.0, time.monotonic() - self.job.started_at)
        if left is not None:
            status += f" · ETA {format_eta(left)}"
        self.item.setText(2, status)
        self.item.setToolTip(2, status)

    def on_finished(self) -> None:
        text = {JobState.DONE: "done", JobState.FAILED: "failed", JobState.CANCELLED: "cancelled"}.get(self.job.state, "")
        if self.job.state == JobState.FAILED and self.job.error_value is not None:
            from gui.dialogs import error_text

            text = f"failed: {error_text(self.job.error_value)}"
            self.item.setToolTip(2, text)
        self.item.setText(2, text)
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000 if self.job.state == JobState.DONE else self.bar.value())
        self.cancel_button.setEnabled(False)
        self.pause_button.setEnabled(False)


class JobsPanel(QWidget):
    TITLE = "Jobs"
    OBJECT_NAME = "JobsDock"
    AREA = "bottom"

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Job", "Progress", "Status", ""])
        self.tree.setRootIsDecorated(False)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        self.tree.setColumnWidth(0, 260)
        self.tree.setColumnWidth(1, 180)
        self.tree.setColumnWidth(3, 170)
        self.summary = QLabel("No jobs running.")
        self.cancel_all_button = QPushButton("Cancel all")
        self.cancel_all_button.clicked.connect(context.runner.cancel_all)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.cancel_all_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree)
        self.rows: list[JobRow] = []
        context.runner.job_added.connect(self.add_job)

    def add_job(self, job: Job) -> None:
        row = JobRow(self.tree, job)
        self.rows.append(row)
        job.started.connect(self.update_summary)
        job.finished.connect(self.update_summary)
        self.update_summary()
        self.prune()

    def prune(self) -> None:
        finished = [row for row in self.rows if not row.job.is_active]
        for row in finished[:-KEEP_FINISHED] if len(finished) > KEEP_FINISHED else []:
            index = self.tree.indexOfTopLevelItem(row.item)
            if index >= 0:
                self.tree.takeTopLevelItem(index)
            self.rows.remove(row)

    def row_for(self, job: Job) -> JobRow | None:
        return next((row for row in self.rows if row.job is job), None)

    def update_summary(self) -> None:
        active = self.context.runner.active_jobs()
        self.summary.setText(f"{len(active)} job(s) running." if active else "No jobs running.")
        self.cancel_all_button.setEnabled(bool(active))
