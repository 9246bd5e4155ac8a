"""The Hugging Face cache (``HF_HUB_CACHE`` / ``HF_HOME/hub``) as library entries, and deleting from it.

Listing uses ``huggingface_hub.scan_cache_dir``; deleting uses its own delete strategy
(``delete_revisions(...).execute()``), so shared blobs and refs stay consistent. A broken cache
entry is listed with its problem instead of stopping the scan.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from services.core.errors import InputError
from services.library.scan import ModelEntry, describe_folder, folder_size, newest_mtime


def hf_cache_dir() -> Path:
    """The cache folder, read from the environment at call time (HF_HUB_CACHE, then HF_HOME)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def scan_hf_cache(cache_dir: str | os.PathLike | None = None, cancel=None) -> list[ModelEntry]:
    """One entry per cached model snapshot; corrupt repos become entries with ``problem`` set."""
    folder = Path(cache_dir) if cache_dir else hf_cache_dir()
    if not folder.is_dir():
        return []
    from huggingface_hub import scan_cache_dir

    try:
        info = scan_cache_dir(folder)
    except (OSError, ValueError) as error:
        return [ModelEntry(name=folder.name, path=folder, source="hf-cache",
                           problem=f"The Hugging Face cache could not be read: {error}")]
    entries: list[ModelEntry] = []
    scanned_paths = set()
    for repo in sorted(info.repos, key=lambda r: r.repo_id.lower()):
        scanned_paths.add(Path(repo.repo_path).resolve())
        if repo.repo_type != "model":
            continue
        revisions = sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)
        for revision in revisions:
            if cancel is not None:
                cancel.check()
            name = repo.repo_id if len(revisions) == 1 else f"{repo.repo_id}@{revision.commit_hash[:8]}"
            entry = describe_folder(revision.snapshot_path, "hf-cache", name=name, size_bytes=revision.size_on_disk)
            entries.append(replace(entry, repo_id=repo.repo_id, revision=revision.commit_hash,
                                   refs=sorted(revision.refs), modified=revision.last_modified))
    # Repos huggingface_hub could not read: list them with the reason it gave.
    for child in sorted(folder.glob("models--*")):
        if child.resolve() in scanned_paths:
            continue
        reason = next((str(w) for w in info.warnings if str(child) in str(w) or child.name in str(w)), "")
        repo_id = child.name.split("--", 1)[1].replace("--", "/") if "--" in child.name else child.name
        entries.append(ModelEntry(
            name=repo_id, path=child, source="hf-cache", repo_id=repo_id,
            problem=f"Broken cache entry: {reason or 'huggingface_hub could not read it'}. "
                    "Delete it and download the model again.",
            size_bytes=folder_size(child), modified=newest_mtime(child)))
    return entries


def delete_cache_entry(entry: ModelEntry, cache_dir: str | os.PathLike | None = None) -> int:
    """Delete a cached snapshot with huggingface_hub's strategy; returns the bytes freed.

    A broken repo (which the strategy cannot see) is removed as a folder.
    """
    folder = Path(cache_dir) if cache_dir else hf_cache_dir()
    if not entry.revision:
        if entry.path.name.startswith("models--") and entry.path.parent.resolve() == folder.resolve():
            size = folder_size(entry.path)
            shutil.rmtree(entry.path)
            return size
        raise InputError(f"'{entry.name}' is not an entry of the Hugging Face cache at '{folder}'.")
    from huggingface_hub import scan_cache_dir

    strategy = scan_cache_dir(folder).delete_revisions(entry.revision)
    freed = int(strategy.expected_freed_size)
    strategy.execute()
    if Path(entry.path).exists():
        raise InputError(f"'{entry.name}' could not be deleted from the Hugging Face cache.",
                         hint=f"Delete '{entry.path}' by hand, or run `hf cache delete`.")
    return freed
