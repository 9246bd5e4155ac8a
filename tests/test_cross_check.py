"""One inference core: the same model and text give the same labels and scores (1e-5) in every place
that shows them — Run / ``services.run.predict``, ``main.py predict``, Analyse (``services.analyse.run``
on a file), Internals (``manual_path.score``) and the training evaluation (``training.encode``) — and
transformers' own pipeline (or the "Show code" script) agrees, so a shared rule cannot drift either.

The matrix: a softmax classifier, a multi-label (sigmoid) classifier, a regression head, a token
classifier (entities on word boundaries with a tokenizer that splits words into pieces), NLI zero-shot
and embedding zero-shot on the tiny encoder. Tiny random weights: the code paths, not accuracy.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

import main
from services.analyse.results_store import iter_rows
from services.analyse.run import AnalyseRequest, analyse
from services.core.engine import EngineOptions
from services.core.metrics import entity_spans
from services.core.models import ModelHost
from services.internals.manual_path import run_internals, score
from services.run import predict
from services.run.code_snippets import code_for
from services.training.encode import predict_texts, predict_words
from tests import tiny_models

TOL = 1e-5
TEXTS = [
    "Nadim Ladki met Ekaterina Vasquez in Wroclaw last spring.",
    "The film was a delight from start to finish.",
    "Kowalczyk and Abernathy founded Zyntrax Labs in Ouagadougou.",
    "Service at the restaurant was slow, and the soup was cold!",
    "Nadim Ladki flew from Ouagadougou to Wroclaw with Zyntrax. " * 14,  # beyond the tiny models' 128 tokens
]
LABELS = ["travel", "business news", "food"]


@pytest.fixture(scope="module")
def host():
    return ModelHost(capacity=8)


def _with_problem(folder: Path, labels, problem_type: str, seed: int) -> Path:
    tiny_models.build_classifier(folder, labels=labels, seed=seed)
    config = json.loads((folder / "config.json").read_text())
    config["problem_type"] = problem_type
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def classifiers(tmp_path_factory, tiny_classifier):
    work = tmp_path_factory.mktemp("cross-check")
    return {
        "softmax": tiny_classifier,
        "sigmoid": _with_problem(work / "multi-label", ("sports", "politics", "tech"), "multi_label_classification", 6),
        "none": _with_problem(work / "regression", ("rating",), "regression", 7),
    }


@pytest.fixture(scope="module")
def text_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cross-check-input") / "texts.txt"
    path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    return path


def analysed(tmp_path: Path, text_file: Path, task: str, model: Path, host, **engine) -> list[dict]:
    """Analyse's rows for ``text_file``, in input order."""
    request = AnalyseRequest([str(text_file)], task, str(model), engine=EngineOptions(threads=-1, **engine))
    result = analyse(request, tmp_path / f"{task}-{len(list(tmp_path.iterdir()))}.jsonl", resume=False, host=host)
    rows = sorted((row for _offset, row in iter_rows(result.results_path)), key=lambda row: row["index"])
    assert [row["text"] for row in rows] == TEXTS
    return rows


def cli_predict(capsys, task: str, model: Path, *extra: str) -> list[dict]:
    capsys.readouterr()
    code = main.main(["predict", "--task", task, "--model", str(model), *extra, *TEXTS])
    out = capsys.readouterr().out
    assert code == 0
    return [json.loads(line) for line in out.strip().splitlines()]


def hf(task: str, folder: Path):
    from transformers import pipeline

    return pipeline(task, model=str(folder), device="cpu")


def assert_scores_equal(name: str, got: dict[str, float], expected: dict[str, float]) -> None:
    assert set(got) == set(expected), name
    for label, value in expected.items():
        assert got[label] == pytest.approx(value, abs=TOL), f"{name}: {label}"


