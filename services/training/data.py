"""Labelled data for fine-tuning: read a file, check it, find the labels, split off validation.

Classification: CSV / TSV / JSONL with a text column and a label column. Token classification
(NER): CoNLL-style text (``token TAG`` per line, a blank line between sentences) or JSONL with
``tokens`` and ``tags`` (or ``ner_tags``) lists, tags in BIO form. Everything here is plain Python.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from services.core.errors import InputError
from services.core.files import InputFile
from services.core.readers import guess_columns, read_text, table_rows
from services.training import TEXT_CLASSIFICATION, TOKEN_CLASSIFICATION, TRAIN_TASKS

MIN_ROWS = 10
MIN_VALIDATION = 20  # fewer validation examples than this: warn that the scores mean little
MIN_VALIDATION_PER_CLASS = 5
IMBALANCE_RATIO = 5.0  # largest class / smallest class at which we warn
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
CONLL_SUFFIXES = {".conll", ".conllu", ".bio", ".iob", ".txt"}
TOKEN_KEYS = ("tokens", "words")
TAG_KEYS = ("tags", "ner_tags", "labels")
BIO_TAG = re.compile(r"^(O|[BI]-\S+)$")


@dataclass
class RawFile:
    """A file read into memory: its rows (dicts) or sentences, plus where it came from."""

    path: Path
    format: str  # "csv", "tsv", "jsonl", "conll"
    sha256: str
    columns: list[str]
    rows: list[dict]  # tables: one dict per row; token files: {"tokens": [...], "tags": [...], "line": n}
    warnings: list[str] = field(default_factory=list)  # as Analyse words them: encoding, skipped broken rows


@dataclass
class Examples:
    """Checked examples from one file: ``inputs`` are texts or token lists, ``targets`` labels or tag lists."""

    path: Path
    sha256: str
    task: str
    inputs: list
    targets: list
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    warnings: list[str] = field(default_factory=list)  # from reading the file (encoding, broken rows)

    def __len__(self) -> int:
        return len(self.inputs)

    def label_counts(self) -> Counter:
        if self.task == TOKEN_CLASSIFICATION:
            return Counter(tag for tags in self.targets for tag in tags)
        return Counter(self.targets)


@dataclass
class PreparedData:
    """What a training run needs: train and validation examples and the label set."""

    task: str
    train: Examples
    validation: Examples
    labels: list[str]  # the label values found in the data, in id order
    label_names: list[str]  # what the model will call them (edited names; same order)
    counts: dict[str, int]  # training counts per label value
    warnings: list[str]
    validation_source: str  # "split 20%" or the validation file's name
    text_column: str = ""
    label_column: str = ""

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.label_names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.label_names)}

    def encode(self, value: str) -> int:
        return self.labels.index(value)


# -- reading files --------------------------------------------------------------------------------
def file_format(path: Path, task: str | None = None) -> str:
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return "tsv" if TABLE_SUFFIXES[suffix] == "\t" else "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CONLL_SUFFIXES:
        return "conll"
    known = ", ".join(sorted(set(TABLE_SUFFIXES) | JSONL_SUFFIXES | CONLL_SUFFIXES))
    raise InputError(f"'{path.name}' has a file type this app cannot read ({suffix or 'no extension'}).",
                     hint=f"Use one of: {known}.")


def _scan(path: Path) -> tuple[InputFile, list[str]]:
    """Scan the file as Analyse does (encoding, binary check); warnings as display strings."""
    from services.core.files import scan_file

    if not path.exists():
        raise InputError(f"The data file '{path}' does not exist.")
    if not path.is_file():
        raise InputError(f"'{path}' is a folder, not a data file.")
    info, problem = scan_file(str(path))
    if problem is not None:
        if problem.kind == "binary":
            raise InputError(f"'{path.name}' is a binary file, not text (it contains NUL bytes).",
                             hint="Choose a CSV, TSV or JSONL file (or a CoNLL file for NER) saved as text.")
        raise InputError(f"Cannot read '{path.name}': {problem.message.removeprefix('skipped: ')}.")
    assert info is not None
    return info, [str(w) for w in info.warnings]


def sha256_of(path: str | Path) -> str:
    return _scan(Path(path))[0].sha256


def _read_conll(path: Path, text: str) -> list[dict]:
    sentences: list[dict] = []
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("-DOCSTART-"):
            if tokens:
                sentences.append({"tokens": tokens, "tags": tags, "line": start})
            tokens, tags = [], []
            continue
        fields = stripped.split()
        if len(fields) < 2:
            raise InputError(f"Line {number} of '{path.name}' has no tag: '{stripped[:40]}'.",
                             hint="CoNLL files need 'token TAG' on each line and a blank line between sentences.")
        if not tokens:
            start = number
        tokens.append(fields[0])
        tags.append(fields[-1])
    if tokens:
        sentences.append({"tokens": tokens, "tags": tags, "line": start})
    if not sentences:
        raise InputError(f"'{path.name}' is empty.")
    return sentences


def read_file(path: str | Path, task: str = TEXT_CLASSIFICATION) -> RawFile:
    """Read a data file for ``task`` through the same readers Analyse uses (UTF-8, UTF-8 with BOM and
    UTF-16 recognised; anything else read as cp1252 with a warning; broken rows skipped with a
    warning); a clear :class:`InputError` for unreadable, binary or malformed files."""
    path = Path(path).expanduser()
    if task not in TRAIN_TASKS:
        raise InputError(f"Unknown training task '{task}'.", hint=f"Tasks: {', '.join(TRAIN_TASKS)}.")
    fmt = file_format(path, task)
    info, notes = _scan(path)
    if info.size == 0:
        raise InputError(f"'{path.name}' is empty.", hint="The first line must name the columns, e.g. text,label.")
    if task == TOKEN_CLASSIFICATION and fmt in ("csv", "tsv"):
        raise InputError(f"'{path.name}' is a table, but NER needs tokens with tags.",
                         hint="Use a CoNLL file ('token TAG' per line) or JSONL with tokens and tags lists.")
    if task == TEXT_CLASSIFICATION and fmt == "conll":
        raise InputError(f"'{path.name}' looks like a CoNLL token file, but text classification needs a table.",
                         hint="Use CSV, TSV or JSONL with a text column and a label column.")
    if fmt == "conll":
        return RawFile(path, fmt, info.sha256, ["tokens", "tags"], _read_conll(path, read_text(info)), notes)
    info.kind = fmt if fmt in ("csv", "tsv") else ("json" if path.suffix.lower() == ".json" else "jsonl")
    problems: list = []
    columns, rows = table_rows(info, problems)
    notes += [str(w) for w in problems]
    if not rows:
        raise InputError(f"'{path.name}' has no rows.",
                         hint="JSONL needs one JSON object per line." if fmt == "jsonl"
                         else "The first line must name the columns, e.g. text,label.")
    return RawFile(path, fmt, info.sha256, columns, rows, notes)


def preview_rows(raw: RawFile, limit: int = 20) -> tuple[list[str], list[list[str]]]:
    """Columns and the first ``limit`` rows as display strings."""
    if raw.format == "conll":
        rows = [[" ".join(r["tokens"]), " ".join(r["tags"])] for r in raw.rows[:limit]]
        return ["tokens", "tags"], rows
    columns = raw.columns
    rows = []
    for row in raw.rows[:limit]:
        rows.append([_display(row.get(c)) for c in columns])
    return columns, rows


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


# -- turning rows into checked examples -----------------------------------------------------------
def label_value(value) -> str | None:
    """A label as its string name: numbers keep their digits (1 and 1.0 → "1"), blanks → None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    text = str(value).strip()
    return text or None


