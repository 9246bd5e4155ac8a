"""Records from input files, streamed: a record is one text (plus an optional gold label).

* ``.txt`` / ``.md``: one record per non-blank line (``mode="lines"``) or one per file (``mode="file"``).
  Universal newlines: ``\\n``, ``\\r\\n`` and ``\\r`` all end a line.
* ``.csv`` / ``.tsv``: the first row is the header; ``column`` picks the text, ``gold`` the label.
  Quoted newlines are part of the cell; rows too short for the chosen column are reported and skipped.
* ``.jsonl``: one JSON value per line; ``column`` names the field (dotted for nested objects).
  Broken lines are reported with their line number and skipped; the rest are read.
* ``.json``: a top-level array of objects (parsed element by element), else read as JSON lines.

A record's ``id`` is ``"<path>#<index>"`` (index = line / row / item position), stable across runs.
Texts longer than ``max_chars`` characters are read only up to that limit (the rest of the line is
skipped in bounded pieces, never loaded) and the record carries the flag ``"too-long"``.
"""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import dataclass, field
from typing import Iterator

from services.core.files import FileWarning, InputFile
from services.core.errors import InputError

DEFAULT_MAX_CHARS = 1_000_000
# Column / field names tried in this order (case-insensitive) by every reader: Analyse and Train.
TEXT_COLUMN_GUESSES = ("text", "sentence", "review", "content", "body", "message", "comment", "document", "utterance")
GOLD_COLUMN_GUESSES = ("label", "gold", "labels", "class", "category", "sentiment", "target", "y")
MAX_WARNINGS_PER_FILE = 200


@dataclass
class ReadOptions:
    mode: str = "lines"  # txt/md: "lines" or "file"
    column: str | None = None  # csv/tsv column or json field holding the text (None: guess)
    gold: str | None = None  # csv/tsv column or json field holding the gold label (None: none)
    max_chars: int = DEFAULT_MAX_CHARS

    def to_dict(self) -> dict:
        return {"mode": self.mode, "column": self.column, "gold": self.gold, "max_chars": self.max_chars}


@dataclass(slots=True)
class Record:
    id: str
    file: str
    index: int
    line: int
    text: str
    gold: str | None = None
    flags: tuple = ()
    chars: int = 0  # the full length of the text in the file (> len(text) when "too-long")


@dataclass
class Preview:
    """The first rows of a file, for choosing the text column / field and the gold label."""

    path: str
    kind: str
    encoding: str
    columns: list[str]
    rows: list[list[str]]
    text_column: str | None
    gold_column: str | None
    warnings: list[FileWarning] = field(default_factory=list)


class _Sink:
    """Collects a file's warnings, capped so that a broken file cannot flood memory."""

    def __init__(self, path: str, out: list[FileWarning]):
        self.path, self.out, self.count = path, out, 0

    def warn(self, kind: str, message: str, line: int | None = None) -> None:
        self.count += 1
        if self.count <= MAX_WARNINGS_PER_FILE:
            self.out.append(FileWarning(self.path, kind, message, line))
        elif self.count == MAX_WARNINGS_PER_FILE + 1:
            self.out.append(FileWarning(self.path, "broken-line", "more problems in this file were not listed", line))


def _open_text(info: InputFile, newline: str | None = None):
    errors = "replace" if info.encoding == "cp1252" else "strict"
    return open(info.path, encoding=info.encoding, errors=errors, newline=newline)


def _read_lines(handle, max_chars: int) -> Iterator[tuple[int, str, int]]:
    """``(line number, text, full length)``; a line longer than ``max_chars`` is cut, the rest skipped."""
    for number in itertools.count(1):
        piece = handle.readline(max_chars)
        if not piece:
            return
        if piece.endswith("\n") or len(piece) < max_chars:
            yield number, piece.rstrip("\n"), len(piece.rstrip("\n"))
            continue
        length = len(piece)
        while True:  # consume the rest of an over-long line in bounded pieces
            more = handle.readline(max_chars)
            if not more:
                break
            length += len(more)
            if more.endswith("\n"):
                length -= 1
                break
        yield number, piece, length


def _too_long(sink: _Sink, length: int, max_chars: int, line: int) -> tuple:
    if length <= max_chars:
        return ()
    sink.warn("too-long", f"text has {length:,} characters; only the first {max_chars:,} are analysed", line)
    return ("too-long",)


