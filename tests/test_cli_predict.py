"""``python main.py predict``: JSON lines on stdout; every bad input gives one line on stderr and exit != 0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import main
from services.core.models import load_model
from services.run import predict

ROOT = Path(__file__).resolve().parents[1]


def make_bad_model(kind: str, folder: Path, good: Path) -> Path:
    """A model folder broken in one way (``kind``), made from the good tiny classifier ``good``."""
    if kind == "missing":
        return folder / "does-not-exist"
    if kind == "no_config":
        folder.mkdir(parents=True)
        (folder / "notes.txt").write_text("not a model")
        return folder
    shutil.copytree(good, folder)
    config_path = folder / "config.json"
    if kind == "corrupt_config":
        config_path.write_text('{"model_type": "bert", ')
    elif kind == "no_weights":
        (folder / "model.safetensors").unlink()
    elif kind == "truncated_weights":
        weights = folder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:2000])
    elif kind in ("unknown_arch", "remote_code"):
        config = json.loads(config_path.read_text())
        if kind == "unknown_arch":
            config["model_type"] = "frobnicator"
        else:
            config["auto_map"] = {"AutoModelForSequenceClassification": "modeling_evil.EvilModel"}
            (folder / "modeling_evil.py").write_text("raise SystemExit('this must never run')\n")
        config_path.write_text(json.dumps(config))
    elif kind == "no_tokenizer":
        for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
            (folder / name).unlink(missing_ok=True)
    else:
        raise ValueError(kind)
    return folder


BAD_KINDS = {
    "missing": "does not exist",
    "no_config": "no config.json",
    "corrupt_config": "config.json .* is corrupt",
    "no_weights": "no weights file",
    "truncated_weights": "weights of .* could not be loaded",
    "unknown_arch": "unknown architecture",
    "remote_code": "needs trust_remote_code.*Refused",
    "no_tokenizer": "has no tokenizer",
}
# (case name) -> (model kind or a fixture name, task, extra args, texts, expected message)
OTHER_BAD = {
    "empty_text": ("tiny_classifier", "text-classification", [], [""], "The text is empty"),
    "no_text": ("tiny_classifier", "text-classification", [], [], "No text given"),
    "wrong_task": ("tiny_classifier", "fill-mask", [], ["hello"], "cannot do fill-mask"),
}


def _command(model, task, extra, texts):
    return [sys.executable, str(ROOT / "main.py"), "predict", "--task", task, "--model", str(model), *extra, *texts]


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, tiny_classifier):
    """Run every CLI case in its own fresh process (concurrently, to keep the suite quick)."""
    work = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "WORKBENCH_HOME": str(work / "home"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": str(ROOT)}
    env.pop("WORKBENCH_DEBUG", None)
    fixtures = {"tiny_classifier": tiny_classifier}
    commands = {kind: _command(make_bad_model(kind, work / kind, tiny_classifier), "text-classification", [], ["hi"])
                for kind in BAD_KINDS}
    for name, (model, task, extra, texts, _message) in OTHER_BAD.items():
        commands[name] = _command(fixtures[model], task, extra, texts)
    commands["similarity"] = _command("builtin", "sentence-similarity", [], ["A cat sits on the mat.",
                                                                             "A kitten rests on a rug."])

    def run(item):
        name, command = item
        return name, subprocess.run(command, capture_output=True, text=True, env=env, cwd=work, timeout=300)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, commands.items()))


@pytest.mark.parametrize("case", list(BAD_KINDS) + list(OTHER_BAD))
def test_bad_input_gives_one_clear_line(cli_runs, case):
    import re

    result = cli_runs[case]
    expected = BAD_KINDS.get(case) or OTHER_BAD[case][4]
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    assert re.search(expected, lines[0]), lines[0]


def test_remote_code_never_ran(cli_runs):
    assert "this must never run" not in cli_runs["remote_code"].stderr + cli_runs["remote_code"].stdout


def test_similarity_of_two_texts_in_a_fresh_process(cli_runs):
    result = cli_runs["similarity"]
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert answer["shape"] == [384] and 0.4 < answer["cosine"] < 1.0


def test_zero_shot_labels_and_scores_high_to_low(capsys):
    code, answers, _ = _predict(capsys, "--task", "zero-shot-classification", "--model", "builtin",
                                "--labels", "cooking,sports,politics",
                                "The team won the match in extra time.", "Simmer the onions in butter.")
    assert code == 0
    assert [a["labels"][0] for a in answers] == ["sports", "cooking"]
    for answer in answers:
        assert answer["scores"] == sorted(answer["scores"], reverse=True)
        assert sorted(answer["labels"]) == ["cooking", "politics", "sports"]


# -- the same verb in-process (torch is already imported here, so these are quick) -----------------------
def _predict(capsys, *argv) -> tuple[int, list[dict], str]:
    code = main.main(["predict", *map(str, argv)])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.strip().splitlines() if line], captured.err


def test_classification_prints_label_score_and_all_scores(capsys, tiny_classifier):
    texts = ["Great film!", "Dull and slow."]
    code, answers, _err = _predict(capsys, "--task", "text-classification", "--model", tiny_classifier, *texts)
    assert code == 0 and len(answers) == 2
    expected = predict(load_model(tiny_classifier, "text-classification"), texts)
    for answer, reference, text in zip(answers, expected, texts):
        assert answer["text"] == text
        assert answer["label"] == reference["label"]
        assert answer["score"] == pytest.approx(reference["score"], abs=1e-6)
        assert set(answer["scores"]) == {"negative", "positive"}


def test_top_k_and_ner_entities(capsys, tiny_classifier, tiny_ner):
    code, answers, _ = _predict(capsys, "--task", "text-classification", "--model", tiny_classifier, "--top-k", "1", "x")
    assert code == 0 and len(answers[0]["scores"]) == 1
    code, answers, _ = _predict(capsys, "--task", "token-classification", "--model", tiny_ner, "--aggregation", "none",
                                "Maria lives in Paris")
    assert code == 0
    assert answers[0]["entities"] and all({"entity", "word", "start", "end", "score"} <= set(e) for e in
                                          answers[0]["entities"])


def test_fill_mask_generation_and_stdin(capsys, monkeypatch, tiny_mlm, tiny_gpt2):
    import io

    code, answers, _ = _predict(capsys, "--task", "fill-mask", "--model", tiny_mlm, "--top-k", "3", "A [MASK] day.")
    assert code == 0 and len(answers[0]["candidates"]) == 3
    monkeypatch.setattr(sys, "stdin", io.StringIO("The film\n\nThe hotel\n"))
    code, answers, _ = _predict(capsys, "--task", "text-generation", "--model", tiny_gpt2, "--max-new-tokens", "4",
                                "--greedy", "-")
    assert code == 0 and [a["text"] for a in answers] == ["The film", "The hotel"]
    assert all(a["generated_text"].startswith(a["text"]) for a in answers)


def test_embeddings_of_one_text(capsys):
    code, answers, _ = _predict(capsys, "--task", "sentence-similarity", "--model", "builtin", "One sentence.")
    assert code == 0 and answers[0]["shape"] == [384] and "embedding" not in answers[0]
    code, answers, _ = _predict(capsys, "--task", "sentence-similarity", "--model", "builtin", "--embeddings", "One.")
    assert len(answers[0]["embedding"]) == 384


def test_fill_mask_without_the_mask_token(capsys, tiny_mlm):
    code, answers, err = _predict(capsys, "--task", "fill-mask", "--model", tiny_mlm, "no mask here")
    assert code == 2 and answers == []
    assert err.strip() == "error: The text has no [MASK] token for the model to fill. Write [MASK] where the missing " \
        "word goes, e.g. 'Paris is the [MASK] of France.'"


def test_unavailable_device(capsys, tiny_classifier):
    code, answers, err = _predict(capsys, "--task", "text-classification", "--model", tiny_classifier,
                                  "--device", "cuda:7", "hi")
    assert code == 2 and answers == []
    assert "not available" in err and len(err.strip().splitlines()) == 1