def _count(skipped: dict[str, int], reason: str) -> None:
    skipped[reason] = skipped.get(reason, 0) + 1


def classification_examples(raw: RawFile, text_column: str | None = None,
                            label_column: str | None = None) -> tuple[Examples, str, str]:
    guessed_text, guessed_label = guess_columns(raw.columns, need_label=True)
    text_column = text_column or guessed_text
    label_column = label_column or guessed_label
    found = ", ".join(raw.columns) or "none"
    if text_column not in raw.columns:
        raise InputError(f"'{raw.path.name}' has no text column '{text_column}'.", hint=f"Columns found: {found}.")
    if not label_column:
        raise InputError(f"'{raw.path.name}' has no label column (it has only '{text_column}').",
                         hint="Add a column with the label of each text, e.g. text,label.")
    if label_column not in raw.columns:
        raise InputError(f"'{raw.path.name}' has no label column '{label_column}'.", hint=f"Columns found: {found}.")
    if label_column == text_column:
        raise InputError("The text column and the label column must be different.")
    texts, labels = [], []
    skipped: dict[str, int] = {}
    for row in raw.rows:
        text = row.get(text_column)
        text = "" if text is None else str(text).strip()
        label = label_value(row.get(label_column))
        if not text:
            _count(skipped, "empty or missing text")
            continue
        if label is None:
            _count(skipped, "empty or missing label")
            continue
        texts.append(text)
        labels.append(label)
    return Examples(raw.path, raw.sha256, TEXT_CLASSIFICATION, texts, labels, skipped, raw.warnings), text_column, label_column


