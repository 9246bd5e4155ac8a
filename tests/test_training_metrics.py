"""Metrics computed by hand on small examples: accuracy, macro-F1, confusion matrix, BIO spans, entity F1."""

from __future__ import annotations

import pytest

from services.core.metrics import (
    accuracy, classification_metrics, confusion_matrix, entity_metrics, entity_spans, macro_f1, main_metric,
)


def test_accuracy_macro_f1_and_confusion_by_hand():
    gold = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 2, 2]
    # class 0: tp 2, fp 0, fn 1 -> P 1, R 2/3, F1 0.8
    # class 1: tp 1, fp 1, fn 1 -> P 1/2, R 1/2, F1 0.5
    # class 2: tp 1, fp 1, fn 0 -> P 1/2, R 1, F1 2/3
    assert accuracy(gold, pred) == pytest.approx(4 / 6)
    assert macro_f1(gold, pred) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert confusion_matrix(gold, pred, 3) == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    metrics = classification_metrics(gold, pred)
    assert metrics == {"accuracy": pytest.approx(4 / 6), "macro_f1": pytest.approx(0.6555555)}


def test_macro_f1_counts_a_never_predicted_class_as_zero():
    # Always "0": class 0 F1 = 2*(0.5*1)/(1.5) = 2/3, class 1 F1 = 0 -> macro 1/3 (accuracy hides it)
    assert macro_f1([0, 0, 1, 1], [0, 0, 0, 0]) == pytest.approx(1 / 3)
    assert accuracy([], []) == 0.0


def test_entity_spans_bio_rules():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "I-ORG", "O", "I-MISC", "I-MISC"]
    assert entity_spans(tags) == [("PER", 0, 1), ("LOC", 3, 3), ("LOC", 4, 5), ("ORG", 6, 6), ("MISC", 8, 9)]
    assert entity_spans(["O", "O"]) == []
    assert entity_spans(["B-PER"]) == [("PER", 0, 0)]
    assert entity_spans(["B-PER", "I-LOC"]) == [("PER", 0, 0), ("LOC", 1, 1)]  # a type change starts a new entity


def test_entity_f1_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-ORG", "O"], ["B-LOC", "O", "B-MISC"]]
    pred = [["B-PER", "O", "O", "B-ORG", "O"], ["B-LOC", "O", "B-PER"]]
    # gold entities: PER(0,1) ORG(3,3) LOC(0,0) MISC(2,2) = 4; predicted: PER(0,0) ORG(3,3) LOC(0,0) PER(2,2) = 4
    # exact matches: ORG, LOC -> tp 2, fp 2, fn 2 -> P = R = F1 = 0.5; token accuracy 6/8
    metrics = entity_metrics(gold, pred)
    assert metrics["entity_precision"] == pytest.approx(0.5)
    assert metrics["entity_recall"] == pytest.approx(0.5)
    assert metrics["entity_f1"] == pytest.approx(0.5)
    assert metrics["token_accuracy"] == pytest.approx(6 / 8)
    assert entity_metrics(gold, gold)["entity_f1"] == 1.0
    assert entity_metrics([["O"]], [["O"]])["entity_f1"] == 0.0


def test_main_metric():
    assert main_metric("text-classification") == "macro_f1"
    assert main_metric("token-classification") == "entity_f1"
