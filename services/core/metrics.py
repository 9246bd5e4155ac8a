"""The one metrics module: classification metrics from a confusion matrix, and BIO entity metrics.

Used by the Analyse evaluation (gold labels in a file), by training (validation per epoch, the
held-out test file) and by the starter-model reports, so every panel and the CLI report the same
numbers. Plain Python and numpy.

Macro-F1 averages the per-class F1 over the classes given (by default every class that occurs in
the gold labels or the predictions, as scikit-learn does). Entity-level F1 counts an entity as found
only when its type and its exact first and last token match (as CoNLL's ``conlleval`` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Evaluation:
    labels: list
    confusion: np.ndarray  # rows: gold, columns: predicted
    accuracy: float
    macro_f1: float
    per_class: list[dict] = field(default_factory=list)  # label, precision, recall, f1, support
    total: int = 0
    without_gold: int = 0

    def summary(self) -> str:
        lines = [f"accuracy={self.accuracy:.4f} macro_f1={self.macro_f1:.4f} records={self.total}"]
        for item in self.per_class:
            lines.append(f"  {item['label']}: precision={item['precision']:.4f} recall={item['recall']:.4f} "
                         f"f1={item['f1']:.4f} support={item['support']}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"labels": self.labels, "confusion": self.confusion.tolist(), "accuracy": self.accuracy,
                "macro_f1": self.macro_f1, "per_class": self.per_class, "total": self.total,
                "without_gold": self.without_gold}


def _precision_recall_f1(tp: int, predicted: int, actual: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(gold: list, predicted: list, labels: list | None = None) -> Evaluation:
    """Metrics for paired gold / predicted labels. Classes: ``labels`` or every label seen in either."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    labels = list(labels) if labels else sorted(set(gold) | set(predicted), key=str)
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in zip(gold, predicted):
        matrix[index[g], index[p]] += 1
    total = int(matrix.sum())
    per_class, f1s = [], []
    for i, label in enumerate(labels):
        actual = int(matrix[i, :].sum())
        precision, recall, f1 = _precision_recall_f1(int(matrix[i, i]), int(matrix[:, i].sum()), actual)
        f1s.append(f1)
        per_class.append({"label": label, "precision": precision, "recall": recall, "f1": f1, "support": actual})
    return Evaluation(labels, matrix, int(np.trace(matrix)) / total if total else 0.0,
                      float(np.mean(f1s)) if f1s else 0.0, per_class, total)


def accuracy(gold: list, predicted: list) -> float:
    return evaluate(gold, predicted).accuracy if gold else 0.0


def macro_f1(gold: list, predicted: list) -> float:
    return evaluate(gold, predicted).macro_f1 if gold else 0.0


def per_class_f1(gold: list, predicted: list) -> dict:
    return {item["label"]: item["f1"] for item in evaluate(gold, predicted).per_class} if gold else {}


def classification_metrics(gold: list, predicted: list) -> dict[str, float]:
    """``accuracy`` and ``macro_f1`` (the training report's keys)."""
    if not gold:
        return {"accuracy": 0.0, "macro_f1": 0.0}
    result = evaluate(gold, predicted)
    return {"accuracy": result.accuracy, "macro_f1": result.macro_f1}


def confusion_matrix(gold: list[int], predicted: list[int], num_labels: int) -> list[list[int]]:
    """``matrix[g][p]``: how many examples of gold class ``g`` were predicted as ``p`` (class ids 0..n-1)."""
    return evaluate(gold, predicted, list(range(num_labels))).confusion.tolist()


def _split_tag(tag: str) -> tuple[str, str]:
    if tag == "O" or "-" not in tag:
        return "O", ""
    prefix, kind = tag.split("-", 1)
    return prefix, kind


def entity_spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """Entities in a BIO tag sequence as ``(type, first, last)`` (inclusive token indices).

    An entity starts at ``B-X``, or at ``I-X`` that does not continue an ``X`` entity; it runs
    while the following tags are ``I-X`` of the same type.
    """
    spans = []
    kind, start = None, 0
    for index, tag in enumerate(list(tags) + ["O"]):
        prefix, tag_kind = _split_tag(tag)
        continues = prefix == "I" and tag_kind == kind
        if kind is not None and not continues:
            spans.append((kind, start, index - 1))
            kind = None
        if prefix == "B" or (prefix == "I" and not continues):
            kind, start = tag_kind, index
    return spans


def entity_metrics(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """Entity-level precision, recall and F1 (micro over all entities), plus token accuracy."""
    tp = fp = fn = 0
    tokens = correct = 0
    for gold_tags, pred_tags in zip(gold, predicted):
        gold_spans = set(entity_spans(gold_tags))
        pred_spans = set(entity_spans(pred_tags))
        tp += len(gold_spans & pred_spans)
        fp += len(pred_spans - gold_spans)
        fn += len(gold_spans - pred_spans)
        tokens += len(gold_tags)
        correct += sum(g == p for g, p in zip(gold_tags, pred_tags))
    precision, recall, f1 = _precision_recall_f1(tp, tp + fp, tp + fn)
    return {"entity_f1": f1, "entity_precision": precision, "entity_recall": recall,
            "token_accuracy": correct / tokens if tokens else 0.0}


def main_metric(task: str) -> str:
    """The validation metric that picks the best epoch and drives early stopping."""
    return "entity_f1" if task == "token-classification" else "macro_f1"
