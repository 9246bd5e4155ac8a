"""File dialogs that open where the user keeps files: the last folder used, else Documents (else home).

Plain ``QFileDialog.get…("")`` opens in the working directory, which for an app started from source is
the app's own folder: saving an export there is never what anyone wants. The last folder is kept in the
settings (``Key.LAST_FOLDER``) once the app has registered them with :func:`use_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

_settings = None  # gui.settings.Settings of the running app (None: nothing remembered)


def use_settings(settings) -> None:
    """Remember the last folder in these settings (the app does this once, when its window is made)."""
    global _settings
    _settings = settings


def documents_folder() -> Path:
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    for candidate in (location, str(Path.home())):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path.home()


def start_folder() -> Path:
    """Where the next dialog opens: the last folder used if it still exists, else Documents."""
    from gui.settings import Key

    last = str(_settings.get(Key.LAST_FOLDER) or "") if _settings is not None else ""
    if last and Path(last).is_dir():
        return Path(last)
    return documents_folder()


def remember(path: str | os.PathLike | None) -> None:
    """Keep the folder of ``path`` (or ``path`` itself when it is a folder) for the next dialog."""
    from gui.settings import Key

    if not path or _settings is None:
        return
    chosen = Path(path)
    folder = chosen if chosen.is_dir() else chosen.parent
    if folder.is_dir():
        _settings.set(Key.LAST_FOLDER, str(folder))


def open_file(parent: QWidget | None, title: str, file_filter: str = "") -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, str(start_folder()), file_filter)
    remember(path)
    return path


def open_files(parent: QWidget | None, title: str, file_filter: str = "") -> list[str]:
    paths, _ = QFileDialog.getOpenFileNames(parent, title, str(start_folder()), file_filter)
    if paths:
        remember(paths[0])
    return list(paths)


def existing_folder(parent: QWidget | None, title: str) -> str:
    folder = QFileDialog.getExistingDirectory(parent, title, str(start_folder()))
    remember(folder)
    return folder


def save_file(parent: QWidget | None, title: str, file_name: str, file_filter: str = "") -> str:
    """A save dialog with ``file_name`` suggested in the start folder."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(start_folder() / file_name), file_filter)
    remember(path)
    return path
