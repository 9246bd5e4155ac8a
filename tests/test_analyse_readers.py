"""Readers: encodings, binary and unreadable files, bad CSV/JSONL, huge lines, many files."""

from __future__ import annotations

import codecs
import json
import os

import pytest

from services.core.files import collect_files, scan_file, scan_files
from services.core.readers import ReadOptions, iter_records, preview_file, validate_options
from services.core.errors import InputError


def read_all(paths, options=None):
    found, warnings = collect_files([str(p) for p in paths])
    files, scan_warnings = scan_files(found)
    warnings += scan_warnings
    records = list(iter_records(files, options or ReadOptions(), warnings))
    return records, warnings, files


def test_encodings_by_bom_and_cp1252_fallback(tmp_path):
    text = "café naïve\nzweite Zeile\n"
    (tmp_path / "utf8.txt").write_bytes(text.encode("utf-8"))
    (tmp_path / "bom.txt").write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    (tmp_path / "le.txt").write_bytes(text.encode("utf-16"))  # BOM + native order
    (tmp_path / "be.txt").write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    (tmp_path / "win.txt").write_bytes("smart “quotes” and café\n".encode("cp1252"))
    records, warnings, files = read_all([tmp_path])
    by_file = {}
    for record in records:
        by_file.setdefault(os.path.basename(record.file), []).append(record.text)
    for name in ("utf8.txt", "bom.txt", "le.txt", "be.txt"):
        assert by_file[name] == ["café naïve", "zweite Zeile"], name
    assert by_file["win.txt"] == ["smart “quotes” and café"]
    encodings = {os.path.basename(f.path): f.encoding for f in files}
    assert encodings["bom.txt"] == "utf-8-sig" and encodings["le.txt"] == "utf-16" and encodings["win.txt"] == "cp1252"
    fallback = [w for w in warnings if w.kind == "encoding"]
    assert len(fallback) == 1 and fallback[0].path.endswith("win.txt") and "cp1252" in str(fallback[0])


def test_binary_empty_and_blank_files(tmp_path):
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text("\n   \n\t\n\n")
    (tmp_path / "ok.md").write_text("# Title\n\nSome text.\n")
    records, warnings, _files = read_all([tmp_path])
    assert [r.text for r in records] == ["# Title", "Some text."]
    kinds = {(os.path.basename(w.path), w.kind) for w in warnings}
    assert ("image.txt", "binary") in kinds
    assert ("empty.txt", "empty") in kinds
    assert ("blank.txt", "empty") in kinds
    assert any("only blank lines" in str(w) for w in warnings)


def test_mixed_line_endings_and_stable_ids(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"one\r\ntwo\rthree\n\nfour")
    records, _w, _f = read_all([path])
    assert [r.text for r in records] == ["one", "two", "three", "four"]
    assert [r.line for r in records] == [1, 2, 3, 5]
    again, _w, _f = read_all([path])
    assert [r.id for r in records] == [r.id for r in again]
    assert len({r.id for r in records}) == 4


def test_file_mode_one_record_per_file(tmp_path):
    (tmp_path / "a.txt").write_text("first line\nsecond line\n")
    (tmp_path / "b.md").write_text("only\n")
    records, _w, _f = read_all([tmp_path], ReadOptions(mode="file"))
    assert [r.text for r in records] == ["first line\nsecond line", "only"]


def test_50mb_single_line_is_streamed_and_flagged(tmp_path):
    path = tmp_path / "huge.txt"
    piece = "word " * 200_000  # 1 MB
    with open(path, "w") as handle:
        for _ in range(50):
            handle.write(piece)
        handle.write("\nshort line after\n")
    records, warnings, _f = read_all([path], ReadOptions(max_chars=100_000))
    assert len(records) == 2
    huge = records[0]
    assert len(huge.text) == 100_000 and huge.chars == 50 * len(piece)
    assert "too-long" in huge.flags
    assert records[1].text == "short line after" and records[1].line == 2
    assert any(w.kind == "too-long" and w.line == 1 and "50,000,000" in w.message for w in warnings)


