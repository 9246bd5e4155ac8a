"""The task table: which model does which task, how logits become scores, zero-shot inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from services.core import tasks
from services.core.errors import InputError
from tests import tiny_models


def test_tasks_of_heads_encoders_and_nli_models():
    bert = {"model_type": "bert"}
    assert tasks.tasks_for_config({**bert, "architectures": ["BertForSequenceClassification"],
                                   "id2label": {"0": "negative", "1": "positive"}}) == [
        "text-classification", "zero-shot-classification", "sentence-similarity"]
    nli = tasks.tasks_for_config({**bert, "architectures": ["BertForSequenceClassification"],
                                  "id2label": {"0": "contradiction", "1": "neutral", "2": "ENTAILMENT"}})
    assert nli[:2] == ["text-classification", "zero-shot-classification"]
    assert tasks.tasks_for_config({**bert, "architectures": ["BertForTokenClassification"]})[0] == "token-classification"
    assert tasks.tasks_for_config({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}) == ["text-generation"]
    assert tasks.tasks_for_config({"model_type": "bert", "architectures": ["BertModel"]}) == [
        "zero-shot-classification", "sentence-similarity"]
    assert set(tasks.TASKS) <= set(tasks.SPECS) and all(tasks.SPECS[t].name == name for t, name in tasks.TASKS.items())


def test_auto_classes_and_primary_task():
    assert tasks.auto_class_for("zero-shot-classification", nli=True) == "AutoModelForSequenceClassification"
    assert tasks.auto_class_for("zero-shot-classification", nli=False) == "AutoModel"
    assert tasks.auto_class_for("token-classification") == "AutoModelForTokenClassification"
    assert tasks.auto_class_for_architecture(["BertForPreTraining"]) == "AutoModelForPreTraining"
    assert tasks.auto_class_for_architecture(["BertModel"]) == "AutoModel"
    available = ["text-classification", "zero-shot-classification", "sentence-similarity"]
    assert tasks.primary_task(["BertForSequenceClassification"], True, available, "fill-mask") == \
        "zero-shot-classification"
    assert tasks.primary_task(["BertForSequenceClassification"], False, available, "sentence-similarity") == \
        "text-classification"
    assert tasks.primary_task(["BertModel"], False, ["sentence-similarity"], "fill-mask") == "sentence-similarity"


def test_nli_label_ids():
    assert tasks.nli_label_ids({0: "contradiction", 1: "neutral", 2: "entailment"}) == (2, 0)
    assert tasks.nli_label_ids({0: "ENTAILMENT", 1: "not_entailment"}) == (0, 1)  # transformers' choice
    with pytest.raises(InputError, match="no 'entailment' label"):
        tasks.nli_label_ids({0: "negative", 1: "positive"})


def test_labels_template_and_aggregation_inputs():
    assert tasks.parse_labels(" sports, politics ,, sports,cooking ") == ["sports", "politics", "cooking"]
    assert tasks.parse_labels(["a", " b ", ""]) == ["a", "b"]
    assert tasks.parse_labels(None) == []
    with pytest.raises(InputError, match="at least one candidate label"):
        tasks.candidate_labels(" , ")
    assert tasks.hypothesis_template("") == tasks.DEFAULT_TEMPLATE
    with pytest.raises(InputError, match="has no {}"):
        tasks.hypothesis_template("no placeholder")
    assert tasks.aggregation(None) == "first" == tasks.DEFAULT_AGGREGATION
    with pytest.raises(InputError, match="aggregation strategy 'median'"):
        tasks.aggregation("median")


def test_score_rule():
    logits = np.array([[2.0, -1.0, 0.5]], dtype=np.float32)
    softmax = tasks.to_scores(logits, "softmax")
    assert softmax.sum() == pytest.approx(1.0) and softmax.argmax() == 0
    assert tasks.to_scores(logits, "sigmoid")[0, 1] == pytest.approx(1 / (1 + np.exp(1.0)))
    assert tasks.to_scores(logits, "none").tolist() == logits.tolist()
    assert tasks.to_scores(logits, "softmax", temperature=2.0)[0].tolist() == \
        pytest.approx(tasks.to_scores(logits / 2, "softmax")[0].tolist())
    assert tasks.score_function({"problem_type": "regression", "id2label": {"0": "x"}}) == "none"


@pytest.mark.parametrize("labels, problem_type, expected", [
    (("a", "b"), None, "softmax"),
    (("a", "b"), "single_label_classification", "softmax"),
    (("a", "b", "c"), "multi_label_classification", "sigmoid"),
    (("score",), None, "sigmoid"),
    (("score",), "regression", "none"),
])
def test_score_rule_is_transformers_pipeline_rule(tmp_path, labels, problem_type, expected):
    """The rule and the numbers equal transformers' text-classification pipeline's default."""
    from transformers import AutoConfig, pipeline

    from services.core.models import load_model
    from services.run import predict

    folder = tiny_models.build_classifier(tmp_path / "model", labels=labels, seed=3)
    if problem_type:
        config = json.loads((folder / "config.json").read_text())
        config["problem_type"] = problem_type
        (folder / "config.json").write_text(json.dumps(config))
    assert tasks.score_function(AutoConfig.from_pretrained(folder)) == expected
    text = "The film was a delight."
    theirs = {row["label"]: row["score"] for row in pipeline("text-classification", model=str(folder))(text, top_k=None)}
    ours = predict(load_model(folder, "text-classification"), [text])[0]
    assert ours["function"] == expected
    assert ours["scores"] == pytest.approx(theirs, abs=1e-5)
