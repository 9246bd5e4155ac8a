"""Small shared dialogs: errors are shown readably, with details on demand."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from services.core.errors import DeviceError, WorkbenchError

# Tests set this to False so that no modal dialog blocks; errors then go to the log only.
DIALOGS_ENABLED = True
shown_errors: list[str] = []  # what would have been shown, for tests and the log panel
# With dialogs disabled, questions get these answers (tests set them to act as the user).
auto_answers: dict[str, bool] = {}


def error_text(error: BaseException) -> str:
    if isinstance(error, WorkbenchError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def show_error(parent: QWidget | None, title: str, error: BaseException, details: str = "") -> None:
    text = error_text(error)
    shown_errors.append(text)
    if not DIALOGS_ENABLED:
        return
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def offer_cpu_fallback(parent: QWidget | None, error: DeviceError) -> bool:
    """Ask whether to switch to the fallback device; True if the user accepts."""
    shown_errors.append(str(error))
    if not DIALOGS_ENABLED:
        return auto_answers.get("cpu_fallback", False)
    answer = QMessageBox.question(parent, "Device problem", f"{error}\n\nSwitch to {error.fallback.upper()}?")
    return answer == QMessageBox.StandardButton.Yes