# -- classification heads: softmax, sigmoid (multi-label), none (regression) ------------------------
@pytest.mark.parametrize("function", ["softmax", "sigmoid", "none"])
def test_classifier_scores_are_the_same_everywhere(function, classifiers, text_file, tmp_path, capsys, host):
    folder = classifiers[function]
    loaded = host.get(str(folder), "text-classification")
    id2label = loaded.model.config.id2label
    reference = predict(loaded, TEXTS)
    assert all(result["function"] == function for result in reference)
    assert reference[-1]["truncated"] is True

    views: dict[str, list[tuple[str, dict[str, float]]]] = {
        "analyse": [(row["label"], row["scores"]) for row in analysed(tmp_path, text_file, "text-classification",
                                                                      folder, host)],
        "cli": [(row["label"], row["scores"]) for row in cli_predict(capsys, "text-classification", folder)],
    }
    internals = []
    for text in TEXTS:
        result = run_internals(str(folder), text, mode="sequence-classification", attentions=False, host=host)
        assert result.activation == function
        scores = score(result)
        internals.append((scores.predictions[0].label, dict(zip(result.score_labels, scores.probabilities[0]))))
    views["internals"] = internals
    predicted, probabilities = predict_texts(loaded.model, loaded.tokenizer, TEXTS, loaded.max_length)
    views["training evaluation"] = [(id2label[p], {id2label[i]: v for i, v in enumerate(row)})
                                    for p, row in zip(predicted, probabilities)]
    theirs = hf("text-classification", folder)(TEXTS, top_k=None, truncation=True)  # transformers' own rule
    views["transformers"] = [(rows[0]["label"], {r["label"]: r["score"] for r in rows}) for rows in theirs]

    for name, rows in views.items():
        assert len(rows) == len(TEXTS), name
        for mine, (label, scores) in zip(reference, rows):
            assert label == mine["label"], name
            assert_scores_equal(name, scores, mine["scores"])
    if function == "none":  # the raw value, not a probability
        assert [r["score"] for r in reference] == pytest.approx([float(v) for v in
                                                                 _raw_logits(loaded, TEXTS)], abs=TOL)
    if function == "sigmoid":  # independent labels: the scores do not add up to one
        assert any(abs(sum(r["scores"].values()) - 1.0) > 0.05 for r in reference)


def _raw_logits(loaded, texts):
    import torch

    batch = loaded.tokenizer(texts, padding=True, truncation=True, max_length=loaded.max_length, return_tensors="pt")
    with torch.inference_mode():
        return loaded.model(**batch).logits[:, 0].tolist()


# -- zero-shot: NLI and embeddings -------------------------------------------------------------------
@pytest.mark.parametrize("multi_label", [False, True])
def test_nli_zero_shot_is_the_same_everywhere(multi_label, tiny_nli, text_file, tmp_path, capsys, host):
    loaded = host.get(str(tiny_nli), "zero-shot-classification")
    options = {"candidate_labels": LABELS, "multi_label": multi_label}
    reference = predict(loaded, TEXTS, options)
    views = {
        "analyse": analysed(tmp_path, text_file, "zero-shot-classification", tiny_nli, host, labels=LABELS,
                            multi_label=multi_label),
        "cli": cli_predict(capsys, "zero-shot-classification", tiny_nli, "--labels", ",".join(LABELS),
                           *(["--multi-label"] if multi_label else [])),
        "transformers": hf("zero-shot-classification", tiny_nli)(TEXTS, candidate_labels=LABELS, multi_label=multi_label),
    }
    if not multi_label:  # Internals shows the single-label softmax over the candidates
        views["internals"] = []
        for text in TEXTS:
            result = run_internals(str(tiny_nli), text, mode="zero-shot", candidate_labels=LABELS, attentions=False,
                                   host=host)
            probabilities = score(result).probabilities[0]
            order = sorted(range(len(LABELS)), key=lambda i: probabilities[i], reverse=True)
            views["internals"].append({"labels": [LABELS[i] for i in order], "scores": [probabilities[i] for i in order]})
    for name, rows in views.items():
        for mine, theirs in zip(reference, rows, strict=True):
            assert mine["method"] == "nli"
            assert_scores_equal(name, dict(zip(theirs["labels"], theirs["scores"])), dict(zip(mine["labels"], mine["scores"])))
            assert theirs["labels"][0] == mine["labels"][0], name


