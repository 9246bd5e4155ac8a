"""Layout helpers for panels that must fit small windows: a form column that scrolls vertically only."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QScrollArea, QSizePolicy,
                               QStackedWidget, QVBoxLayout, QWidget)


class FormColumnLayout(QVBoxLayout):
    """A column for a vertical-only scroll area: its height is the larger of the view and its minimum.

    A layout holding a word-wrapping label reports height-for-width, and QScrollArea then sizes the
    widget by its *preferred* height: every list grows to its size hint and the column scrolls far
    more than it needs to (the buttons under the form drop below the fold). Without it the column is
    sized by its minimum, as a form in a scroll area should be.
    """

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return False


def vertical_scroll(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that scrolls vertically and is never narrower than it."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(widget)
    scroll.setMinimumWidth(widget.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
    return scroll


def size_to_current_page(stack: QStackedWidget) -> QStackedWidget:
    """Make ``stack`` as small as its *current* page allows (a QStackedWidget is as large as its largest
    page, hidden ones too: one wide page of options made the whole panel scroll sideways)."""

    def follow(_index: int = -1) -> None:
        current = stack.currentWidget()
        for index in range(stack.count()):
            page = stack.widget(index)
            policy = QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        stack.updateGeometry()

    stack.currentChanged.connect(follow)
    stack.widgetAdded.connect(follow)
    follow()
    return stack


def options_row(*widgets) -> QWidget:
    """One row of options: strings become labels, a line edit takes the spare width (else a stretch does)."""
    page = QWidget()
    layout = QHBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        if isinstance(widget, str):
            widget = QLabel(widget)
        layout.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
    if not any(isinstance(w, QLineEdit) for w in widgets):
        layout.addStretch(1)
    return page


def fill_language_combos(source: QComboBox, target: QComboBox, languages) -> None:
    """Source/target language choosers filled with a model's languages (``services.run.seq2seq.Languages``),
    its defaults selected; disabled for a model that takes no language."""
    for combo, items, default in ((source, languages.sources, languages.default_source),
                                  (target, languages.targets, languages.default_target)):
        combo.clear()
        combo.addItems(items)
        combo.setCurrentText(default or "")
        combo.setEnabled(languages.kind != "none")
