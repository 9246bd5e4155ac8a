"""A heatmap of attention weights between tokens, drawn with QPainter: rows are the tokens that
attend (queries), columns the tokens attended to (keys); token labels on both axes, the value under
the mouse in a tooltip."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

MAX_TOKENS = 256  # longer inputs show their first MAX_TOKENS tokens


def heat_colour(value: float) -> QColor:
    """Attention weight 0 → white, 1 → deep blue (square-root scale, so small weights stay visible)."""
    value = max(0.0, min(1.0, float(value))) ** 0.5
    return QColor(int(255 - 225 * value), int(255 - 180 * value), int(255 - 90 * value))


class AttentionHeatmap(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.matrix = None  # numpy [n, n]
        self.tokens: list[str] = []
        self.cell = 22
        self.font_ = QFont()
        self.font_.setPointSize(8)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_matrix(self, matrix, tokens: list[str]) -> None:
        if matrix is not None:
            n = min(len(tokens), MAX_TOKENS, matrix.shape[0])
            matrix, tokens = matrix[:n, :n], list(tokens[:n])
        self.matrix, self.tokens = matrix, tokens
        self.cell = 22 if len(tokens) <= 40 else 14 if len(tokens) <= 100 else 8
        self.updateGeometry()
        self.adjustSize()
        self.update()

    def _margin(self) -> int:
        metrics = QFontMetrics(self.font_)
        widest = max((metrics.horizontalAdvance(token) for token in self.tokens), default=20)
        return min(widest, 140) + 10

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        n = len(self.tokens)
        margin = self._margin()
        return QSize(margin + n * self.cell + 10, margin + n * self.cell + 10)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.sizeHint()

    def cell_at(self, point: QPoint) -> tuple[int, int] | None:
        margin = self._margin()
        row, column = (point.y() - margin) // self.cell, (point.x() - margin) // self.cell
        n = len(self.tokens)
        if point.x() < margin or point.y() < margin or not (0 <= row < n and 0 <= column < n):
            return None
        return int(row), int(column)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        cell = self.cell_at(event.position().toPoint())
        if cell is None or self.matrix is None:
            QToolTip.hideText()
            return
        row, column = cell
        QToolTip.showText(event.globalPosition().toPoint(),
                          f"{self.tokens[row]!r} attends to {self.tokens[column]!r}: {float(self.matrix[row, column]):.4f}",
                          self)

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        if self.matrix is None or not self.tokens:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Run the model to see its attention.")
            return
        painter.setFont(self.font_)
        margin, cell, n = self._margin(), self.cell, len(self.tokens)
        for row in range(n):
            for column in range(n):
                painter.fillRect(margin + column * cell, margin + row * cell, cell, cell,
                                 heat_colour(self.matrix[row, column]))
        painter.setPen(QColor("#444"))
        show_labels = cell >= 8
        for index, token in enumerate(self.tokens):
            if not show_labels:
                break
            painter.drawText(QRect(0, margin + index * cell, margin - 4, cell),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, token)
            painter.save()
            painter.translate(margin + index * cell, margin - 4)
            painter.rotate(-90)
            painter.drawText(QRect(0, 0, margin - 4, cell), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             token)
            painter.restore()
        painter.setPen(QColor("#999"))
        painter.drawRect(margin, margin, n * cell, n * cell)
        painter.end()
