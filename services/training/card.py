"""The model card (README.md) written next to a fine-tuned model: where it came from and how good it is."""

from __future__ import annotations

import json

from services.training import TRAIN_TASKS
from services.training.config import HELP, TrainResult

HUB_IDS = {"builtin": "sentence-transformers/all-MiniLM-L6-v2"}  # where the built-in weights come from


def _metric_label(name: str) -> str:
    return {"accuracy": "Accuracy", "macro_f1": "Macro-F1", "entity_f1": "Entity F1",
            "entity_precision": "Entity precision", "entity_recall": "Entity recall",
            "token_accuracy": "Token accuracy", "loss": "Validation loss"}.get(name, name)


def model_card(result: TrainResult, name: str) -> str:
    """Markdown with a small YAML header (base model, task, metrics) that the Hub and the Library can read."""
    hp = result.hyperparameters
    lines = [
        "---",
        "library_name: transformers",
        f"pipeline_tag: {result.task}",
        f"base_model: {json.dumps(HUB_IDS.get(result.base_model, result.base_model_name))}",
        "tags:",
        "- transformers-workbench",
        "- fine-tuned",
        "---",
        "",
        f"# {name}",
        "",
        f"{TRAIN_TASKS[result.task]} model fine-tuned with Transformers Workbench from **{result.base_model_name}**"
        f" on `{result.data_file}`.",
        "",
        "## Training data",
        "",
        f"- File: `{result.data_file}`",
        f"- SHA-256: `{result.data_sha256}`",
        f"- Training examples: {result.train_size}; validation examples: {result.validation_size} "
        f"({result.validation_source})",
        "",
        "| id | label | value in the data | training count |",
        "| --- | --- | --- | --- |",
    ]
    for index, (value, label) in enumerate(zip(result.labels, result.label_names)):
        lines.append(f"| {index} | {label} | {value} | {result.label_counts.get(value, 0)} |")
    lines += ["", "## Hyperparameters", "", "| setting | value |", "| --- | --- |"]
    for key, value in hp.as_dict().items():
        if key == "max_steps" and value < 0:
            continue
        lines.append(f"| {key} | {value} |")
    lines += [f"| effective max_length | {result.max_length} |", f"| device | {result.device} |", ""]
    lines += ["## Results", "", f"Validation metrics of the kept model (best epoch: {result.best_epoch}, "
              f"selected by {_metric_label(result.metric_name)}):", "", "| metric | value |", "| --- | --- |"]
    for key, value in result.metrics.items():
        lines.append(f"| {_metric_label(key)} | {value:.4f} |")
    if result.test_metrics:
        count = int(result.test_metrics.get("examples", 0))
        lines += ["", f"Held-out test set (`{result.test_source}`, {count} examples never seen in training):", "",
                  "| metric | value |", "| --- | --- |"]
        for key, value in result.test_metrics.items():
            if key != "examples":
                lines.append(f"| {_metric_label(key)} | {value:.4f} |")
    if result.history:
        keys = [k for k in result.history[0] if k not in ("epoch", "step")]
        lines += ["", "Per epoch:", "", "| epoch | step | " + " | ".join(_metric_label(k) for k in keys) + " |",
                  "| --- | --- | " + " | ".join("---" for _ in keys) + " |"]
        for entry in result.history:
            lines.append(f"| {entry['epoch']} | {entry['step']} | " +
                         " | ".join(f"{entry.get(k, 0):.4f}" for k in keys) + " |")
    notes = []
    if result.cancelled:
        notes.append("Training was cancelled; the best epoch evaluated so far was kept.")
    if result.stopped_early:
        notes.append("Training stopped early: the validation score stopped improving.")
    if hp.head_only:
        notes.append("Only the classification head was trained (encoder frozen): " + HELP["head_only"])
    elif hp.freeze_embeddings:
        notes.append("The word embeddings were kept fixed; every layer above them was trained.")
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    lines += ["", "## Provenance", "", f"- Date: {result.finished_at}",
              f"- Training time: {result.train_seconds:.1f} s ({result.steps} steps)"]
    for package, version in sorted(result.versions.items()):
        lines.append(f"- {package} {version}")
    return "\n".join(lines) + "\n"
