"""Training settings (hyperparameters) with defaults and one-line explanations, and the run's results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


# Small files need more passes: a run is planned for at least this many optimizer steps (more epochs,
# up to MAX_PLANNED_EPOCHS), and early stopping ends it sooner once validation stops improving. With
# 3 epochs of 300 NER sentences (57 steps) the built-in model still predicted almost only "O".
MIN_STEPS = 300
MAX_PLANNED_EPOCHS = 30
# The default learning rate suits small encoders such as the built-in MiniLM (22M parameters); above
# LARGE_MODEL_PARAMETERS a kept default is lowered to LARGE_MODEL_LEARNING_RATE (and the run says so).
LARGE_MODEL_PARAMETERS = 60_000_000
LARGE_MODEL_LEARNING_RATE = 3e-5
# One label per text is read from the first token through the pooler, and that head is the less stable one:
# at 1e-4 (batch 32) the built-in model's sentiment runs on the starter data fell to chance (every text one
# class) in 4 of 17 runs, 3 of the 7 on the larger data set; none of the 7 runs at 7e-5 or 5e-5 did. Tags per
# word (NER) learn well at 1e-4. A task not listed here uses Hyperparameters.learning_rate.
TASK_LEARNING_RATES = {"text-classification": 5e-5}


@dataclass
class Hyperparameters:
    epochs: int = 3
    learning_rate: float = 1e-4
    batch_size: int = 16
    max_length: int = 128
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42
    head_only: bool = False
    freeze_embeddings: bool = False  # keep the pre-trained word (and position) embeddings fixed
    patience: int = 2  # early stopping: stop after this many evaluations without improvement (0 = never)
    max_steps: int = -1  # stop after this many optimizer steps (-1 = run all epochs); for benchmarks
    min_steps: int = MIN_STEPS  # plan at least this many optimizer steps on small files (0 = exactly `epochs`)
    precision: str = "float32"  # mixed precision: "bfloat16" (CPUs with AMX/AVX512-BF16, GPUs) or "float16" (GPUs)

    def planned_epochs(self, train_examples: int) -> int:
        """``epochs``, raised for small files so that the run makes at least ``min_steps`` updates."""
        if self.min_steps <= 0 or self.max_steps > 0 or train_examples <= 0:
            return self.epochs
        steps_per_epoch = -(-train_examples // self.batch_size)
        needed = -(-self.min_steps // steps_per_epoch)
        return max(self.epochs, min(MAX_PLANNED_EPOCHS, needed))

    @classmethod
    def defaults_for(cls, task: str) -> "Hyperparameters":
        """The default settings for ``task`` (its default learning rate; everything else the same)."""
        return cls(learning_rate=default_learning_rate(task))

    def for_model(self, parameters: int) -> tuple["Hyperparameters", str]:
        """These settings adjusted to the base model's size, and a note saying what changed ('' if nothing)."""
        if parameters > LARGE_MODEL_PARAMETERS and is_default_learning_rate(self.learning_rate) \
                and self.learning_rate > LARGE_MODEL_LEARNING_RATE and not self.head_only:
            return replace(self, learning_rate=LARGE_MODEL_LEARNING_RATE), (
                f"The base model has {parameters / 1e6:.0f}M parameters: the default learning rate "
                f"{self.learning_rate:g} was lowered to {LARGE_MODEL_LEARNING_RATE:g}, which suits models of that size.")
        return self, ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check(self) -> None:
        from services.core.errors import InputError

        problems = []
        if self.epochs < 1:
            problems.append("epochs must be at least 1")
        if not 0 < self.learning_rate < 1:
            problems.append("the learning rate must be between 0 and 1 (typical: 2e-5 to 1e-4)")
        if self.batch_size < 1:
            problems.append("the batch size must be at least 1")
        if self.max_length < 8:
            problems.append("the maximum length must be at least 8 tokens")
        if not 0 <= self.warmup_ratio < 1:
            problems.append("the warm-up share must be between 0 and 1")
        if self.weight_decay < 0:
            problems.append("weight decay cannot be negative")
        if self.patience < 0:
            problems.append("early-stopping patience cannot be negative")
        if self.precision not in ("float32", "bfloat16", "float16"):
            problems.append(f"the precision must be float32, bfloat16 or float16 (not {self.precision!r})")
        if problems:
            raise InputError("Invalid training settings: " + "; ".join(problems) + ".")


def default_learning_rate(task: str) -> float:
    return TASK_LEARNING_RATES.get(task, Hyperparameters.learning_rate)


def is_default_learning_rate(value: float) -> bool:
    """Whether ``value`` is one of the tasks' default learning rates (a setting the user kept)."""
    return value in {Hyperparameters.learning_rate, *TASK_LEARNING_RATES.values()}