def test_csv_quoted_newlines_ragged_rows_and_gold(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('id,text,label\n1,"line one\nline two",positive\n2,too short\n3,"plain, with comma",negative,extra\n'
                    '\n4,last,positive\n')
    records, warnings, _f = read_all([path], ReadOptions(gold="label"))
    assert [r.text for r in records] == ["line one\nline two", "plain, with comma", "last"]
    assert [r.gold for r in records] == ["positive", "negative", "positive"]
    assert [r.line for r in records] == [2, 5, 7]
    ragged = [w for w in warnings if w.kind == "ragged"]
    assert any(w.line == 4 and "fewer" in w.message for w in ragged)
    assert any(w.line == 5 and "extra fields" in w.message for w in ragged)


def test_csv_missing_column_is_a_clear_error(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("sentence\tgold\nhello\tx\n")
    found, _ = collect_files([str(path)])
    files, _ = scan_files(found)
    with pytest.raises(InputError, match="has no column 'review'.*sentence, gold"):
        validate_options(files, ReadOptions(column="review"))
    records = list(iter_records(files, ReadOptions(), []))  # guessed: "sentence"
    assert [r.text for r in records] == ["hello"]


def test_jsonl_broken_lines_are_reported_with_line_numbers(tmp_path):
    path = tmp_path / "items.jsonl"
    lines = [json.dumps({"body": "first", "y": "a"}), "{not json", json.dumps({"body": "third", "y": "b"}), "",
             json.dumps({"other": 1}), json.dumps({"body": "sixth", "y": "a"}), '{"body": "torn']
    path.write_text("\n".join(lines) + "\n")
    records, warnings, _f = read_all([path], ReadOptions(column="body", gold="y"))
    assert [r.text for r in records] == ["first", "third", "sixth"]
    assert [r.line for r in records] == [1, 3, 6]
    assert [r.gold for r in records] == ["a", "b", "a"]
    broken = sorted(w.line for w in warnings if w.kind == "broken-line")
    assert broken == [2, 5, 7]


def test_json_array_is_parsed_item_by_item(tmp_path):
    path = tmp_path / "items.json"
    items = [{"text": f"item number {i}", "label": "x" if i % 2 else "y"} for i in range(3000)]
    path.write_text(json.dumps(items, indent=1))
    records, warnings, _f = read_all([path])
    assert len(records) == 3000 and records[2999].text == "item number 2999"
    assert not warnings
    info, _ = scan_file(str(path))
    preview = preview_file(info)
    assert preview.columns == ["text", "label"] and preview.text_column == "text" and preview.gold_column == "label"


def test_unreadable_inputs_are_skipped_with_reasons(tmp_path):
    (tmp_path / "good.txt").write_text("readable\n")
    os.symlink(tmp_path / "gone.txt", tmp_path / "dangling.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    records, warnings, _f = read_all([tmp_path / "good.txt", tmp_path / "dangling.txt", tmp_path / "pipe.txt",
                                      tmp_path / "missing.txt"])
    assert [r.text for r in records] == ["readable"]
    reasons = {os.path.basename(w.path): w.message for w in warnings}
    assert "missing file" in reasons["dangling.txt"]
    assert "FIFO" in reasons["pipe.txt"]
    assert "does not exist" in reasons["missing.txt"]


def test_folder_named_like_a_file_and_thousands_of_small_files(tmp_path):
    folder = tmp_path / "notes.txt"  # a directory with a file-like name: walked, never opened as a file
    folder.mkdir()
    for i in range(3000):
        (folder / f"note{i:04d}.txt").write_text(f"note {i}\n")
    (folder / "picture.png").write_bytes(b"\x89PNG")
    records, warnings, files = read_all([folder])
    assert len(files) == 3000 and len(records) == 3000
    assert records[0].text == "note 0" and records[-1].text == "note 2999"
    assert any(w.kind == "unsupported" and ".png" in w.message for w in warnings)


def test_preview_of_csv_guesses_columns(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,review,sentiment\n1,good,positive\n2,bad,negative\n")
    info, _ = scan_file(str(path), max_bytes=1 << 16)
    preview = preview_file(info)
    assert preview.columns == ["id", "review", "sentiment"]
    assert preview.text_column == "review" and preview.gold_column == "sentiment"
    assert preview.rows == [["1", "good", "positive"], ["2", "bad", "negative"]]
