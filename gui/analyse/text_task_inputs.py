"""Analyse panel inputs for question answering ("ask every document a question") and translation
(source/target languages from the chosen model); rows shown only for their task."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from gui.common.layout import fill_language_combos
from services.core.errors import InputError


class TextTaskInputs:
    def __init__(self, form: QFormLayout, picker):
        self.form = form
        self.question = QLineEdit()
        self.question.setPlaceholderText("the question to ask every record (or every file, one record per file)")
        self.question.setToolTip("Question answering: each record is a context; the rows give the answer, its score "
                                 "and where it was found, best first")
        self.source = QComboBox(editable=True)
        self.target = QComboBox(editable=True)
        for combo in (self.source, self.target):
            combo.setMinimumContentsLength(8)
        self.languages = QWidget()
        row = QHBoxLayout(self.languages)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("from"))
        row.addWidget(self.source, 1)
        row.addWidget(QLabel("to"))
        row.addWidget(self.target, 1)
        form.addRow("Question:", self.question)
        form.addRow("Languages:", self.languages)
        picker.sig_model_changed.connect(self.set_model)
        self.set_model(picker.current_spec())
        self.show_task("")

    def show_task(self, task: str) -> None:
        self.form.setRowVisible(self.question, task == "question-answering")
        self.form.setRowVisible(self.languages, task == "translation")

    def set_model(self, spec: str | None) -> None:
        from services.core.errors import ModelError
        from services.core.model_info import inspect_model

        try:
            info = inspect_model(spec) if spec else None
        except ModelError:
            info = None
        if info is None or "translation" not in info.tasks:
            return
        from services.run.seq2seq import languages_from_files

        languages = languages_from_files(info)
        fill_language_combos(self.source, self.target, languages)

    def options(self, task: str) -> dict:
        """The engine's ``task_options`` for ``task``; a question-answering run without a question is refused."""
        if task == "question-answering":
            if not self.question.text().strip():
                raise InputError("Question answering needs a question.", hint="Type the question to ask every record.")
            return {"question": self.question.text().strip(), "top_k": 3}
        if task == "translation":
            options = {}
            for combo, key in ((self.source, "src_lang"), (self.target, "tgt_lang")):
                if combo.isEnabled() and combo.currentText().strip():
                    options[key] = combo.currentText().strip()
            return options
        return {}
