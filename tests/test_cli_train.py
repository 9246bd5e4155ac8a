"""``main.py train`` and ``main.py train-starter``: JSON metrics on stdout, progress on stderr, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import main
from tests.test_training_data import sentiment_rows, write_conll, write_csv

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--epochs", "2", "--lr", "1e-2", "--batch-size", "8", "--max-length", "32", "--warmup", "0", "--min-steps", "0"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def library(tmp_path, monkeypatch):
    folder = tmp_path / "library"
    monkeypatch.setenv("WORKBENCH_LIBRARY", str(folder))  # main() sets it from --library; restored afterwards
    return folder


def test_train_prints_metrics_json_and_saves(tmp_path, library, tiny_encoder, capsys):
    data = write_csv(tmp_path / "reviews.csv", sentiment_rows(40))
    code = main.main(["--library", str(library), "train", "--task", "text-classification", "--model", str(tiny_encoder),
                      "--data", str(data), "--text-column", "text", "--label-column", "label", "--seed", "3",
                      *FAST, "--name", "cli-model"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["labels"] == ["negative", "positive"] and 0 <= summary["metrics"]["accuracy"] <= 1
    assert len(summary["history"]) == 2 and summary["saved_to"] == str(library / "cli-model")
    assert "train [" in err and "training on 32 examples, validating on 8" in err
    assert (library / "cli-model" / "README.md").is_file() and (library / "cli-model" / "config.json").is_file()


@pytest.mark.parametrize("task, rate", [("text-classification", "5e-05"), ("token-classification", "0.0001")])
def test_train_without_lr_uses_the_tasks_default(tmp_path, library, tiny_encoder, tiny_ner, task, rate, capsys):
    if task == "text-classification":
        model, data = tiny_encoder, write_csv(tmp_path / "reviews.csv", sentiment_rows(20))
    else:
        model, data = tiny_ner, write_conll(tmp_path / "train.conll", repeat=3)
    at = FAST.index("--lr")
    without_lr = FAST[:at] + FAST[at + 2:]
    code = main.main(["--library", str(library), "train", "--task", task, "--model", str(model), "--data", str(data),
                      *without_lr, "--epochs", "1", "--name", "default-rate"])
    assert code == 0, capsys.readouterr().err
    assert f"| learning_rate | {rate} |" in (library / "default-rate" / "README.md").read_text()


def test_train_ner_with_validation_and_test_files(tmp_path, library, tiny_ner, capsys):
    train = write_conll(tmp_path / "train.conll", repeat=4)
    other = write_conll(tmp_path / "val.conll", repeat=1)
    code = main.main(["--library", str(library), "train", "--task", "token-classification", "--model", str(tiny_ner),
                      "--data", str(train), "--validation", str(other), "--test", str(other), *FAST,
                      "--name", "cli-ner", "--head-only"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["validation"] == "val.conll" and summary["test"] == "val.conll"
    assert "entity_f1" in summary["metrics"] and "entity_f1" in summary["test_metrics"]
    assert "Held-out test set (`val.conll`" in (library / "cli-ner" / "README.md").read_text()


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, library, tiny_encoder, capsys):
    data = write_csv(tmp_path / "reviews.csv", sentiment_rows(20))
    code = main.main(["train", "--model", str(tiny_encoder), "--data", str(data), "--label-column", "stars",
                      "--name", "x"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().splitlines() == ["error: 'reviews.csv' has no label column 'stars'. Columns found: text, label."]
    code = main.main(["train", "--data", str(write_csv(tmp_path / "few.csv", sentiment_rows(5))), "--name", "x"])
    assert code == 2 and "at least 10" in capsys.readouterr().err


def test_a_name_that_exists_is_refused_before_training(tmp_path, library):
    (library / "taken").mkdir(parents=True)
    data = write_csv(tmp_path / "reviews.csv", sentiment_rows(20))
    env = {**os.environ, "WORKBENCH_LIBRARY": ""}
    for verb in (["train", "--data", str(data), "--name", "taken"], ["train-starter", "--name", "taken"]):
        result = subprocess.run([sys.executable, "main.py", "--library", str(library), *verb], cwd=ROOT,
                                capture_output=True, text=True, timeout=120, env=env)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == "error: A model named 'taken' already exists in the library. Choose another name."
        assert result.stdout == ""


def test_ctrl_c_cancels_the_token_instead_of_killing():
    from services.core.cancel import CancelToken
    from cli.train import _interrupt_cancels

    token = CancelToken()
    before = signal.getsignal(signal.SIGINT)
    with _interrupt_cancels(token):
        os.kill(os.getpid(), signal.SIGINT)
        assert token.cancelled
    assert signal.getsignal(signal.SIGINT) is before
