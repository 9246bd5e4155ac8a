"""The models on this machine as one list that changes: a scan, and what changed between two lists.

A scan lists the built-in model, the library, the Hugging Face cache, the extra folders and the
model folders the user opened, reusing the entry of every folder whose signature did not change.
:func:`diff_entries` says what changed (:class:`ModelChanges`: added, removed, renamed, moved,
changed), so a listener updates the rows that changed instead of re-reading everything.
:func:`watch_paths` names the folders whose change should trigger the next scan.

Plain Python (no Qt): the GUI's ``gui.catalogue.ModelCatalogue`` runs :func:`scan` on a worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.library.scan import ModelEntry, describe_folder, path_key

MAX_WATCHED = 2000  # folders watched at most (one inotify watch each)
Pair = tuple[ModelEntry, ModelEntry]


@dataclass(frozen=True)
class ModelChanges:
    """What changed in the list of models; every field is a tuple, in list order."""

    added: tuple[ModelEntry, ...] = ()
    removed: tuple[ModelEntry, ...] = ()
    renamed: tuple[Pair, ...] = ()  # (before, after): the same folder under a new name (so a new path)
    moved: tuple[Pair, ...] = ()  # (before, after): the same folder and name at another path
    changed: tuple[ModelEntry, ...] = ()  # the same path with new facts (labels edited, files added)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.moved or self.changed)

    def follow(self, spec: str) -> str | None:
        """Where ``spec`` is after these changes: its new spec when renamed or moved, None when removed."""
        for before, after in self.renamed + self.moved:
            if before.spec == spec:
                return after.spec
        if any(entry.spec == spec for entry in self.removed):
            return None
        return spec

    def summary(self) -> str:
        """One line for a status bar: 'Added a; removed b; renamed c → d.'"""
        parts = []
        if self.added:
            parts.append("added " + ", ".join(e.name for e in self.added))
        if self.removed:
            parts.append("removed " + ", ".join(e.name for e in self.removed))
        if self.renamed:
            parts.append("renamed " + ", ".join(f"{b.name} → {a.name}" for b, a in self.renamed))
        if self.moved:
            parts.append("moved " + ", ".join(f"{a.name} to {a.path}" for _, a in self.moved))
        if self.changed:
            parts.append("updated " + ", ".join(e.name for e in self.changed))
        text = "; ".join(parts)
        return f"Models: {text}." if text else ""


def _same_model(before: ModelEntry, after: ModelEntry) -> bool:
    """A folder with the same identity is the same model unless its contents say otherwise (a reused inode)."""
    return (before.identity is not None and before.identity == after.identity
            and before.architecture == after.architecture and before.labels == after.labels)


def diff_entries(old: Sequence[ModelEntry], new: Sequence[ModelEntry]) -> ModelChanges:
    """What changed from ``old`` to ``new`` (entries are matched by spec; a folder that left one path
    and appeared at another with the same identity is renamed or moved, not removed and added)."""
    old_by_spec = {entry.spec: entry for entry in old}
    new_by_spec = {entry.spec: entry for entry in new}
    gone = [entry for entry in old if entry.spec not in new_by_spec]
    came = [entry for entry in new if entry.spec not in old_by_spec]
    renamed: list[Pair] = []
    moved: list[Pair] = []
    removed: list[ModelEntry] = []
    for before in gone:
        after = next((entry for entry in came if _same_model(before, entry)), None)
        if after is None:
            removed.append(before)
            continue
        came.remove(after)
        (moved if after.name == before.name else renamed).append((before, after))
    changed = tuple(entry for entry in new if entry.spec in old_by_spec and old_by_spec[entry.spec] != entry)
    return ModelChanges(added=tuple(came), removed=tuple(removed), renamed=tuple(renamed), moved=tuple(moved),
                        changed=changed)


def apply_changes(entries: Sequence[ModelEntry], changes: ModelChanges) -> tuple[ModelEntry, ...]:
    """``entries`` after ``changes``: renamed/moved/changed entries replaced in place, removed ones
    dropped, added ones appended."""
    replaced = {before.spec: after for before, after in changes.renamed + changes.moved}
    replaced.update({entry.spec: entry for entry in changes.changed})
    removed = {entry.spec for entry in changes.removed}
    result = [replaced.get(entry.spec, entry) for entry in entries if entry.spec not in removed]
    present = {entry.spec for entry in result}
    result += [entry for entry in changes.added if entry.spec not in present]
    return tuple(result)


def scan(library: str | os.PathLike | None = None, extra_dirs: Sequence[str] = (), opened: Sequence[str] = (), *,
         include_cache: bool = True, cache_dir: str | os.PathLike | None = None,
         known: Mapping[str, ModelEntry] | None = None, progress: Progress = no_progress,
         cancel: CancelToken = NEVER_CANCELLED) -> tuple[ModelEntry, ...]:
    """Every model: :func:`services.library.folder.list_models`, then the ``opened`` folders (ones the
    user opened by hand) that are still model folders and not listed already, as source "folder".

    ``known`` (spec → entry from the last scan): unchanged folders keep their entry without being read.
    """
    from services.library.folder import list_models

    entries = list_models(library, list(extra_dirs), include_cache=include_cache, cache_dir=cache_dir, known=known,
                          progress=progress, cancel=cancel)
    seen = {path_key(entry.path) for entry in entries}
    for folder in opened:
        cancel.check()
        path = Path(folder).expanduser()
        if not (path / "config.json").is_file() or path_key(path) in seen:
            continue  # gone, no longer a model, or already listed (e.g. it is in the library)
        seen.add(path_key(path))
        entries.append(describe_folder(path, "folder", known=known))
    return tuple(entries)


def _existing_ancestor(folder: Path, levels: int = 3) -> Path | None:
    for candidate in [folder, *list(folder.parents)[:levels]]:
        if candidate.is_dir():
            return candidate
    return None


def watch_paths(entries: Sequence[ModelEntry], library: str | os.PathLike, extra_dirs: Sequence[str] = (),
                cache_dir: str | os.PathLike | None = None) -> tuple[str, ...]:
    """Folders whose change means the list may have changed: the library (or, before it exists, the
    folder it will be made in), every extra folder, the Hugging Face cache and its repos' snapshot
    folders, and every listed model folder (so a deleted or edited model is noticed). At most
    :data:`MAX_WATCHED`."""
    from services.library.hf_cache import hf_cache_dir

    paths: list[Path] = []
    library_root = _existing_ancestor(Path(library).expanduser())
    if library_root is not None:
        paths.append(library_root)
    paths += [Path(folder).expanduser() for folder in extra_dirs]
    cache = Path(cache_dir) if cache_dir else hf_cache_dir()
    paths.append(cache)
    for entry in entries:
        if entry.source == "built-in":
            continue
        paths.append(entry.path)
        if entry.source == "hf-cache":
            paths.append(entry.path.parent)  # <repo>/snapshots: a new revision appears here
    result: list[str] = []
    seen: set[str] = set()
    for path in paths:
        text = str(path)
        if text not in seen and path.is_dir():
            seen.add(text)
            result.append(text)
        if len(result) >= MAX_WATCHED:
            break
    return tuple(result)
