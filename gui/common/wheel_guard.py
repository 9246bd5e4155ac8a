"""The mouse wheel scrolls the form, and changes a spin box or combo box only when that field has focus.

Without this, scrolling a long form (Train's hyperparameters) changes whichever field passes under the
pointer (Max length 128 → 115 without a click). One application-wide event filter:

* spin boxes and combo boxes take focus by click or Tab, not by the wheel (``Qt.StrongFocus``), and
* a wheel event over one that has no focus is passed on to its parent (the scroll area scrolls).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(obj, GUARDED):
            if obj.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel and isinstance(obj, GUARDED) and not obj.hasFocus():
            event.ignore()  # handled here, not accepted: QApplication offers it to the parent next
            return True
        return False


def install_wheel_guard(app: QApplication | None = None) -> WheelGuard:
    """Install the guard on the application once (later calls return the same one)."""
    app = app or QApplication.instance()
    guard = app.findChild(WheelGuard, "workbenchWheelGuard")
    if guard is None:
        guard = WheelGuard(app)
        guard.setObjectName("workbenchWheelGuard")
        app.installEventFilter(guard)
    return guard
