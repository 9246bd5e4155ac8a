"""The manual PyTorch path: numbers equal transformers.pipeline(), attention shapes, and the generated
code prints the same numbers when run on its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from services.core.errors import InputError, ModelError
from services.internals.manual_path import generate_code, modes_for, run_internals, score
from services.core.model_info import inspect_model
from services.core.models import ModelHost

TEXT = "The film was a delight from start to finish."


@pytest.fixture(scope="module")
def host():
    return ModelHost(capacity=4)


def _pipeline(task, folder):
    from transformers import pipeline

    return pipeline(task, model=str(folder), device="cpu")


def test_sequence_classification_equals_pipeline(tiny_classifier, host):
    result = run_internals(tiny_classifier, TEXT, host=host)
    assert result.mode == "sequence-classification"
    assert result.logit_columns == ["negative", "positive"]
    scores = score(result)
    expected = {item["label"]: item["score"] for item in _pipeline("text-classification", tiny_classifier)(TEXT, top_k=None)}
    for label, probability in zip(result.score_labels, scores.probabilities[0]):
        assert probability == pytest.approx(expected[label], abs=1e-5)
    best = max(expected, key=expected.get)
    assert scores.predictions[0].label == best and not scores.predictions[0].uncertain
    assert sum(scores.probabilities[0]) == pytest.approx(1.0)
    ids = next(t for t in result.inputs if t.name == "input_ids")
    assert ids.shape == (1, len(result.tokens)) and ids.dtype == "torch.int64" and ids.values[0][0] == 101


def test_nli_zero_shot_equals_pipeline(tiny_nli, host):
    labels = ["sports", "politics", "cooking"]
    result = run_internals(tiny_nli, TEXT, candidate_labels=labels, host=host)
    assert result.mode == "zero-shot" and len(result.logits) == 3 and len(result.logits[0]) == 3
    scores = score(result)
    output = _pipeline("zero-shot-classification", tiny_nli)(TEXT, candidate_labels=labels)
    expected = dict(zip(output["labels"], output["scores"]))
    for label, probability in zip(labels, scores.probabilities[0]):
        assert probability == pytest.approx(expected[label], abs=1e-5)
    assert scores.predictions[0].label == output["labels"][0]


def test_token_classification_equals_pipeline(tiny_ner, host):
    text = "Maria Lopez joined Acme Corporation in Berlin."
    result = run_internals(tiny_ner, text, host=host)
    assert result.mode == "token-classification" and result.logit_rows == result.tokens
    scores = score(result)
    entities = _pipeline("token-classification", tiny_ner)(text)
    assert entities, "the random model labels at least one token as an entity"
    for entity in entities:
        prediction = scores.predictions[entity["index"]]
        assert prediction.label == entity["entity"]
        assert prediction.probability == pytest.approx(float(entity["score"]), abs=1e-5)
        assert prediction.row == entity["word"]


def test_attention_shapes_and_rows_sum_to_one(tiny_classifier, host):
    loaded = host.get(tiny_classifier, "text-classification")
    before = loaded.model.config._attn_implementation
    result = run_internals(tiny_classifier, TEXT, host=host)
    assert loaded.model.config._attn_implementation == before  # eager only for that call
    n = len(result.tokens)
    assert result.attentions.shape == (2, 2, n, n)  # tiny BERT: 2 layers, 2 heads
    assert result.attentions.sum(axis=-1) == pytest.approx(1.0, abs=1e-4)
    again = run_internals(tiny_classifier, TEXT, host=host, attentions=False)
    assert again.attentions is None and again.logits[0] == pytest.approx(result.logits[0], abs=1e-5)


def test_builtin_model_shows_attention_only(host):
    info = inspect_model("builtin")
    assert modes_for(info) == ["attention"]
    result = run_internals("builtin", "I'm so excited to be learning about large language models.", host=host)
    assert result.mode == "attention" and result.logits == []
    assert result.attentions.shape == (6, 12, 15, 15)
    assert result.tokens[0] == "[CLS]" and result.tokens[-1] == "[SEP]"
    assert result.outputs[0].name == "last_hidden_state" and result.outputs[0].shape == (1, 15, 384)


def test_temperature_and_threshold(tiny_classifier, host):
    result = run_internals(tiny_classifier, TEXT, host=host, attentions=False)
    result.score_logits = [[2.0, 0.0]]  # clear numbers: the arithmetic, not the random model, is tested
    sharp, flat = score(result, temperature=0.5), score(result, temperature=4.0)
    assert sharp.probabilities[0][0] > score(result).probabilities[0][0] > flat.probabilities[0][0] > 0.5
    assert score(result, threshold=0.8).predictions[0].shown_label == "negative"  # p = 0.88
    assert score(result, threshold=0.9).predictions[0].shown_label == "uncertain"
    with pytest.raises(InputError, match="Temperature"):
        score(result, temperature=0)
    with pytest.raises(InputError, match="threshold"):
        score(result, threshold=1.5)


def test_bad_input(tiny_classifier, tiny_nli, tiny_gpt2, host):
    with pytest.raises(InputError, match="empty"):
        run_internals(tiny_classifier, "  ", host=host)
    with pytest.raises(InputError, match="candidate labels"):
        run_internals(tiny_nli, TEXT, mode="zero-shot", candidate_labels=[], host=host)
    with pytest.raises(InputError, match=r"\{\}"):
        run_internals(tiny_nli, TEXT, mode="zero-shot", candidate_labels=["a"], hypothesis_template="x", host=host)
    with pytest.raises(ModelError, match="no token classification head"):
        run_internals(tiny_classifier, TEXT, mode="token-classification", host=host)
    with pytest.raises(InputError, match="Unknown"):
        run_internals(tiny_classifier, TEXT, mode="nonsense", host=host)
    assert modes_for(inspect_model(tiny_gpt2)) == ["attention"]


def test_emoji_and_long_text_run(tiny_classifier, host):
    result = run_internals(tiny_classifier, "😀 ☃ " + "word " * 400, host=host)
    assert "[UNK]" in result.tokens
    assert len(result.tokens) == 128  # truncated to the tiny model's model_max_length


def _run_scripts(scripts: dict[str, str]) -> dict[str, dict]:
    """Run the generated scripts one after another in one fresh Python (one import of torch)."""
    joined = "\n".join(f"print('=== {name}')\n{code}" for name, code in scripts.items())
    completed = subprocess.run([sys.executable, "-c", joined], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    outputs: dict[str, dict] = {}
    current: dict = {}
    for line in completed.stdout.splitlines():
        key, _, rest = line.partition(" ")
        if key == "===":
            current = outputs.setdefault(rest, {})
        else:
            current.setdefault(key, []).append(rest)
    return outputs


def test_generated_code_prints_the_same_numbers(tiny_classifier, tiny_nli, tiny_ner, tiny_encoder, host):
    import numpy as np

    classifier = run_internals(tiny_classifier, "I'm so excited to be learning about large language models.", host=host)
    nli = run_internals(tiny_nli, TEXT, candidate_labels=["sports", "politics"], host=host)
    ner = run_internals(tiny_ner, "Maria lives in Berlin", host=host)
    encoder = run_internals(tiny_encoder, TEXT, host=host)
    assert encoder.mode == "attention"
    code = generate_code(classifier, temperature=2.0, threshold=0.0)
    assert "AutoModelForSequenceClassification" in code and "torch.inference_mode()" in code
    assert 'return_tensors="pt"' in code and "config.id2label" in code and ".softmax(" in code
    printed = _run_scripts({"classifier": code, "nli": generate_code(nli), "ner": generate_code(ner),
                            "encoder": generate_code(encoder, layer=1, head=None)})

    out, scores = printed["classifier"], score(classifier, temperature=2.0)
    np.testing.assert_allclose(json.loads(out["logits"][0]), classifier.logits[0], atol=1e-5)
    np.testing.assert_allclose(json.loads(out["probabilities"][0]), scores.probabilities[0], atol=1e-5)
    assert out["prediction"][0].split()[0] == scores.predictions[0].label
    assert json.loads(out["input_ids"][0]) == classifier.inputs[0].values

    out = printed["nli"]
    np.testing.assert_allclose(json.loads(out["logits"][0]), nli.logits, atol=1e-5)
    np.testing.assert_allclose(json.loads(out["probabilities"][0]), score(nli).probabilities[0], atol=1e-5)

    out = printed["ner"]
    assert [line.split()[1] for line in out["prediction"]] == [p.label for p in score(ner).predictions]
    np.testing.assert_allclose(json.loads(out["probabilities"][0]), score(ner).probabilities, atol=1e-5)

    out = printed["encoder"]
    assert json.loads(out["attention_shape"][0]) == list(encoder.attentions.shape)
    np.testing.assert_allclose(json.loads(out["attention"][0]), encoder.attentions[1].mean(axis=0), atol=1e-5)
