"""The one model catalogue: the models on this machine, as every picker and the Library see them.

``ModelCatalogue`` keeps the current list (built-in model, library, Hugging Face cache, extra
folders, folders the user opened) and tells its listeners what changed — ``sig_changed`` carries a
:class:`services.library.catalogue.ModelChanges` (added, removed, renamed, moved, changed), so a
picker updates the rows that changed and nobody rescans for a load.

The list changes three ways:
- a scan (``refresh``) runs on the "io" job lane, never on the GUI thread; unchanged folders keep
  their entry. Scans run one at a time, and one asked for while another waits to start joins it;
- a file-system watch on the library, the extra folders, the Hugging Face cache and every listed
  model folder schedules a scan (debounced), so a model saved, imported, renamed or removed by the
  CLI in another process reaches every picker without a restart;
- what the app did itself (a rename, a delete, an import, a save, a folder opened by hand) is applied
  at once (``put``, ``rename``, ``remove``, ``add_folder``) without a scan. A scan that was asked for
  before such a change may have read the disk before it and is discarded (and run again).

QtCore only, like the job runner.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from gui.jobs.runner import Job, JobRunner
from services.core.model_info import BUILTIN
from services.library.catalogue import ModelChanges, apply_changes, diff_entries, scan, watch_paths
from services.library.scan import ModelEntry, describe_folder, folder_signature, path_key

log = logging.getLogger("workbench.catalogue")

SOURCE_LABELS = {"built-in": "built-in", "library": "library", "hf-cache": "HF cache", "folder": "folder"}


def choice_label(entry: ModelEntry) -> str:
    """How a picker names ``entry``: the built-in model by its name, others with where they are."""
    if entry.source == "built-in":
        return entry.name
    return f"{entry.name} ({SOURCE_LABELS.get(entry.source, entry.source)})"


@dataclass(frozen=True)
class ScanResult:
    """What a scan found (made on the worker): the entries and the folders to watch."""

    entries: tuple[ModelEntry, ...]
    watch: tuple[str, ...]


class ModelCatalogue(QObject):
    sig_changed = Signal(object)  # ModelChanges, never empty
    sig_scanned = Signal()  # a scan ended and the list now holds what it found (changed or not)
    sig_status = Signal(str)  # one line saying what changed on disk (not for the first scan)
    sig_failed = Signal(object)  # a scan raised: the exception

    DEBOUNCE_MS = 300  # file-system events closer together than this make one scan

    def __init__(self, runner: JobRunner, *, library_dir: Callable[[], Path], extra_dirs: Callable[[], list[str]],
                 opened: Callable[[], list[str]], parent: QObject | None = None):
        super().__init__(parent)
        self.runner = runner
        self._library_dir = library_dir
        self._extra_dirs = extra_dirs
        self._opened = opened
        # The built-in model is always there: described at once (one small config), so pickers never start empty.
        self._entries: tuple[ModelEntry, ...] = (describe_folder(BUILTIN, "built-in"),)
        self._resolved: dict[str, ModelEntry] | None = None  # resolved path -> entry, built when first needed
        self._generation = 0  # bumped by every change the app applied itself
        self._submitted = 0  # scans asked for; results of older scans than the last applied are dropped
        self._applied = 0
        self._waiting: tuple[Job, threading.Event, bool] | None = None  # the scan not yet started: (job, started, full)
        self._scan_lock = threading.Lock()  # one scan lists the disk at a time, in the order asked
        self._scan_jobs: list[Job] = []  # scans not finished
        self.started = False
        self.stopped = False  # the window closed: no more watching or scanning
        self.scans = 0  # scans applied
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._on_disk_changed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(self.DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.refresh())

    # -- reading -----------------------------------------------------------------------------
    def entries(self) -> tuple[ModelEntry, ...]:
        return self._entries

    @property
    def scanned(self) -> bool:
        """Whether a scan has filled the list (before it, only the built-in and opened folders are in it)."""
        return self.scans > 0

    @property
    def idle(self) -> bool:
        """No scan running or waiting, and none scheduled by the watch."""
        return not self._debounce.isActive() and not self._scan_jobs

    def find(self, spec: str | None) -> ModelEntry | None:
        """The entry for ``spec``: the same spec, else the same folder reached by another path."""
        if not spec:
            return None
        for entry in self._entries:
            if entry.spec == spec:
                return entry
        if self._resolved is None:
            self._resolved = {path_key(entry.path): entry for entry in reversed(self._entries)}
        return self._resolved.get(path_key(spec))

    # -- scanning ----------------------------------------------------------------------------
    def start(self) -> None:
        """The first scan (once): called when the first picker or the Library is painted."""
        if not self.started:
            self.started = True
            self.refresh()

    def refresh(self, full: bool = False, *, listed: bool | None = None) -> Job | None:
        """Scan on the "io" lane; returns the Job (None once stopped). ``full`` re-reads every folder
        (the Refresh button); otherwise only folders whose signature changed are read. A request while
        a scan waits to start joins that scan."""
        if self.stopped:
            return None
        self.started = True
        if self._waiting is not None:
            job, started, waiting_full = self._waiting
            if job.is_active and not started.is_set() and (waiting_full or not full):
                return job
        library, extra, opened = self._library_dir(), list(self._extra_dirs()), list(self._opened())
        known = None if full else {entry.spec: entry for entry in self._entries}
        generation = self._generation
        self._submitted += 1
        number = self._submitted
        started = threading.Event()
        lock = self._scan_lock

        def work(progress, cancel) -> ScanResult:
            with lock:
                started.set()
                entries = scan(library, extra, opened, known=known, progress=progress, cancel=cancel)
                return ScanResult(entries, watch_paths(entries, library, extra))

        job = self.runner.submit("Scanning models", work, lane="io", needs_torch=False,
                                 listed=full if listed is None else listed,
                                 on_result=lambda result: self._on_scanned(result, number, generation, full),
                                 on_error=self._on_scan_failed)
        self._waiting = (job, started, full)
        self._scan_jobs.append(job)
        job.finished.connect(lambda: self._scan_jobs.remove(job))
        return job

    def schedule(self) -> None:
        """A scan soon: file-system events closer together than DEBOUNCE_MS make one."""
        self._debounce.start()

    def _on_disk_changed(self, path: str) -> None:
        log.debug("changed on disk: %s", path)
        library = Path(self._library_dir()).expanduser()
        if Path(path) != library and not library.exists() and library.is_relative_to(path):
            return  # the folder the library will be made in changed (the settings file was saved): no model yet
        self.schedule()

    def _on_scan_failed(self, error: BaseException) -> None:
        log.warning("Scanning models failed: %s", error)
        self.sig_failed.emit(error)

    def stop(self) -> None:
        """Stop watching and scanning (the window is closing)."""
        self.stopped = True
        self._debounce.stop()
        if self.watcher.directories():
            self.watcher.removePaths(self.watcher.directories())

    def _on_scanned(self, result: ScanResult, number: int, generation: int, full: bool) -> None:
        if self.stopped or number < self._applied:
            return  # a later scan was applied already
        if generation != self._generation:
            # The app changed the list itself after this scan was asked for; it may have read the
            # disk before that change, so it could undo it. Read again.
            self.refresh(full)
            return
        self._applied = number
        first = self.scans == 0
        changes = diff_entries(self._entries, result.entries)
        self._set(result.entries)
        self.scans += 1
        grew = self._watch(result.watch)
        if changes:
            self.sig_changed.emit(changes)
            if not first:
                self.sig_status.emit(changes.summary())
        self.sig_scanned.emit()
        if grew:
            # Folders watched only now may have changed between the listing and the watch: look once more.
            self.schedule()

    def _watch(self, paths: tuple[str, ...]) -> bool:
        """Watch exactly ``paths``; True when folders were added to the watch."""
        current = set(self.watcher.directories())
        wanted = set(paths)
        gone = sorted(current - wanted)
        new = [path for path in paths if path not in current]
        if gone:
            self.watcher.removePaths(gone)
        if new:
            self.watcher.addPaths(new)
        return bool(new)

    # -- changes the app made itself ---------------------------------------------------------
    def put(self, entry: ModelEntry) -> None:
        """A model the app saved, imported, downloaded or changed (labels): added, or replacing its entry."""
        previous = next((e for e in self._entries if e.spec == entry.spec), None)
        if previous is None:
            self._apply(ModelChanges(added=(entry,)))
        elif previous != entry:
            self._apply(ModelChanges(changed=(entry,)))
        self._watch_also(entry.path)

    def rename(self, before: ModelEntry, new_path: str | Path) -> ModelEntry:
        """A model the app renamed (moved): the same entry under its new name and path."""
        new_path = Path(new_path)
        after = replace(before, name=new_path.name, path=new_path, spec=str(new_path),
                        signature=folder_signature(new_path))
        pair = ((before, after),)
        self._apply(ModelChanges(renamed=pair) if after.name != before.name else ModelChanges(moved=pair))
        self._watch_also(new_path)
        return after

    def remove(self, entry: ModelEntry) -> None:
        """A model the app deleted."""
        if any(e.spec == entry.spec for e in self._entries):
            self._apply(ModelChanges(removed=(entry,)))

    def add_folder(self, folder: str | Path) -> ModelEntry | None:
        """A model folder the user opened by hand: its entry (listed now if it was not).

        It is described here, on the GUI thread, because the caller selects it right away; it is one
        folder the caller has just inspected. None when it is not a model folder.
        """
        known = self.find(str(folder))
        if known is not None:
            return known
        path = Path(folder).expanduser()
        library = self._library_dir()
        source = "library" if path_key(path.parent) == path_key(library) else "folder"
        entry = describe_folder(path, source)
        if not entry.readable:
            return None
        self.put(entry)
        return entry

    def _apply(self, changes: ModelChanges) -> None:
        self._generation += 1
        self._set(apply_changes(self._entries, changes))
        self.sig_changed.emit(changes)

    def _set(self, entries: tuple[ModelEntry, ...]) -> None:
        self._entries = entries
        self._resolved = None

    def _watch_also(self, path: Path) -> None:
        if path.is_dir() and str(path) not in self.watcher.directories():
            self.watcher.addPath(str(path))

