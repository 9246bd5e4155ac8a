"""The app's model library: a folder of save_pretrained() folders, one per model.

(Foundation version: list and atomic save. The library issue extends it.)
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from services.errors import InputError
from services.paths import default_library_dir

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


def save_model_atomic(model, tokenizer, name: str, root: str | os.PathLike | None = None,
                      extra_files: dict[str, str] | None = None, overwrite: bool = False) -> Path:
    """``save_pretrained`` model and tokenizer into ``<library>/<name>`` via a temporary folder.

    The temporary folder is renamed into place only when everything was written, so a crash or a
    full disk never leaves a half-written model in the library.
    """
    name = check_model_name(name)
    folder = library_dir(root)
    target = folder / name
    if target.exists() and not overwrite:
        raise InputError(f"A model named '{name}' already exists in the library.", hint="Choose another name.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"Cannot create the library folder '{folder}': {error.strerror}.") from None
    staging = folder / f".saving-{name}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        for file_name, text in (extra_files or {}).items():
            (staging / file_name).write_text(text, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"Could not save '{name}' to the library: {error.strerror or error}.",
                         hint="Nothing was added; check free disk space and permissions.") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
