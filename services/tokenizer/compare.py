"""Compare two or more tokenizers on the same text, aligned by character offsets.

The text is cut at every token boundary of every tokenizer; those cuts are the shared columns. Each
tokenizer's tokens then cover one or more columns, so a reader sees at a glance where one splits a
word and another does not. Properties the course contrasts (special tokens at the start or the end,
padding side, vocabulary size, model_max_length, lower-casing, accents) sit next to each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.tokenizer.inspect import (TOKENIZER_LOCK, Encoding, Normalisation, TokenizerHandle, check_text,
                                        describe_normalisation, encode)


@dataclass
class Cell:
    first: int  # first column covered
    last: int  # one past the last column covered
    tokens: list[str]


@dataclass
class ComparedTokenizer:
    name: str
    family: str  # the tokenizer's class / model family
    encoding: Encoding
    cells: list[Cell]
    start_specials: list[str]  # special tokens before the text
    end_specials: list[str]  # special tokens after the text
    padding_side: str
    vocab_size: int
    model_max_length: int | None
    normalisation: Normalisation
    splits: set[int] = field(default_factory=set)  # character positions where it splits inside a word

    @property
    def count(self) -> int:
        return len(self.encoding.rows)

    @property
    def special_placement(self) -> str:
        if self.start_specials and self.end_specials:
            return "start and end"
        return "end" if self.end_specials else "start" if self.start_specials else "none"


@dataclass
class Comparison:
    text: str
    columns: list[tuple[int, int]]  # character spans shared by all rows of the alignment
    tokenizers: list[ComparedTokenizer]
    differing_splits: list[int]  # positions where some tokenizers split inside a word and others do not

    def column_text(self, index: int) -> str:
        start, end = self.columns[index]
        return self.text[start:end]


def compare_tokenizers(handles: list[TokenizerHandle], text: str, *, progress: Progress = no_progress,
                       cancel: CancelToken = NEVER_CANCELLED) -> Comparison:
    if len(handles) < 2:
        raise InputError("Choose at least two tokenizers to compare.")
    check_text(text)
    encodings = []
    for index, handle in enumerate(handles):
        progress(index, len(handles) + 1, f"Tokenizing with {handle.name}")
        cancel.check()
        encodings.append(encode(handle, text, cancel=cancel))
    columns = _columns(text, encodings)
    starts = {start: i for i, (start, _) in enumerate(columns)}
    ends = {end: i + 1 for i, (_, end) in enumerate(columns)}
    compared = []
    for handle, encoding in zip(handles, encodings):
        compared.append(_describe(handle, encoding, text, starts, ends))
    with_offsets = [c.splits for c in compared if c.encoding.offsets_available]
    differing = sorted(set().union(*with_offsets) - set.intersection(*with_offsets)) if with_offsets else []
    progress(len(handles) + 1, len(handles) + 1, "Done")
    return Comparison(text, columns, compared, differing)


def _columns(text: str, encodings: list[Encoding]) -> list[tuple[int, int]]:
    cuts, covered = {0, len(text)}, []
    for encoding in encodings:
        for row in encoding.rows:
            if row.has_span:
                cuts.update((row.start, row.end))
                covered.append((row.start, row.end))
    ordered = sorted(cuts)
    columns = []
    for start, end in zip(ordered, ordered[1:]):
        if any(s <= start and end <= e for s, e in covered):
            columns.append((start, end))
    return columns


def _describe(handle: TokenizerHandle, encoding: Encoding, text: str, starts: dict, ends: dict) -> ComparedTokenizer:
    cells: list[Cell] = []
    splits: set[int] = set()
    for row in encoding.rows:
        if not row.has_span:
            continue
        first, last = starts[row.start], ends[row.end]
        if cells and first < cells[-1].last:
            cells[-1].last = max(cells[-1].last, last)
            cells[-1].tokens.append(row.token)
        else:
            cells.append(Cell(first, last, [row.token]))
        for position in (row.start, row.end):
            if 0 < position < len(text) and not text[position - 1].isspace() and not text[position].isspace():
                splits.add(position)
    first_text = next((i for i, row in enumerate(encoding.rows) if not row.special), len(encoding.rows))
    last_text = max((i for i, row in enumerate(encoding.rows) if not row.special), default=-1)
    start_specials = [row.token for row in encoding.rows[:first_text] if row.special]
    end_specials = [row.token for row in encoding.rows[last_text + 1:] if row.special]
    tokenizer = handle.tokenizer
    with TOKENIZER_LOCK:
        family = tokenizer_family(tokenizer)
        padding_side = str(getattr(tokenizer, "padding_side", "right"))
        vocab_size = len(tokenizer)
    return ComparedTokenizer(handle.name, family, encoding, cells, start_specials, end_specials,
                             padding_side, vocab_size, encoding.model_max_length, describe_normalisation(tokenizer),
                             splits)


def tokenizer_family(tokenizer) -> str:
    """The splitting algorithm (WordPiece, Unigram, BPE, ...) and the tokenizer class."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    algorithm = type(backend.model).__name__ if backend is not None else "Python"
    return f"{algorithm} ({type(tokenizer).__name__})"
