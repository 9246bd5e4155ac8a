"""Metrics on a hand-checked example, gold-label mapping, and the comparison of two results files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from services.analyse.evaluate import compare_files, evaluate_file, gold_mapper
from services.core.metrics import evaluate


def test_metrics_on_a_hand_checked_example():
    # gold:  a a a b b c ;  predicted: a a b b c c
    gold = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "c", "c"]
    result = evaluate(gold, predicted)
    assert result.labels == ["a", "b", "c"]
    # rows = gold, columns = predicted
    assert result.confusion.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert result.accuracy == pytest.approx(4 / 6)
    per = {item["label"]: item for item in result.per_class}
    # a: precision 2/2, recall 2/3 ; b: precision 1/2, recall 1/2 ; c: precision 1/2, recall 1/1
    assert (per["a"]["precision"], per["a"]["recall"]) == (pytest.approx(1.0), pytest.approx(2 / 3))
    assert (per["b"]["precision"], per["b"]["recall"]) == (pytest.approx(0.5), pytest.approx(0.5))
    assert (per["c"]["precision"], per["c"]["recall"]) == (pytest.approx(0.5), pytest.approx(1.0))
    f1 = [0.8, 0.5, 2 / 3]  # 2PR/(P+R) for a, b, c
    assert result.macro_f1 == pytest.approx(np.mean(f1))
    assert [item["support"] for item in result.per_class] == [3, 2, 1]


def test_a_class_never_predicted_counts_as_zero():
    result = evaluate(["x", "y"], ["x", "x"])
    per = {item["label"]: item for item in result.per_class}
    assert per["y"]["precision"] == 0.0 and per["y"]["recall"] == 0.0 and per["y"]["f1"] == 0.0
    assert result.macro_f1 == pytest.approx((2 * 0.5 * 1 / 1.5 + 0) / 2)


def test_gold_written_as_ids_or_another_case_is_mapped():
    mapped = gold_mapper({0: "negative", 1: "positive"})
    assert [mapped(g) for g in ["1", "0", "POSITIVE", "Negative", "neutral"]] == \
           ["positive", "negative", "positive", "negative", "neutral"]


def write_results(path, rows):
    with open(path, "w") as handle:
        handle.write(json.dumps({"run_key": "k"}) + "\n")
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def test_evaluate_file_and_compare_two_models(tmp_path):
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    base = [{"id": f"f#{i}", "file": "f", "index": i, "line": i + 1, "text": f"t{i}"} for i in range(5)]
    write_results(a, [dict(r, label=l, score=0.9, gold=g) for r, l, g in
                      zip(base, ["pos", "neg", "pos", "pos", "neg"], ["1", "0", "0", None, "0"])])
    write_results(b, [dict(r, labels=[l, "other"], scores=[0.7, 0.3]) for r, l in
                      zip(base[::-1], ["neg", "neg", "pos", "neg", "pos"])])  # zero-shot style, other order
    evaluation = evaluate_file(a, {0: "neg", 1: "pos"})
    assert evaluation.total == 4 and evaluation.without_gold == 1
    assert evaluation.labels == ["neg", "pos"] and evaluation.accuracy == pytest.approx(3 / 4)
    comparison = compare_files(a, b)
    # b reversed: ids 4,3,2,1,0 -> neg,neg,pos,neg,pos ; a: 0 pos,1 neg,2 pos,3 pos,4 neg
    # id: a vs b -> 0 pos/pos, 1 neg/neg, 2 pos/pos, 3 pos/neg, 4 neg/neg: four agree, id 3 differs
    assert comparison.total == 5 and comparison.agree == 4 and comparison.agreement == pytest.approx(0.8)
    assert [(d["id"], d["label_a"], d["label_b"]) for d in comparison.disagreements] == [("f#3", "pos", "neg")]
    assert comparison.disagreements[0]["score_b"] == pytest.approx(0.7)
