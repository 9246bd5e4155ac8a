"""Helpers shared by the task runners: input checks, the batch engine for typed texts, batching, OOM handling.

torch is imported inside functions only (this module is imported by the GUI at start-up).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from services.core.devices import is_out_of_memory, out_of_memory_error
from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError

BATCH_SIZE = 32


def check_texts(texts: list[str]) -> list[str]:
    """Refuse an empty list, non-strings and empty (or whitespace-only) texts, naming which one."""
    if isinstance(texts, str):
        texts = [texts]
    if not texts:
        raise InputError("There is no text to run the model on.", hint="Type or pass at least one text.")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"Input {index + 1} is not text ({type(text).__name__}).")
        if not text.strip():
            where = "The text" if len(texts) == 1 else f"Text {index + 1}"
            raise InputError(f"{where} is empty.", hint="Type something for the model to read.")
    return list(texts)


def int_option(options: dict, name: str, default: int | None, *, minimum: int = 1) -> int | None:
    value = options.get(name, default)
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(f"Option {name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise InputError(f"Option {name} must be at least {minimum} (got {number}).")
    return number


def float_option(options: dict, name: str, default: float, *, low: float, high: float) -> float:
    value = options.get(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"Option {name} must be a number, not {value!r}.") from None
    if not low <= number <= high:
        raise InputError(f"Option {name} must be between {low} and {high} (got {number}).")
    return number


def token_count(tokenizer, text: str) -> int:
    """How many tokens ``text`` becomes, special tokens included, without truncation."""
    return len(tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])


def batches(items: list, size: int = BATCH_SIZE) -> Iterator[tuple[int, list]]:
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


def encode(loaded, texts: list[str], max_length: int | None = None):
    """Tokenise a batch (padded, truncated to the model's limit) and move it to the model's device.

    Returns ``(batch, truncated)`` where ``truncated[i]`` says whether text ``i`` was cut.
    """
    limit = max_length or loaded.max_length
    lengths = loaded.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
    truncated = [len(ids) > limit for ids in lengths]
    batch = loaded.tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
    return batch.to(loaded.device), truncated


@contextlib.contextmanager
def device_errors(device: str, action: str = "run the model"):
    """Turn an out-of-memory error from torch into a clear :class:`DeviceError` (offering the CPU)."""
    try:
        yield
    except Exception as error:
        if is_out_of_memory(error):
            raise out_of_memory_error(device, action) from error
        raise


def forward(loaded, batch) -> Any:
    import torch

    with device_errors(loaded.device), torch.inference_mode():
        return loaded.model(**batch)


def through_engine(loaded, texts: list[str], *, progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED,
                   message: str = "Running", **options) -> list[dict]:
    """Typed texts through the batch engine (``services.core.engine``), the one inference path that Analyse
    also uses: results in input order, full precision, torch's thread count left as the caller set it."""
    from services.core.engine import Engine, EngineOptions

    engine = Engine(loaded, EngineOptions(threads=-1, embedding_decimals=None, **options))
    return engine.predict_texts(texts, cancel, progress=lambda done: progress(done, len(texts), message))
