"""A table of tokens (position, token, id, token_type_id, attention_mask, offsets, role) and an input
box whose character spans light up when a token is hovered, and vice versa.

Special tokens are coloured by role with a tooltip that says what they are for.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPlainTextEdit, QTableView, QTextEdit

from services.tokenizer.inspect import Encoding, TokenRow, describe_roles, role_name

ROLE_COLOURS = {
    "cls_token": "#cfe3ff",
    "sep_token": "#ffe0b3",
    "pad_token": "#e4e4e4",
    "mask_token": "#e6ccff",
    "unk_token": "#ffc2c2",
    "bos_token": "#c8f0d0",
    "eos_token": "#c8f0d0",
    "custom": "#fff3a0",
}
HOVER_COLOUR = "#ffe066"


def role_colour(row: TokenRow) -> str | None:
    if row.unknown:
        return ROLE_COLOURS["unk_token"]
    for key in row.roles:
        if key in ROLE_COLOURS:
            return ROLE_COLOURS[key]
    return None


class TokenTableModel(QAbstractTableModel):
    COLUMNS = ("#", "token", "id", "token_type_id", "attention_mask", "offsets", "role")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.encoding: Encoding | None = None

    def set_encoding(self, encoding: Encoding | None) -> None:
        self.beginResetModel()
        self.encoding = encoding
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() or self.encoding is None else len(self.encoding.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.encoding is None:
            return None
        row = self.encoding.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = role_colour(row)
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row)
        if role == Qt.ItemDataRole.FontRole and column == 1:
            font = QFont("monospace")
            font.setStyleHint(QFont.StyleHint.Monospace)
            font.setBold(row.special or row.unknown)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2, 3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(row: TokenRow, column: int):
        if column == 0:
            return row.position
        if column == 1:
            return row.token
        if column == 2:
            return row.id
        if column == 3:
            return "-" if row.token_type_id is None else row.token_type_id
        if column == 4:
            return row.attention_mask
        if column == 5:
            if row.start is None:
                return "(added)" if row.special else "-"
            segment = "" if row.segment in (0, None) else "B "
            return f"{segment}{row.start}–{row.end}"
        if column == 6:
            return ", ".join(role_name(key) for key in row.roles) or ("unknown" if row.unknown else "")
        return None

    def tooltip(self, row: TokenRow) -> str:
        lines = [f"{row.token!r} → id {row.id}"]
        if row.roles:
            lines.append(describe_roles(row.roles))
        elif row.unknown:
            lines.append("Unknown: the vocabulary has no piece for this text.")
        if row.special and row.start is None:
            lines.append("Added by the tokenizer; it is not in your text.")
        if self.encoding is not None and row.has_span:
            source = self.encoding.text if row.segment in (0, None) else self.encoding.pair or ""
            lines.append(f"From the text: {source[row.start:row.end]!r} (characters {row.start}–{row.end})")
        return "\n".join(lines)


class TokenTableView(QTableView):
    """The token table; emits the hovered row (-1 when the mouse leaves)."""

    sig_hovered = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.token_model = TokenTableModel(self)
        self.setModel(self.token_model)
        self.setMouseTracking(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((44, 130, 70, 100, 110, 90)):
            self.setColumnWidth(column, width)
        self._hovered = -1

    def set_encoding(self, encoding: Encoding | None) -> None:
        self.token_model.set_encoding(encoding)
        self._hovered = -1

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().mouseMoveEvent(event)
        row = self.indexAt(event.position().toPoint()).row()
        if row != self._hovered:
            self._hovered = row
            self.sig_hovered.emit(row)

    def leaveEvent(self, event) -> None:  # noqa: N802
        super().leaveEvent(event)
        if self._hovered != -1:
            self._hovered = -1
            self.sig_hovered.emit(-1)

    def highlight_row(self, row: int) -> None:
        """Select (and scroll to) ``row``; -1 clears the selection."""
        if row < 0:
            self.clearSelection()
            return
        self.selectRow(row)
        self.scrollTo(self.token_model.index(row, 0))


def utf16_position(text: str, index: int) -> int:
    """Qt counts UTF-16 code units; Python counts code points (emoji differ)."""
    if text.isascii():
        return index
    return len(text[:index].encode("utf-16-le")) // 2


def python_position(text: str, utf16: int) -> int:
    if text.isascii():
        return utf16
    units = 0
    for index, char in enumerate(text):
        if units >= utf16:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


class TokenTextInput(QPlainTextEdit):
    """A text box that reports the hovered character (Python index) and can highlight a span."""

    sig_hovered_char = Signal(int)  # -1 when the mouse leaves

    def __init__(self, parent=None):
        super().__init__(parent)
        self.viewport().setMouseTracking(True)
        self._last = -1

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        super().mouseMoveEvent(event)
        cursor = self.cursorForPosition(event.position().toPoint())
        rect = self.cursorRect(cursor)
        text = self.toPlainText()
        position = python_position(text, cursor.position())
        # cursorForPosition gives the nearest gap; the hovered character is left of it when the mouse is past it
        if event.position().x() < rect.x() and position > 0:
            position -= 1
        char = position if position < len(text) else -1
        if char != self._last:
            self._last = char
            self.sig_hovered_char.emit(char)

    def leaveEvent(self, event) -> None:  # noqa: N802
        super().leaveEvent(event)
        if self._last != -1:
            self._last = -1
            self.sig_hovered_char.emit(-1)

    def highlight(self, start: int | None, end: int | None, colour: str = HOVER_COLOUR) -> None:
        """Highlight characters ``start``–``end`` (Python indices); None clears."""
        if start is None or end is None or end <= start:
            self.setExtraSelections([])
            return
        text = self.toPlainText()
        selection = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.document())
        cursor.setPosition(utf16_position(text, start))
        cursor.setPosition(utf16_position(text, end), QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(colour))
        selection.cursor, selection.format = cursor, fmt
        self.setExtraSelections([selection])

    def highlighted_span(self) -> tuple[int, int] | None:
        selections = self.extraSelections()
        if not selections:
            return None
        cursor = selections[0].cursor
        text = self.toPlainText()
        return python_position(text, cursor.selectionStart()), python_position(text, cursor.selectionEnd())
