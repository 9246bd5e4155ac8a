"""Measure a trained model on a held-out test file it never saw during training."""

from __future__ import annotations

from pathlib import Path

from services.core.cancel import NEVER_CANCELLED, CancelToken
from services.core.errors import InputError
from services.training import TEXT_CLASSIFICATION
from services.training.config import TrainResult
from services.training.data import load_examples
from services.core.metrics import classification_metrics, entity_metrics


def measure_on_file(result: TrainResult, path: str | Path, text_column: str | None = None,
                    label_column: str | None = None, cancel: CancelToken = NEVER_CANCELLED) -> dict[str, float]:
    """Metrics of ``result.model`` on ``path``; also stored in ``result.test_metrics`` (for the model card)."""
    from services.training.encode import predict_texts, predict_words

    examples, _text, _label = load_examples(path, result.task, text_column or None, label_column or None)
    if not len(examples):
        raise InputError(f"The test file '{Path(path).name}' has no usable examples.")
    unseen = sorted(set(examples.label_counts()) - set(result.labels))
    if unseen:
        raise InputError(f"The test file has labels the model was not trained on: {', '.join(unseen)}.")
    index = {value: i for i, value in enumerate(result.labels)}
    if result.task == TEXT_CLASSIFICATION:
        predicted, _probs = predict_texts(result.model, result.tokenizer, examples.inputs, result.max_length, cancel=cancel)
        metrics = classification_metrics([index[v] for v in examples.targets], predicted)
    else:
        predicted = predict_words(result.model, result.tokenizer, examples.inputs, result.max_length,
                                  outside_id=index["O"], cancel=cancel)
        metrics = entity_metrics(examples.targets, [[result.labels[i] for i in row] for row in predicted])
    metrics["examples"] = float(len(examples))
    result.test_metrics, result.test_source = metrics, Path(path).name
    return metrics