def check_bio(tags: list[str], where: str) -> None:
    for tag in tags:
        if not BIO_TAG.match(tag):
            raise InputError(f"The tag '{tag}' ({where}) is not in BIO form.",
                             hint="Use O for outside, B-TYPE to begin an entity and I-TYPE inside it, e.g. B-PER I-PER.")


def token_examples(raw: RawFile) -> Examples:
    tokens_key = next((k for k in TOKEN_KEYS if k in raw.columns), None)
    tags_key = next((k for k in TAG_KEYS if k in raw.columns), None)
    if tokens_key is None or tags_key is None:
        raise InputError(f"'{raw.path.name}' has no tokens and tags.",
                         hint='Each JSONL line needs {"tokens": [...], "tags": [...]} with BIO tags.')
    inputs, targets = [], []
    skipped: dict[str, int] = {}
    for row in raw.rows:
        tokens, tags = row.get(tokens_key), row.get(tags_key)
        where = f"line {row.get('line', '?')} of {raw.path.name}"
        if not tokens:
            _count(skipped, "empty or missing text")
            continue
        if not isinstance(tokens, list) or not isinstance(tags, list):
            raise InputError(f"Tokens and tags must be lists ({where}).")
        if len(tokens) != len(tags):
            raise InputError(f"{len(tokens)} tokens but {len(tags)} tags ({where}).", hint="Give every token one tag.")
        tags = [str(t) for t in tags]
        check_bio(tags, where)
        inputs.append([str(t) for t in tokens])
        targets.append(tags)
    return Examples(raw.path, raw.sha256, TOKEN_CLASSIFICATION, inputs, targets, skipped, raw.warnings)


def load_examples(path: str | Path, task: str, text_column: str | None = None,
                  label_column: str | None = None) -> tuple[Examples, str, str]:
    raw = read_file(path, task)
    if task == TOKEN_CLASSIFICATION:
        return token_examples(raw), "tokens", "tags"
    return classification_examples(raw, text_column, label_column)


# -- labels, splits, the prepared data set ------------------------------------------------------------
def ordered_labels(values, task: str) -> list[str]:
    """Label values in id order: numbers numerically, names alphabetically; NER: O, then B-/I- per type."""
    values = set(values)
    if task == TOKEN_CLASSIFICATION:
        types = sorted({v[2:] for v in values if v != "O"})
        return ["O"] + [f"{prefix}-{t}" for t in types for prefix in ("B", "I")]
    try:
        return sorted(values, key=lambda v: (float(v), v))
    except ValueError:
        return sorted(values)


