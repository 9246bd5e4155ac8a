"""Load a model folder for a task, with clear errors; keep a small cache of loaded models.

torch and transformers are imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.devices import check_device, is_out_of_memory, out_of_memory_error, torch_dtype
from services.core.errors import ModelError
from services.core import tasks
from services.core.model_info import ModelInfo, inspect_model, pooling_of
from services.core.tasks import TASKS

log = logging.getLogger("workbench.models")

@dataclass
class LoadedModel:
    info: ModelInfo
    task: str
    model: Any  # a torch.nn.Module in eval mode
    tokenizer: Any
    device: str
    dtype: str  # the precision it runs at: float32, bfloat16, float16 or int8 (services.core.precision)
    auto_class: str
    check: Any = None  # the PrecisionCheck that chose ``dtype`` (services.core.precision.prepare), if any

    @property
    def max_length(self) -> int:
        """The longest input the model takes (the tokenizer's limit, capped by the position table)."""
        limit = getattr(self.tokenizer, "model_max_length", None) or 512
        if self.info.max_length:
            limit = min(limit, self.info.max_length)
        return int(min(limit, 1_000_000))


def embedding_limit(loaded: LoadedModel) -> int:
    """The longest input for sentence embeddings: the model's limit, capped by sentence-transformers' own."""
    _mode, limit = pooling_of(loaded.info.path)
    return min(loaded.max_length, limit) if limit else loaded.max_length


def auto_class_for(info: ModelInfo, task: str) -> str:
    return tasks.auto_class_for(task, info.is_nli)


def validate_for_task(info: ModelInfo, task: str, *, trust_remote_code: bool = False) -> None:
    """Raise :class:`ModelError` if ``info`` cannot be loaded for ``task``."""
    if task not in TASKS:
        raise ModelError(f"Unknown task '{task}'.", hint=f"Tasks: {', '.join(TASKS)}.")
    if info.remote_code and not trust_remote_code:
        raise ModelError(
            f"'{info.name}' needs trust_remote_code: its config points at Python code shipped with the model "
            "(auto_map), which would run on this machine with your permissions.",
            hint="Refused. Only enable it for a model whose code you have read and trust.",
        )
    if not info.weight_files:
        raise ModelError(f"'{info.name}' has no weights file (model.safetensors or pytorch_model.bin).")
    if not info.has_tokenizer:
        raise ModelError(
            f"'{info.name}' has no tokenizer (no tokenizer.json, vocab.txt or sentencepiece model).",
            hint="Save the tokenizer next to the model with tokenizer.save_pretrained(folder).",
        )
    # checked after the file checks: importing transformers' config mapping imports torch (seconds)
    from transformers import CONFIG_MAPPING

    if info.model_type not in CONFIG_MAPPING:
        raise ModelError(
            f"'{info.name}' has an unknown architecture (model_type '{info.model_type or '?'}').",
            hint="This version of transformers cannot build it.",
        )
    if task not in info.tasks:
        can_do = ", ".join(TASKS[t] for t in info.tasks) or "nothing this app runs"
        raise ModelError(f"'{info.display_name}' cannot do {TASKS[task].lower()}.", hint=f"It can do: {can_do}.")


def load_model(
    spec: str | os.PathLike,
    task: str,
    *,
    device: str = "cpu",
    dtype: str = "float32",
    trust_remote_code: bool = False,
    progress: Progress = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> LoadedModel:
    """Load tokenizer and model from ``spec`` for ``task`` on ``device``; raise clear errors."""
    info = inspect_model(spec)
    progress(0, 3, f"Checking {info.display_name}")
    validate_for_task(info, task, trust_remote_code=trust_remote_code)
    check_device(device, dtype)
    cancel.check()
    progress(1, 3, "Loading tokenizer")
    import transformers

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(info.path), trust_remote_code=trust_remote_code)
    except Exception as error:  # transformers raises many types for broken tokenizer files
        raise ModelError(f"The tokenizer of '{info.name}' could not be loaded: {error}") from error
    cancel.check()
    auto_class = auto_class_for(info, task)
    progress(2, 3, f"Loading weights ({auto_class})")
    try:
        model = getattr(transformers, auto_class).from_pretrained(
            str(info.path), dtype=torch_dtype(dtype), trust_remote_code=trust_remote_code
        )
    except Exception as error:
        raise ModelError(f"The weights of '{info.name}' could not be loaded: {error}") from error
    cancel.check()
    try:
        model.to(device)
    except Exception as error:
        if is_out_of_memory(error):
            raise out_of_memory_error(device, "load the model") from error
        raise
    model.eval()
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # GPT-2 style models have no pad token
    progress(3, 3, "Loaded")
    log.info("Loaded %s for %s on %s (%s)", info.display_name, task, device, dtype)
    return LoadedModel(info, task, model, tokenizer, device, dtype, auto_class)


class ModelHost:
    """Keeps the last few loaded models so repeated runs do not reload them.

    One host per process; the GUI only touches it from its single model-worker thread, the lock
    only guards against misuse.
    """

    def __init__(self, capacity: int = 3):
        self.capacity = capacity
        self._cache: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(info: ModelInfo, task: str, device: str, dtype: str) -> tuple:
        return (str(info.path.resolve()), auto_class_for(info, task) if task in TASKS else task, device, dtype)

    def holds(self, spec, task: str, *, device: str = "cpu", dtype: str = "float32") -> bool:
        """Whether :meth:`get` would return a model already loaded (reads config.json only, no torch)."""
        try:
            key = self._key(inspect_model(spec), task, device, dtype)
        except ModelError:
            return False
        with self._lock:
            return key in self._cache

    def get(self, spec, task: str, *, device: str = "cpu", dtype: str = "float32", trust_remote_code: bool = False,
            progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> LoadedModel:
        info = inspect_model(spec)
        key = self._key(info, task, device, dtype)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                if cached.task != task:
                    validate_for_task(info, task, trust_remote_code=trust_remote_code)
                    cached = LoadedModel(info, task, cached.model, cached.tokenizer, device, dtype, cached.auto_class)
                return cached
        loaded = load_model(spec, task, device=device, dtype=dtype, trust_remote_code=trust_remote_code,
                            progress=progress, cancel=cancel)
        with self._lock:
            self._cache[key] = loaded
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return loaded

    def forget(self, path: str | os.PathLike | None = None) -> None:
        """Drop cached models (all, or those loaded from ``path``), e.g. before deleting a folder."""
        with self._lock:
            for key in list(self._cache):
                if path is None or key[0] == str(os.path.realpath(path)):
                    del self._cache[key]

    def loaded_paths(self) -> set[str]:
        with self._lock:
            return {key[0] for key in self._cache}

    def loaded_models(self) -> list[LoadedModel]:
        """The models held now, least recently used first (e.g. for "save a loaded model")."""
        with self._lock:
            return list(self._cache.values())


default_host = ModelHost()
