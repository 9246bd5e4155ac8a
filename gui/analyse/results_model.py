"""A table model for analysis results that stays smooth at millions of rows.

Columnar storage (numpy arrays: file, line, label, score, gold, flags, byte offset into the results
file); no per-row Qt items. Sorting and filtering build an index array (``view``) with numpy, so
a million rows sort or filter in milliseconds instead of going through a QSortFilterProxyModel.
The text of a row is fetched lazily (``fetch(offset) -> dict``, e.g. one line of the results file)
for the rows actually painted, with a small cache.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Callable

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

FLAG_BITS = {"too-long": 1, "truncated": 2, "chunked": 4, "empty": 8}
COLUMNS = ["#", "File", "Line", "Label", "Score", "Gold", "Flags", "Text"]
NUMERIC = {"#", "Line", "Score"}
PREVIEW_CHARS = 160


def flags_to_bits(flags) -> int:
    bits = 0
    for flag in flags or ():
        bits |= FLAG_BITS.get(flag, 0)
    return bits


def bits_to_text(bits: int) -> str:
    return ", ".join(name for name, bit in FLAG_BITS.items() if bits & bit)


class _Column:
    """A growable numpy array (capacity doubles, so appends are amortised O(1))."""

    def __init__(self, dtype, fill=0):
        self.data = np.full(1024, fill, dtype=dtype)
        self.size = 0
        self.fill = fill

    def extend(self, values: np.ndarray) -> None:
        need = self.size + len(values)
        if need > len(self.data):
            grown = np.full(max(need, len(self.data) * 2), self.fill, dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size:need] = values
        self.size = need

    @property
    def values(self) -> np.ndarray:
        return self.data[: self.size]


class ResultsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.fetch: Callable[[int], dict] | None = None
        self.files: list[str] = []
        self._file_code: dict[str, int] = {}
        self.labels: list[str] = []
        self._label_code: dict[str, int] = {}
        self._cols = {"file": _Column(np.int32), "line": _Column(np.int64), "label": _Column(np.int32, -1),
                      "score": _Column(np.float32, np.nan), "gold": _Column(np.int32, -1),
                      "flags": _Column(np.uint8), "offset": _Column(np.int64, -1)}
        self.view: np.ndarray | None = None  # None = every row in order
        self.sort_column: int | None = None
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.filter_labels: set[str] | None = None
        self.score_range: tuple[float, float] | None = None
        self.flagged_only = False
        self._cache: OrderedDict[int, dict] = OrderedDict()

    # -- codes ---------------------------------------------------------------------------------
    def _code(self, table: list[str], index: dict[str, int], value) -> int:
        if value is None or value == "":
            return -1
        value = str(value)
        code = index.get(value)
        if code is None:
            code = index[value] = len(table)
            table.append(value)
        return code

    def label_code(self, label) -> int:
        return self._code(self.labels, self._label_code, label)

    def file_code(self, path) -> int:
        return self._code(self.files, self._file_code, path)

    # -- filling -------------------------------------------------------------------------------
    @property
    def total_rows(self) -> int:
        return self._cols["line"].size

    def clear(self) -> None:
        self.beginResetModel()
        for name, column in self._cols.items():
            self._cols[name] = _Column(column.data.dtype, column.fill)
        self.files.clear()
        self._file_code.clear()
        self.labels.clear()
        self._label_code.clear()
        self._cache.clear()
        self.view = None
        self.sort_column = None
        self.filter_labels, self.score_range, self.flagged_only = None, None, False
        self.endResetModel()

    def append_arrays(self, *, file: np.ndarray, line: np.ndarray, label: np.ndarray, score: np.ndarray,
                      gold: np.ndarray | None = None, flags: np.ndarray | None = None,
                      offset: np.ndarray | None = None) -> None:
        """Append rows given as columns (codes already assigned with ``label_code``/``file_code``)."""
        count = len(line)
        if count == 0:
            return
        start = self.total_rows
        self._cols["file"].extend(np.asarray(file, dtype=np.int32))
        self._cols["line"].extend(np.asarray(line, dtype=np.int64))
        self._cols["label"].extend(np.asarray(label, dtype=np.int32))
        self._cols["score"].extend(np.asarray(score, dtype=np.float32))
        self._cols["gold"].extend(np.full(count, -1, np.int32) if gold is None else np.asarray(gold, dtype=np.int32))
        self._cols["flags"].extend(np.zeros(count, np.uint8) if flags is None else np.asarray(flags, dtype=np.uint8))
        self._cols["offset"].extend(np.full(count, -1, np.int64) if offset is None else np.asarray(offset, np.int64))
        if self.view is None:
            self.beginInsertRows(QModelIndex(), start, start + count - 1)
            self.endInsertRows()
            return
        new = np.arange(start, start + count, dtype=np.int64)
        new = new[self._mask(new)]  # a sorted view keeps new rows at its end until the next sort
        if len(new):
            first = len(self.view)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self.view = np.concatenate([self.view, new])
            self.endInsertRows()

    def append_rows(self, rows: list[dict], offsets: list[int] | None = None) -> None:
        """Append result rows (dicts as stored in the results file)."""
        from services.analyse.tail import table_row

        self.append_table_rows([table_row(row) for row in rows], offsets)

    def append_table_rows(self, rows, offsets=None) -> None:
        """Append rows already reduced to what the table shows (``services.analyse.tail.TableRow``),
        e.g. a chunk parsed on a worker: no JSON is parsed here."""
        count = len(rows)
        file = np.empty(count, np.int32)
        line = np.empty(count, np.int64)
        label = np.empty(count, np.int32)
        score = np.empty(count, np.float32)
        gold = np.empty(count, np.int32)
        flags = np.empty(count, np.uint8)
        for i, row in enumerate(rows):
            file[i] = self.file_code(row.file)
            line[i] = row.line
            label[i] = self.label_code(row.label)
            score[i] = np.nan if row.score is None else row.score
            gold[i] = self.label_code(row.gold)
            flags[i] = flags_to_bits(row.flags)
        self.append_arrays(file=file, line=line, label=label, score=score, gold=gold, flags=flags,
                           offset=None if offsets is None else np.asarray(offsets, np.int64))

    # -- sort and filter -------------------------------------------------------------------------
    def _mask(self, rows: np.ndarray) -> np.ndarray:
        keep = np.ones(len(rows), dtype=bool)
        if self.filter_labels is not None:
            codes = [self._label_code[name] for name in self.filter_labels if name in self._label_code]
            keep &= np.isin(self._cols["label"].values[rows], np.asarray(codes, dtype=np.int32))
        if self.score_range is not None:
            scores = self._cols["score"].values[rows]
            low, high = self.score_range
            keep &= (scores >= low) & (scores <= high)
        if self.flagged_only:
            keep &= self._cols["flags"].values[rows] != 0
        return keep

    def set_filter(self, labels: set[str] | None = None, score_range: tuple[float, float] | None = None,
                   flagged_only: bool = False) -> None:
        self.filter_labels = set(labels) if labels is not None else None
        self.score_range = score_range
        self.flagged_only = flagged_only
        self._rebuild()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column = column if 0 <= column < len(COLUMNS) and COLUMNS[column] != "Text" else None
        self.sort_order = order
        self._rebuild()

    def _sort_key(self, rows: np.ndarray) -> np.ndarray:
        name = COLUMNS[self.sort_column]
        if name in ("Label", "Gold"):
            ranks = np.argsort(np.argsort(np.asarray(self.labels, dtype=object))) if self.labels else np.zeros(0)
            ranks = np.append(ranks, -1).astype(np.int64)  # code -1 (none) sorts first
            return ranks[self._cols["label" if name == "Label" else "gold"].values[rows]]
        if name == "Score":
            return np.nan_to_num(self._cols["score"].values[rows], nan=-1.0)
        if name == "Flags":
            return self._cols["flags"].values[rows]
        if name == "File":
            ranks = np.argsort(np.argsort(np.asarray(self.files, dtype=object))) if self.files else np.zeros(0)
            return np.asarray(ranks, dtype=np.int64)[self._cols["file"].values[rows]] * (1 << 40) + \
                self._cols["line"].values[rows]
        if name == "Line":
            return self._cols["line"].values[rows]
        return rows  # "#": arrival order

    def _rebuild(self) -> None:
        self.beginResetModel()
        self._cache.clear()
        filtering = self.filter_labels is not None or self.score_range is not None or self.flagged_only
        if not filtering and self.sort_column is None:
            self.view = None
        else:
            rows = np.arange(self.total_rows, dtype=np.int64)
            if filtering:
                rows = rows[self._mask(rows)]
            if self.sort_column is not None:
                order = np.argsort(self._sort_key(rows), kind="stable")
                if self.sort_order == Qt.SortOrder.DescendingOrder:
                    order = order[::-1]
                rows = rows[order]
            self.view = rows
        self.endResetModel()

    # -- reading ---------------------------------------------------------------------------------
    def source_row(self, row: int) -> int:
        return int(row if self.view is None else self.view[row])

    def row_values(self, row: int) -> dict:
        """The columns of a visible row as Python values (text not included)."""
        source = self.source_row(row)
        label = int(self._cols["label"].values[source])
        gold = int(self._cols["gold"].values[source])
        score = float(self._cols["score"].values[source])
        return {"row": source, "file": self.files[int(self._cols["file"].values[source])] if self.files else "",
                "line": int(self._cols["line"].values[source]), "label": self.labels[label] if label >= 0 else None,
                "score": None if math.isnan(score) else score, "gold": self.labels[gold] if gold >= 0 else None,
                "flags": bits_to_text(int(self._cols["flags"].values[source])),
                "offset": int(self._cols["offset"].values[source])}

    def record(self, row: int) -> dict | None:
        """The full stored result of a visible row (via ``fetch``), cached."""
        source = self.source_row(row)
        if source in self._cache:
            self._cache.move_to_end(source)
            return self._cache[source]
        if self.fetch is None:
            return None
        offset = int(self._cols["offset"].values[source])
        value = self.fetch(offset if offset >= 0 else source)  # no offset: the fetcher gets the row number
        self._cache[source] = value
        while len(self._cache) > 2000:
            self._cache.popitem(last=False)
        return value

    def label_counts(self) -> list[tuple[str, int]]:
        codes = self._cols["label"].values
        codes = codes[codes >= 0]
        counts = np.bincount(codes, minlength=len(self.labels)) if len(codes) else np.zeros(len(self.labels), int)
        pairs = [(self.labels[i], int(n)) for i, n in enumerate(counts) if n]
        return sorted(pairs, key=lambda p: -p[1])

    # -- Qt API ------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return self.total_rows if self.view is None else len(self.view)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        name = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter) if name in NUMERIC else None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if name == "Text":
            record = self.record(index.row())
            text = (record or {}).get("text", "")
            if role == Qt.ItemDataRole.ToolTipRole:
                return text[:1000]
            return text[:PREVIEW_CHARS].replace("\n", " ⏎ ")
        values = self.row_values(index.row())
        if name == "#":
            return str(values["row"] + 1)
        if name == "File":
            return values["file"].rsplit("/", 1)[-1] if role == Qt.ItemDataRole.DisplayRole else values["file"]
        if name == "Line":
            return str(values["line"])
        if name == "Label":
            return values["label"] or ""
        if name == "Score":
            return "" if values["score"] is None else f"{values['score']:.4f}"
        if name == "Gold":
            return values["gold"] or ""
        return values["flags"]
