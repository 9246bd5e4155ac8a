"""``main.py analyse``: one output row per input record, manifest next to --out, clear one-line errors."""

from __future__ import annotations

import csv
import json

import main


def run_cli(capsys, *args):
    code = main.main(["analyse", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def make_folder(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text("Maria Lopez lives in Berlin.\n\nAcme hired Paris staff.\n")
    (folder / "tickets.csv").write_text('text,label\n"The app crashes\non start",negative\nLove it,positive\n')
    (folder / "bad.jsonl").write_text('{"text": "first"}\n{oops\n{"text": "third"}\n')
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    return folder


def test_token_classification_folder_to_jsonl(tmp_path, capsys, tiny_ner):
    folder = make_folder(tmp_path)
    out = tmp_path / "out" / "entities.jsonl"
    code, _out, err = run_cli(capsys, folder, "--task", "token-classification", "--model", tiny_ner, "--out", out)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == ["first", "third", "Maria Lopez lives in Berlin.", "Acme hired Paris staff.",
                                         "The app crashes\non start", "Love it"]
    assert len({r["id"] for r in rows}) == 6
    for row in rows:
        for entity in row["entities"]:
            assert row["text"][entity["start"]:entity["end"]] == entity["word"]
    assert "bad.jsonl line 2" in err and "blob.txt: skipped: binary" in err
    manifest = json.loads((out.parent / "entities.manifest.json").read_text())
    assert manifest["counts"]["records"] == 6 and len(manifest["inputs"]) == 3
    assert not (out.parent / "entities.jsonl.partial.jsonl").exists()


def test_classification_csv_with_gold_and_evaluation(tmp_path, capsys, tiny_classifier):
    folder = make_folder(tmp_path)
    out = tmp_path / "labels.csv"
    code, _out, err = run_cli(capsys, folder / "tickets.csv", "--task", "text-classification", "--model",
                              tiny_classifier, "--gold", "label", "--out", out, "--evaluate")
    assert code == 0, err
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["gold"] for r in rows] == ["negative", "positive"] and all(r["label"] for r in rows)
    assert "accuracy=" in err and "macro_f1=" in err


def test_zero_shot_to_stdout(tmp_path, capsys, tiny_nli):
    data = tmp_path / "a.txt"
    data.write_text("cheap flights to Rome\nquarterly profits rose\n")
    code, out, err = run_cli(capsys, data, "--task", "zero-shot-classification", "--model", tiny_nli,
                             "--labels", "travel, business")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2 and all(sorted(r["labels"]) == ["business", "travel"] for r in rows)


def test_errors_are_one_line_and_non_zero(tmp_path, capsys, tiny_classifier):
    code, _out, err = run_cli(capsys, tmp_path / "nope", "--task", "text-classification", "--model", tiny_classifier)
    assert code == 2 and err.strip().splitlines()[-1].startswith("error: There is nothing to analyse")
    data = tmp_path / "a.txt"
    data.write_text("x\n")
    code, _out, err = run_cli(capsys, data, "--task", "text-classification", "--model", tiny_classifier,
                              "--out", tmp_path / "a.txt" / "out.csv")
    assert code == 2 and "Cannot write to" in err
    code, _out, err = run_cli(capsys, data, "--task", "text-classification", "--model", tiny_classifier,
                              "--out", tmp_path / "out.xlsx")
    assert code == 2 and "--out must end in" in err
    code, _out, err = run_cli(capsys, data, "--task", "zero-shot-classification", "--model", tiny_classifier)
    assert code == 2 and "error:" in err
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    code, _out, err = run_cli(capsys, tmp_path / "t.csv", "--task", "text-classification", "--model",
                              tiny_classifier, "--column", "text")
    assert code == 2 and "has no column 'text'" in err