def imbalance_warning(counts: dict[str, int]) -> str:
    if len(counts) < 2:
        return ""
    largest = max(counts, key=counts.get)
    smallest = min(counts, key=counts.get)
    ratio = counts[largest] / max(1, counts[smallest])
    if ratio < IMBALANCE_RATIO:
        return ""
    return (f"Heavy class imbalance: '{largest}' has {counts[largest]} examples but '{smallest}' only "
            f"{counts[smallest]} ({ratio:.0f}×). The model may learn to ignore the small class; "
            "watch macro-F1 rather than accuracy, or add examples of the small class.")


def small_validation_warning(validation: Examples, classes: int = 0) -> str:
    """A validation set this small gives scores that mean little (one example moves accuracy by 1/n)."""
    needed = max(MIN_VALIDATION, MIN_VALIDATION_PER_CLASS * classes)
    if len(validation) >= needed:
        return ""
    return (f"The validation set has only {len(validation)} examples, so its scores mean little (one example moves "
            f"accuracy by {100 / max(1, len(validation)):.0f} points). Use at least {needed}: more data, a larger "
            "validation share, or a separate validation file.")


def stratified_split(examples: Examples, fraction: float, seed: int) -> tuple[Examples, Examples]:
    """Split off ``fraction`` for validation, keeping each label's share (sentences at random for NER)."""
    if not 0 < fraction < 1:
        raise InputError(f"The validation share must be between 0 and 100% (got {fraction * 100:g}%).")
    rng = random.Random(seed)
    if examples.task == TOKEN_CLASSIFICATION:
        groups = {"all": list(range(len(examples)))}
    else:
        groups: dict[str, list[int]] = {}
        for index, label in enumerate(examples.targets):
            groups.setdefault(label, []).append(index)
    validation: list[int] = []
    for key in sorted(groups):
        indices = groups[key][:]
        rng.shuffle(indices)
        take = round(len(indices) * fraction)
        take = min(max(take, 1 if len(indices) >= 2 else 0), len(indices) - 1)
        validation.extend(indices[:take])
    chosen = set(validation)
    if not chosen:
        raise InputError("The validation split is empty.", hint="Use a larger validation share or more data.")
    train_idx = [i for i in range(len(examples)) if i not in chosen]
    val_idx = sorted(chosen)
    return _subset(examples, train_idx), _subset(examples, val_idx)


def _subset(examples: Examples, indices: list[int]) -> Examples:
    return Examples(examples.path, examples.sha256, examples.task, [examples.inputs[i] for i in indices],
                    [examples.targets[i] for i in indices], dict(examples.skipped), list(examples.warnings))


def apply_label_names(labels: list[str], names: dict[str, str] | None, task: str) -> list[str]:
    """The model's label names: the values found, with the user's edits (must stay unique, BIO for NER)."""
    result = []
    for value in labels:
        name = (names or {}).get(value, value)
        name = str(name).strip()
        if not name:
            raise InputError(f"The label '{value}' needs a name.", hint="Label names cannot be empty.")
        result.append(name)
    duplicates = sorted({n for n in result if result.count(n) > 1})
    if duplicates:
        raise InputError(f"Two labels have the same name: {', '.join(duplicates)}.", hint="Give every label its own name.")
    if task == TOKEN_CLASSIFICATION:
        check_bio(result, "label names")
    return result


