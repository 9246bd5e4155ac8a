"""The Run panel: pick a task and a model, type text, Run (Ctrl+Enter), see the result.

Work runs on the job runner's "model" lane under the key "run" (a new run supersedes the last):
first a load job (``services.core.models.default_host``), then an inference job
(``services.run``). Text generation streams into the view and can be cancelled mid-way.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QStackedWidget,
                               QVBoxLayout, QWidget)

from gui.common.layout import size_to_current_page
from gui.context import AppContext
from gui.dialogs import show_error
from gui.jobs.runner import Job
from gui.settings import Key
from gui.common.code_dialog import CodeDialog
from gui.common.entity_view import EntityView
from gui.common.model_picker import ModelPicker
from gui.run.result_views import ClassificationView, FillMaskView, GenerationView, SimilarityView, ZeroShotView
from gui.run.options import TaskOptions
from gui.run.text_task_views import AnswerView, Seq2SeqView
from services.core.errors import ModelError
from services.core.model_info import inspect_model
from services.core import tasks
from services.core.tasks import DEFAULT_LABELS, DEFAULT_TEMPLATE, TASKS

EXAMPLES = {
    "text-classification": "The film was a delight from start to finish.",
    "token-classification": "Maria Lopez joined Acme Corporation in Berlin last spring.",
    "zero-shot-classification": "The team won the match in extra time.",
    "fill-mask": "Paris is the [MASK] of France.",
    "sentence-similarity": "A cat sits on the mat.",
    "text-generation": "Once upon a time",
    "question-answering": ("Maria Lopez joined Acme Corporation in Berlin last spring. Before that she spent six years "
                           "at a small robotics start-up in Lyon, where she led the vision team."),
    "summarization": ("The city council met on Tuesday to discuss the new cycle lanes. After three hours of debate, "
                      "members voted to extend the lanes to the old harbour district and to close two streets to "
                      "cars on Sundays. Shop owners were divided: some fear fewer customers, others expect more "
                      "people on foot. Work starts in the spring and should finish before the summer festival."),
    "translation": "The hotel room was clean, quiet and close to the station.",
}
SEQ2SEQ_TASKS = ("summarization", "translation")
EXAMPLE_B = "A kitten rests on a rug."


def primary_task(info, current: str) -> str:
    """The task a model was built for (its head; zero-shot for NLI models), else the current or first one."""
    return tasks.primary_task(info.architectures, info.is_nli, info.tasks, current)


class _CtrlEnterFilter(QObject):
    """Ctrl+Enter inside the text boxes runs the task (instead of inserting a line break)."""

    def __init__(self, callback, parent: QObject):
        super().__init__(parent)
        self.callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.callback()
                return True
        return False


class RunPanel(QWidget):
    TITLE = "Run"
    OBJECT_NAME = "RunDock"
    AREA = "main"

    sig_result = Signal(str, object)  # task, list of result dicts (one per text; similarity: one)
    sig_run_finished = Signal(str)  # "done", "failed" or "cancelled"

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.job: Job | None = None
        self.last_run: dict | None = None  # task, spec, texts, options, device of the last run
        self.last_results: list[dict] | None = None
        self.code_dialog: CodeDialog | None = None
        self._started = 0.0
        self._build()
        self._restore()
        context.sig_open_model.connect(self._on_open_model)

    # -- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        self.task_combo = QComboBox()
        for task, label in TASKS.items():
            self.task_combo.addItem(label, task)
        self.task_combo.setToolTip("What to do with the text")
        self.picker = ModelPicker(self.context)
        self.options = TaskOptions()
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Type a text, then Run (Ctrl+Enter)")
        self.input.setMaximumHeight(110)
        self.input_b = QPlainTextEdit()
        self.input_b.setPlaceholderText("Second sentence (leave empty to see the first one's embedding)")
        self.input_b.setMaximumHeight(70)
        self.input_label = QLabel("Text")
        self.input_b_label = QLabel("Second sentence")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the task on the text (Ctrl+Enter)")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.code_button = QPushButton("Show code")
        self.code_button.setToolTip("The Python that does what this run did, to copy")
        self.status = QLabel()
        self.status.setObjectName("runStatus")
        self.notice = QLabel()
        self.notice.setObjectName("runNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background:#fff3cd; color:#5c4400; border:1px solid #e0c36a; padding:4px;")
        self.notice.hide()

        self.views = {
            "text-classification": ClassificationView(),
            "token-classification": EntityView(),
            "zero-shot-classification": ZeroShotView(),
            "fill-mask": FillMaskView(),
            "sentence-similarity": SimilarityView(),
            "text-generation": GenerationView(),
            "question-answering": AnswerView(),
            "summarization": Seq2SeqView("Summary", "summary_text"),
            "translation": Seq2SeqView("Translation", "translation_text"),
        }
        self.result_stack = QStackedWidget()
        for view in self.views.values():
            self.result_stack.addWidget(view)
        size_to_current_page(self.result_stack)  # as large as the task's result view needs, not the largest

        top = QHBoxLayout()
        top.addWidget(QLabel("Task:"))
        top.addWidget(self.task_combo)
        top.addSpacing(12)
        top.addWidget(QLabel("Model:"))
        top.addWidget(self.picker, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.code_button)
        buttons.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.options)
        layout.addWidget(self.input_label)
        layout.addWidget(self.input)
        layout.addWidget(self.input_b_label)
        layout.addWidget(self.input_b)
        layout.addLayout(buttons)
        layout.addWidget(self.notice)
        layout.addWidget(self.result_stack, 1)

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.code_button.clicked.connect(self.show_code)
        self.task_combo.currentIndexChanged.connect(lambda _i: self._task_changed())
        self.picker.sig_model_changed.connect(lambda _spec: self._update_no_model_notice())
        self.picker.sig_model_changed.connect(self.options.text_tasks.set_model)  # the model's settings, languages
        self.options.text_tasks.set_model(self.picker.current_spec())
        self._ctrl_enter = _CtrlEnterFilter(self.run, self)
        self.input.installEventFilter(self._ctrl_enter)
        self.input_b.installEventFilter(self._ctrl_enter)
        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.run)

    def _restore(self) -> None:
        settings = self.context.settings
        self.options.labels.setText(settings.get(Key.RUN_LABELS) or DEFAULT_LABELS)
        task = str(settings.get(Key.RUN_TASK))
        self.set_task(task if task in TASKS else "sentence-similarity")
        self._task_changed()  # also when the index did not move
        text = str(settings.get(Key.RUN_TEXT) or "")
        if text:
            self.input.setPlainText(text)
        text_b = str(settings.get(Key.RUN_TEXT_B) or "")
        if text_b:
            self.input_b.setPlainText(text_b)

    # -- task and model ----------------------------------------------------------------------
    def task(self) -> str:
        return str(self.task_combo.currentData())

    def set_task(self, task: str) -> None:
        self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(task)))

    def _task_changed(self) -> None:
        task = self.task()
        self.picker.set_task(task)
        self.options.show_task(task)
        self.result_stack.setCurrentWidget(self.views[task])
        similarity = task == "sentence-similarity"
        self.input_b.setVisible(similarity)
        self.input_b_label.setVisible(similarity)
        self.input_label.setText("First sentence" if similarity else ("Prompt" if task == "text-generation" else (
            "Context (the answer is a span of it)" if task == "question-answering" else "Text")))
        current = self.input.toPlainText()
        if not current or current in EXAMPLES.values():
            self.input.setPlainText(EXAMPLES[task])
        if similarity and not self.input_b.toPlainText():
            self.input_b.setPlainText(EXAMPLE_B)
        self.context.settings.set(Key.RUN_TASK, task)
        self.notice.hide()
        self._update_no_model_notice()

    def _update_no_model_notice(self) -> None:
        missing = self.picker.current_spec() is None
        if missing:
            self._show_notice(self.picker.missing_hint() + " Or pick another task.")
        elif self.notice.property("kind") == "no-model":
            self.notice.hide()
        # No model for the task: nothing to run and no code to show (the notice above says what to do).
        why = f"No model can do {TASKS[self.task()].lower()} yet: see the note above." if missing else ""
        self.run_button.setEnabled(not missing)
        self.run_button.setToolTip(why or "Run the task on the text (Ctrl+Enter)")
        self.code_button.setEnabled(not missing)
        self.code_button.setToolTip(why or "The Python that does what this run did, to copy")

    def _show_notice(self, text: str, kind: str = "no-model") -> None:
        self.notice.setText(text)
        self.notice.setProperty("kind", kind)
        self.notice.show()

    def _on_open_model(self, spec: str, panel: str) -> None:
        """Another part of the app asks this panel to use a model (panel "" or "RunDock")."""
        if panel not in ("", self.OBJECT_NAME):
            return
        try:
            info = inspect_model(spec)
            if not info.tasks:
                raise ModelError(f"'{info.name}' cannot do any task the Run panel offers "
                                 f"(architectures: {', '.join(info.architectures) or 'none'}).",
                                 hint=f"The Run panel does: {', '.join(TASKS.values())}.")
        except ModelError as error:
            show_error(self, "Cannot use model", error)
            return
        primary = primary_task(info, self.task())
        if self.task() not in info.tasks:
            self.context.sig_status.emit(f"{info.display_name} cannot do {TASKS[self.task()].lower()}; switched to "
                                         f"{TASKS[primary].lower()}.")
        self.set_task(primary)
        if not self.picker.set_current_spec(spec):
            self.context.remember_model(spec)
            self.picker.set_current_spec(spec)

    # -- running -----------------------------------------------------------------------------
    def texts(self) -> list[str]:
        texts = [self.input.toPlainText()]
        if self.task() == "sentence-similarity" and self.input_b.toPlainText().strip():
            texts.append(self.input_b.toPlainText())
        return texts

    def run(self) -> Job | None:
        """Load the chosen model (cached after the first time) and run the task on the text."""
        task, spec = self.task(), self.picker.current_spec()
        if spec is None:  # Run is disabled then; Ctrl+Enter points at the note that says what to do
            self._update_no_model_notice()
            self.status.setText(f"No model for {TASKS[task].lower()}: see the note above.")
            return None
        texts, options = self.texts(), self.options.options(task)
        settings = self.context.settings
        settings.set(Key.RUN_TEXT, self.input.toPlainText())
        settings.set(Key.RUN_TEXT_B, self.input_b.toPlainText())
        settings.set(Key.RUN_LABELS, self.options.labels.text())
        device, precision = self.context.device, self.context.precision
        self.last_run = {"task": task, "spec": spec, "texts": texts, "options": options, "device": device}
        self.notice.hide()
        self.views[task].clear()
        if task == "question-answering":
            self.views[task].set_context(texts[0])
        self._started = None  # when the load job starts running, not while it waits in its lane

        def load(progress, cancel):
            from services.core.models import default_host
            from services.run.common import check_texts

            check_texts(texts)  # say so at once, before a slow load
            if task == "question-answering":
                from services.run.question_answering import check_question

                check_question(options.get("question"))
            from services.core import precision as precisions

            # float32, or the chosen precision after its agreement check (once per model and setting)
            return precisions.load(spec, task, device=device, precision=precision, host=default_host,
                                   options=precisions.engine_options(task, options), progress=progress, cancel=cancel)

        from services.core.models import default_host

        name = "the built-in model" if spec == "builtin" else spec.rstrip("/\\").rsplit("/", 1)[-1]
        # A model loaded before is reused (no reload): the job says so instead of "Loading" every run.
        held = default_host.holds(spec, task, device=device)
        job = self.context.runner.submit(f"{'Using' if held else 'Loading'} {name}", load, lane="model", key="run")
        job.result.connect(lambda loaded, job=job: self._on_loaded(job, loaded))
        self._watch(job, "Preparing…" if held else "Loading model…")
        return job

    def _on_loaded(self, load_job: Job, loaded) -> None:
        if load_job is not self.job or self.last_run is None:
            return
        run = self.last_run
        run["check"] = loaded.check
        self.context.sig_model_loaded.emit(loaded.info.display_name, run["task"])
        if loaded.check is not None:
            self.context.sig_precision_checked.emit(loaded.check)
        task, texts, options = run["task"], run["texts"], run["options"]

        def infer(progress, cancel):
            from services.run import predict, similarity
            from services.core.models import embedding_limit

            limit = embedding_limit(loaded) if (task in tasks.EMBEDDING_TASKS and not loaded.info.is_nli) else loaded.max_length
            if task == "sentence-similarity" and len(texts) == 2:
                return [similarity(loaded, texts[0], texts[1], progress=progress, cancel=cancel)], limit
            return predict(loaded, texts, options, progress=progress, cancel=cancel), limit

        job = self.context.runner.submit(f"{TASKS[task]} on {loaded.info.display_name}", infer, lane="model", key="run")
        job.result.connect(lambda value, job=job: self._on_result(job, value))
        if task == "text-generation":
            self.views[task].start(texts[0])
            job.progress.connect(lambda event, job=job: self._on_stream(job, event))
        elif task in SEQ2SEQ_TASKS:  # summaries and translations stream in as they are generated
            self.views[task].start()
            job.progress.connect(lambda event, job=job, view=self.views[task]: job is self.job and view.on_progress(event))
        self._watch(job, "Running…")

    def _watch(self, job: Job, message: str) -> None:
        self.job = job
        self.status.setText(message)
        self._on_waiting(job, job.waiting_for if job.is_waiting else "", message)
        self.cancel_button.setEnabled(True)
        job.waiting.connect(lambda title, job=job, message=message: self._on_waiting(job, title, message))
        job.started.connect(lambda job=job, message=message: self._on_started(job, message))
        job.error.connect(lambda error, job=job: self._on_failed(job, error))
        job.cancelled.connect(lambda job=job: self._on_cancelled(job))

    def _on_waiting(self, job: Job, title: str, message: str) -> None:
        """A job queued behind another in the model lane (e.g. training) says so; Cancel stops the wait."""
        if job is self.job:
            self.status.setText(f"Waiting for: {title} (Cancel stops waiting)" if title else message)

    def _on_started(self, job: Job, message: str) -> None:
        if job is self.job:
            if self._started is None:
                self._started = job.started_at
            self.status.setText(message)

    def _on_stream(self, job: Job, event) -> None:
        if job is self.job and isinstance(event.data, str):
            self.views["text-generation"].stream(event.data)

    def _on_result(self, job: Job, value) -> None:
        if job is not self.job or self.last_run is None:
            return
        results, limit = value
        task = self.last_run["task"]
        view = self.views[task]
        if task == "zero-shot-classification":
            view.show_result(results[0], self.last_run["options"].get("hypothesis_template") or DEFAULT_TEMPLATE)
        else:
            view.show_result(results[0])
        if any(result.get("truncated") for result in results):
            self._show_notice(f"The text was longer than the model's limit of {limit} tokens, so it was truncated: "
                              "the result covers only the part that fits.", kind="truncated")
        self.last_results = results
        check = self.last_run.get("check")
        shown = f" · {check.summary()}" if check is not None and (check.requested != "float32" or check.notes) else ""
        self._end(f"Done in {time.monotonic() - self._started:.2f} s{shown}", "done")
        self.sig_result.emit(task, results)

    def _on_failed(self, job: Job, error: BaseException) -> None:
        if job is self.job:  # the job runner has already shown the error (dialog + Log)
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            self._end(f"Failed: {first_line}", "failed")

    def _on_cancelled(self, job: Job) -> None:
        if job is self.job:
            if self.last_run and self.last_run["task"] == "text-generation":
                self.views["text-generation"].cancelled()
            elif self.last_run and self.last_run["task"] in SEQ2SEQ_TASKS:
                self.views[self.last_run["task"]].cancelled()
            self._end("Cancelled", "cancelled")

    def _end(self, message: str, outcome: str) -> None:
        self.job = None
        self.status.setText(message)
        self.cancel_button.setEnabled(False)
        self.sig_run_finished.emit(outcome)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def is_running(self) -> bool:
        return self.job is not None

    # -- code --------------------------------------------------------------------------------
    def _last_run_shown(self) -> bool:
        """Whether the last run was of the task and model the panel shows now."""
        return self.last_run is not None and (self.last_run["task"], self.last_run["spec"]) == (
            self.task(), self.picker.current_spec())

    def current_code(self) -> str:
        from services.run.code_snippets import code_for

        run = self.last_run
        if not self._last_run_shown():  # none yet, or of another task or model: code for what the panel shows now
            spec = self.picker.current_spec()
            if spec is None:
                raise ModelError(f"No model is chosen for {TASKS[self.task()].lower()}, so there is no code to show.",
                                 hint="Choose or open a model that can do it first.")
            run = {"task": self.task(), "spec": spec, "texts": self.texts(),
                   "options": self.options.options(self.task()), "device": self.context.device}
        return code_for(run["task"], run["spec"], run["options"], run["texts"], device=run["device"])

    def show_code(self) -> CodeDialog | None:
        try:
            code = self.current_code()
        except (ModelError, ValueError) as error:
            show_error(self, "No code to show", error)
            return None
        note = "Python that does what the last run did (same model folder, text and options):" \
            if self._last_run_shown() \
            else "Python for the current task, model and text:"
        self.code_dialog = CodeDialog(code, note=note, parent=self)
        self.code_dialog.show()
        return self.code_dialog

    def shutdown(self) -> None:
        self.cancel()
