"""Reading a results file while it grows: the next chunk of complete lines, parsed and reduced to what
the results table shows (runs on a worker; the GUI only appends what it gets).

Parsing is the expensive part (rows with embeddings cost ~0.1 ms each), so it never happens on the
GUI thread: :func:`read_chunk` returns a frozen :class:`ResultsChunk` of small :class:`TableRow`
tuples and the byte offset of each line (the table fetches one full line when a row is opened).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from services.analyse.evaluate import predicted_label, predicted_score

CHUNK_ROWS = 2000  # rows per chunk: the GUI appends one chunk per event-loop turn


class TableRow(NamedTuple):
    """What the results table shows of one result line."""

    file: str
    line: int
    label: str | None  # the predicted label, the top zero-shot label, or "N entities"
    score: float | None
    gold: str | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ResultsChunk:
    start: int  # the byte offset it was read from (0: the start of the file)
    end: int  # where the next chunk starts
    rows: tuple[TableRow, ...]
    offsets: tuple[int, ...]  # byte offset of each row's line
    entity_counts: tuple[tuple[str, int], ...]  # ("PER: Maria", 2), … for entity rows in this chunk
    more: bool  # the chunk is full: more complete lines may follow at once


def table_row(row: dict) -> TableRow:
    label = predicted_label(row)
    if label is None and "entities" in row:
        label = f"{len(row['entities'])} entities"
    if label is None and "answer" in row:  # question answering: the answer (its score is the row's score)
        label = row["answer"][:80] or "(no answer)"
    gold = row.get("gold")
    return TableRow(str(row.get("file") or ""), int(row.get("line") or 0), label, predicted_score(row),
                    None if gold in (None, "") else str(gold), tuple(row.get("flags") or ()))


def read_chunk(path: str | os.PathLike, start: int = 0, max_rows: int = CHUNK_ROWS) -> ResultsChunk:
    """The complete result lines after byte ``start`` (0: after the header), at most ``max_rows``.

    A line still being written (no newline yet) is left for the next read; a missing file or a
    header not written yet gives an empty chunk.
    """
    rows: list[TableRow] = []
    offsets: list[int] = []
    entities: Counter = Counter()
    more = False
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return ResultsChunk(start, start, (), (), (), False)
    with handle:
        if start <= 0:
            if not handle.readline().endswith(b"\n"):  # the header
                return ResultsChunk(start, start, (), (), (), False)
            offset = handle.tell()
        else:
            handle.seek(start)
            offset = start
        for line in handle:
            if not line.endswith(b"\n"):
                break
            row = json.loads(line)
            rows.append(table_row(row))
            offsets.append(offset)
            offset += len(line)
            for entity in row.get("entities") or ():
                entities[f"{entity['entity_group']}: {entity['word']}"] += 1
            if len(rows) >= max_rows:
                more = True
                break
    return ResultsChunk(start, offset, tuple(rows), tuple(offsets), tuple(entities.items()), more)
