"""The options row of the Run panel: one small form per task, shown for the chosen task."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QLineEdit, QSpinBox,
                               QStackedWidget, QWidget)

from gui.common.layout import options_row, size_to_current_page

from services.core.tasks import AGGREGATIONS, DEFAULT_AGGREGATION, DEFAULT_LABELS, DEFAULT_TEMPLATE, parse_labels



class TaskOptions(QStackedWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pages: dict[str, QWidget] = {}

        self.class_top_k = QSpinBox()
        self.class_top_k.setRange(0, 1000)
        self.class_top_k.setSpecialValueText("all")
        self.class_top_k.setToolTip("top_k: how many classes to show (all = every class)")
        self._add("text-classification", options_row("Classes shown (top_k):", self.class_top_k))

        self.aggregation = QComboBox()
        self.aggregation.addItems(AGGREGATIONS)
        self.aggregation.setCurrentText(DEFAULT_AGGREGATION)
        self.aggregation.setToolTip("aggregation_strategy: how word pieces are merged into entities\n"
                                    "none = one row per token; simple = merge B-/I- runs; first/average/max = "
                                    "one label per word, from its first piece / averaged scores / best piece")
        self._add("token-classification", options_row("Aggregation:", self.aggregation))

        self.labels = QLineEdit(DEFAULT_LABELS)
        self.labels.setPlaceholderText("candidate labels, separated by commas")
        self.labels.setToolTip("candidate_labels: the classes to choose from, separated by commas")
        self.template = QLineEdit(DEFAULT_TEMPLATE)
        self.template.setToolTip("hypothesis_template: {} is replaced by each label")
        self.template.setMaximumWidth(220)
        self.multi_label = QCheckBox("Multi-label")
        self.multi_label.setToolTip("Score each label on its own instead of choosing one")
        self._add("zero-shot-classification",
                  options_row("Labels:", self.labels, "Template:", self.template, self.multi_label))

        self.mask_top_k = QSpinBox()
        self.mask_top_k.setRange(1, 100)
        self.mask_top_k.setValue(5)
        self.mask_top_k.setToolTip("top_k: how many candidates for the mask")
        self.mask_hint = QLabel()
        self._add("fill-mask", options_row("Candidates (top_k):", self.mask_top_k, self.mask_hint))

        self.similarity_hint = QLabel("Type two sentences to compare them; one sentence shows its embedding.")
        self._add("sentence-similarity", options_row(self.similarity_hint))

        self.max_new_tokens = QSpinBox()
        self.max_new_tokens.setRange(1, 4096)
        self.max_new_tokens.setValue(40)
        self.max_new_tokens.setToolTip("max_new_tokens: how many tokens to add to the prompt")
        self.sample = QCheckBox("Sample")
        self.sample.setChecked(True)
        self.sample.setToolTip("do_sample: draw each token at random (off = always the most likely token)")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.05, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.8)
        self.temperature.setToolTip("temperature: below 1 sharper, above 1 more random")
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(0.95)
        self.top_p.setToolTip("top_p: sample only from the most likely tokens whose probabilities add up to this")
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2_000_000_000)
        self.seed.setValue(-1)
        self.seed.setSpecialValueText("random")
        self.seed.setToolTip("seed: the same seed gives the same text")
        self.sample.toggled.connect(self._sampling_changed)
        self._add("text-generation", options_row("Max new tokens:", self.max_new_tokens, self.sample, "Temperature:",
                                          self.temperature, "Top-p:", self.top_p, "Seed:", self.seed))

        from gui.run.text_task_options import TextTaskPages

        self.text_tasks = TextTaskPages(self)  # question answering, summarisation, translation
        size_to_current_page(self)  # as wide as the chosen task's options, not the widest task's

    def _add(self, task: str, page: QWidget) -> None:
        self.pages[task] = page
        self.addWidget(page)

    def _sampling_changed(self, on: bool) -> None:
        for widget in (self.temperature, self.top_p, self.seed):
            widget.setEnabled(on)

    def show_task(self, task: str) -> None:
        self.setCurrentWidget(self.pages[task])

    def options(self, task: str) -> dict:
        if task == "text-classification":
            return {"top_k": self.class_top_k.value() or None}
        if task == "token-classification":
            return {"aggregation_strategy": self.aggregation.currentText()}
        if task == "zero-shot-classification":
            return {"candidate_labels": parse_labels(self.labels.text()),
                    "hypothesis_template": self.template.text(), "multi_label": self.multi_label.isChecked()}
        if task == "fill-mask":
            return {"top_k": self.mask_top_k.value()}
        if task == "text-generation":
            options = {"max_new_tokens": self.max_new_tokens.value(), "do_sample": self.sample.isChecked()}
            if self.sample.isChecked():
                options.update(temperature=self.temperature.value(), top_p=self.top_p.value())
                if self.seed.value() >= 0:
                    options["seed"] = self.seed.value()
            return options
        if task in self.text_tasks.TASKS:
            return self.text_tasks.options(task)
        return {}
