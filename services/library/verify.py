"""Verify a saved model: reload it with the Auto classes and compare its outputs on a probe sentence.

The reference is either a model in memory (right after saving it) or the probe record written next
to the weights when the model was saved (``workbench_probe.json``), so a model saved yesterday can
still be verified today from the CLI.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import ModelError
from services.core.model_info import inspect_model
from services.core.tasks import auto_class_for_architecture

PROBE_TEXT = "The quick brown fox jumps over the lazy dog, and the film was a delight."
PROBE_FILE = "workbench_probe.json"
SAMPLE_SIZE = 256
ATOL, RTOL = 1e-4, 1e-3


@dataclass
class VerifyResult:
    passed: bool
    max_abs_diff: float | None  # None when there was nothing to compare with
    compared: int  # number of output values compared
    reference: str  # "memory", "stored" or "none"
    auto_class: str
    message: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


def probe_outputs(model, tokenizer, text: str = PROBE_TEXT) -> tuple[list[int], list[float]]:
    """The output shape and an evenly spaced sample of output values of ``model`` on ``text``."""
    import torch

    was_training = getattr(model, "training", False)
    model.eval()
    try:
        device = next(model.parameters()).device
        inputs = tokenizer(text, return_tensors="pt")
        inputs = {key: value.to(device) for key, value in inputs.items()}
        with torch.no_grad():
            output = model(**inputs)
    finally:
        if was_training:
            model.train()
    tensor = getattr(output, "logits", None)
    if tensor is None:
        tensor = getattr(output, "last_hidden_state", None)
    if tensor is None:
        tensor = output[0]
    flat = tensor.detach().float().cpu().reshape(-1)
    count = flat.numel()
    if count <= SAMPLE_SIZE:
        sample = flat
    else:
        sample = flat[torch.linspace(0, count - 1, SAMPLE_SIZE).round().long()]
    return list(tensor.shape), [float(v) for v in sample]


def probe_record(model, tokenizer) -> dict:
    shape, values = probe_outputs(model, tokenizer)
    return {"probe": PROBE_TEXT, "model_class": type(model).__name__, "shape": shape, "values": values}


def read_probe_record(folder: Path) -> dict | None:
    try:
        record = json.loads((folder / PROBE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("values"), list):
        return None
    return record


def verify_model(spec: str | os.PathLike, reference=None, *, trust_remote_code: bool = False,
                 progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> VerifyResult:
    """Reload ``spec`` from disk and compare it with ``reference`` ((model, tokenizer)) or the stored probe."""
    info = inspect_model(spec)
    if info.remote_code and not trust_remote_code:
        raise ModelError(f"'{info.name}' needs trust_remote_code to load; refused without your consent.")
    if not info.weight_files:
        raise ModelError(f"'{info.name}' has no weights file, so there is nothing to verify.")
    if not info.has_tokenizer:
        raise ModelError(f"'{info.name}' has no tokenizer files, so the probe sentence cannot be encoded.")
    auto_class = auto_class_for_architecture(info.architectures)
    progress(0, 3, "Computing the reference")
    expected = None
    kind = "none"
    if reference is not None:
        ref_model, ref_tokenizer = reference
        expected = probe_record(ref_model, ref_tokenizer)
        kind = "memory"
    else:
        expected = read_probe_record(info.path)
        kind = "stored" if expected else "none"
    cancel.check()
    progress(1, 3, f"Reloading with {auto_class}")
    import transformers

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(info.path), trust_remote_code=trust_remote_code)
        model = getattr(transformers, auto_class).from_pretrained(str(info.path), trust_remote_code=trust_remote_code)
    except Exception as error:  # noqa: BLE001 - transformers raises many types for broken folders
        return VerifyResult(False, None, 0, kind, auto_class, f"FAIL: the folder does not reload: {error}")
    cancel.check()
    progress(2, 3, "Running the probe sentence")
    shape, values = probe_outputs(model, tokenizer, expected["probe"] if expected else PROBE_TEXT)
    progress(3, 3, "Compared")
    if not all(math.isfinite(v) for v in values):
        return VerifyResult(False, None, len(values), kind, auto_class, "FAIL: the reloaded model gives NaN or infinite outputs.")
    if expected is None:
        return VerifyResult(True, None, 0, kind, auto_class,
                            "PASS (load only): the model reloads and gives finite outputs; no reference was stored to compare with.")
    if list(expected.get("shape", [])) != shape or len(expected["values"]) != len(values):
        return VerifyResult(False, None, 0, kind, auto_class,
                            f"FAIL: output shape {shape} differs from the reference {expected.get('shape')}.")
    diff = max((abs(a - b) for a, b in zip(values, expected["values"])), default=0.0)
    scale = max((abs(b) for b in expected["values"]), default=0.0)
    passed = diff <= ATOL + RTOL * scale
    verdict = "PASS" if passed else "FAIL"
    source = "the model in memory" if kind == "memory" else "the outputs recorded when it was saved"
    return VerifyResult(passed, diff, len(values), kind, auto_class,
                        f"{verdict}: largest difference from {source} is {diff:.3g} over {len(values)} outputs.")
