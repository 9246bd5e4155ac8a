"""The base-model picker of the Train panel: every model that can be fine-tuned (encoders), built-in first."""

from __future__ import annotations

from gui.common.model_picker import ModelPicker
from services.library.scan import ModelEntry

FINE_TUNABLE_TASKS = {"sentence-similarity", "text-classification", "token-classification"}


class BaseModelPicker(ModelPicker):
    TOOLTIP = ("The pre-trained model to start from. Its encoder is kept; a new head is trained "
               "for your labels. The built-in all-MiniLM-L6-v2 works offline.")

    def accepts(self, entry: ModelEntry) -> bool:
        return entry.readable and bool(FINE_TUNABLE_TASKS & set(entry.tasks))
