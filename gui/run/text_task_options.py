"""Run panel option pages for question answering, summarisation and translation.

``TextTaskPages(task_options)`` adds one page per task to the panel's ``TaskOptions`` stack and gives
their options; ``set_model(spec)`` fills the generation settings with the checkpoint's own (read from
its JSON files, no load) and the language lists with the model's languages.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from gui.common.layout import fill_language_combos, options_row

QA_EXAMPLE_QUESTION = "Who joined Acme Corporation?"


class GenerationBox:
    """Beams, max/min new tokens, length penalty, no-repeat n-gram size; "Model's settings" uses the
    checkpoint's (shown, greyed) and sends nothing, so the run follows the model's own defaults."""

    def __init__(self):
        self.model_settings = QCheckBox("Model's settings")
        self.model_settings.setChecked(True)
        self.model_settings.setToolTip("Use the generation settings the checkpoint ships with (its config and "
                                       "task_specific_params); untick to choose your own")
        self.beams = QSpinBox(minimum=1, maximum=16, value=1)
        self.beams.setToolTip("num_beams: 1 = greedy search (streams as it goes); more = beam search")
        self.max_new = QSpinBox(minimum=1, maximum=4096, value=64)
        self.max_new.setToolTip("max_new_tokens: the longest output")
        self.min_new = QSpinBox(minimum=0, maximum=4096, value=0)
        self.min_new.setToolTip("min_new_tokens: the end-of-text token is blocked until this many tokens")
        self.length_penalty = QDoubleSpinBox(minimum=-10.0, maximum=10.0, singleStep=0.1, value=1.0)
        self.length_penalty.setToolTip("length_penalty (beam search): above 1 favours longer outputs, below 1 shorter")
        self.no_repeat = QSpinBox(minimum=0, maximum=10, value=0)
        self.no_repeat.setToolTip("no_repeat_ngram_size: never repeat an n-gram of this size (0 = off)")
        self.prefix = QLineEdit()
        self.prefix.setPlaceholderText("task prefix (T5: summarize: …)")
        self.prefix.setToolTip("Put before the text; the model's task prefix by default")
        self.prefix.setMaximumWidth(220)
        self.model_settings.toggled.connect(lambda _on: self._enable())
        self._enable()

    def widgets(self) -> list:
        return ["Beams:", self.beams, "Max new:", self.max_new, "Min new:", self.min_new, "Length penalty:",
                self.length_penalty, "No-repeat n-gram:", self.no_repeat, self.model_settings]

    def _enable(self) -> None:
        for widget in (self.beams, self.max_new, self.min_new, self.length_penalty, self.no_repeat, self.prefix):
            widget.setEnabled(not self.model_settings.isChecked())

    def show_defaults(self, defaults: dict) -> None:
        self.beams.setValue(defaults["num_beams"])
        self.max_new.setValue(defaults["max_new_tokens"])
        self.min_new.setValue(defaults["min_new_tokens"])
        self.length_penalty.setValue(defaults["length_penalty"])
        self.no_repeat.setValue(defaults["no_repeat_ngram_size"])
        self.prefix.setText(defaults["prefix"])

    def options(self, *, prefix: bool = True) -> dict:
        """The user's settings (none with "Model's settings"); translation leaves the prefix to the languages."""
        if self.model_settings.isChecked():
            return {}
        options = {"num_beams": self.beams.value(), "max_new_tokens": self.max_new.value(),
                   "min_new_tokens": min(self.min_new.value(), self.max_new.value()),
                   "length_penalty": self.length_penalty.value(), "no_repeat_ngram_size": self.no_repeat.value()}
        if prefix:
            options["prefix"] = self.prefix.text()
        return options


class TextTaskPages:
    TASKS = ("question-answering", "summarization", "translation")

    def __init__(self, stack):
        self.question = QLineEdit(QA_EXAMPLE_QUESTION)
        self.question.setPlaceholderText("the question; the text below is the context the answer is taken from")
        self.question.setToolTip("question: the answer is a span of the context below")
        self.qa_top_k = QSpinBox(minimum=1, maximum=50, value=3)
        self.qa_top_k.setToolTip("top_k: how many answers to list (the best is highlighted)")
        self.max_answer_len = QSpinBox(minimum=1, maximum=512, value=15)
        self.max_answer_len.setToolTip("max_answer_len: the longest answer, in tokens")
        self.no_answer = QCheckBox("Allow no answer")
        self.no_answer.setToolTip("SQuAD 2.0 models (e.g. deepset/roberta-base-squad2) can say the context holds no "
                                  "answer: the CLS token's start × end score competes with the spans")
        stack._add("question-answering", options_row("Question:", self.question, "Answers:", self.qa_top_k,
                                              "Max tokens:", self.max_answer_len, self.no_answer))

        self.summary = GenerationBox()
        stack._add("summarization", options_row(*self.summary.widgets(), self.summary.prefix))

        self.source = QComboBox(editable=True)
        self.target = QComboBox(editable=True)
        for combo, what in ((self.source, "source"), (self.target, "target")):
            combo.setMinimumContentsLength(8)
            combo.setToolTip(f"The {what} language (Marian pairs come from the model's name; NLLB/mBART codes "
                             "such as fra_Latn / fr_XX from its tokenizer; T5 from its task prefixes)")
        self.translation = GenerationBox()
        stack._add("translation", options_row("From:", self.source, "To:", self.target, *self.translation.widgets()))
        self.spec: str | None = None

    # -- the model's defaults and languages --------------------------------------------------------
    def set_model(self, spec: str | None) -> None:
        from services.core.errors import ModelError
        from services.core.model_info import inspect_model
        from services.core.tasks import SEQ2SEQ_TASKS

        self.spec = spec
        try:
            info = inspect_model(spec) if spec else None
        except ModelError:
            info = None
        if info is None or not set(SEQ2SEQ_TASKS) & set(info.tasks):
            return
        from services.run.seq2seq import generation_defaults, languages_from_files

        languages = languages_from_files(info)
        self.summary.show_defaults(generation_defaults(info, "summarization", languages=languages))
        self.translation.show_defaults(generation_defaults(info, "translation", languages=languages))
        fill_language_combos(self.source, self.target, languages)

    def options(self, task: str) -> dict:
        if task == "question-answering":
            return {"question": self.question.text(), "top_k": self.qa_top_k.value(),
                    "max_answer_len": self.max_answer_len.value(), "allow_no_answer": self.no_answer.isChecked()}
        if task == "summarization":
            return self.summary.options()
        options = self.translation.options(prefix=False)
        if self.source.isEnabled() and self.source.currentText().strip():
            options["src_lang"] = self.source.currentText().strip()
        if self.target.isEnabled() and self.target.currentText().strip():
            options["tgt_lang"] = self.target.currentText().strip()
        return options
