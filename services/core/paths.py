"""Where the app keeps its files: settings, the model library, caches.

``WORKBENCH_HOME`` overrides everything (tests point it at a temporary folder so they never
touch the user's files).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "TransformersWorkbench"


def app_data_dir() -> Path:
    """The per-user data folder of the app on this platform."""
    override = os.environ.get("WORKBENCH_HOME")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / APP_DIR_NAME


def default_library_dir() -> Path:
    return app_data_dir() / "models"


def settings_file() -> Path:
    return app_data_dir() / "settings.ini"
