"""Find input files (files and folders) and scan each once: size, SHA-256, encoding, binary check.

The scan reads a file in fixed-size blocks (never whole), so it is safe for files of any size.
Encodings: UTF-8, UTF-8 with BOM and UTF-16 (by BOM) are recognised; anything else is read as
cp1252 and the file gets a visible warning. A file with NUL bytes (and no UTF-16 BOM) is binary
and skipped with a reason; so are FIFOs, devices, dangling links and files that cannot be opened.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from services.core.cancel import NEVER_CANCELLED, CancelToken

BLOCK = 1 << 20
BINARY_SNIFF = 8192

# extension -> reader kind
KINDS = {".txt": "text", ".md": "text", ".markdown": "text", ".text": "text", ".csv": "csv", ".tsv": "tsv",
         ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


@dataclass
class FileWarning:
    """Something the user should know about one input file (shown next to the file, never hidden)."""

    path: str
    kind: str  # "encoding", "binary", "unreadable", "empty", "broken-line", "too-long", "ragged", "unsupported"
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" line {self.line}" if self.line is not None else ""
        return f"{Path(self.path).name}{where}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "message": self.message, "line": self.line}


@dataclass
class InputFile:
    path: str  # absolute, as the user named it (links not resolved)
    kind: str  # "text", "csv", "tsv", "jsonl", "json"
    size: int
    sha256: str
    encoding: str  # a Python codec name
    lines: int  # newline count + 1 for a non-empty last line (an estimate of records)
    warnings: list[FileWarning] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "size": self.size, "sha256": self.sha256,
                "encoding": self.encoding, "lines": self.lines}


def kind_for(path: str | os.PathLike) -> str | None:
    return KINDS.get(Path(path).suffix.lower())


def collect_files(paths, cancel: CancelToken = NEVER_CANCELLED) -> tuple[list[str], list[FileWarning]]:
    """Expand files and folders (recursively, sorted, hidden entries skipped) into file paths.

    A folder contributes only files with a known extension; a file named explicitly is taken
    whatever its extension (read as text). Missing paths become warnings, not exceptions.
    """
    found: list[str] = []
    warnings: list[FileWarning] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        if path not in seen:
            seen.add(path)
            found.append(path)

    for raw in paths:
        path = os.path.abspath(os.fspath(raw))
        if os.path.isdir(path):
            skipped: dict[str, int] = {}
            for root, dirs, names in os.walk(path):
                cancel.check()
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.startswith("."):
                        continue
                    full = os.path.join(root, name)
                    if kind_for(name) is None:
                        ext = Path(name).suffix.lower() or "(none)"
                        skipped[ext] = skipped.get(ext, 0) + 1
                    else:
                        add(full)
            if skipped:
                total = sum(skipped.values())
                kinds = ", ".join(sorted(skipped))
                warnings.append(FileWarning(path, "unsupported", f"skipped {total} file(s) of unsupported types ({kinds})"))
        elif os.path.lexists(path):
            add(path)
        else:
            warnings.append(FileWarning(path, "unreadable", "does not exist"))
    return found, warnings


def _detect_bom(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    return None


def scan_file(path: str, cancel: CancelToken = NEVER_CANCELLED,
              max_bytes: int | None = None) -> tuple[InputFile | None, FileWarning | None]:
    """Scan one file; return ``(InputFile, None)`` or ``(None, warning saying why it is skipped)``.

    ``max_bytes`` stops early (for a quick preview): then ``sha256`` is empty and ``size`` is the
    file's size from ``stat``.
    """
    try:
        info = os.stat(path)  # follows links: a dangling link raises here
    except FileNotFoundError:
        reason = "is a link to a missing file" if os.path.islink(path) else "does not exist"
        return None, FileWarning(path, "unreadable", f"skipped: {reason}")
    except OSError as error:
        return None, FileWarning(path, "unreadable", f"skipped: cannot read it ({error.strerror})")
    if not stat.S_ISREG(info.st_mode):
        what = "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else \
            "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        return None, FileWarning(path, "unreadable", f"skipped: it is {what}, not a file that can be read")
    digest = hashlib.sha256()
    size = 0
    newlines = 0
    last = b""
    encoding: str | None = None
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    try:
        with open(path, "rb") as handle:
            first = True
            while True:
                block = handle.read(BLOCK)
                if not block:
                    break
                cancel.check()
                if first:
                    first = False
                    encoding = _detect_bom(block[:4])
                    if encoding is None and b"\x00" in block[:BINARY_SNIFF]:
                        return None, FileWarning(path, "binary", "skipped: binary file (it contains NUL bytes)")
                digest.update(block)
                size += len(block)
                newlines += block.count(b"\n")
                last = block[-1:]
                if encoding is None and utf8_ok:
                    try:
                        utf8.decode(block, final=False)
                    except UnicodeDecodeError:
                        utf8_ok = False
                if max_bytes is not None and size >= max_bytes:
                    break
            partial = max_bytes is not None and size < info.st_size
            if encoding is None and utf8_ok and not partial:
                try:
                    utf8.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8_ok = False
    except OSError as error:
        return None, FileWarning(path, "unreadable", f"skipped: cannot read it ({error.strerror or error})")
    warnings: list[FileWarning] = []
    if encoding is None:
        encoding = "utf-8" if utf8_ok else "cp1252"
        if not utf8_ok:
            warnings.append(FileWarning(path, "encoding", "not valid UTF-8 or UTF-16; read as cp1252 (Windows-1252), "
                                                          "so some characters may be wrong"))
    lines = newlines + (1 if size and last != b"\n" else 0)
    if encoding == "utf-16":
        lines = max(1, newlines)  # approximate: newline bytes of UTF-16 text
    kind = kind_for(path) or "text"
    if partial:
        return InputFile(path, kind, info.st_size, "", encoding, lines, warnings), None
    return InputFile(path, kind, size, digest.hexdigest(), encoding, lines, warnings), None


def scan_files(paths: list[str], cancel: CancelToken = NEVER_CANCELLED, progress=None):
    """Scan every path: ``(usable files, warnings)`` with skipped files as warnings."""
    files: list[InputFile] = []
    warnings: list[FileWarning] = []
    for number, path in enumerate(paths):
        cancel.check()
        if progress is not None:
            progress(number, len(paths), f"Scanning {Path(path).name}")
        scanned, problem = scan_file(path, cancel)
        if problem is not None:
            warnings.append(problem)
            continue
        assert scanned is not None
        warnings.extend(scanned.warnings)
        if scanned.size == 0:
            warnings.append(FileWarning(path, "empty", "empty file: no records"))
        files.append(scanned)
    return files, warnings
