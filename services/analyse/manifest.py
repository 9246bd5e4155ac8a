"""The run manifest (JSON next to the results): what went in, with what, and what came out."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
import time
from pathlib import Path

_weights_cache: dict[tuple, str] = {}


def weights_sha256(folder: str | os.PathLike, names: list[str]) -> str:
    """One SHA-256 over the model's weight files (name and bytes, sorted by name); cached per process."""
    folder = Path(folder)
    stats = []
    for name in sorted(names):
        info = (folder / name).stat()
        stats.append((name, info.st_size, info.st_mtime_ns))
    key = (str(folder.resolve()), tuple(stats))
    if key in _weights_cache:
        return _weights_cache[key]
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(name.encode() + b"\0")
        with open(folder / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    _weights_cache[key] = digest.hexdigest()
    return _weights_cache[key]


def versions() -> dict:
    import torch
    import transformers

    return {"python": platform.python_version(), "transformers": transformers.__version__, "torch": torch.__version__,
            "platform": platform.platform(), "executable": sys.executable}


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
