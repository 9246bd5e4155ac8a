"""Batch encoding: padding, padding side, truncation, max_length, stride and overflowing pieces,
and the tensor shapes/dtypes that ``return_tensors="pt"`` gives for the same call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.tokenizer.inspect import TOKENIZER_LOCK

PADDING = ("longest", "max_length", "none")
PADDING_SIDES = ("right", "left")
TRUNCATION = ("none", "longest_first", "only_first", "only_second")
PAIR_SEPARATOR = "|||"


@dataclass
class BatchRow:
    sample: int  # which input line this row came from
    piece: int  # 0 = the first piece of that line, 1.. = overflowing pieces
    tokens: list[str]
    input_ids: list[int]
    attention_mask: list[int]
    token_type_ids: list[int] | None

    @property
    def is_overflow(self) -> bool:
        return self.piece > 0


@dataclass
class BatchResult:
    lines: list[tuple[str, str | None]]
    rows: list[BatchRow]
    padding: str
    padding_side: str
    truncation: str
    max_length: int | None
    stride: int
    pad_token: str | None
    pad_token_id: int | None
    tensors: dict[str, tuple[tuple[int, ...], str]]  # name -> (shape, dtype) from return_tensors="pt"
    tensor_note: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def overflow_count(self) -> int:
        return sum(row.is_overflow for row in self.rows)

    @property
    def width(self) -> int:
        return max((len(row.input_ids) for row in self.rows), default=0)


def split_lines(text: str) -> list[tuple[str, str | None]]:
    """One input per non-empty line; ``first ||| second`` is a sentence pair."""
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if PAIR_SEPARATOR in line:
            first, second = line.split(PAIR_SEPARATOR, 1)
            lines.append((first.strip(), second.strip() or None))
        else:
            lines.append((line.strip(), None))
    return lines


def encode_batch(handle_or_tokenizer, lines: list[tuple[str, str | None]] | list[str], *, padding: str = "longest",
                 padding_side: str = "right", truncation: str = "none", max_length: int | None = None,
                 stride: int = 0, progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> BatchResult:
    """Encode several inputs as one batch, the way ``tokenizer(list, padding=..., truncation=...)`` does."""
    tokenizer = getattr(handle_or_tokenizer, "tokenizer", handle_or_tokenizer)
    lines = [(line, None) if isinstance(line, str) else tuple(line) for line in lines]
    lines = [(first, second) for first, second in lines if first and first.strip()]
    if not lines:
        raise InputError("The batch is empty.", hint="Type one text per line (write 'first ||| second' for a pair).")
    _check_options(padding, padding_side, truncation, max_length, stride)
    pairs = [second for _, second in lines]
    has_pairs = any(second is not None for second in pairs)
    if has_pairs and not all(second is not None for second in pairs):
        raise InputError("Some lines are sentence pairs and some are not.",
                         hint="A batch is either all single texts or all 'first ||| second' pairs.")
    if truncation == "only_second" and not has_pairs:
        raise InputError("truncation='only_second' cuts the second text of each pair, but the lines have none.",
                         hint="Write the lines as 'first ||| second', or choose longest_first / only_first.")
    if padding == "max_length" and max_length is None and not _model_limit(tokenizer):
        raise InputError("padding='max_length' needs a max_length (this tokenizer has no model_max_length).")
    kwargs = dict(padding=False if padding == "none" else padding, padding_side=padding_side,
                  truncation=False if truncation == "none" else truncation, max_length=max_length,
                  return_token_type_ids=True, return_attention_mask=True, verbose=False)
    if truncation != "none":
        kwargs.update(stride=stride, return_overflowing_tokens=True)
    firsts = [first for first, _ in lines]
    seconds = [second for _, second in lines] if has_pairs else None
    progress(0, 2, f"Encoding {len(lines)} lines")
    cancel.check()
    with TOKENIZER_LOCK:
        try:
            encoded = tokenizer(firsts, seconds, **kwargs)
        except Exception as error:  # the Rust backend raises plain Exception for truncation problems
            raise InputError(f"The tokenizer refused these settings: {error}",
                             hint=_refusal_hint(truncation, has_pairs)) from None
        tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in encoded["input_ids"]]
        cancel.check()
        progress(1, 2, "Building tensors")
        tensors, tensor_note = _tensor_shapes(tokenizer, firsts, seconds, kwargs)
        pad_token, pad_id = getattr(tokenizer, "pad_token", None), getattr(tokenizer, "pad_token_id", None)
    samples = encoded.get("overflow_to_sample_mapping") or list(range(len(encoded["input_ids"])))
    rows, seen = [], {}
    for index, ids in enumerate(encoded["input_ids"]):
        sample = int(samples[index])
        piece = seen.get(sample, 0)
        seen[sample] = piece + 1
        types = encoded.get("token_type_ids")
        rows.append(BatchRow(sample, piece, tokens[index], list(ids), list(encoded["attention_mask"][index]),
                             list(types[index]) if types else None))
    result = BatchResult(lines, rows, padding, padding_side, truncation, max_length, stride, pad_token, pad_id,
                         tensors, tensor_note)
    limit = max_length or _model_limit(tokenizer)
    if truncation != "none" and result.overflow_count:
        result.notes.append(f"{result.overflow_count} overflowing piece(s): text cut off at {limit} tokens comes back "
                            f"as extra rows (return_overflowing_tokens=True), overlapping by stride={stride} tokens.")
    if truncation == "none" and limit and result.width > limit:
        result.notes.append(f"Rows are {result.width} tokens long, more than the limit of {limit}: a model would fail "
                            "or need truncation.")
    progress(2, 2, "Done")
    return result


def _check_options(padding, padding_side, truncation, max_length, stride) -> None:
    for value, allowed, what in ((padding, PADDING, "padding"), (padding_side, PADDING_SIDES, "padding side"),
                                 (truncation, TRUNCATION, "truncation")):
        if value not in allowed:
            raise InputError(f"Unknown {what} '{value}'.", hint=f"Choose one of: {', '.join(allowed)}.")
    if max_length is not None and max_length < 1:
        raise InputError("max_length must be at least 1.")
    if stride < 0:
        raise InputError("stride cannot be negative.")
    if stride and max_length is not None and stride >= max_length:
        raise InputError(f"stride ({stride}) must be smaller than max_length ({max_length}).",
                         hint="The stride is how many tokens consecutive overflowing pieces share.")


def _refusal_hint(truncation: str, has_pairs: bool) -> str:
    if has_pairs and truncation == "longest_first":
        return "Overflowing pieces of sentence pairs need only_first or only_second truncation."
    return "Raise max_length (it must leave room for the special tokens) or lower the stride."


def _model_limit(tokenizer) -> int | None:
    value = getattr(tokenizer, "model_max_length", None)
    return int(value) if isinstance(value, int) and value < 1_000_000 else None


def _tensor_shapes(tokenizer, firsts, seconds, kwargs) -> tuple[dict, str]:
    """Shapes and dtypes of ``return_tensors="pt"`` for the same call, or why it cannot make tensors."""
    import torch  # noqa: F401  (return_tensors="pt" needs it)

    try:
        tensors = tokenizer(firsts, seconds, return_tensors="pt", **kwargs)
    except ValueError:
        ragged = "return_tensors='pt' fails for this batch: the rows have different lengths and a tensor must be " \
                 "rectangular."
        if kwargs.get("padding") == "max_length" and not kwargs.get("truncation"):
            limit = kwargs.get("max_length") or _model_limit(tokenizer)
            return {}, (f"{ragged} padding='max_length' pads the short rows to {limit}, but with truncation off "
                        f"the rows longer than {limit} tokens stay longer. Turn truncation on (e.g. longest_first) "
                        "or raise max_length.")
        return {}, f"{ragged} Choose padding 'longest' or 'max_length'."
    shapes = {name: (tuple(value.shape), str(value.dtype).replace("torch.", "torch."))
              for name, value in tensors.items() if hasattr(value, "shape")}
    return shapes, ""
