"""The base-model picker of the Train panel: every model that can be fine-tuned (encoders), built-in first."""

from __future__ import annotations

from gui.context import ModelChoice
from gui.common.model_picker import ModelPicker

FINE_TUNABLE_TASKS = {"sentence-similarity", "text-classification", "token-classification"}


class BaseModelPicker(ModelPicker):
    def __init__(self, context, parent=None):
        super().__init__(context, parent)
        self.combo.setToolTip("The pre-trained model to start from. Its encoder is kept; a new head is trained "
                              "for your labels. The built-in all-MiniLM-L6-v2 works offline.")

    def choices(self) -> list[ModelChoice]:
        return [choice for choice in self.context.model_choices()
                if choice.info is not None and FINE_TUNABLE_TASKS & set(choice.info.tasks)]
