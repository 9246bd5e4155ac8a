"""The CLI as a new user meets it: every --model takes a library name, 'builtin' or a path; `library list`
shows paths and whole task names; two texts to `tokenize` and zero-shot without --labels say which flag
to use; stdout carries only the answer and stderr no library bars or load reports (unless --verbose)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import main
from cli.library import format_table

ROOT = Path(__file__).resolve().parents[1]


def cli(*argv, env=None, timeout=300):
    environment = {**os.environ, **(env or {})}
    for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY", "TRANSFORMERS_NO_ADVISORY_WARNINGS"):
        environment.pop(name, None)  # the CLI must quieten the libraries itself
    return subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=environment)


@pytest.fixture
def library(tmp_path, monkeypatch, tiny_classifier):
    folder = tmp_path / "lib"
    folder.mkdir()
    shutil.copytree(tiny_classifier, folder / "starter-sentiment")
    monkeypatch.setenv("WORKBENCH_LIBRARY", str(folder))
    return folder


def test_library_name_works_for_every_model_flag(library, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("good film\nbad film\n", encoding="utf-8")
    predicted = cli("predict", "--task", "text-classification", "--model", "starter-sentiment", "good film")
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)["label"] in ("negative", "positive")
    analysed = cli("analyse", str(texts), "--task", "text-classification", "--model", "starter-sentiment")
    assert analysed.returncode == 0, analysed.stderr
    assert [json.loads(line)["text"] for line in analysed.stdout.splitlines()] == ["good film", "bad film"]
    tokenized = cli("tokenize", "--model", "starter-sentiment", "--json", "good film")
    assert tokenized.returncode == 0, tokenized.stderr
    assert json.loads(tokenized.stdout)["tokens"][0] == "[CLS]"


def test_the_resolver_takes_names_paths_and_builtin(library, tiny_classifier):
    from services.core.model_info import builtin_model_path, resolve_model_path

    assert resolve_model_path("starter-sentiment") == library / "starter-sentiment"
    assert resolve_model_path("builtin") == resolve_model_path("built-in") == builtin_model_path()
    assert resolve_model_path(str(tiny_classifier)) == tiny_classifier


def test_the_resolver_finds_a_cached_repo_id(tmp_path, monkeypatch, tiny_classifier):
    from services.core.model_info import resolve_model_path

    cache = tmp_path / "hub"
    repo = cache / "models--someone--sentiment"
    snapshot = repo / "snapshots" / "abc123"
    shutil.copytree(tiny_classifier, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert resolve_model_path("someone/sentiment") == snapshot


def test_an_unknown_name_says_so_and_where_names_come_from(library, capsys):
    code = main.main(["predict", "--task", "text-classification", "--model", "no-such-model", "hi"])
    err = capsys.readouterr().err
    assert code == 2
    assert "No model named 'no-such-model'" in err and "library list" in err


def test_library_list_has_paths_and_whole_task_names(library, capsys):
    assert main.main(["library", "list", "--no-cache"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    assert header.split()[-1] == "PATH"
    assert str(library / "starter-sentiment") in out
    task_names = {"text-classification", "zero-shot-classification", "sentence-similarity"}
    words = set(re.findall(r"[a-z]+(?:-[a-z]+)+", out))
    assert task_names <= words
    cut = {w for w in words if w not in task_names and any(t.startswith(w) for t in task_names)}
    assert not cut, f"task names cut: {cut}"


def test_table_wraps_between_task_names_only():
    row = ["m", "library", "BertForSequenceClassification",
           "text-classification, zero-shot-classification, sentence-similarity, token-classification",
           "", "1M", "1 MB", "safetensors", "BertTokenizer", "", "", "/a/very/long/path/that/is/not/cut"]
    lines = format_table([row]).splitlines()
    text = "\n".join(lines)
    for name in ("text-classification", "zero-shot-classification", "sentence-similarity", "token-classification"):
        assert name in text
    assert "/a/very/long/path/that/is/not/cut" in text and len(lines) > 2


def test_tokenize_two_texts_names_pair(capsys):
    assert main.main(["tokenize", "first", "second"]) == 2
    err = capsys.readouterr().err
    assert "one text" in err and '--pair "second"' in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("verb", ["predict", "analyse"])
def test_zero_shot_without_labels_names_the_flag(verb, tmp_path, capsys):
    texts = tmp_path / "t.txt"
    texts.write_text("hello\n", encoding="utf-8")
    argv = (["predict", "--task", "zero-shot-classification", "--model", "builtin", "hello"] if verb == "predict" else
            ["analyse", str(texts), "--task", "zero-shot-classification"])
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert "--labels" in err and "Loading" not in err


@pytest.fixture
def headless_classifier(tmp_path, tiny_encoder):
    """A classifier whose checkpoint has no head: transformers prints a LOAD REPORT and a tqdm bar when it loads."""
    folder = tmp_path / "headless"
    shutil.copytree(tiny_encoder, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(architectures=["BertForSequenceClassification"], id2label={"0": "a", "1": "b"},
                  label2id={"a": 0, "b": 1})
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_stdout_only_the_answer_stderr_no_library_noise(headless_classifier, tmp_path):
    texts = tmp_path / "t.txt"
    texts.write_text("hello\nworld\n", encoding="utf-8")
    quiet = cli("analyse", str(texts), "--task", "text-classification", "--model", str(headless_classifier))
    assert quiet.returncode == 0, quiet.stderr
    assert [json.loads(line)["text"] for line in quiet.stdout.splitlines()] == ["hello", "world"]
    for noise in ("LOAD REPORT", "it/s]", "WORKBENCH_WINDOW_SHOWN", "MISSING"):
        assert noise not in quiet.stderr and noise not in quiet.stdout
    loud = cli("analyse", str(texts), "--task", "text-classification", "--model", str(headless_classifier),
               "--verbose")
    assert loud.returncode == 0, loud.stderr
    assert "LOAD REPORT" in loud.stderr and "LOAD REPORT" not in loud.stdout
    assert [json.loads(line)["text"] for line in loud.stdout.splitlines()] == ["hello", "world"]


@pytest.mark.parametrize("debug", [False, True])
def test_the_window_prints_its_start_up_marker_only_when_asked(debug, tmp_path):
    """`python main.py` (the window) prints nothing on stdout; WORKBENCH_DEBUG_STARTUP=1 adds the marker."""
    code = ("from PySide6.QtCore import QTimer\nfrom PySide6.QtWidgets import QApplication\n"
            "app = QApplication(['main.py'])\nQTimer.singleShot(4000, app.quit)\n"
            "import main, sys\nsys.exit(main.main([]))\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WORKBENCH_HOME": str(tmp_path / "home")}
    env.pop("WORKBENCH_DEBUG_STARTUP", None)
    if debug:
        env["WORKBENCH_DEBUG_STARTUP"] = "1"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=env)
    assert result.returncode == 0, result.stderr
    if debug:
        assert result.stdout.startswith("WORKBENCH_WINDOW_SHOWN ")
    else:
        assert result.stdout == ""
