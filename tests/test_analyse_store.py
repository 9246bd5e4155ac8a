"""Nothing lost: resume after a killed worker process, torn lines, atomic exports, full disk, manifest."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.core.engine import EngineOptions
from services.core.readers import ReadOptions
from services.analyse.results_store import ResultsStore, export, iter_rows, temp_path_for
from services.analyse.run import AnalyseRequest, analyse
from services.core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "analyse", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def result_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        return max(0, sum(1 for line in handle if line.endswith(b"\n")) - 1)


def test_killed_worker_process_resumes_without_duplicates_or_gaps(tmp_path, tiny_classifier):
    data = tmp_path / "lines.txt"
    count = 3000
    data.write_text("".join(f"record {i} " + "word " * (i % 37) + "\n" for i in range(count)))
    out = tmp_path / "out" / "results.csv"
    partial = out.with_name(out.name + ".partial.jsonl")
    args = [data, "--task", "text-classification", "--model", tiny_classifier, "--out", out, "--batch-size", "4"]
    process = cli(*args)
    deadline = time.monotonic() + 120
    while result_lines(partial) < 200 and time.monotonic() < deadline:
        # wait for the worker's next progress report on stderr (or its exit), then look at the file
        if not os.read(process.stderr.fileno(), 4096):
            break
    process.send_signal(signal.SIGKILL)
    process.communicate()
    done_before = result_lines(partial)
    assert process.returncode == -signal.SIGKILL
    assert 200 <= done_before < count, "the worker should have been killed midway"
    with open(partial, "ab") as handle:
        handle.write(b'{"id": "torn')  # a line cut in the middle of a write
    resumed = cli(*args, "--resume")
    _out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert "resumed" in err and not partial.exists()
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == count
    assert [row["id"] for row in rows] == [f"{data}#{i}" for i in range(count)]  # input order, no gaps/dupes
    assert all(row["label"] in ("negative", "positive") for row in rows)
    manifest = json.loads((out.parent / "results.manifest.json").read_text())
    assert manifest["counts"]["records"] == count and manifest["counts"]["resumed"] >= done_before
    assert manifest["counts"]["new"] == count - manifest["counts"]["resumed"]


def test_manifest_has_inputs_model_versions_and_counts(tmp_path, tiny_classifier):
    (tmp_path / "in").mkdir()
    data = tmp_path / "in" / "a.txt"
    data.write_text("good\nbad\n\nfine\n")
    request = AnalyseRequest([str(tmp_path / "in")], "text-classification", str(tiny_classifier))
    result = analyse(request, tmp_path / "run" / "results.jsonl")
    manifest = json.loads(result.manifest_path.read_text())
    import hashlib

    assert manifest["inputs"][0]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert manifest["model"]["path"] == str(tiny_classifier) and len(manifest["model"]["weights_sha256"]) == 64
    assert manifest["task"] == "text-classification" and manifest["settings"]["read"]["mode"] == "lines"
    assert {"transformers", "torch", "python"} <= set(manifest["versions"])
    assert manifest["device"] == "cpu" and manifest["started"] and manifest["finished"]
    assert manifest["counts"]["records"] == 3 and manifest["complete"] is True
    again = analyse(request, tmp_path / "run" / "results.jsonl")  # same analysis: all resumed
    assert again.resumed_rows == 3 and again.new_rows == 0 and again.rows == 3
    changed = AnalyseRequest([str(tmp_path / "in")], "text-classification", str(tiny_classifier),
                             engine=EngineOptions(chunking=True))
    other = analyse(changed, tmp_path / "run" / "results.jsonl")  # other settings: started over
    assert other.resumed_rows == 0 and other.rows == 3
    assert any(w.kind == "restart" for w in other.warnings)


def test_store_cuts_a_torn_line_and_never_duplicates(tmp_path):
    path = tmp_path / "r.jsonl"
    store = ResultsStore(path, "key", {})
    assert store.write([{"id": "f#0", "file": "f", "index": 0}, {"id": "f#1", "file": "f", "index": 1}]) == 2
    store.close()
    with open(path, "ab") as handle:
        handle.write(b'{"id": "f#2", "fi')
    store = ResultsStore(path, "key", {})
    assert store.resumed == 2
    assert store.write([{"id": "f#1", "file": "f", "index": 1}, {"id": "f#2", "file": "f", "index": 2}]) == 1
    store.close()
    assert [row["id"] for _o, row in iter_rows(path)] == ["f#0", "f#1", "f#2"]


def test_export_is_atomic_and_a_full_disk_keeps_the_earlier_export(tmp_path, tiny_classifier):
    data = tmp_path / "a.txt"
    data.write_text("one\ntwo\nthree\n")
    result = analyse(AnalyseRequest([str(data)], "text-classification", str(tiny_classifier)),
                     tmp_path / "results.jsonl")
    target = tmp_path / "export" / "labels.csv"
    export(result.results_path, target, result.file_paths, result.task)
    first = target.read_bytes()
    assert first.count(b"\n") == 4 and not temp_path_for(target).exists()
    # A real ENOSPC: the export's temporary file is a link to /dev/full, where every write fails.
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    os.symlink("/dev/full", temp_path_for(target))
    with pytest.raises(InputError, match="No space left on device.*earlier file was left"):
        export(result.results_path, target, result.file_paths, result.task)
    assert target.read_bytes() == first
    assert not os.path.lexists(temp_path_for(target))
    jsonl = export(result.results_path, tmp_path / "export" / "labels.jsonl", result.file_paths, result.task)
    assert [json.loads(line)["text"] for line in jsonl.read_text().splitlines()] == ["one", "two", "three"]


def test_output_folder_not_writable(tmp_path, tiny_classifier):
    data = tmp_path / "a.txt"
    data.write_text("one\n")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    request = AnalyseRequest([str(data)], "text-classification", str(tiny_classifier))
    with pytest.raises(InputError, match="Cannot write to"):
        analyse(request, blocker / "results.jsonl")
    result = analyse(request, tmp_path / "ok" / "results.jsonl")
    with pytest.raises(InputError, match="Cannot write to"):
        export(result.results_path, blocker / "out.csv", result.file_paths, result.task)


def test_nothing_to_analyse_is_a_clear_error(tmp_path, tiny_classifier):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="nothing to analyse"):
        analyse(AnalyseRequest([str(tmp_path / "missing")], "text-classification", str(tiny_classifier)),
                tmp_path / "r.jsonl")
    result = analyse(AnalyseRequest([str(tmp_path / "empty.txt")], "text-classification", str(tiny_classifier),
                                    read=ReadOptions()), tmp_path / "r.jsonl")
    assert result.rows == 0 and any(w.kind == "empty" for w in result.warnings)


def test_time_limit_stops_early_and_resume_finishes(tmp_path, tiny_classifier):
    data = tmp_path / "a.txt"
    data.write_text("".join(f"text {i}\n" for i in range(300)))
    request = AnalyseRequest([str(data)], "text-classification", str(tiny_classifier),
                             engine=EngineOptions(batch_size=4, window=16))
    first = analyse(request, tmp_path / "r.jsonl", seconds=1e-9)
    assert not first.complete and first.rows < 300
    second = analyse(request, tmp_path / "r.jsonl")
    assert second.complete and second.rows == 300 and second.resumed_rows == first.rows