def _text_records(info: InputFile, options: ReadOptions, sink: _Sink) -> Iterator[Record]:
    with _open_text(info) as handle:
        if options.mode == "file":
            text = handle.read(options.max_chars)
            length = len(text)
            while True:
                more = handle.read(1 << 20)
                if not more:
                    break
                length += len(more)
            if not text.strip():
                sink.warn("empty", "file has no text: no records")
                return
            flags = _too_long(sink, length, options.max_chars, 1)
            yield Record(f"{info.path}#0", info.path, 0, 1, text.strip("\r\n"), None, flags, length)
            return
        count = 0
        for number, text, length in _read_lines(handle, options.max_chars):
            if not text.strip():
                continue
            count += 1
            flags = _too_long(sink, length, options.max_chars, number)
            yield Record(f"{info.path}#{number - 1}", info.path, number - 1, number, text, None, flags, length)
        if count == 0 and info.size:
            sink.warn("empty", "only blank lines: no records")


def _pick(columns: list[str], wanted: str | None, guesses: tuple[str, ...], what: str, info: InputFile,
          required: bool) -> int | None:
    if wanted is not None and wanted != "":
        if wanted in columns:
            return columns.index(wanted)
        lowered = [c.strip().lower() for c in columns]
        if wanted.strip().lower() in lowered:
            return lowered.index(wanted.strip().lower())
        raise InputError(f"'{info.path}' has no {what} '{wanted}'.",
                         hint=f"Its {what}s are: {', '.join(columns) or '(none)'}.")
    if not required:
        return None
    lowered = [c.strip().lower() for c in columns]
    for guess in guesses:
        if guess in lowered:
            return lowered.index(guess)
    return 0 if columns else None


def delimiter_of(kind: str, first_line: str) -> str:
    """Tab for .tsv, and for a .csv whose header has tabs but no commas (a TSV saved as .csv); else comma."""
    if kind == "tsv" or ("\t" in first_line and "," not in first_line):
        return "\t"
    return ","


def _csv_reader(handle, info: InputFile):
    csv.field_size_limit(1 << 30)  # the per-cell limit is enforced by max_chars below
    first_line = handle.readline(1 << 16)
    handle.seek(0)
    return csv.reader(handle, delimiter=delimiter_of(info.kind, first_line))


def guess_columns(columns: list[str], need_label: bool = False) -> tuple[str | None, str | None]:
    """The likely text and label columns, by name (``*_GUESSES``); the text column falls back to the
    first column. The label falls back to the last other column only when one is required (training);
    for Analyse a gold label is optional, so no name match means none."""
    lowered = {c.strip().lower(): c for c in columns}
    text = next((lowered[n] for n in TEXT_COLUMN_GUESSES if n in lowered), columns[0] if columns else None)
    label = next((lowered[n] for n in GOLD_COLUMN_GUESSES if n in lowered and lowered[n] != text), None)
    if label is None and need_label:
        others = [c for c in columns if c != text]
        label = others[-1] if others else None
    return text, label


def _csv_records(info: InputFile, options: ReadOptions, sink: _Sink) -> Iterator[Record]:
    with _open_text(info, newline="") as handle:
        reader = _csv_reader(handle, info)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InputError(f"'{info.path}' is not readable as CSV: {error}.") from None
        text_at = _pick(header, options.column, TEXT_COLUMN_GUESSES, "column", info, True)
        gold_at = _pick(header, options.gold, GOLD_COLUMN_GUESSES, "column", info, False)
        need = max(i for i in (text_at, gold_at) if i is not None) + 1
        index = 0
        for line, row in _csv_rows(reader, sink):
            if not row or (len(row) == 1 and not row[0].strip() and need > 1):
                continue  # a blank line is no record
            position = index
            index += 1
            if len(row) < need:
                sink.warn("ragged", f"row has {len(row)} field(s), fewer than the {need} needed; skipped", line)
                continue
            if len(row) > len(header):
                sink.warn("ragged", f"row has {len(row)} fields but the header has {len(header)}; extra fields ignored", line)
            text = row[text_at]
            flags = _too_long(sink, len(text), options.max_chars, line)
            gold = row[gold_at].strip() if gold_at is not None else None
            yield Record(f"{info.path}#{position}", info.path, position, line, text[: options.max_chars], gold or None,
                         flags, len(text))


def _csv_rows(reader, sink: _Sink) -> Iterator[tuple[int, list[str]]]:
    """``(first line number, cells)`` for each row after the header; an unreadable row is a warning."""
    start_line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            sink.warn("broken-line", f"unreadable CSV row ({error}); skipped", start_line)
            start_line = reader.line_num + 1
            continue
        line, start_line = start_line, reader.line_num + 1
        yield line, row