HELP = {
    "epochs": "Passes over the training data (at least; a small file gets more passes so that the model makes "
              f"at least {MIN_STEPS} updates). Early stopping ends sooner when the validation score stops improving.",
    "learning_rate": "How big each update step is. Default: 5e-5 for text classification (at 1e-4 its one-label "
                     "head can fall to predicting one class), 1e-4 for token classification; a kept default is "
                     f"lowered to {LARGE_MODEL_LEARNING_RATE:g} for models over {LARGE_MODEL_PARAMETERS // 1_000_000}M "
                     "parameters. Head only: about 1e-3.",
    "batch_size": "Examples per update step. Larger is faster per example but needs more memory.",
    "max_length": "Longer texts are cut to this many tokens. Shorter is faster and uses less memory.",
    "warmup_ratio": "Share of the steps during which the learning rate rises from 0, which steadies the start.",
    "weight_decay": "A small pull of the weights towards zero that reduces over-fitting.",
    "seed": "Fixes the random choices (head initialisation, shuffling): the same seed gives the same result.",
    "head_only": "Train only the new classification head and keep the pre-trained encoder frozen: much faster, "
                 "usually less accurate than full fine-tuning.",
    "freeze_embeddings": "Keep the pre-trained word embeddings fixed and train every layer above them, so words "
                         "your file never had keep vectors that fit the rest of the model. On the starter data it "
                         "made no measurable difference (sentiment, seeds 1 and 2: 0.856 and 0.866 held-out "
                         "accuracy fixed, 0.859 and 0.867 trained); the starter models use it.",
    "min_steps": "Small files get more epochs until the model has made at least this many updates (weight "
                 "changes): a few dozen updates leave a model that predicts one class. Early stopping still ends "
                 "the run when validation stops improving. Off: exactly the epochs above.",
    "patience": "Early stopping: stop after this many epochs without a better validation score (0 = never stop early).",
    "precision": "Mixed precision: the weights stay float32, the forward and backward passes run in bfloat16 "
                 "(CPUs with AMX or AVX512-BF16, most GPUs) or float16 (GPUs). Faster where the hardware computes "
                 "in it natively; compare the final validation score with a float32 run before relying on it. "
                 "Elsewhere it trains in float32 and says so.",
    "validation": "Examples held back from training to measure the model after each epoch and to pick the best epoch.",
}


@dataclass
class TrainResult:
    """Everything a finished (or cancelled) run produced; ``model`` holds the kept (best) weights."""

    task: str
    base_model: str  # what the user chose ("builtin" or a folder)
    base_model_name: str
    model: Any
    tokenizer: Any
    labels: list[str]
    label_names: list[str]
    hyperparameters: Hyperparameters
    data_file: str
    data_sha256: str
    label_counts: dict[str, int]
    train_size: int
    validation_size: int
    validation_source: str
    max_length: int
    device: str
    metrics: dict[str, float]  # of the kept model on the validation data
    metric_name: str
    history: list[dict] = field(default_factory=list)  # one dict per evaluation (epoch, step, metrics)
    losses: list[tuple[int, float]] = field(default_factory=list)  # (step, training loss)
    confusion: list[list[int]] = field(default_factory=list)  # confusion[gold][predicted]
    confusion_labels: list[str] = field(default_factory=list)
    wrong: list[dict] = field(default_factory=list)  # validation examples it got wrong
    validation_predictions: list = field(default_factory=list)
    best_epoch: float | None = None
    epochs_run: float = 0.0
    steps: int = 0
    cancelled: bool = False
    stopped_early: bool = False
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    wall_seconds: float = 0.0  # the whole run: loading, tokenizing, training, evaluating
    train_samples: int = 0  # examples seen during training (steps × batch, last batch exact)
    test_metrics: dict[str, float] = field(default_factory=dict)  # on a held-out test file, if measured
    test_source: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    finished_at: str = ""
    saved_path: str = ""
    warnings: list[str] = field(default_factory=list)  # what the user should know about this run's result

    @property
    def samples_per_second(self) -> float:
        return self.train_samples / self.train_seconds if self.train_seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (what the CLI prints)."""
        return {
            "task": self.task, "base_model": self.base_model_name, "labels": self.label_names,
            "train_examples": self.train_size, "validation_examples": self.validation_size,
            "validation": self.validation_source, "metrics": {k: round(v, 4) for k, v in self.metrics.items()},
            "best_epoch": self.best_epoch, "epochs_run": round(self.epochs_run, 2), "steps": self.steps,
            "cancelled": self.cancelled, "stopped_early": self.stopped_early,
            "train_seconds": round(self.train_seconds, 2), "wall_seconds": round(self.wall_seconds, 1), "samples_per_second": round(self.samples_per_second, 1),
            "history": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in h.items()} for h in self.history],
            "test": self.test_source or None, "test_metrics": {k: round(v, 4) for k, v in self.test_metrics.items()},
            "saved_to": self.saved_path, "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class TrainingSnapshot:
    """The state of a run, sent as the progress payload (each one replaces the previous one)."""

    phase: str  # "loading", "tokenizing", "training", "evaluating", "finishing", "finished", "cancelled"
    step: int = 0
    total_steps: int = 0
    epoch: float = 0.0
    epochs: int = 0
    losses: tuple = ()
    evals: tuple = ()
    metric_name: str = ""
    elapsed_s: float = 0.0
    eta_s: float | None = None
    result: TrainResult | None = None
