"""The app's model library: a folder of save_pretrained() folders, one per model.

Here: where the library is, whether it is writable, what it (and the rest of the machine) holds,
and saving a model into it atomically. Folder operations (import, rename, delete, labels) are in
:mod:`services.library.ops`; describing folders is in :mod:`services.library.scan`.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Mapping

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.library.scan import ModelEntry, describe_folder, find_model_folders, path_key
from services.core.paths import default_library_dir

log = logging.getLogger("workbench.library")

INVALID_NAME_CHARS = set('/\\:*?"<>|')


def library_dir(override: str | os.PathLike | None = None) -> Path:
    """The library folder: ``override``, else ``--library`` (WORKBENCH_LIBRARY), else the default."""
    override = override or os.environ.get("WORKBENCH_LIBRARY")
    return Path(override).expanduser() if override else default_library_dir()


def list_library_models(root: str | os.PathLike | None = None) -> list[Path]:
    """Model folders (holding config.json) directly under the library folder, sorted by name."""
    folder = library_dir(root)
    if not folder.is_dir():
        return []
    return sorted(
        (entry for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith(".") and (entry / "config.json").is_file()),
        key=lambda p: p.name.lower(),
    )


def check_model_name(name: str) -> str:
    name = name.strip()
    if not name or name in (".", "..") or any(c in INVALID_NAME_CHARS for c in name) or name.startswith("."):
        raise InputError(f"'{name}' is not a valid model name.", hint='Use letters, digits, spaces, "-" or "_".')
    return name


def ensure_library_writable(root: str | os.PathLike | None = None) -> Path:
    """Create the library folder if needed and prove a file can be written there; else InputError."""
    folder = library_dir(root)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"The library folder '{folder}' is a file, not a folder, so models cannot be saved there.",
                         hint="Choose another library folder in Settings (or with --library).")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise InputError(f"The library folder '{folder}' is not writable: {error.strerror or error}.",
                         hint="Choose another library folder in Settings (or with --library), or fix its permissions.") from None
    return folder


def target_for_new_model(name: str, root: str | os.PathLike | None = None, overwrite: bool = False) -> Path:
    """``<library>/<name>`` after checking the name, a collision and that the library is writable."""
    name = check_model_name(name)
    folder = library_dir(root)
    target = folder / name
    if target.exists() and not overwrite:
        raise InputError(f"A model named '{name}' already exists in the library.", hint="Choose another name.")
    ensure_library_writable(folder)
    return target


def disk_error(name: str, error: OSError) -> InputError:
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return InputError(f"Could not save '{name}': the disk is full ({error.strerror or error}).",
                          hint="Nothing was added to the library; free some space and try again.")
    return InputError(f"Could not save '{name}' to the library: {error.strerror or error}.",
                      hint="Nothing was added; check free disk space and permissions.")


def save_model_atomic(model, tokenizer, name: str, root: str | os.PathLike | None = None,
                      extra_files: dict[str, str] | None = None, overwrite: bool = False,
                      progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> Path:
    """``save_pretrained`` model and tokenizer into ``<library>/<name>`` via a temporary folder.

    The temporary folder is renamed into place only when everything was written, so a crash or a
    full disk never leaves a half-written model in the library. A probe record (the model's outputs
    on a fixed sentence) is saved alongside so the folder can be verified later.
    """
    from services.library.verify import PROBE_FILE, probe_record

    target = target_for_new_model(name, root, overwrite)
    name = target.name
    staging = target.parent / f".saving-{name}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
        progress(0, 4, f"Saving the weights of {name}")
        model.save_pretrained(staging)
        cancel.check()
        progress(1, 4, "Saving the tokenizer")
        tokenizer.save_pretrained(staging)
        cancel.check()
        progress(2, 4, "Recording a probe for verification")
        record = None
        try:
            record = probe_record(model, tokenizer)
        except Exception as error:  # noqa: BLE001 - an exotic model only loses the later check
            log.warning("No probe record for %s: %s", name, error)
        if record is not None:
            import json

            (staging / PROBE_FILE).write_text(json.dumps(record), encoding="utf-8")
        for file_name, text in (extra_files or {}).items():
            (staging / file_name).write_text(text, encoding="utf-8")
        progress(3, 4, "Moving into place")
        if target.exists():
            trash = target.parent / f".deleting-{name}-{uuid.uuid4().hex[:8]}"
            os.replace(target, trash)
            os.replace(staging, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise disk_error(name, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress(4, 4, f"Saved {name}")
    return target


def list_models(root: str | os.PathLike | None = None, extra_dirs: list[str] | tuple = (), *,
                include_builtin: bool = True, include_cache: bool = True, cache_dir: str | os.PathLike | None = None,
                known: Mapping[str, ModelEntry] | None = None,
                progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> list[ModelEntry]:
    """Every model this machine has: built-in, the library, the Hugging Face cache, extra folders.

    A folder reached twice (e.g. the library also added as an extra folder) is listed once. ``known``
    (spec → entry from an earlier listing) lets unchanged folders keep their entry without being read.
    """
    from services.library.hf_cache import scan_hf_cache

    entries: list[ModelEntry] = []
    if include_builtin:
        entries.append(describe_folder("builtin", "built-in", known=known))
    library_folders = list_library_models(root)
    for index, folder in enumerate(library_folders):
        cancel.check()
        progress(index, len(library_folders), f"Reading {folder.name}")
        entries.append(describe_folder(folder, "library", known=known))
    if include_cache:
        progress(0, None, "Scanning the Hugging Face cache")
        entries.extend(scan_hf_cache(cache_dir, cancel=cancel))
    for extra in extra_dirs:
        progress(0, None, f"Scanning {extra}")
        for folder in find_model_folders(extra, cancel=cancel):
            entries.append(describe_folder(folder, "folder", known=known))
    unique: list[ModelEntry] = []
    seen: set[str] = set()
    for entry in entries:
        key = path_key(entry.path)
        if key in seen:
            continue
        seen.add(key)
        unique.append(entry)
    return unique


def find_model(name: str, entries: list[ModelEntry]) -> ModelEntry:
    """The entry called ``name`` (library name, cache repo id, "builtin" or a folder path)."""
    if name in ("builtin", "built-in"):
        return next(e for e in entries if e.source == "built-in")
    for matcher in (lambda e: e.name == name and e.source == "library", lambda e: e.name == name,
                    lambda e: e.repo_id == name, lambda e: str(e.path) == name):
        found = [e for e in entries if matcher(e)]
        if found:
            return found[0]
    path = Path(name).expanduser()
    if path.is_dir():
        return describe_folder(path, "folder")
    raise InputError(f"No model named '{name}' in the library.", hint="`library list` shows the names.")
