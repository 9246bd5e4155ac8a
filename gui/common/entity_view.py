"""Named entities: the text with each entity highlighted (colour per group, tooltip with the score)
and a table of the entities."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QSplitter, QTableWidget, QTableWidgetItem, QTextBrowser,
                               QVBoxLayout, QWidget)
from PySide6.QtCore import Qt

GROUP_COLOURS = {"PER": "#aed6f1", "ORG": "#f9d79f", "LOC": "#abebc6", "MISC": "#d7bde2"}
SPARE_COLOURS = ("#f5b7b1", "#f9e79f", "#a3e4d7", "#d5dbdb", "#fad7a0", "#d2b4de")


def entity_group(entity: dict) -> str:
    """``entity_group`` when aggregated, else the tag without its B-/I- prefix."""
    if "entity_group" in entity:
        return str(entity["entity_group"])
    tag = str(entity.get("entity", "?"))
    return tag[2:] if tag[:2] in ("B-", "I-", "E-", "S-") else tag


def colour_for(group: str, _assigned: dict = {}) -> str:  # noqa: B006 - a small stable cache
    if group in GROUP_COLOURS:
        return GROUP_COLOURS[group]
    if group not in _assigned:
        _assigned[group] = SPARE_COLOURS[len(_assigned) % len(SPARE_COLOURS)]
    return _assigned[group]


class EntityView(QWidget):
    COLUMNS = ("Entity", "Text", "Start", "End", "Score")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text_view = QTextBrowser()
        self.text_view.setFont(QFont("DejaVu Sans", 12))
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.text_view)
        splitter.addWidget(self.table)
        splitter.setSizes([140, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        # (document start, document end, group, score) of each highlighted span, for tests and tooltips
        self.spans: list[tuple[int, int, str, float]] = []

    def show_result(self, result: dict, text: str | None = None) -> None:
        text = result.get("text_used", text or "")
        entities = sorted(result["entities"], key=lambda e: (e["start"] or 0, e["end"] or 0))
        self._fill_text(text, entities)
        self._fill_table(entities)

    def _fill_text(self, text: str, entities: list[dict]) -> None:
        self.text_view.clear()
        self.spans = []
        cursor = QTextCursor(self.text_view.document())
        plain = QTextCharFormat()
        position = 0
        for entity in entities:
            start, end = entity.get("start"), entity.get("end")
            if start is None or end is None or start < position:
                continue  # no offsets (slow tokenizer) or overlapping: listed in the table only
            cursor.insertText(text[position:start], plain)
            group = entity_group(entity)
            highlight = QTextCharFormat()
            highlight.setBackground(QColor(colour_for(group)))
            highlight.setToolTip(f"{group} · score {entity['score']:.4f}")
            begin = cursor.position()
            cursor.insertText(text[start:end], highlight)
            self.spans.append((begin, cursor.position(), group, float(entity["score"])))
            tag = QTextCharFormat(highlight)
            tag.setFontWeight(QFont.Weight.Bold)
            tag.setFontPointSize(8)
            cursor.insertText(f" {group}", tag)
            position = end
        cursor.insertText(text[position:], plain)

    def _fill_table(self, entities: list[dict]) -> None:
        self.table.setRowCount(len(entities))
        for row, entity in enumerate(entities):
            label = entity.get("entity_group", entity.get("entity", "?"))
            cells = (label, entity.get("word", ""), str(entity.get("start")), str(entity.get("end")),
                     f"{entity['score']:.4f}")
            for column, value in enumerate(cells):
                item = QTableWidgetItem(str(value))
                if column == 0:
                    item.setBackground(QColor(colour_for(entity_group(entity))))
                self.table.setItem(row, column, item)

    def table_rows(self) -> list[tuple[str, ...]]:
        return [tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
                for r in range(self.table.rowCount())]

    def tooltip_at(self, document_position: int) -> str:
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(document_position + 1)
        return cursor.charFormat().toolTip()

    def clear(self) -> None:
        self.text_view.clear()
        self.table.setRowCount(0)
        self.spans = []