def _get_field(value, path: str | None):
    if path is None:
        return value
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(part)
        value = value[part]
    return value


def _guess_field(value, guesses: tuple[str, ...]) -> str | None:
    if not isinstance(value, dict):
        return None
    lowered = {str(k).lower(): k for k in value}
    for guess in guesses:
        if guess in lowered:
            return str(lowered[guess])
    return next((str(k) for k, v in value.items() if isinstance(v, str)), None)


def _json_values(info: InputFile, options: ReadOptions, sink: _Sink) -> Iterator[tuple[int, int, object]]:
    """``(position, line or item number, value)`` for JSON lines or the items of a JSON array."""
    with _open_text(info) as handle:
        head = handle.read(4096)
        handle.seek(0)
        if info.kind == "json" and head.lstrip().startswith("["):
            yield from _json_array_items(handle, options, sink)
            return
        position = 0
        for number, text, length in _read_lines(handle, options.max_chars):
            if not text.strip():
                continue
            if length > options.max_chars:
                sink.warn("too-long", f"line has {length:,} characters (more than {options.max_chars:,}); skipped", number)
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                sink.warn("broken-line", f"not valid JSON ({error.msg} at column {error.colno}); skipped", number)
                continue
            yield position, number, value
            position += 1


def _json_array_items(handle, options: ReadOptions, sink: _Sink) -> Iterator[tuple[int, int, object]]:
    decoder = json.JSONDecoder()
    chunk = 1 << 16
    buffer = handle.read(chunk).lstrip()
    at_end = False
    pos = 1  # after "["
    item = 0
    while True:
        while True:  # skip separators, reading more as needed
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buffer) or at_end:
                break
            more = handle.read(chunk)
            at_end = not more
            buffer, pos = buffer[pos:] + more, 0
        if pos >= len(buffer):
            sink.warn("broken-line", "the JSON array is not closed with ']'", None)
            return
        if buffer[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, pos)
            complete = end < len(buffer) or at_end
        except json.JSONDecodeError as error:
            value, end, complete = None, -1, False
            if at_end or len(buffer) - pos > options.max_chars:
                sink.warn("broken-line", f"item {item + 1} is not valid JSON ({error.msg}); the rest of the file is skipped",
                          None)
                return
        if not complete:
            more = handle.read(chunk)
            at_end = not more
            buffer, pos = buffer[pos:] + more, 0
            continue
        yield item, item + 1, value
        item += 1
        pos = end
        if pos > chunk:
            buffer, pos = buffer[pos:], 0


def _json_records(info: InputFile, options: ReadOptions, sink: _Sink) -> Iterator[Record]:
    text_field, gold_field = options.column or None, options.gold or None
    guessed = False
    where = "item" if info.kind == "json" else "line"
    for position, number, value in _json_values(info, options, sink):
        if text_field is None and not guessed:
            guessed = True
            text_field = _guess_field(value, TEXT_COLUMN_GUESSES)
        try:
            text = _get_field(value, text_field) if isinstance(value, dict) or text_field else value
        except KeyError:
            sink.warn("broken-line", f"{where} {number} has no field '{text_field}'; skipped", number)
            continue
        if not isinstance(text, str):
            if isinstance(text, (int, float, bool)):
                text = str(text)
            else:
                sink.warn("broken-line", f"{where} {number}: field '{text_field}' is not text; skipped", number)
                continue
        gold = None
        if gold_field:
            try:
                gold_value = _get_field(value, gold_field)
                gold = None if gold_value is None else str(gold_value)
            except KeyError:
                gold = None
        flags = _too_long(sink, len(text), options.max_chars, number)
        yield Record(f"{info.path}#{position}", info.path, position, number, text[: options.max_chars], gold, flags,
                     len(text))


def iter_file_records(info: InputFile, options: ReadOptions, warnings: list[FileWarning]) -> Iterator[Record]:
    """Records of one scanned file; problems are appended to ``warnings`` as they are met."""
    if info.size == 0:
        return
    sink = _Sink(info.path, warnings)
    try:
        if info.kind in ("csv", "tsv"):
            yield from _csv_records(info, options, sink)
        elif info.kind in ("jsonl", "json"):
            yield from _json_records(info, options, sink)
        else:
            yield from _text_records(info, options, sink)
    except UnicodeDecodeError as error:
        sink.warn("encoding", f"could not be decoded as {info.encoding} ({error.reason}); the rest is skipped")
    except OSError as error:
        sink.warn("unreadable", f"reading stopped: {error.strerror or error}")


