"""Describe model folders for the library list, cheaply: JSON files and safetensors headers only.

Nothing here loads weights (no torch), so a scan of many folders stays quick. Extra folders the
user adds are walked safely: symlink loops, unreadable folders and huge trees never hang or crash.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping

from services.core.errors import ModelError
from services.core.model_info import BUILTIN, BUILTIN_NAME, builtin_model_path, inspect_model

SOURCES = ("built-in", "library", "hf-cache", "folder")
SAFETENSORS_HEADER_LIMIT = 100 * 1024 * 1024  # a header larger than this is not a real safetensors file
MAX_SCAN_DEPTH = 4
MAX_SCAN_DIRS = 5000


@dataclass(frozen=True)
class ModelEntry:
    """One row of the library: a model folder and what we know about it without loading it.

    Frozen: entries are made on a worker and handed to the GUI, so a new fact (a parameter count, a
    new name) makes a new entry (``dataclasses.replace``) instead of changing one another thread holds.
    """

    name: str
    path: Path
    source: str  # one of SOURCES
    spec: str = ""  # what load_model() takes: "builtin" or the folder path
    architecture: str = ""
    model_type: str = ""
    tasks: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    parameters: int | None = None
    size_bytes: int = 0
    format: str = "none"  # "safetensors", "pickle (.bin)" or "none"
    tokenizer_class: str = ""
    modified: float = 0.0  # POSIX timestamp
    problem: str = ""  # why the folder cannot be used as it is ("" = fine)
    remote_code: bool = False
    repo_id: str = ""  # Hugging Face cache entries: the repo and the commit of the snapshot
    revision: str = ""
    refs: list[str] = field(default_factory=list)
    has_tokenizer: bool = False
    # Which folder this is on disk (device, inode) and a cheap fingerprint of its state: a rename keeps
    # the identity; an unchanged signature lets a rescan reuse the entry instead of reading the folder.
    identity: tuple[int, int] | None = field(default=None, compare=False, repr=False)
    signature: tuple = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if not self.spec:
            object.__setattr__(self, "spec", str(self.path))

    @property
    def read_only(self) -> bool:
        """Built-in and cached models are not renamed or edited in place (duplicate them first)."""
        return self.source in ("built-in", "hf-cache")

    @property
    def pickle_weights(self) -> bool:
        return self.format.startswith("pickle")

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def readable(self) -> bool:
        """Its config could be read (a folder that is not a model is listed only to show its problem)."""
        return bool(self.model_type or self.architecture or self.tasks)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("identity")
        data.pop("signature")
        data["path"] = str(self.path)
        data["read_only"] = self.read_only
        return data


def path_key(path: str | os.PathLike) -> str:
    """The real path of ``path`` (links resolved): one folder reached by two paths gives one key."""
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def folder_signature(folder: str | os.PathLike) -> tuple:
    """A cheap fingerprint of a model folder (its identity and mtime, config.json's mtime and size).

    Saving, importing, renaming, editing labels and adding or removing files all change it; ``()``
    when the folder is gone.
    """
    try:
        status = os.stat(folder)
    except OSError:
        return ()
    try:
        config = os.stat(os.path.join(folder, "config.json"))
        config_part = (config.st_mtime_ns, config.st_size)
    except OSError:
        config_part = (0, -1)
    return (status.st_dev, status.st_ino, status.st_mtime_ns) + config_part


# -- cheap facts about a folder ----------------------------------------------------------------
def safetensors_parameter_count(file: Path) -> int:
    """Number of parameters in one ``.safetensors`` file, read from its JSON header only."""
    with open(file, "rb") as handle:
        raw = handle.read(8)
        if len(raw) != 8:
            raise ValueError("file too short for a safetensors header")
        (length,) = struct.unpack("<Q", raw)
        if length > SAFETENSORS_HEADER_LIMIT:
            raise ValueError("implausible safetensors header length")
        header = json.loads(handle.read(length))
    total = 0
    for name, tensor in header.items():
        if name == "__metadata__" or not str(tensor.get("dtype", "F")).startswith(("F", "BF")):
            continue  # integer tensors are buffers (e.g. position_ids), not parameters
        count = 1
        for dim in tensor.get("shape", []):
            count *= int(dim)
        total += count
    return total


def parameter_count(folder: Path, weight_files: list[str]) -> int | None:
    """Parameters from safetensors headers (single or sharded); None for pickle weights or errors."""
    try:
        if "model.safetensors.index.json" in weight_files:
            index = json.loads((folder / "model.safetensors.index.json").read_text(encoding="utf-8"))
            shards = sorted(set(index.get("weight_map", {}).values()))
            return sum(safetensors_parameter_count(folder / shard) for shard in shards)
        files = [name for name in weight_files if name.endswith(".safetensors")]
        if "model.safetensors" in files:
            files = ["model.safetensors"]
        if not files:
            return None
        return sum(safetensors_parameter_count(folder / name) for name in files)
    except (OSError, ValueError, TypeError, AttributeError, json.JSONDecodeError):
        return None


def count_parameters_by_loading(folder: str | os.PathLike) -> int:
    """Parameters of a pickle (``.bin``) checkpoint: loads the tensors (weights_only, memory-mapped).

    Slow for big models: run it on a worker. Only tensors are unpickled (``weights_only=True``).
    """
    import torch

    folder = Path(folder)
    files = sorted(folder.glob("pytorch_model*.bin"))
    if not files:
        raise ModelError(f"'{folder.name}' has no pytorch_model*.bin file.")
    total = 0
    for file in files:
        try:
            state = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
        except Exception as error:  # noqa: BLE001 - a broken pickle raises many types
            raise ModelError(f"Cannot read '{file.name}': {error}") from error
        total += sum(t.numel() for t in state.values() if hasattr(t, "numel"))
    return total


def folder_size(folder: Path) -> int:
    """Bytes of all files under ``folder`` (symlinked files count their target; linked folders are not followed)."""
    total = 0
    for directory, _dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            try:
                total += os.stat(os.path.join(directory, name)).st_size
            except OSError:
                continue
    return total


def newest_mtime(folder: Path) -> float:
    newest = 0.0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    newest = max(newest, entry.stat().st_mtime)
                except OSError:
                    continue
    except OSError:
        pass
    return newest


def tokenizer_class(folder: Path) -> str:
    config = folder / "tokenizer_config.json"
    try:
        value = json.loads(config.read_text(encoding="utf-8")).get("tokenizer_class")
    except (OSError, ValueError, AttributeError):
        value = None
    if value:
        return str(value)
    if (folder / "tokenizer.json").exists():
        return "(fast tokenizer.json)"
    return ""


def describe_folder(folder: str | os.PathLike, source: str, *, name: str | None = None,
                    size_bytes: int | None = None, known: Mapping[str, ModelEntry] | None = None) -> ModelEntry:
    """A :class:`ModelEntry` for ``folder``; an unreadable folder gives an entry with ``problem`` set.

    ``known`` (spec → entry, from an earlier scan): an entry for the same folder and source whose
    signature has not changed is returned as it is, without reading the folder again.
    """
    spec = BUILTIN if source == "built-in" else str(folder)
    path = builtin_model_path() if source == "built-in" else Path(folder)
    display = name or (BUILTIN_NAME if source == "built-in" else path.name)
    signature = folder_signature(path)
    previous = known.get(spec) if known else None
    if (previous is not None and signature and previous.signature == signature and previous.source == source
            and previous.name == display and (size_bytes is None or previous.size_bytes == size_bytes)):
        return previous
    identity = signature[:2] if signature else None
    try:
        info = inspect_model(spec)
    except ModelError as error:
        return ModelEntry(name=display, path=path, source=source, spec=spec, problem=str(error),
                          size_bytes=size_bytes if size_bytes is not None else _safe_size(path),
                          modified=newest_mtime(path), identity=identity, signature=signature)
    labels = [info.labels[key] for key in sorted(info.labels)]
    return ModelEntry(
        name=display,
        path=info.path,
        source=source,
        spec=spec,
        architecture=", ".join(info.architectures) or info.model_type,
        model_type=info.model_type,
        tasks=list(info.tasks),
        labels=labels,
        parameters=parameter_count(info.path, info.weight_files),
        size_bytes=size_bytes if size_bytes is not None else folder_size(info.path),
        format=info.weight_format,
        tokenizer_class=tokenizer_class(info.path),
        modified=newest_mtime(info.path),
        problem="; ".join(info.problems),
        remote_code=info.remote_code,
        has_tokenizer=info.has_tokenizer,
        identity=identity,
        signature=signature,
    )


def _safe_size(path: Path) -> int:
    return folder_size(path) if path.is_dir() else 0


# -- walking user folders ----------------------------------------------------------------------
def find_model_folders(root: str | os.PathLike, *, max_depth: int = MAX_SCAN_DEPTH,
                       max_dirs: int = MAX_SCAN_DIRS, cancel=None) -> list[Path]:
    """Folders holding ``config.json`` under ``root`` (itself included), found safely.

    Symlinked folders are followed once: every real folder is visited at most once (by device and
    inode), so a symlink loop ends the walk instead of hanging it. Hidden folders are skipped,
    unreadable ones ignored, and the walk stops after ``max_dirs`` folders or ``max_depth`` levels.
    """
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, int]] = [(Path(root).expanduser(), 0)]
    visited = 0
    while stack and visited < max_dirs:
        if cancel is not None:
            cancel.check()
        folder, depth = stack.pop()
        try:
            status = folder.stat()  # follows symlinks; ELOOP or a dangling link raises OSError
        except OSError:
            continue
        key = (status.st_dev, status.st_ino)
        if key in seen:
            continue
        seen.add(key)
        visited += 1
        try:
            if (folder / "config.json").is_file():
                found.append(folder)
                continue
            if depth >= max_depth:
                continue
            with os.scandir(folder) as entries:
                children = sorted((e.name for e in entries if not e.name.startswith(".") and _is_dir(e)), reverse=True)
        except OSError:
            continue
        stack.extend((folder / child, depth + 1) for child in children)
    return sorted(found, key=lambda p: str(p).lower())


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows symlinks; a looping link raises OSError (ELOOP)
    except OSError:
        return False
