"""The Internals panel: the manual PyTorch path made visible.

tokenizer(text, return_tensors="pt") → model(**inputs) → logits → softmax(logits / T) → argmax →
config.id2label, with a confidence threshold below which the answer is "uncertain"; attention
heatmaps per layer and head; and "Show code", the exact script that prints the same numbers.
The model runs on the job runner's "model" lane; temperature and threshold are recomputed instantly.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from gui.context import AppContext
from gui.dialogs import error_text
from gui.internals.attention_view import AttentionView
from gui.internals.qa_view import QaLogitsView
from gui.common.model_picker import ModelPicker
from gui.internals.token_scores_table import TokenScoresTable
from services.core.errors import ModelError, WorkbenchError
from services.internals.manual_path import MODES
from services.core.tasks import DEFAULT_TEMPLATE, parse_labels

SEED_TEXT = "I'm so excited to be learning about large language models."
QA_MODE = "question-answering"  # start/end logits of a QA head (services.run.question_answering.explain)
QA_MODE_NAME = "Question answering (start/end logits)"
QA_SEED_QUESTION = "What am I excited to learn about?"


class InternalsPanel(QWidget):
    TITLE = "Internals"
    OBJECT_NAME = "InternalsDock"
    AREA = "main"

    sig_result = Signal(object)  # InternalsResult, after every view was filled

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.result = None
        self.scores = None
        self.picker = ModelPicker(context)
        self.mode = QComboBox()
        self.mode.setToolTip("Which head to run: the Auto class and the arithmetic after the logits depend on it")
        self.text_input = QPlainTextEdit(SEED_TEXT)
        self.text_input.setMaximumHeight(70)
        self.labels_input = QLineEdit("education, sports, technology")
        self.labels_input.setToolTip("Zero-shot: one premise/hypothesis pair per candidate label")
        self.template_input = QLineEdit(DEFAULT_TEMPLATE)
        self.template_input.setToolTip("Zero-shot: the hypothesis; {} is replaced by each candidate label")
        self.question_input = QLineEdit(QA_SEED_QUESTION)
        self.question_input.setToolTip("Question answering: the answer is a span of the text above")
        self.qa_view = QaLogitsView()
        self.qa_detail = None
        self.temperature = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=20.0, singleStep=0.1, value=1.0)
        self.temperature.setToolTip("softmax(logits / T): T > 1 flattens the probabilities, T < 1 sharpens them")
        self.threshold = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05, value=0.0)
        self.threshold.setToolTip("Below this probability the answer is 'uncertain'")
        self.run_button = QPushButton("Run")
        self.code_button = QPushButton("Show code")
        self.code_button.setToolTip("The exact Python that reproduces these numbers")
        self.verdict = QLabel("Pick a model and press Run.")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.scores_table = TokenScoresTable()
        self.tensors_table = QTableWidget()
        self.tensors_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.attention_view = AttentionView()
        self.code_box = QPlainTextEdit()
        self.code_box.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.code_box.setFont(mono)
        self.copy_button = QPushButton("Copy code")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.scores_table, "Logits → probabilities")
        self.tabs.addTab(self.tensors_table, "Tensors")
        self.tabs.addTab(self.attention_view, "Attention")
        code_tab = QWidget()
        code_layout = QVBoxLayout(code_tab)
        code_layout.addWidget(self.code_box, 1)
        code_layout.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignRight)
        self.tabs.addTab(code_tab, "Code")
        self.tabs.addTab(self.qa_view, "Answer span")
        self._build_layout()
        self._wire()
        self._on_model_changed(self.picker.current_spec() or "")

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Model:"))
        top.addWidget(self.picker, 2)
        top.addWidget(self.mode, 1)
        form = QFormLayout()
        form.addRow("Text", self.text_input)
        form.addRow("Question", self.question_input)
        self._form = form
        self.labels_row = QWidget()
        labels_layout = QHBoxLayout(self.labels_row)
        labels_layout.setContentsMargins(0, 0, 0, 0)
        labels_layout.addWidget(QLabel("Candidate labels"))
        labels_layout.addWidget(self.labels_input, 2)
        labels_layout.addWidget(QLabel("Hypothesis"))
        labels_layout.addWidget(self.template_input, 1)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Temperature"))
        controls.addWidget(self.temperature)
        controls.addWidget(QLabel("Threshold"))
        controls.addWidget(self.threshold)
        controls.addStretch(1)
        controls.addWidget(self.run_button)
        controls.addWidget(self.code_button)
        layout = QVBoxLayout(self)  # the main window puts the panel in a scroll area
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addWidget(self.labels_row)
        layout.addLayout(controls)
        layout.addWidget(self.verdict)
        layout.addWidget(self.tabs, 1)

    def _wire(self) -> None:
        self.picker.sig_model_changed.connect(self._on_model_changed)
        self.mode.currentIndexChanged.connect(lambda _i: self._update_mode_widgets())
        self.run_button.clicked.connect(self.run)
        self.code_button.clicked.connect(self.show_code)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.code_box.toPlainText()))
        self.temperature.valueChanged.connect(lambda _v: self.rescore())
        self.threshold.valueChanged.connect(lambda _v: self.rescore())
        self.attention_view.sig_selection_changed.connect(self._update_code)
        self.context.sig_open_model.connect(self._on_open_model)

    # -- model and mode --------------------------------------------------------------------------
    def _on_model_changed(self, spec: str) -> None:
        from services.internals.manual_path import modes_for
        from services.core.model_info import inspect_model

        self.mode.blockSignals(True)
        self.mode.clear()
        try:
            info = inspect_model(spec) if spec else None
            modes = modes_for(info) if info else []
        except ModelError:
            info, modes = None, []
        if info is not None and QA_MODE in info.tasks:
            modes = [QA_MODE, *modes]
        for mode in modes:
            self.mode.addItem(MODES.get(mode, QA_MODE_NAME), mode)
        self.mode.blockSignals(False)
        self.run_button.setEnabled(bool(modes))
        if spec and not modes:
            self.verdict.setText("This model has no head the Internals panel can show.")
        self._update_mode_widgets()

    def current_mode(self) -> str | None:
        data = self.mode.currentData()
        return str(data) if data else None

    def set_mode(self, mode: str) -> bool:
        index = self.mode.findData(mode)
        if index >= 0:
            self.mode.setCurrentIndex(index)
        return index >= 0

    def _update_mode_widgets(self) -> None:
        mode = self.current_mode()
        self.labels_row.setVisible(mode == "zero-shot")
        self._form.setRowVisible(self.question_input, mode == QA_MODE)
        has_head = mode not in (None, "attention", QA_MODE)
        self.temperature.setEnabled(has_head)
        self.threshold.setEnabled(has_head)

    def _on_open_model(self, spec: str, panel: str) -> None:
        if panel != self.OBJECT_NAME:
            return
        try:
            if spec != "builtin":
                self.picker.open_folder(spec)
            else:
                self.picker.set_current_spec("builtin")
        except WorkbenchError as error:
            self.verdict.setText(f"<span style='color:#b00020'>{error_text(error)}</span>")
            return
        QTimer.singleShot(0, self.run)

    # -- running ---------------------------------------------------------------------------------
    def run(self):
        """Run the text through the chosen model on the model lane."""
        spec, mode = self.picker.current_spec(), self.current_mode()
        text = self.text_input.toPlainText()
        if not spec or not mode:
            self._show_error("Pick a model with a classification head, or the built-in model for attention.")
            return None
        if not text.strip():
            self._show_error("The text is empty: type a sentence to run through the model.")
            return None
        labels = parse_labels(self.labels_input.text())
        if mode == "zero-shot" and not labels:
            self._show_error("Zero-shot needs candidate labels, separated by commas.")
            return None
        template = self.template_input.text()
        device, dtype = self.context.device, self.context.dtype
        if mode == QA_MODE:
            return self._run_question_answering(spec, text, device, dtype)

        def work(progress, cancel):
            from services.internals.manual_path import run_internals

            return run_internals(spec, text, mode=mode, candidate_labels=labels, hypothesis_template=template,
                                 device=device, dtype=dtype, progress=progress, cancel=cancel)

        self.verdict.setText("Running…")
        self.run_button.setEnabled(False)
        job = self.context.runner.submit("Internals: run the model", work, lane="model", key="internals-run",
                                         on_result=self._on_result)
        job.error.connect(lambda error: self._show_error(error_text(error)))
        job.finished.connect(lambda: self.run_button.setEnabled(self.mode.count() > 0))
        return job

    def _run_question_answering(self, spec: str, context: str, device: str, dtype: str):
        question = self.question_input.text()
        if not question.strip():
            self._show_error("The question is empty: type a question whose answer is in the text.")
            return None

        def work(progress, cancel):
            from services.core.models import default_host
            from services.run.question_answering import explain

            loaded = default_host.get(spec, QA_MODE, device=device, dtype=dtype, progress=progress, cancel=cancel)
            return loaded.info.display_name, explain(loaded, question, context, {"top_k": 5}, cancel)

        self.verdict.setText("Running…")
        self.run_button.setEnabled(False)
        job = self.context.runner.submit("Internals: question answering", work, lane="model", key="internals-run",
                                         on_result=self._on_qa_result)
        job.error.connect(lambda error: self._show_error(error_text(error)))
        job.finished.connect(lambda: self.run_button.setEnabled(self.mode.count() > 0))
        return job

    def _on_qa_result(self, value) -> None:
        from services.run.code_snippets import code_for

        name, detail = value
        self.result, self.scores, self.qa_detail = None, None, detail
        self.scores_table.show_scores(None, None)
        self.qa_view.set_detail(detail)
        answer = detail["answer"]
        self.verdict.setText(f"argmax over (start, end) pairs → <b>{answer or '(no answer)'}</b> with score "
                             f"p<sub>start</sub> × p<sub>end</sub> = {detail['score']:.5f} (characters "
                             f"{detail['start']}–{detail['end']}); see the Answer span tab.")
        self.code_box.setPlainText(code_for(QA_MODE, self.picker.current_spec() or "", {
            "question": detail["question"], "top_k": 5}, [detail["context"]], device=self.context.device))
        self.tabs.setCurrentWidget(self.qa_view)
        self.context.sig_model_loaded.emit(name, QA_MODE_NAME)
        self.sig_result.emit(detail)

    def _show_error(self, message: str) -> None:
        self.verdict.setText(f"<span style='color:#b00020'>{message}</span>")

    def _on_result(self, result) -> None:
        self.result = result
        self._fill_tensors(result)
        self.attention_view.set_attentions(result.attentions, result.tokens)
        self.rescore()
        # Show a tab that has something in it: a model without a task head (the built-in one) has no logits.
        no_head = result.mode == "attention"
        if no_head and self.tabs.currentWidget() in (self.scores_table, self.qa_view):
            self.tabs.setCurrentWidget(self.attention_view)
        elif not no_head and self.tabs.currentWidget() is self.qa_view:
            self.tabs.setCurrentWidget(self.scores_table)
        self.tabs.setTabEnabled(self.tabs.indexOf(self.scores_table), not no_head)  # (after the switch: a
        self.tabs.setTabToolTip(self.tabs.indexOf(self.scores_table),  # disabled current tab moves on by itself)
                                "This model has no task head, so there are no logits" if no_head else "")
        self.context.sig_model_loaded.emit(result.model_name, MODES[result.mode])
        self.sig_result.emit(result)

    def rescore(self) -> None:
        """Recompute probabilities, argmax and the verdict for the current temperature and threshold."""
        from services.internals.manual_path import score

        result = self.result
        if result is None:
            return
        if result.mode == "attention":
            self.scores = None
            self.scores_table.show_scores(None, None)
            shape = result.outputs[0].shape if result.outputs else "?"
            self.verdict.setText(f"<b>{result.model_name}</b> has no task head: it returns hidden states "
                                 f"{list(shape)} (one vector per token) and the attention weights shown in the "
                                 "Attention tab. There are no logits to turn into labels.")
            self._update_code()
            return
        self.scores = score(result, self.temperature.value(), self.threshold.value())
        self.scores_table.show_scores(result, self.scores)
        self.verdict.setText(self._verdict_text(result, self.scores))
        self._update_code()

    @staticmethod
    def _verdict_text(result, scores) -> str:
        if result.mode == "token-classification":
            uncertain = sum(p.uncertain for p in scores.predictions)
            labels = " ".join(f"{p.row}/<b>{p.shown_label}</b>" for p in scores.predictions[:40])
            return f"{len(scores.predictions)} tokens, {uncertain} uncertain: {labels}"
        best = scores.predictions[0]
        if result.activation == "none":
            return (f"A regression head: the answer is the raw output, <b>{best.probability:.4f}</b> "
                    "(no softmax, so temperature and threshold do not apply).")
        how = "softmax over the candidates' entailment logits" if result.mode == "zero-shot" else (
            f"{result.activation}(logits / {scores.temperature:g})")
        if best.uncertain:
            return (f"<b>uncertain</b>: the best, {best.label!r}, has p = {best.probability:.4f}, below the threshold "
                    f"{scores.threshold:g} ({how}).")
        source = "candidate label" if result.mode == "zero-shot" else f"id2label[{best.index}]"
        return (f"argmax = {best.index} → {source} = <b>{best.label}</b> with p = {best.probability:.4f} ({how}).")

    def _fill_tensors(self, result) -> None:
        rows = [("input", t.name, str(list(t.shape)), t.dtype, _preview(t.values)) for t in result.inputs]
        rows += [("output", t.name, str(list(t.shape)), t.dtype, _preview(t.values)) for t in result.outputs]
        if result.attentions is not None:
            n = len(result.tokens)
            rows.append(("output", "attentions", f"{result.layers} × [1, {result.heads}, {n}, {n}]", "torch.float32",
                         "one tensor per layer: [batch, heads, tokens attending, tokens attended to]"))
        table = self.tensors_table
        table.clear()
        table.setColumnCount(5)
        table.setHorizontalHeaderLabels(["", "name", "shape", "dtype", "values"])
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(value))
        table.resizeColumnsToContents()

    # -- code ------------------------------------------------------------------------------------
    def _update_code(self) -> None:
        from services.internals.manual_path import generate_code

        if self.result is None:
            return
        layer, head = self.attention_view.selection()
        self.code_box.setPlainText(generate_code(self.result, self.temperature.value(), self.threshold.value(),
                                                 layer=layer, head=head))

    def show_code(self) -> None:
        self.tabs.setCurrentIndex(3)
        if self.result is None:
            self.code_box.setPlainText("# Run the model first: the code reproduces the numbers of that run.")

    def code(self) -> str:
        return self.code_box.toPlainText()


def _preview(values, limit: int = 200) -> str:
    text = str(values)
    return text if len(text) <= limit else text[:limit] + " …"
