"""Library folder operations: import (copy), duplicate, rename, delete, edit labels.

Every write goes through a hidden staging name and one rename, so a crash half-way never leaves a
half-written model listed. Built-in and cached models are read-only here (duplicate them first).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.library.folder import check_model_name, disk_error, library_dir, target_for_new_model
from services.library.scan import ModelEntry, folder_size
from services.core.model_info import inspect_model

COPY_CHUNK = 1024 * 1024
SKIP_ON_COPY = {".git", ".cache", "__pycache__"}


def _source_files(source: Path) -> list[Path]:
    """Files to copy (relative paths); symlinked files are copied as their content, linked folders skipped."""
    files = []
    for directory, dirs, names in os.walk(source, followlinks=False):
        dirs[:] = [d for d in dirs if d not in SKIP_ON_COPY]
        for name in names:
            path = Path(directory) / name
            if path.is_file():
                files.append(path.relative_to(source))
    return sorted(files)


def copy_model_folder(source: str | os.PathLike, name: str, root: str | os.PathLike | None = None, *,
                      progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> Path:
    """Copy the model folder ``source`` into ``<library>/<name>`` with byte progress; returns the new folder."""
    info = inspect_model(source)  # ModelError for a folder that is not a model
    target = target_for_new_model(name, root)
    files = _source_files(info.path)
    total = sum((info.path / f).stat().st_size for f in files)
    staging = target.parent / f".importing-{target.name}-{uuid.uuid4().hex[:8]}"
    done = 0
    try:
        for relative in files:
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(info.path / relative, "rb") as reader, open(destination, "wb") as writer:
                while chunk := reader.read(COPY_CHUNK):
                    cancel.check()
                    writer.write(chunk)
                    done += len(chunk)
                    progress(done, total, f"Copying {relative}")
        if not files:
            staging.mkdir(parents=True)
        if target.exists():
            raise InputError(f"A model named '{target.name}' already exists in the library.", hint="Choose another name.")
        os.replace(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise disk_error(target.name, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress(total, total, f"Copied {target.name}")
    return target


def import_folder(source: str | os.PathLike, name: str | None = None, root: str | os.PathLike | None = None, *,
                  progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> Path:
    source = Path(source).expanduser()
    if not source.is_dir():
        raise InputError(f"'{source}' is not a folder.", hint="Choose a folder written by save_pretrained().")
    return copy_model_folder(source, name or source.name, root, progress=progress, cancel=cancel)


def duplicate_model(entry: ModelEntry, name: str, root: str | os.PathLike | None = None, *,
                    progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> Path:
    return copy_model_folder(entry.spec if entry.source == "built-in" else entry.path, name, root,
                             progress=progress, cancel=cancel)


def _library_entry_path(entry: ModelEntry, action: str, root=None) -> Path:
    if entry.source == "built-in":
        raise InputError(f"The built-in model is read-only, so it cannot be {action}.",
                         hint="Duplicate it into the library first.")
    if entry.source == "hf-cache":
        raise InputError(f"'{entry.name}' lives in the Hugging Face cache, which the app does not change in place.",
                         hint="Duplicate it into the library first.")
    if entry.source != "library":
        raise InputError(f"'{entry.name}' is in a folder you added, not in the library, so it cannot be {action} here.",
                         hint="Import it into the library first, or change it in your file manager.")
    path = Path(entry.path)
    if path.parent.resolve() != library_dir(root).resolve():
        raise InputError(f"'{path}' is not inside the library folder '{library_dir(root)}'.")
    return path


def rename_model(entry: ModelEntry, new_name: str, root: str | os.PathLike | None = None, host=None) -> Path:
    """Rename a library model (its folder). A loaded copy is forgotten (its path changes)."""
    path = _library_entry_path(entry, "renamed", root)
    new_name = check_model_name(new_name)
    target = path.parent / new_name
    if new_name == path.name:
        return path
    if target.exists() and not (target.resolve() == path.resolve()):
        raise InputError(f"A model named '{new_name}' already exists in the library.", hint="Choose another name.")
    _forget(host, path)
    try:
        os.rename(path, target)
    except OSError as error:
        raise InputError(f"Could not rename '{path.name}': {error.strerror or error}.") from None
    return target


@dataclass
class DeleteResult:
    name: str
    freed_bytes: int
    was_loaded: bool

    @property
    def message(self) -> str:
        text = f"Deleted '{self.name}', freeing {format_size(self.freed_bytes)}."
        if self.was_loaded:
            text += " It was loaded in memory; it was unloaded first, so panels using it must load another model."
        return text


def is_loaded(entry: ModelEntry, host=None) -> bool:
    host = host or _default_host()
    return str(os.path.realpath(entry.path)) in host.loaded_paths()


def delete_model(entry: ModelEntry, root: str | os.PathLike | None = None, *, host=None,
                 cache_dir: str | os.PathLike | None = None) -> DeleteResult:
    """Delete a library model or a cache entry; a loaded copy is unloaded first (and the result says so)."""
    host = host or _default_host()
    if entry.source == "built-in":
        raise InputError("The built-in model is read-only and cannot be deleted.")
    if entry.source == "folder":
        raise InputError(f"'{entry.name}' is in a folder you added, not in the library, so the app does not delete it.",
                         hint="Delete it in your file manager, or remove the folder from Settings.")
    was_loaded = is_loaded(entry, host)
    _forget(host, entry.path)
    if entry.source == "hf-cache":
        from services.library.hf_cache import delete_cache_entry

        freed = delete_cache_entry(entry, cache_dir)
        return DeleteResult(entry.name, freed, was_loaded)
    path = _library_entry_path(entry, "deleted", root)
    size = folder_size(path)
    trash = path.parent / f".deleting-{path.name}-{uuid.uuid4().hex[:8]}"
    try:
        os.rename(path, trash)  # out of the list at once, even if removing the files takes a while
    except OSError as error:
        raise InputError(f"Could not delete '{path.name}': {error.strerror or error}.") from None
    shutil.rmtree(trash, ignore_errors=True)
    return DeleteResult(entry.name, size, was_loaded)


def edit_labels(entry: ModelEntry, labels: list[str] | dict[int, str], root: str | os.PathLike | None = None,
                host=None) -> dict[int, str]:
    """Rename the class labels (``id2label``/``label2id``) of a library model; config.json is replaced atomically."""
    path = _library_entry_path(entry, "edited", root)
    info = inspect_model(path)
    if not info.labels:
        raise InputError(f"'{info.name}' has no class labels to edit (it has no classification head).")
    names = [labels[i] for i in sorted(labels)] if isinstance(labels, dict) else list(labels)
    names = [str(n).strip() for n in names]
    if len(names) != len(info.labels):
        raise InputError(f"'{info.name}' has {len(info.labels)} labels; {len(names)} names were given.")
    if any(not n for n in names):
        raise InputError("A label name cannot be empty.")
    if len(set(names)) != len(names):
        raise InputError("Label names must be different from each other.")
    id2label = {i: name for i, name in zip(sorted(info.labels), names)}
    config = dict(info.config)
    config["id2label"] = {str(i): name for i, name in id2label.items()}
    config["label2id"] = {name: i for i, name in id2label.items()}
    config_path = path / "config.json"
    temp = path / f".config-{uuid.uuid4().hex[:8]}.json"
    try:
        temp.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temp, config_path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise disk_error(info.name, error) from None
    _forget(host, path)  # a loaded copy has the old names
    return id2label


def format_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def _default_host():
    from services.core.models import default_host

    return default_host


def _forget(host, path) -> None:
    (host or _default_host()).forget(path)
