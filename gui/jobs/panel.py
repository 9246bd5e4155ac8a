"""The Jobs dock: every job with a progress bar, ETA, Cancel (and Pause) while it runs or waits.

A job waiting in its lane says what it waits for and can be cancelled at once. A finished job
shrinks to one line of text (no progress bar, no buttons); only the last few finished jobs are
kept, and a job that supersedes an earlier one with the same key (e.g. re-tokenizing after each
keystroke) replaces that job's row instead of adding one.
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from gui.context import AppContext
from gui.jobs.runner import Job, JobProgress, JobState
from services.core.eta import format_eta, remaining_seconds

KEEP_FINISHED = 5


class JobRow:
    """The widgets of one job's row (a progress bar and buttons while active, plain text once finished)."""

    def __init__(self, tree: QTreeWidget, job: Job):
        self.tree = tree
        self.job = job
        self.item = QTreeWidgetItem([job.title, "", job.status_text()])
        self.item.setToolTip(0, job.title)
        tree.insertTopLevelItem(0, self.item)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self._show_queued()
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
        self._connections = [(job.started, self.on_started), (job.progress, self.on_progress),
                             (job.waiting, self.on_waiting), (job.paused, self.on_paused),
                             (job.resumed, self.on_resumed), (job.finished, self.on_finished)]
        for signal, slot in self._connections:
            signal.connect(slot)

    def detach(self) -> None:
        """Stop following the job (its row is being removed)."""
        for signal, slot in self._connections:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._connections = []

    @property
    def compact(self) -> bool:
        return self.tree.itemWidget(self.item, 3) is None

    def set_status(self, text: str) -> None:
        self.item.setText(2, text)
        self.item.setToolTip(2, text)

    def _show_queued(self) -> None:
        """An empty bar while it waits for its turn (a busy bar would look like work)."""
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat("queued")

    def on_started(self) -> None:
        self.bar.setFormat("%p%")
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.set_status(self.job.status_text())

    def on_waiting(self, _title: str) -> None:
        self.set_status(self.job.status_text())

    def on_cancel(self) -> None:
        self.job.cancel()
        if self.job.is_active:  # a queued job ends at once (the row is already compact)
            self.set_status("cancelling…")
            self.cancel_button.setEnabled(False)

    def on_pause(self) -> None:
        if self.job.token.paused:
            self.job.resume()
        else:
            self.job.pause()

    def on_paused(self) -> None:
        self.pause_button.setText("Resume")
        self.set_status("paused")

    def on_resumed(self) -> None:
        self.pause_button.setText("Pause")
        self.set_status(self.job.status_text())

    def on_progress(self, event: JobProgress) -> None:
        if self.job.token.paused:
            return
        fraction = event.fraction
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
        status = event.message or "running"
        if "ETA" not in status and event.total and self.job.started_at is not None:
            left = remaining_seconds(event.done, event.total, time.monotonic() - self.job.started_at)
            if left is not None:
                status += f" · ETA {format_eta(left)}"
        self.set_status(status)

    def on_finished(self) -> None:
        """One line: how long it ran (from when it started, not when it was queued) and how it ended."""
        self.detach()
        job = self.job
        text = {JobState.DONE: "done", JobState.FAILED: "failed", JobState.CANCELLED: "cancelled"}.get(job.state, "")
        if job.state == JobState.FAILED and job.error_value is not None:
            from gui.dialogs import error_text

            text = f"failed: {error_text(job.error_value)}"
        self.tree.removeItemWidget(self.item, 1)
        self.tree.removeItemWidget(self.item, 3)
        self.bar = self.pause_button = self.cancel_button = None  # deleted with their row widgets
        self.item.setText(1, f"{job.elapsed:.1f} s" if job.elapsed is not None else "never ran")
        self.item.setToolTip(1, "Time from when it started running")
        self.set_status(text)


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
        self.update_summary()

    def add_job(self, job: Job) -> None:
        if not job.listed:
            return
        if job.key is not None:  # the new job supersedes the old one: it takes its row
            for old in [row for row in self.rows if row.job.key == job.key]:
                self.remove_row(old)
        row = JobRow(self.tree, job)
        self.rows.append(row)
        job.started.connect(self.update_summary)
        job.waiting.connect(self.update_summary)
        job.finished.connect(self.update_summary)
        job.finished.connect(self.prune)
        self.update_summary()
        self.prune()

    def remove_row(self, row: JobRow) -> None:
        row.detach()
        index = self.tree.indexOfTopLevelItem(row.item)
        if index >= 0:
            self.tree.takeTopLevelItem(index)
        self.rows.remove(row)

    def prune(self) -> None:
        finished = sorted((row for row in self.rows if not row.job.is_active),
                          key=lambda row: row.job.finished_at or 0.0)
        for row in finished[:-KEEP_FINISHED] if len(finished) > KEEP_FINISHED else []:
            self.remove_row(row)

    def row_for(self, job: Job) -> JobRow | None:
        return next((row for row in self.rows if row.job is job), None)

    def update_summary(self, *_args) -> None:
        active = [job for job in self.context.runner.active_jobs() if job.listed]
        waiting = sum(1 for job in active if job.is_waiting)
        running = len(active) - waiting
        if not active:
            text = "No jobs running."
        else:
            text = f"{running} job(s) running." + (f" {waiting} waiting." if waiting else "")
        self.summary.setText(text)
        self.cancel_all_button.setEnabled(bool(active))
