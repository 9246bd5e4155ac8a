"""The starter models: the built-in encoder fine-tuned on the project's own starter data sets.

One call (``train_starter``) trains on ``resources/starter/<kind>_train.*``, measures on the
held-out ``<kind>_test.*`` (written separately from the training file) and saves the model to the
library: ``starter-sentiment`` (text classification) or ``starter-ner`` (token classification).
They are for learning and trying the app; real work wants a model trained on your own data or one
from the Hub. On a quiet 2-core CPU the sentiment starter takes about 15 minutes, the NER one 2.5.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.core.model_info import BUILTIN
from services.training import TEXT_CLASSIFICATION, TOKEN_CLASSIFICATION
from services.training.config import Hyperparameters, TrainResult


@dataclass(frozen=True)
class Starter:
    task: str
    name: str  # the default library name
    title: str  # what the button and the job say
    train_file: str
    test_file: str
    hyperparameters: Hyperparameters
    validation_fraction: float = 0.1


STARTERS = {
    # 10,162 texts (9,146 to train on), word embeddings fixed: 3 epochs at 7e-5, batch 32, max length 128 (no long
    # review loses its verdict) reached 0.894 held-out accuracy. Single runs: 2 epochs at 7e-5 (max length 64)
    # 0.870; at 1e-4 runs often fell to one class in the first epoch (see config.TASK_LEARNING_RATES).
    TEXT_CLASSIFICATION: Starter(TEXT_CLASSIFICATION, "starter-sentiment", "starter sentiment model",
                                 "sentiment_train.csv", "sentiment_test.csv",
                                 Hyperparameters(epochs=3, learning_rate=7e-5, batch_size=32, max_length=128,
                                                 warmup_ratio=0.1, weight_decay=0.01, seed=42, patience=2, min_steps=0,
                                                 freeze_embeddings=True)),
    # 1,600 sentences: the defaults of the Train panel (lr 1e-4, at least 300 updates, early stopping), word
    # embeddings fixed (0.815 held-out entity F1; 0.817 with them trained).
    TOKEN_CLASSIFICATION: Starter(TOKEN_CLASSIFICATION, "starter-ner", "starter NER model",
                                  "ner_train.conll", "ner_test.conll",
                                  Hyperparameters(epochs=3, learning_rate=1e-4, batch_size=16, max_length=96,
                                                  warmup_ratio=0.1, weight_decay=0.01, seed=42, patience=2,
                                                  freeze_embeddings=True)),
}


def starter_for(task: str) -> Starter:
    if task not in STARTERS:
        raise InputError(f"There is no starter model for '{task}'.", hint=f"Starter tasks: {', '.join(STARTERS)}.")
    return STARTERS[task]


def starter_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "starter"


def starter_files(task: str = TEXT_CLASSIFICATION) -> tuple[Path, Path]:
    """The starter training and held-out test files; a clear error if the app was installed without them."""
    starter = starter_for(task)
    folder = starter_dir()
    train, test = folder / starter.train_file, folder / starter.test_file
    missing = [p.name for p in (train, test) if not p.is_file()]
    if missing:
        raise InputError(f"The starter data set is missing ({', '.join(missing)} in {folder}).",
                         hint="Reinstall the app, or train on your own file with the Train panel.")
    return train, test


def train_starter(name: str | None = None, root: str | os.PathLike | None = None, device: str = "cpu",
                  save: bool = True, task: str = TEXT_CLASSIFICATION, progress: Progress = no_progress,
                  cancel: CancelToken = NEVER_CANCELLED) -> TrainResult:
    """Fine-tune the built-in model on a starter set, test it on the held-out split, save it.

    With ``name`` None the model is saved under the starter's name (``-2``, ``-3`` … if taken); a
    given name that is taken is an error, reported before training starts. A cancelled run is not
    saved (the caller decides whether to keep it).
    """
    from services.training.data import prepare_data
    from services.training.heldout import measure_on_file
    from services.training.save import check_name_available, save_result, unique_name
    from services.training.trainer import train_model

    starter = starter_for(task)
    started = time.perf_counter()
    train_file, test_file = starter_files(task)
    name = check_name_available(name, root) if name else unique_name(starter.name, root)
    data = prepare_data(train_file, task, validation_fraction=starter.validation_fraction,
                        seed=starter.hyperparameters.seed)
    result = train_model(data, BUILTIN, starter.hyperparameters, device=device, progress=progress, cancel=cancel)
    if result.cancelled:
        return result
    measure_on_file(result, test_file, cancel=cancel)
    if save:
        save_result(result, name, root)
    result.wall_seconds = time.perf_counter() - started
    return result