@pytest.mark.parametrize("multi_label", [False, True])
def test_embedding_zero_shot_is_the_same_everywhere(multi_label, tiny_encoder, text_file, tmp_path, capsys, host):
    loaded = host.get(str(tiny_encoder), "zero-shot-classification")
    options = {"candidate_labels": LABELS, "multi_label": multi_label}
    reference = predict(loaded, TEXTS, options)
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):  # the Run panel's "Show code": plain torch
        exec(compile(code_for("zero-shot-classification", str(tiny_encoder), options, TEXTS), "<snippet>", "exec"),
             namespace)  # noqa: S102
    views = {
        "analyse": analysed(tmp_path, text_file, "zero-shot-classification", tiny_encoder, host, labels=LABELS,
                            multi_label=multi_label),
        "cli": cli_predict(capsys, "zero-shot-classification", tiny_encoder, "--labels", ",".join(LABELS),
                           *(["--multi-label"] if multi_label else [])),
        "show code": namespace["result"],
    }
    for name, rows in views.items():
        for mine, theirs in zip(reference, rows, strict=True):
            assert mine["method"] == "embedding"
            assert_scores_equal(name, dict(zip(theirs["labels"], theirs["scores"])), dict(zip(mine["labels"], mine["scores"])))
            assert theirs["labels"][0] == mine["labels"][0], name


# -- named entities --------------------------------------------------------------------------------
def words_of(tokenizer, text: str) -> list[tuple[str, tuple[int, int]]]:
    """The tokenizer's words (its pre-tokenizer: whitespace and punctuation) with their character spans."""
    return tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text)


def assert_on_word_boundaries(name: str, tokenizer, text: str, entities: list[dict]) -> None:
    words = words_of(tokenizer, text)
    starts, ends = {s for _w, (s, _e) in words}, {e for _w, (_s, e) in words}
    for entity in entities:
        assert entity["start"] in starts and entity["end"] in ends, \
            f"{name}: {text[entity['start']:entity['end']]!r} ({entity['start']}–{entity['end']}) cuts a word"
        assert entity["word"] == text[entity["start"]:entity["end"]]


def test_entities_are_the_same_everywhere_and_fall_on_word_boundaries(tiny_ner, text_file, tmp_path, capsys, host):
    loaded = host.get(str(tiny_ner), "token-classification")
    tokenizer = loaded.tokenizer
    pieces = tokenizer(TEXTS[0], add_special_tokens=False).word_ids()
    assert len(pieces) > len(set(pieces)), "the test needs words split into several sub-tokens"
    reference = predict(loaded, TEXTS)  # the default: one label per word, from its first sub-token
    assert all(r["aggregation_strategy"] == "first" for r in reference)
    assert sum(len(r["entities"]) for r in reference) >= 5, "random weights gave too few entities to check"
    assert reference[-1]["truncated"] is True

    def spans(entities):
        return [(e["entity_group"], e["start"], e["end"]) for e in entities]

    views = {
        "analyse": [row["entities"] for row in analysed(tmp_path, text_file, "token-classification", tiny_ner, host)],
        "cli": [row["entities"] for row in cli_predict(capsys, "token-classification", tiny_ner)],
        "transformers": hf("token-classification", tiny_ner)(TEXTS[:-1], aggregation_strategy="first"),
    }
    # training evaluation: the text as a word list → a BIO tag per word → entities → character spans
    token_lists = [[w for w, _span in words_of(tokenizer, text)] for text in TEXTS]
    tags = predict_words(loaded.model, tokenizer, token_lists, loaded.max_length,
                         outside_id=loaded.model.config.label2id["O"])
    id2label = loaded.model.config.id2label
    views["training evaluation"] = []
    for text, row in zip(TEXTS, tags):
        offsets = [span for _w, span in words_of(tokenizer, text)]
        views["training evaluation"].append([{"entity_group": kind, "start": offsets[first][0], "end": offsets[last][1]}
                                             for kind, first, last in entity_spans([id2label[t] for t in row])])
    for name, rows in views.items():
        for mine, theirs in zip(reference, rows):  # transformers: the texts it does not truncate
            assert spans(theirs) == spans(mine["entities"]), name
            if name != "training evaluation":
                assert [float(e["score"]) for e in theirs] == pytest.approx([e["score"] for e in mine["entities"]],
                                                                            abs=TOL), name
    for text, mine, row in zip(TEXTS, reference, views["analyse"]):
        assert_on_word_boundaries("predict", tokenizer, text, mine["entities"])
        assert_on_word_boundaries("analyse", tokenizer, text, row)
    chunked = analysed(tmp_path, text_file, "token-classification", tiny_ner, host, chunking=True, stride=16)
    assert chunked[-1]["chunks"] > 1
    for text, row in zip(TEXTS, chunked):
        assert_on_word_boundaries("analyse (chunks)", tokenizer, text, row["entities"])


