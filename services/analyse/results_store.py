"""Results on disk: a JSONL file written as results are produced, resumed after a crash.

The first line is a header with the run key (a hash of the inputs, model and settings). Each
further line is one record's result, keyed by the record id. Lines are written a batch at a time
and flushed, so a killed process loses at most the batch in flight; a torn last line is cut off on
resume. Exports (CSV, JSONL) and the manifest are written to a temporary file in the target folder
and then moved into place with ``os.replace``, so a failed export (a full disk) leaves the earlier
file intact.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from services.core.errors import InputError

FORMAT = "workbench-analyse/1"


class DoneSet:
    """Which record indexes of which file are done: one bit per record (small for millions)."""

    def __init__(self) -> None:
        self._bits: dict[str, bytearray] = {}
        self.count = 0

    def add(self, file: str, index: int) -> bool:
        bits = self._bits.setdefault(file, bytearray())
        byte, bit = divmod(index, 8)
        if byte >= len(bits):
            bits.extend(bytes(byte - len(bits) + 1 + len(bits) // 2))
        if bits[byte] >> bit & 1:
            return False
        bits[byte] |= 1 << bit
        self.count += 1
        return True

    def __contains__(self, key: tuple[str, int]) -> bool:
        file, index = key
        bits = self._bits.get(file)
        byte, bit = divmod(index, 8)
        return bits is not None and byte < len(bits) and bool(bits[byte] >> bit & 1)


def _cannot_write(path: Path, error: OSError) -> InputError:
    reason = error.strerror or str(error)
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        reason = f"'{ancestor}' is a file, not a folder"
    return InputError(f"Cannot write to '{path.parent}': {reason}.",
                      hint="Choose a folder you can write to (and check that the disk is not full).")


class ResultsStore:
    """Append-only results file for one run (``open`` it, ``write`` batches, ``close``)."""

    def __init__(self, path: Path, run_key: str, header: dict, resume: bool = True):
        self.path = Path(path)
        self.run_key = run_key
        self.done = DoneSet()
        self.resumed = 0
        self.restarted_reason = ""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if resume and self.path.exists():
                self._load_existing()
            if self.done.count == 0 and not self._header_ok:
                with open(self.path, "w", encoding="utf-8") as handle:
                    handle.write(json.dumps({"format": FORMAT, "run_key": run_key, **header}) + "\n")
            self._handle = open(self.path, "a", encoding="utf-8")
        except OSError as error:
            raise _cannot_write(self.path, error) from None

    _header_ok = False

    def _load_existing(self) -> None:
        good_end = 0
        with open(self.path, "rb") as handle:
            first = handle.readline()
            try:
                header = json.loads(first)
            except ValueError:
                header = {}
            if not first.endswith(b"\n") or header.get("run_key") != self.run_key:
                self.restarted_reason = ("the earlier results were made with other inputs or settings"
                                         if first.endswith(b"\n") else "the earlier results file was empty")
                return
            self._header_ok = True
            good_end = handle.tell()
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # torn by a kill mid-write: cut it off below
                try:
                    row = json.loads(line)
                    self.done.add(row["file"], int(row["index"]))
                except (ValueError, KeyError, TypeError):
                    break
                good_end += len(line)
        size = self.path.stat().st_size
        if good_end < size:
            with open(self.path, "r+b") as handle:
                handle.truncate(good_end)
        self.resumed = self.done.count

    def is_done(self, file: str, index: int) -> bool:
        return (file, index) in self.done

    def write(self, rows: list[dict]) -> int:
        """Append rows (skipping ids already stored) and flush; returns how many were new."""
        lines = []
        for row in rows:
            if self.done.add(row["file"], int(row["index"])):
                lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        if lines:
            try:
                self._handle.write("".join(lines))
                self._handle.flush()
            except OSError as error:
                raise _cannot_write(self.path, error) from None
        return len(lines)

    @property
    def rows(self) -> int:
        return self.done.count

    def close(self) -> None:
        if not self._handle.closed:
            try:
                self._handle.flush()
                os.fsync(self._handle.fileno())
            finally:
                self._handle.close()


def iter_rows(path: str | os.PathLike, start: int = 0) -> Iterator[tuple[int, dict]]:
    """``(byte offset, row)`` for each complete result line from ``start`` (0: after the header)."""
    with open(path, "rb") as handle:
        if start <= 0:
            handle.readline()
        else:
            handle.seek(start)
        offset = handle.tell()
        for line in handle:
            if not line.endswith(b"\n"):
                return
            yield offset, json.loads(line)
            offset += len(line)


def input_order(path: str | os.PathLike, files: list[str]) -> np.ndarray:
    """Byte offsets of the result lines sorted by input order (file, then record index)."""
    rank = {name: number for number, name in enumerate(files)}
    keys, offsets = [], []
    for offset, row in iter_rows(path):
        keys.append((rank.get(row["file"], len(rank)), int(row["index"])))
        offsets.append(offset)
    if not offsets:
        return np.zeros(0, dtype=np.int64)
    table = np.array(keys, dtype=np.int64)
    order = np.lexsort((table[:, 1], table[:, 0]))
    return np.asarray(offsets, dtype=np.int64)[order]


def rows_in_order(path: Path, files: list[str]) -> Iterator[dict]:
    offsets = input_order(path, files)
    with open(path, "rb") as handle:
        for offset in offsets:
            handle.seek(int(offset))
            yield json.loads(handle.readline())


CSV_BASE = ["id", "file", "line", "text", "gold", "flags"]


def csv_fields(task: str) -> list[str]:
    extra = {
        "text-classification": ["label", "score", "scores"],
        "token-classification": ["entities", "entity_count"],
        "zero-shot-classification": ["label", "score", "labels", "scores"],
        "sentence-similarity": ["embedding"],
        "fill-mask": ["predictions"],
        "text-generation": ["generated_text"],
        "question-answering": ["answer", "score", "start", "end", "answers"],
        "summarization": ["summary_text", "chunks"],
        "translation": ["translation_text", "chunks"],
    }.get(task, ["result"])
    return CSV_BASE + extra


def csv_row(row: dict, task: str) -> list:
    base = [row.get("id"), row.get("file"), row.get("line"), row.get("text"), row.get("gold") or "",
            ";".join(row.get("flags") or [])]
    if task == "text-classification":
        extra = [row.get("label", ""), _num(row.get("score")), json.dumps(row.get("scores") or {})]
    elif task == "token-classification":
        entities = row.get("entities") or []
        extra = [json.dumps(entities, ensure_ascii=False), len(entities)]
    elif task == "zero-shot-classification":
        labels, scores = row.get("labels") or [], row.get("scores") or []
        extra = [labels[0] if labels else "", _num(scores[0]) if scores else "", json.dumps(labels), json.dumps(scores)]
    elif task == "sentence-similarity":
        extra = [json.dumps(row.get("embedding") or [])]
    elif task == "text-generation":
        extra = [row.get("generated_text", row.get("text_out", ""))]
    elif task == "question-answering":  # start/end: where the answer lies in the text (characters)
        extra = [row.get("answer", ""), _num(row.get("score")), row.get("start", ""), row.get("end", ""),
                 json.dumps(row.get("answers") or [], ensure_ascii=False)]
    elif task in ("summarization", "translation"):
        key = "summary_text" if task == "summarization" else "translation_text"
        extra = [row.get(key, ""), row.get("chunks") or ""]
    else:
        known = {"id", "file", "index", "line", "text", "gold", "flags", "chars"}
        extra = [json.dumps({k: v for k, v in row.items() if k not in known}, ensure_ascii=False)]
    return base + extra


def _num(value) -> str:
    return "" if value is None else f"{float(value):.6g}"


def temp_path_for(target: Path) -> Path:
    """Where an export is written before it replaces ``target`` (same folder, so the rename is atomic)."""
    return target.with_name(f".{target.name}.tmp")


def write_atomic(target: str | os.PathLike, write) -> Path:
    """Call ``write(handle)`` on a temporary text file next to ``target``, then move it into place.

    On any error (e.g. the disk is full) the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    temp = temp_path_for(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except OSError as error:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if target.exists():
            raise InputError(f"Could not write '{target.name}': {error.strerror or error}.",
                             hint="The earlier file was left as it was.") from None
        raise _cannot_write(target, error) from None
    return target


def export(results: str | os.PathLike, target: str | os.PathLike, files: list[str], task: str,
           fmt: str | None = None) -> Path:
    """Export the results in input order as CSV or JSONL (by ``fmt`` or the target's extension)."""
    target = Path(target)
    fmt = fmt or ("csv" if target.suffix.lower() in (".csv", ".tsv") else "jsonl")
    if fmt not in ("csv", "jsonl"):
        raise InputError(f"Unknown export format '{fmt}'.", hint="Use .csv or .jsonl.")

    def write(handle: io.TextIOBase) -> None:
        write_rows(handle, rows_in_order(Path(results), files), task, fmt, tsv=target.suffix.lower() == ".tsv")

    return write_atomic(target, write)


def write_rows(handle, rows, task: str, fmt: str, tsv: bool = False) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(handle, delimiter="\t" if tsv else ",")
        writer.writerow(csv_fields(task))
        for row in rows:
            writer.writerow(csv_row(row, task))
            count += 1
    else:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_json_atomic(target: str | os.PathLike, data: dict) -> Path:
    return write_atomic(target, lambda handle: json.dump(data, handle, indent=2, ensure_ascii=False))
