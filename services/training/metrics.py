"""Evaluation metrics written out plainly: accuracy, macro-F1, BIO entity spans and entity-level F1.

Macro-F1 averages the per-class F1 over the classes that occur in the gold labels or the
predictions (as scikit-learn does by default). Entity-level F1 counts an entity as found only when
its type and its exact first and last token match (as the CoNLL ``conlleval`` script does).
"""

from __future__ import annotations


def accuracy(gold: list, predicted: list) -> float:
    if not gold:
        return 0.0
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold)


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def per_class_f1(gold: list, predicted: list) -> dict:
    classes = sorted(set(gold) | set(predicted), key=str)
    scores = {}
    for cls in classes:
        tp = sum(g == cls and p == cls for g, p in zip(gold, predicted))
        fp = sum(g != cls and p == cls for g, p in zip(gold, predicted))
        fn = sum(g == cls and p != cls for g, p in zip(gold, predicted))
        scores[cls] = _f1(tp, fp, fn)[2]
    return scores


def macro_f1(gold: list, predicted: list) -> float:
    scores = per_class_f1(gold, predicted)
    return sum(scores.values()) / len(scores) if scores else 0.0


def classification_metrics(gold: list[int], predicted: list[int]) -> dict[str, float]:
    return {"accuracy": accuracy(gold, predicted), "macro_f1": macro_f1(gold, predicted)}


def confusion_matrix(gold: list[int], predicted: list[int], num_labels: int) -> list[list[int]]:
    """``matrix[g][p]``: how many examples of gold class ``g`` were predicted as ``p``."""
    matrix = [[0] * num_labels for _ in range(num_labels)]
    for g, p in zip(gold, predicted):
        matrix[g][p] += 1
    return matrix


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
    precision, recall, f1 = _f1(tp, fp, fn)
    return {"entity_f1": f1, "entity_precision": precision, "entity_recall": recall,
            "token_accuracy": correct / tokens if tokens else 0.0}


def main_metric(task: str) -> str:
    """The validation metric that picks the best epoch and drives early stopping."""
    return "entity_f1" if task == "token-classification" else "macro_f1"