def test_token_scores_are_the_same_in_internals_and_predict(tiny_ner, host):
    """Per sub-token ("none"): Internals' softmax rows and predict's token entities agree."""
    loaded = host.get(str(tiny_ner), "token-classification")
    for text in TEXTS[:-1]:
        tokens = predict(loaded, [text], {"aggregation_strategy": "none"})[0]["entities"]
        result = run_internals(str(tiny_ner), text, mode="token-classification", attentions=False, host=host)
        scores = score(result)
        special = {0, len(result.tokens) - 1}
        shown = {p: (prediction.label, prediction.probability) for p, prediction in enumerate(scores.predictions)
                 if p not in special and prediction.label != "O"}
        assert sorted(shown) == [t["index"] for t in tokens]
        for token in tokens:
            label, probability = shown[token["index"]]
            assert label == token["entity"] and probability == pytest.approx(token["score"], abs=TOL)


# -- the panels, driven like a user ------------------------------------------------------------------
def test_regression_and_entities_in_the_run_and_internals_panels(qtbot, main_window, settings, classifiers, tiny_ner):
    """The Run panel shows the regression head's raw value (not a percentage) and word-aligned entities
    by default; the Internals panel shows the same raw value; both equal ``predict``'s."""
    from PySide6.QtCore import Qt

    from gui.context import AppContext
    from gui.internals.panel import InternalsPanel
    from services.core.models import load_model

    regression, text = classifiers["none"], TEXTS[0]
    value = predict(load_model(regression, "text-classification"), [text])[0]["score"]
    panel = main_window.panels["RunDock"]

    def run(folder):
        assert main_window.open_model_folder(str(folder))
        panel.input.setPlainText(text)
        with qtbot.waitSignal(panel.sig_run_finished, timeout=90_000) as blocker:
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert blocker.args[0] == "done"
        return panel.last_results[0]

    shown = run(regression)
    assert shown["function"] == "none" and shown["score"] == pytest.approx(value, abs=TOL)
    headline = panel.views["text-classification"].headline.text()
    assert f"{value:.4f}" in headline and "%" not in headline

    assert panel.options.aggregation.currentText() == "first"  # the default a user sees
    entities = run(tiny_ner)["entities"]
    assert entities == predict(load_model(tiny_ner, "token-classification"), [text])[0]["entities"]
    assert_on_word_boundaries("Run panel", load_model(tiny_ner, "token-classification").tokenizer, text, entities)

    internals = InternalsPanel(AppContext(settings))
    qtbot.addWidget(internals)
    try:
        internals.picker.open_folder(str(regression))
        internals.text_input.setPlainText(text)
        with qtbot.waitSignal(internals.sig_result, timeout=60_000):
            internals.run_button.click()
        assert f"{value:.4f}" in internals.verdict.text() and "regression" in internals.verdict.text()
    finally:
        internals.context.runner.shutdown()
