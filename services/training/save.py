"""Keep a training result: save model, tokenizer and model card into the library (atomically)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from services.library import folder as library
from services.core.errors import InputError
from services.training.card import model_card
from services.training.config import TrainResult


def check_name_available(name: str, root: str | os.PathLike | None = None) -> str:
    """The cleaned name, or a clear :class:`InputError` if it is invalid or already taken (checked before training)."""
    name = library.check_model_name(name)
    if (library.library_dir(root) / name).exists():
        raise InputError(f"A model named '{name}' already exists in the library.", hint="Choose another name.")
    return name


def unique_name(base: str, root: str | os.PathLike | None = None) -> str:
    """``base``, or ``base-2``, ``base-3`` … whichever is free in the library."""
    folder = library.library_dir(root)
    name, number = base, 1
    while (folder / name).exists():
        number += 1
        name = f"{base}-{number}"
    return name


def save_result(result: TrainResult, name: str, root: str | os.PathLike | None = None, overwrite: bool = False) -> Path:
    """Save the kept model with README.md (model card) and training.json; returns the folder."""
    card = model_card(result, library.check_model_name(name))
    summary = result.summary()
    summary["data_file"], summary["data_sha256"] = result.data_file, result.data_sha256
    summary["hyperparameters"] = result.hyperparameters.as_dict()
    summary.pop("saved_to", None)
    try:
        path = library.save_model_atomic(result.model, result.tokenizer, name, root=root,
                                         extra_files={"README.md": card, "training.json": json.dumps(summary, indent=2)},
                                         overwrite=overwrite)
    except FileExistsError:
        raise InputError(f"A model named '{name}' already exists in the library.", hint="Choose another name.") from None
    result.saved_path = str(path)
    return path
