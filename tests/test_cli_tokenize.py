"""``main.py tokenize``: the seed sentence on the built-in model, pairs, JSON, and one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import main

ROOT = Path(__file__).resolve().parents[1]
SEED = "I'm so excited to be learning about large language models."


def test_seed_sentence_json_in_a_real_process():
    completed = subprocess.run([sys.executable, "main.py", "tokenize", "--model", "builtin", "--json", SEED],
                               cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert set(data) >= {"tokens", "input_ids", "token_type_ids", "attention_mask", "offsets", "special_tokens"}
    assert data["input_ids"][0] == 101 and data["input_ids"][-1] == 102
    assert data["tokens"][:5] == ["[CLS]", "i", "'", "m", "so"] and data["tokens"][-1] == "[SEP]"
    assert data["offsets"][0] is None and data["offsets"][1] == [0, 1]
    assert data["special_tokens"]["cls_token"] == "[CLS]"
    assert len(data["tokens"]) == len(data["attention_mask"]) == 15


def test_plain_output_and_pair(capsys):
    assert main.main(["tokenize", "--model", "builtin", "--pair", "It is fun.", "Learning is hard"]) == 0
    out = capsys.readouterr().out
    assert "[CLS]" in out and "classification summary" in out and "separator" in out
    assert "token_type_ids: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]" in out
    assert "input_ids:      [101," in out


def test_xlnet_style_tokenizer_folder(capsys, xlnet_style_tokenizer):
    assert main.main(["tokenize", "--model", str(xlnet_style_tokenizer), "--json", "the film"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tokens"][-2:] == ["<sep>", "<cls>"]
    assert data["token_type_ids"][-1] == 2


def test_emoji_counts_as_unknown(capsys):
    assert main.main(["tokenize", "--json", "hello 😀"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tokens"] == ["[CLS]", "hello", "[UNK]", "[SEP]"] and data["unknown_count"] == 1
    assert data["offsets"][2] == [6, 7]


def test_errors_are_one_line(capsys, tiny_classifier, tmp_path):
    assert main.main(["tokenize", ""]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty" in err
    folder = tmp_path / "model-only"
    shutil.copytree(tiny_classifier, folder)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    assert main.main(["tokenize", "--model", str(folder), "hi"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "without a tokenizer" in err
    assert main.main(["tokenize", "--model", str(tmp_path / "missing"), "hi"]) == 2
    assert "does not exist" in capsys.readouterr().err
