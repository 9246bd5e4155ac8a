"""Reading a growing results file in chunks: complete lines only, offsets that fetch the same row,
entity counts, and a line still being written left for the next read."""

from __future__ import annotations

import json

from services.analyse.tail import ResultsChunk, TableRow, read_chunk


def _write(path, rows, header=True, torn=""):
    with open(path, "w", encoding="utf-8") as handle:
        if header:
            handle.write(json.dumps({"format": "workbench-analyse/1"}) + "\n")
        for row in rows:
            handle.write(json.dumps(row) + "\n")
        handle.write(torn)


def test_chunks_follow_the_file_as_it_grows(tmp_path):
    path = tmp_path / "results.jsonl"
    rows = [{"file": "/d/a.txt", "index": i, "line": i + 1, "text": f"t{i}", "label": "pos" if i % 2 else "neg",
             "score": 0.5 + i / 100, "flags": ["truncated"] if i == 3 else []} for i in range(5)]
    _write(path, rows[:3], torn='{"file": "/d/a.txt", "ind')
    first = read_chunk(path, 0, max_rows=2)
    assert isinstance(first, ResultsChunk) and first.more and len(first.rows) == 2
    assert first.rows[0] == TableRow("/d/a.txt", 1, "neg", 0.5, None, ())
    second = read_chunk(path, first.end, max_rows=2)
    assert len(second.rows) == 1 and not second.more  # the torn line waits for its newline
    assert read_chunk(path, second.end).rows == ()
    _write(path, rows)  # the writer finished the line and added another
    third = read_chunk(path, second.end)
    assert [row.line for row in third.rows] == [4, 5] and third.rows[0].flags == ("truncated",)
    with open(path, "rb") as handle:  # each offset fetches that row's full line
        for offset, row in zip(first.offsets + second.offsets + third.offsets, rows):
            handle.seek(offset)
            assert json.loads(handle.readline())["index"] == row["index"]


def test_entities_zero_shot_and_missing_files(tmp_path):
    path = tmp_path / "results.jsonl"
    _write(path, [{"file": "f", "line": 1, "gold": "PER", "entities": [
        {"entity_group": "PER", "word": "Maria"}, {"entity_group": "LOC", "word": "Berlin"}]},
                  {"file": "f", "line": 2, "entities": [{"entity_group": "PER", "word": "Maria"}]},
                  {"file": "f", "line": 3, "labels": ["question", "praise"], "scores": [0.7, 0.3]}])
    chunk = read_chunk(path)
    assert [row.label for row in chunk.rows] == ["2 entities", "1 entities", "question"]
    assert chunk.rows[2].score == 0.7 and chunk.rows[0].gold == "PER"
    assert dict(chunk.entity_counts) == {"PER: Maria": 2, "LOC: Berlin": 1}
    assert read_chunk(tmp_path / "not-yet.jsonl").rows == ()
    (tmp_path / "header-only").write_text('{"format": "wor')
    assert read_chunk(tmp_path / "header-only").end == 0
