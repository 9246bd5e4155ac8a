"""The columnar results model at 1,000,000 rows: fill, sort, filter, lazy text, appends."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, Qt

from gui.analyse.results_model import COLUMNS, ResultsModel, flags_to_bits

N = 1_000_000


def filled_model() -> ResultsModel:
    model = ResultsModel()
    labels = [model.label_code(name) for name in ("positive", "negative", "neutral")]
    file = model.file_code("/data/big.csv")
    rng = np.random.default_rng(0)
    label = np.asarray(labels, dtype=np.int32)[rng.integers(0, 3, N)]
    score = rng.random(N, dtype=np.float32)
    flags = np.where(rng.random(N) < 0.01, flags_to_bits(["truncated"]), 0).astype(np.uint8)
    model.append_arrays(file=np.full(N, file), line=np.arange(1, N + 1), label=label, score=score, flags=flags)
    model.fetch = lambda row: {"text": f"text of row {row}", "file": "/data/big.csv", "line": row + 1}
    return model


def cell(model, row, name, role=Qt.ItemDataRole.DisplayRole):
    return model.data(model.index(row, COLUMNS.index(name)), role)


def test_million_rows_sort_and_filter(qtbot):
    model = filled_model()
    assert model.rowCount() == N and model.columnCount() == len(COLUMNS)
    assert cell(model, N - 1, "Line") == str(N) and cell(model, 5, "Text") == "text of row 5"
    scores = model._cols["score"].values.copy()

    model.sort(COLUMNS.index("Score"), Qt.SortOrder.DescendingOrder)
    top = [float(cell(model, r, "Score")) for r in range(3)]
    assert top[0] == round(float(scores.max()), 4) and top == sorted(top, reverse=True)
    assert float(cell(model, N - 1, "Score")) == round(float(scores.min()), 4)

    model.set_filter({"negative"}, (0.25, 0.5))
    expected = int(((model._cols["label"].values == model.label_code("negative")) & (scores >= 0.25)
                    & (scores <= 0.5)).sum())
    assert model.rowCount() == expected and 0 < expected < N
    shown = [float(cell(model, r, "Score")) for r in range(0, expected, max(1, expected // 500))]
    assert all(0.25 <= s <= 0.5 for s in shown) and shown == sorted(shown, reverse=True)
    assert {cell(model, r, "Label") for r in range(0, expected, max(1, expected // 500))} == {"negative"}

    model.set_filter(flagged_only=True)
    assert model.rowCount() == int((model._cols["flags"].values != 0).sum())
    assert cell(model, 0, "Flags") == "truncated"

    model.sort(COLUMNS.index("Label"), Qt.SortOrder.AscendingOrder)
    model.set_filter()
    names = [cell(model, r, "Label") for r in (0, N // 2, N - 1)]
    assert names == sorted(names)
    counts = dict(model.label_counts())
    assert sum(counts.values()) == N and set(counts) == {"positive", "negative", "neutral"}


def test_appends_while_filtered_keep_the_filter(qtbot):
    model = ResultsModel()
    model.append_rows([{"file": "f", "line": 1, "label": "a", "score": 0.9, "flags": []},
                       {"file": "f", "line": 2, "label": "b", "score": 0.2, "flags": ["too-long"]}])
    model.set_filter({"a"})
    inserted = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.append_rows([{"file": "f", "line": 3, "label": "b", "score": 0.5},
                       {"file": "f", "line": 4, "labels": ["a", "b"], "scores": [0.6, 0.4]}])
    assert model.rowCount() == 2 and inserted == [(1, 1)]
    assert [cell(model, r, "Line") for r in range(2)] == ["1", "4"]
    assert model.rowCount(model.index(0, 0)) == 0 and not model.data(QModelIndex())
