"""Typed access to the app's settings (an INI file via QSettings; no pickled values)."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from services.core.paths import settings_file


class Key(enum.Enum):
    """Every setting the app stores, with its default."""

    WINDOW_GEOMETRY = ("window/geometry", None)
    WINDOW_STATE = ("window/state", None)
    LAST_FOLDER = ("dialogs/last_folder", "")  # where file dialogs open next (else Documents)
    DEVICE = ("model/device", "cpu")
    DTYPE = ("model/dtype", "float32")
    RECENT_MODELS = ("model/recent", "[]")  # JSON list of folder paths
    LIBRARY_DIR = ("library/dir", "")
    EXTRA_MODEL_DIRS = ("library/extra_dirs", "[]")  # JSON list
    TRUSTED_REMOTE_CODE = ("library/trusted_remote_code", "[]")  # JSON list of model paths
    RUN_TASK = ("run/task", "sentence-similarity")
    RUN_TEXT = ("run/text", "")
    RUN_TEXT_B = ("run/text_b", "")  # the second sentence of the similarity task
    RUN_LABELS = ("run/labels", "")  # zero-shot candidate labels, comma-separated

    def __init__(self, path: str, default: Any):
        self.path = path
        self.default = default


class Settings:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else settings_file()
        self._qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def get(self, key: Key) -> Any:
        value = self._qsettings.value(key.path, key.default)
        return key.default if value is None else value

    def set(self, key: Key, value: Any) -> None:
        self._qsettings.setValue(key.path, value)

    def get_bytes(self, key: Key) -> QByteArray | None:
        value = self._qsettings.value(key.path)
        return value if isinstance(value, QByteArray) else None

    def get_list(self, key: Key) -> list:
        try:
            value = json.loads(self.get(key))
        except (TypeError, ValueError):
            return []
        return value if isinstance(value, list) else []

    def set_list(self, key: Key, values: list) -> None:
        self.set(key, json.dumps(list(values)))

    def sync(self) -> None:
        self._qsettings.sync()
