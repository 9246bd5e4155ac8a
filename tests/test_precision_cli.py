"""``--precision`` on ``main.py predict`` and ``main.py analyse``: what runs is said on stderr (stdout stays
JSON), bad choices fail with one clear line, the Analyse manifest records the check."""

from __future__ import annotations

import json

import pytest

import main
from services.core import precision as P


def _run(capsys, *argv) -> tuple[int, list[str], str]:
    code = main.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, [line for line in captured.out.splitlines() if line], captured.err


def test_unsupported_precision_runs_float32_and_says_so(capsys, monkeypatch, tiny_classifier):
    monkeypatch.setenv(P.CPU_BF16_ENV, "0")
    code, out, err = _run(capsys, "predict", "--task", "text-classification", "--model", tiny_classifier,
                          "--precision", "bfloat16", "Great film!")
    assert code == 0 and json.loads(out[0])["label"] in ("negative", "positive")
    assert err.startswith("precision: float32: bfloat16 not supported here\nnote: bfloat16 is not supported on this CPU")
    assert "float32 is used instead" in err


def test_int8_on_a_gpu_is_one_clear_line(capsys, tiny_classifier):
    code, out, err = _run(capsys, "predict", "--task", "text-classification", "--model", tiny_classifier,
                          "--device", "cuda:0", "--precision", "int8", "hi")
    assert code == 2 and out == []
    assert err.startswith("error: int8 precision runs on the CPU only") and len(err.strip().splitlines()) == 1


def test_unknown_precision_is_refused(capsys, tiny_classifier):
    with pytest.raises(SystemExit) as exited:
        main.main(["predict", "--task", "text-classification", "--model", str(tiny_classifier), "--precision", "fp8",
                   "hi"])
    assert exited.value.code == 2 and "invalid choice: 'fp8'" in capsys.readouterr().err


def test_float32_says_nothing_extra(capsys, tiny_classifier):
    code, out, err = _run(capsys, "predict", "--task", "text-classification", "--model", tiny_classifier, "hi")
    assert code == 0 and "precision" not in err


def test_float16_weights_are_noted(capsys, tmp_path, tiny_classifier):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tmp_path / "half"
    AutoModelForSequenceClassification.from_pretrained(str(tiny_classifier)).half().save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(tiny_classifier)).save_pretrained(folder)
    code, out, err = _run(capsys, "predict", "--task", "text-classification", "--model", folder, "hi")
    assert code == 0 and "stored as float16" in err and "loaded as float32" in err


def test_analyse_auto_writes_the_check_to_the_manifest(capsys, monkeypatch, tmp_path, tiny_classifier,
                                                       one_torch_thread):
    monkeypatch.setenv(P.CPU_BF16_ENV, "1")
    data = tmp_path / "texts.txt"
    data.write_text("\n".join(P.builtin_sample(24)), encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _out, err = _run(capsys, "analyse", str(data), "--task", "text-classification", "--model", tiny_classifier,
                           "--precision", "auto", "--out", out)
    assert code == 0, err
    manifest = json.loads((tmp_path / "out.manifest.json").read_text(encoding="utf-8"))
    assert manifest["precision"]["requested"] == "auto" and manifest["precision"]["texts"] == 24
    assert f"precision: {manifest['precision']['summary']}" in err
    assert manifest["threads"]["threads"] >= 1


def test_ray_refuses_a_reduced_precision(capsys, tmp_path, tiny_classifier):
    data = tmp_path / "texts.txt"
    data.write_text("one\n", encoding="utf-8")
    code, _out, err = _run(capsys, "analyse", str(data), "--task", "text-classification", "--model", tiny_classifier,
                           "--precision", "int8", "--ray", "local")
    assert code == 2 and "--precision applies to local runs" in err


def test_train_precision_falls_back_and_says_so(capsys, monkeypatch, tmp_path, tiny_encoder, one_torch_thread):
    from tests.test_training_data import sentiment_rows, write_csv

    monkeypatch.setenv(P.CPU_BF16_ENV, "0")
    monkeypatch.setenv("WORKBENCH_LIBRARY", str(tmp_path / "library"))
    data = write_csv(tmp_path / "reviews.csv", sentiment_rows(32))
    code, out, err = _run(capsys, "train", "--data", data, "--model", tiny_encoder, "--name", "mixed", "--epochs", 1,
                          "--min-steps", 0, "--max-length", 32, "--precision", "bfloat16")
    assert code == 0, err
    summary = json.loads(out[-1])
    assert any("bfloat16 mixed precision is not supported here" in w and "trained in float32" in w
               for w in summary["warnings"])
