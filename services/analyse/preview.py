"""Which file of the Analyse inputs fills the text / gold-label pickers, and its preview.

Folders are walked and files scanned here, on a worker, never on the GUI thread. The first readable
CSV/TSV file wins, else the first readable JSON(L) file; structured files that cannot be read
(binary, broken) are skipped and listed, not raised.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.core.cancel import NEVER_CANCELLED, CancelToken
from services.core.errors import InputError
from services.core.files import FileWarning, collect_files, kind_for, scan_file
from services.core.readers import Preview, preview_file

MAX_TRIED = 20  # structured files tried before giving up on a preview
PREVIEW_SCAN_BYTES = 1 << 16


@dataclass(frozen=True)
class InputsPreview:
    preview: Preview | None  # None: no readable CSV/TSV/JSON(L) file among the inputs
    skipped: tuple[FileWarning, ...] = ()  # structured files that could not be previewed, and why


def preview_inputs(paths, cancel: CancelToken = NEVER_CANCELLED) -> InputsPreview:
    found, _warnings = collect_files(paths, cancel)
    tables = [path for path in found if kind_for(path) in ("csv", "tsv")]
    json_files = [path for path in found if kind_for(path) in ("jsonl", "json")]
    skipped: list[FileWarning] = []
    for path in (tables + json_files)[:MAX_TRIED]:
        cancel.check()
        info, problem = scan_file(path, cancel, max_bytes=PREVIEW_SCAN_BYTES)
        if problem is not None:
            skipped.append(problem)
            continue
        try:
            return InputsPreview(preview_file(info), tuple(skipped))
        except (InputError, OSError, UnicodeError, ValueError) as error:
            skipped.append(FileWarning(path, "unreadable", f"skipped: {error}"))
    return InputsPreview(None, tuple(skipped))
