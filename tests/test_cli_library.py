"""The `library` and `download` verbs: JSON listing, import/rename/remove/verify, download, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import main
from tests.hub_server import FakeHub

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def library(tmp_path, monkeypatch):
    folder = tmp_path / "lib"
    monkeypatch.setenv("WORKBENCH_LIBRARY", str(folder))  # restored after the test (main() sets it too)
    return folder


def run(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_through_the_real_entry_point(library, tiny_classifier):
    code = subprocess.run([sys.executable, "main.py", "--library", str(library), "library", "import",
                           str(tiny_classifier), "--name", "sentiment"], cwd=ROOT, capture_output=True, text=True)
    assert code.returncode == 0, code.stderr
    result = subprocess.run([sys.executable, "main.py", "--library", str(library), "library", "list", "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)
    by_name = {m["name"]: m for m in models}
    assert models[0]["source"] == "built-in"
    mine = by_name["sentiment"]
    assert mine["source"] == "library" and mine["path"] == str(library / "sentiment")
    assert mine["architecture"] == "BertForSequenceClassification" and "text-classification" in mine["tasks"]
    assert mine["labels"] == ["negative", "positive"] and mine["parameters"] > 900_000
    assert mine["size_bytes"] > 1_000_000 and mine["format"] == "safetensors"


def test_import_rename_remove_and_table(library, tiny_classifier, capsys):
    code, out, _ = run(capsys, "--library", str(library), "library", "import", str(tiny_classifier), "--name", "a")
    assert code == 0 and out.strip() == str(library / "a")
    code, out, _ = run(capsys, "library", "rename", "a", "b")
    assert code == 0 and (library / "b").is_dir() and not (library / "a").exists()
    code, out, _ = run(capsys, "library", "list", "--no-cache")
    assert code == 0 and "all-MiniLM-L6-v2 (built-in)" in out and "\nb " in out and "safetensors" in out
    code, _, err = run(capsys, "library", "remove", "b")
    assert code == 2 and "--yes" in err and (library / "b").exists()
    code, out, _ = run(capsys, "library", "remove", "b", "--yes")
    assert code == 0 and "Deleted 'b'" in out and "freeing" in out and not (library / "b").exists()


def test_bad_input_gives_one_line_and_exit_2(library, tmp_path, tiny_classifier, capsys):
    not_model = tmp_path / "notes"
    not_model.mkdir()
    code, _, err = run(capsys, "library", "import", str(not_model), "--name", "n")
    assert code == 2 and "no config.json" in err and len(err.strip().splitlines()) == 1
    run(capsys, "library", "import", str(tiny_classifier), "--name", "x")
    code, _, err = run(capsys, "library", "import", str(tiny_classifier), "--name", "x")
    assert code == 2 and "already exists" in err
    code, _, err = run(capsys, "library", "rename", "missing", "y")
    assert code == 2 and "No model named 'missing'" in err
    code, _, err = run(capsys, "library", "remove", "builtin", "--yes")
    assert code == 2 and "read-only" in err
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    code, _, err = run(capsys, "--library", str(blocker), "library", "import", str(tiny_classifier), "--name", "z")
    assert code == 2 and "is a file" in err


def test_verify_a_saved_model(library, tiny_classifier, capsys):
    from services.library.folder import save_model_atomic
    from services.core.models import load_model

    loaded = load_model(str(tiny_classifier), "text-classification")
    save_model_atomic(loaded.model, loaded.tokenizer, "saved")
    code, out, _ = run(capsys, "library", "verify", "saved")
    assert code == 0 and out.startswith("PASS") and "largest difference" in out


def test_download_with_progress_on_stderr(library, tiny_classifier, monkeypatch, capsys):
    with FakeHub() as hub:
        hub.add_model("org/tiny", folder=tiny_classifier, downloads=3)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
        code, out, err = run(capsys, "download", "org/tiny", "--revision", "main")
    assert code == 0, err
    assert out.strip() == str(library / "tiny") and (library / "tiny" / "model.safetensors").exists()
    assert "100.0%" in err and "[" in err


def test_download_offline_is_one_clear_line(library, capsys):
    code, _, err = run(capsys, "download", "bert-base-uncased")  # conftest sets HF_HUB_OFFLINE=1
    assert code == 2 and "Offline mode is on" in err.splitlines()[-1]
