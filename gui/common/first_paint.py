"""Run something the first time a widget is really painted.

Docks tabbed behind others get a show event while the window opens and count as visible, but are
never painted; work meant for "when the user first looks at this" (a heavy import, loading a
tokenizer) should wait for the first paint, not the first show.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class OnFirstPaint(QObject):
    """Calls ``callback`` once, from the event loop, right after ``widget``'s first paint event."""

    def __init__(self, widget: QWidget, callback: Callable[[], object]):
        super().__init__(widget)
        self.callback = callback
        self.done = False
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.callback)
        return False