def iter_records(files: list[InputFile], options: ReadOptions, warnings: list[FileWarning]) -> Iterator[Record]:
    for info in files:
        yield from iter_file_records(info, options, warnings)


def validate_options(files: list[InputFile], options: ReadOptions) -> None:
    """Check column/field choices against each CSV header now (before a long run starts)."""
    if options.mode not in ("lines", "file"):
        raise InputError(f"Unknown text mode '{options.mode}'.", hint="Use 'lines' (one record per line) or 'file'.")
    for info in files:
        if info.kind in ("csv", "tsv") and info.size:
            with _open_text(info, newline="") as handle:
                try:
                    header = next(_csv_reader(handle, info))
                except (StopIteration, csv.Error):
                    continue
            _pick(header, options.column, TEXT_COLUMN_GUESSES, "column", info, True)
            _pick(header, options.gold, GOLD_COLUMN_GUESSES, "column", info, False)


def preview_file(info: InputFile, rows: int = 8, options: ReadOptions | None = None) -> Preview:
    """The header (or field names) and first rows of a file, and the guessed text/gold columns."""
    options = options or ReadOptions()
    warnings: list[FileWarning] = []
    sink = _Sink(info.path, warnings)
    if info.kind in ("csv", "tsv"):
        with _open_text(info, newline="") as handle:
            reader = _csv_reader(handle, info)
            try:
                table = [[cell[:200] for cell in row] for row in itertools.islice(reader, rows + 1)]
            except csv.Error as error:
                table = []
                sink.warn("broken-line", f"unreadable CSV ({error})", reader.line_num)
        header = table[0] if table else []
        text, gold = guess_columns(header)
        return Preview(info.path, info.kind, info.encoding, header, table[1:], text, gold, warnings)
    if info.kind in ("jsonl", "json"):
        values = [v for _p, _n, v in itertools.islice(_json_values(info, ReadOptions(max_chars=options.max_chars), sink), rows)]
        keys: list[str] = []
        for value in values:
            if isinstance(value, dict):
                keys += [str(k) for k in value if str(k) not in keys]
        table = [[str(v.get(k, ""))[:200] if isinstance(v, dict) else str(v)[:200] for k in keys or ["value"]]
                 for v in values]
        first = values[0] if values else None
        text = _guess_field(first, TEXT_COLUMN_GUESSES)
        gold = guess_columns(keys)[1]
        return Preview(info.path, info.kind, info.encoding, keys, table, text, gold, warnings)
    with _open_text(info) as handle:
        lines = [[text[:200]] for _n, text, _l in itertools.islice(_read_lines(handle, 4096), rows)]
    return Preview(info.path, info.kind, info.encoding, ["line"], lines, None, None, warnings)


# -- whole files, for training (the same decoding, delimiters, JSON handling and warnings) -------------
def read_text(info: InputFile) -> str:
    """The whole file as text, decoded as the scan decided (cp1252 with replacement characters)."""
    with _open_text(info) as handle:
        return handle.read()


def table_rows(info: InputFile, warnings: list[FileWarning]) -> tuple[list[str], list[dict]]:
    """Every row of a CSV/TSV (header → column names) or JSONL/JSON file (objects) as dicts, with a
    ``"line"`` key. Broken rows and JSON lines are reported in ``warnings`` and skipped, as in Analyse."""
    sink = _Sink(info.path, warnings)
    rows: list[dict] = []
    if info.kind in ("csv", "tsv"):
        with _open_text(info, newline="") as handle:
            reader = _csv_reader(handle, info)
            try:
                header = [name.strip() for name in next(reader)]
            except StopIteration:
                return [], []
            except csv.Error as error:
                raise InputError(f"'{info.path}' is not readable as CSV: {error}.") from None
            for line, values in _csv_rows(reader, sink):
                if not any(value.strip() for value in values):
                    continue  # a blank line is no row
                row = {name: (values[i] if i < len(values) else None) for i, name in enumerate(header)}
                row["line"] = line
                rows.append(row)
        return header, rows
    columns: list[str] = []
    where = "item" if info.kind == "json" else "line"
    for _position, number, value in _json_values(info, ReadOptions(), sink):
        if not isinstance(value, dict):
            sink.warn("broken-line", f"{where} {number} is not a JSON object; skipped", number)
            continue
        columns += [str(key) for key in value if str(key) not in columns and key != "line"]
        rows.append({**value, "line": value.get("line", number)})
    return columns, rows