def prepare_data(path: str | Path, task: str, *, text_column: str | None = None, label_column: str | None = None,
                 validation_path: str | Path | None = None, validation_fraction: float = 0.2, seed: int = 42,
                 label_names: dict[str, str] | None = None) -> PreparedData:
    """Read, check and split the data for a training run; every problem is a clear :class:`InputError`."""
    examples, text_column, label_column = load_examples(path, task, text_column, label_column)
    name = Path(path).name
    if len(examples) < MIN_ROWS:
        skipped = sum(examples.skipped.values())
        extra = f" ({skipped} more skipped: {_skipped_text(examples.skipped)})" if skipped else ""
        raise InputError(f"'{name}' has only {len(examples)} usable examples{extra}; training needs at least {MIN_ROWS}.",
                         hint="Add more labelled rows.")
    counts = examples.label_counts()
    if task == TEXT_CLASSIFICATION and len(counts) < 2:
        only = next(iter(counts))
        raise InputError(f"Every example in '{name}' has the same label ('{only}'); a classifier needs at least two classes.",
                         hint="Add examples of the other classes.")
    if task == TOKEN_CLASSIFICATION and not any(tag != "O" for tag in counts):
        raise InputError(f"'{name}' has no entities: every tag is O.", hint="Tag entities with B-TYPE / I-TYPE.")
    labels = ordered_labels(counts, task)
    if validation_path:
        train = examples
        validation, _t, _l = load_examples(validation_path, task, text_column, label_column)
        if not len(validation):
            raise InputError(f"The validation file '{Path(validation_path).name}' has no usable examples.")
        unseen = sorted(set(validation.label_counts()) - set(labels))
        if unseen:
            raise InputError(f"The validation file has labels that never occur in the training data: {', '.join(unseen)}.",
                             hint="The model cannot learn a label it never sees; add training examples or fix the labels.")
        source = Path(validation_path).name
    else:
        train, validation = stratified_split(examples, validation_fraction, seed)
        source = f"{validation_fraction * 100:.0f}% split of {name}"
    names = apply_label_names(labels, label_names, task)
    train_counts = train.label_counts()
    warnings = list(examples.warnings)
    if validation_path:
        warnings += validation.warnings
    if task == TEXT_CLASSIFICATION:
        warning = imbalance_warning({label: counts[label] for label in labels})
        if warning:
            warnings.append(warning)
    small = small_validation_warning(validation, len(labels) if task == TEXT_CLASSIFICATION else 0)
    if small:
        warnings.append(small)
    if examples.skipped:
        warnings.append(f"Skipped {sum(examples.skipped.values())} rows of {name}: {_skipped_text(examples.skipped)}.")
    if validation_path and validation.skipped:
        warnings.append(f"Skipped {sum(validation.skipped.values())} rows of {source}: {_skipped_text(validation.skipped)}.")
    return PreparedData(task, train, validation, labels, names, {label: train_counts.get(label, 0) for label in labels},
                        warnings, source, text_column, label_column)


def _skipped_text(skipped: dict[str, int]) -> str:
    return ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))


def summarize(path: str | Path, task: str, text_column: str | None = None, label_column: str | None = None) -> dict:
    """What the data panel shows for a file: columns, preview, label counts, skipped rows, warnings.

    Problems that only matter for training (too few rows, one class) are reported in ``problems``
    instead of raised, so the user sees the preview and can fix the column choice.
    """
    raw = read_file(path, task)
    columns, rows = preview_rows(raw)
    guessed_text, guessed_label = guess_columns(raw.columns, need_label=True)
    result = {"format": raw.format, "columns": columns, "rows": rows, "sha256": raw.sha256, "total": len(raw.rows),
              "text_column": text_column or guessed_text, "label_column": label_column or guessed_label,
              "counts": {}, "labels": [], "skipped": {}, "warnings": list(raw.warnings), "problems": []}
    try:
        if task == TOKEN_CLASSIFICATION:
            examples = token_examples(raw)
        else:
            examples, result["text_column"], result["label_column"] = classification_examples(raw, text_column, label_column)
    except InputError as error:
        result["problems"].append(str(error))
        return result
    counts = examples.label_counts()
    result["labels"] = ordered_labels(counts, task)
    result["counts"] = {label: counts.get(label, 0) for label in result["labels"]}
    result["skipped"] = dict(examples.skipped)
    result["usable"] = len(examples)
    if len(examples) < MIN_ROWS:
        result["problems"].append(f"Only {len(examples)} usable examples; training needs at least {MIN_ROWS}.")
    if task == TEXT_CLASSIFICATION:
        if len(counts) == 1:
            result["problems"].append("Every example has the same label; a classifier needs at least two classes.")
        warning = imbalance_warning(result["counts"])
        if warning:
            result["warnings"].append(warning)
    if examples.skipped:
        result["warnings"].append(f"Skipped {sum(examples.skipped.values())} rows: {_skipped_text(examples.skipped)}.")
    return result
