"""Look inside a tokenizer: load it from any folder, encode with offsets, name the special tokens,
and walk the steps ``tokenize`` → ``convert_tokens_to_ids`` → ``decode`` with a round-trip check.

Plain Python (no widgets). transformers is imported inside functions. A tokenizer folder without a
model is fine here; a model folder without a tokenizer gets a clear :class:`ModelError`.

Fast tokenizers keep truncation/padding state on their Rust backend, so every call that uses a
cached tokenizer holds :data:`TOKENIZER_LOCK` (jobs on several worker threads may share one).
"""

from __future__ import annotations

import json
import os
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError, ModelError
from services.core.model_info import BUILTIN, BUILTIN_NAME, TOKENIZER_FILES, WEIGHT_FILES, resolve_model_path

TOKENIZER_LOCK = threading.RLock()

# role key -> (short name, what the token is for)
SPECIAL_ROLES: dict[str, tuple[str, str]] = {
    "cls_token": ("classification summary",
                  "The model's output vector at this position summarises the whole input; "
                  "a sequence-classification head reads it."),
    "sep_token": ("separator", "Marks the end of a segment and separates the two texts of a sentence pair."),
    "pad_token": ("padding", "Fills shorter rows of a batch up to the same length; attention_mask is 0 here "
                             "so the model ignores it."),
    "mask_token": ("mask", "Hides a token for masked-language-model training and fill-mask prediction."),
    "unk_token": ("unknown", "Stands for text the vocabulary cannot represent: the original characters are lost."),
    "bos_token": ("beginning of sequence", "Marks where a sequence begins."),
    "eos_token": ("end of sequence", "Marks where a sequence ends (generation stops here)."),
}
CUSTOM_ROLE = ("custom special token", "A special token added to this tokenizer (never split); the model's "
                                       "embedding matrix needs a row for it.")


@dataclass
class TokenizerHandle:
    """A loaded tokenizer and where it came from."""

    tokenizer: Any
    path: Path
    name: str
    has_model: bool  # the folder also holds model weights (config.json + weights)

    @property
    def is_fast(self) -> bool:
        return bool(getattr(self.tokenizer, "is_fast", False))


@dataclass
class TokenRow:
    position: int
    token: str
    id: int
    token_type_id: int | None
    attention_mask: int
    start: int | None  # character offsets into its segment's text (None: no offsets / special token)
    end: int | None
    segment: int | None  # 0 = first text, 1 = second text, None = added by the tokenizer
    special: bool
    roles: tuple[str, ...] = ()  # keys of SPECIAL_ROLES, or "custom"
    unknown: bool = False

    @property
    def has_span(self) -> bool:
        return self.start is not None and self.end is not None and self.end > self.start


@dataclass
class Encoding:
    text: str
    pair: str | None
    rows: list[TokenRow]
    unknown_count: int
    unknown_chars: list[str]  # the source characters that became the unknown token
    model_max_length: int | None
    offsets_available: bool
    notes: list[str] = field(default_factory=list)

    @property
    def input_ids(self) -> list[int]:
        return [row.id for row in self.rows]

    @property
    def tokens(self) -> list[str]:
        return [row.token for row in self.rows]

    def row_at(self, segment: int, char: int) -> int | None:
        """The position of the token whose span covers character ``char`` of ``segment``."""
        for row in self.rows:
            if row.segment == segment and row.has_span and row.start <= char < row.end:
                return row.position
        return None

    def to_json(self, tokenizer=None) -> dict:
        specials = {}
        if tokenizer is not None:
            specials = {key: getattr(tokenizer, key, None) for key in SPECIAL_ROLES if getattr(tokenizer, key, None)}
        return {
            "tokens": self.tokens,
            "input_ids": self.input_ids,
            "token_type_ids": [row.token_type_id for row in self.rows],
            "attention_mask": [row.attention_mask for row in self.rows],
            "offsets": [[row.start, row.end] if row.start is not None else None for row in self.rows],
            "special_tokens": specials,
            "unknown_count": self.unknown_count,
        }


# -- loading --------------------------------------------------------------------------------------
_CACHE: OrderedDict[tuple, TokenizerHandle] = OrderedDict()
_CACHE_SIZE = 6


def has_tokenizer_files(folder: Path) -> bool:
    names = set(os.listdir(folder))
    return any(name in names for name in TOKENIZER_FILES)


def _folder_stamp(folder: Path) -> tuple:
    stamps = []
    for name in TOKENIZER_FILES + ("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"):
        try:
            stamps.append((name, os.stat(folder / name).st_mtime_ns))
        except OSError:
            continue
    return tuple(stamps)


def load_tokenizer(spec: str | os.PathLike, *, use_cache: bool = True) -> TokenizerHandle:
    """Load the tokenizer in ``spec`` (``"builtin"`` or a folder); raise :class:`ModelError` if none."""
    folder = resolve_model_path(spec)
    if not folder.exists():
        raise ModelError(f"Folder '{folder}' does not exist.")
    if not folder.is_dir():
        raise ModelError(f"'{folder}' is a file, not a tokenizer folder.",
                         hint="Choose the folder that holds tokenizer.json or vocab.txt.")
    if not has_tokenizer_files(folder):
        if (folder / "config.json").is_file():
            raise ModelError(
                f"'{folder.name}' is a model folder without a tokenizer (no tokenizer.json, vocab.txt or "
                "sentencepiece model).",
                hint="Save the tokenizer next to the model with tokenizer.save_pretrained(folder), "
                     "or open the tokenizer's own folder.")
        raise ModelError(f"'{folder.name}' holds no tokenizer files (tokenizer.json, vocab.txt or a "
                         "sentencepiece model).", hint="Choose a folder written by tokenizer.save_pretrained().")
    _refuse_remote_code(folder)
    key = (str(folder.resolve()), _folder_stamp(folder))
    if use_cache:
        with TOKENIZER_LOCK:
            cached = _CACHE.get(key)
            if cached is not None:
                _CACHE.move_to_end(key)
                return cached
    import transformers

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    except Exception as error:  # transformers raises many types for broken tokenizer files
        raise ModelError(f"The tokenizer in '{folder.name}' could not be loaded: {error}") from error
    names = set(os.listdir(folder))
    has_model = (folder / "config.json").is_file() and any(n in names for n in WEIGHT_FILES)
    name = BUILTIN_NAME if str(spec) == BUILTIN else folder.name
    handle = TokenizerHandle(tokenizer, folder, name, has_model)
    if use_cache:
        with TOKENIZER_LOCK:
            _CACHE[key] = handle
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return handle


def _refuse_remote_code(folder: Path) -> None:
    config = folder / "tokenizer_config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8")) if config.is_file() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"tokenizer_config.json in '{folder.name}' is corrupt: {error}.") from None
    if isinstance(data, dict) and data.get("auto_map"):
        raise ModelError(f"The tokenizer in '{folder.name}' needs trust_remote_code (custom Python code).",
                         hint="Refused: only code you have read and trust should run on this machine.")


# -- special tokens -------------------------------------------------------------------------------
def special_token_roles(tokenizer) -> dict[str, tuple[str, ...]]:
    """Every special token string of ``tokenizer`` → its role keys (a token may play several roles)."""
    roles: dict[str, list[str]] = {}
    for key in SPECIAL_ROLES:
        value = getattr(tokenizer, key, None)
        if value:
            roles.setdefault(str(value), []).append(key)
    for token in getattr(tokenizer, "all_special_tokens", []) or []:
        roles.setdefault(str(token), ["custom"])
    return {token: tuple(keys) for token, keys in roles.items()}


def role_name(key: str) -> str:
    return CUSTOM_ROLE[0] if key == "custom" else SPECIAL_ROLES[key][0]


def role_explanation(key: str) -> str:
    return CUSTOM_ROLE[1] if key == "custom" else SPECIAL_ROLES[key][1]


def describe_roles(roles: tuple[str, ...]) -> str:
    """One readable sentence per role, for tooltips and the CLI."""
    return "\n".join(f"{role_name(key).capitalize()}: {role_explanation(key)}" for key in roles)


# -- encoding -------------------------------------------------------------------------------------
def check_text(text: str, what: str = "The text") -> str:
    if text is None or not str(text).strip():
        raise InputError(f"{what} is empty.", hint="Type a sentence to see its tokens.")
    return str(text)


def encode(handle_or_tokenizer, text: str, pair: str | None = None, *, progress: Progress = no_progress,
           cancel: CancelToken = NEVER_CANCELLED) -> Encoding:
    """Encode ``text`` (and an optional second segment) with offsets, types, masks and roles."""
    tokenizer = getattr(handle_or_tokenizer, "tokenizer", handle_or_tokenizer)
    check_text(text)
    pair = pair if pair and pair.strip() else None
    progress(0, 2, "Tokenizing")
    cancel.check()
    kwargs = dict(return_token_type_ids=True, return_attention_mask=True, return_special_tokens_mask=True,
                  verbose=False)
    with TOKENIZER_LOCK:
        offsets_available = bool(getattr(tokenizer, "is_fast", False))
        try:
            encoded = tokenizer(text, pair, return_offsets_mapping=offsets_available, **kwargs)
        except NotImplementedError:
            offsets_available = False
            encoded = tokenizer(text, pair, **kwargs)
        sequence_ids = encoded.sequence_ids() if offsets_available else None
        tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
        roles_by_token = special_token_roles(tokenizer)
        unk_id = getattr(tokenizer, "unk_token_id", None)
    cancel.check()
    progress(1, 2, f"Building the table of {len(tokens):,} tokens")
    ids = encoded["input_ids"]
    types = encoded.get("token_type_ids") or [None] * len(ids)
    mask = encoded.get("attention_mask") or [1] * len(ids)
    special_mask = encoded.get("special_tokens_mask") or [0] * len(ids)
    offsets = encoded.get("offset_mapping") if offsets_available else None
    rows: list[TokenRow] = []
    unknown_chars: list[str] = []
    for position, (token, token_id) in enumerate(zip(tokens, ids)):
        if position % 20000 == 0:
            cancel.check()
        special = bool(special_mask[position])
        segment = sequence_ids[position] if sequence_ids is not None else None
        start = end = None
        if offsets is not None and not special:
            start, end = offsets[position]
        unknown = unk_id is not None and token_id == unk_id
        roles = roles_by_token.get(token, ()) if (special or unknown) else ()
        if unknown and start is not None:
            source = text if segment in (0, None) else pair
            unknown_chars.append(source[start:end])
        rows.append(TokenRow(position, token, int(token_id), None if types[position] is None else int(types[position]),
                             int(mask[position]), start, end, segment, special, tuple(roles), unknown))
    result = Encoding(text, pair, rows, sum(row.unknown for row in rows), unknown_chars,
                      _model_max_length(tokenizer), offsets_available)
    if result.model_max_length and len(rows) > result.model_max_length:
        result.notes.append(f"{len(rows):,} tokens: longer than this tokenizer's model_max_length of "
                            f"{result.model_max_length:,}. A model needs truncation=True (or the text in chunks).")
    if not offsets_available:
        result.notes.append("This is a slow (Python) tokenizer: it cannot report character offsets.")
    progress(2, 2, "Done")
    return result


def _model_max_length(tokenizer) -> int | None:
    value = getattr(tokenizer, "model_max_length", None)
    return int(value) if isinstance(value, int) and value < 1_000_000 else None


# -- the step view and the round trip -------------------------------------------------------------
@dataclass
class Loss:
    kind: str  # "unknown", "lower-casing", "accents", "unicode", "spacing", "other"
    explanation: str


@dataclass
class Steps:
    text: str
    tokens: list[str]  # tokenizer.tokenize(text)
    ids: list[int]  # tokenizer.convert_tokens_to_ids(tokens)
    ids_with_special: list[int]  # tokenizer(text)["input_ids"]
    decoded_with_special: str  # decode(ids_with_special)
    decoded_without_special: str  # decode(ids_with_special, skip_special_tokens=True)
    round_trip: str  # decode(ids): what comes back from the tokens alone
    losses: list[Loss]

    @property
    def lossless(self) -> bool:
        return not self.losses


def steps(handle_or_tokenizer, text: str, *, progress: Progress = no_progress,
          cancel: CancelToken = NEVER_CANCELLED) -> Steps:
    """Run the three steps the course shows and check whether decoding gives the text back."""
    tokenizer = getattr(handle_or_tokenizer, "tokenizer", handle_or_tokenizer)
    check_text(text)
    progress(0, 3, "tokenize")
    with TOKENIZER_LOCK:
        tokens = tokenizer.tokenize(text)
        cancel.check()
        progress(1, 3, "convert_tokens_to_ids")
        ids = tokenizer.convert_tokens_to_ids(tokens)
        ids_with_special = tokenizer(text, verbose=False)["input_ids"]
        cancel.check()
        progress(2, 3, "decode")
        with_special = tokenizer.decode(ids_with_special)
        without_special = tokenizer.decode(ids_with_special, skip_special_tokens=True)
        round_trip = tokenizer.decode(ids)
        unk = getattr(tokenizer, "unk_token", None)
    encoding = encode(tokenizer, text, cancel=cancel)
    spans = [(row.start, row.end) for row in encoding.rows if row.unknown and row.start is not None]
    losses = explain_round_trip(text, round_trip, spans, unk or "")
    progress(3, 3, "Done")
    return Steps(text, tokens, list(ids), list(ids_with_special), with_special, without_special, round_trip, losses)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _squash(text: str) -> str:
    return "".join(text.split())


_TRANSFORMS = (
    ("lower-casing", str.lower, "The tokenizer lower-cases its input, so capital letters do not come back"),
    ("accents", strip_accents, "The tokenizer strips accents, so accented letters come back plain"),
    ("unicode", lambda s: unicodedata.normalize("NFKC", s),
     "The tokenizer applies Unicode normalisation (NFKC), so some characters come back in another form"),
)


def explain_round_trip(original: str, decoded: str, unknown_spans: list[tuple[int, int]], unk_token: str) -> list[Loss]:
    """Why ``decode`` did not give ``original`` back: unknown characters, lower-casing, accents, spacing."""
    if original == decoded:
        return []
    losses: list[Loss] = []
    pieces: list[tuple[str, bool]] = []  # (text, is the unknown-token placeholder)
    cursor = 0
    for start, end in sorted(unknown_spans):
        if start < cursor:
            continue
        pieces.append((original[cursor:start], False))
        pieces.append((unk_token, True))
        cursor = end
    pieces.append((original[cursor:], False))
    if unknown_spans:
        chars = ", ".join(repr(original[s:e]) for s, e in unknown_spans[:8])
        more = f" and {len(unknown_spans) - 8} more" if len(unknown_spans) > 8 else ""
        losses.append(Loss("unknown", f"{len(unknown_spans)} piece(s) of text are not in the vocabulary and became "
                                      f"{unk_token}: {chars}{more}. Decoding cannot bring them back."))
    target = _squash(decoded)

    def joined(parts):
        return "".join(text for text, _ in parts)

    for kind, transform, explanation in _TRANSFORMS:
        changed = [(text if is_unk else transform(text), is_unk) for text, is_unk in pieces]
        before, after = _squash(joined(pieces)), _squash(joined(changed))
        if after != before and _closeness(after, target) > _closeness(before, target):
            example = _first_difference(joined(pieces), joined(changed))
            losses.append(Loss(kind, f"{explanation}{example}."))
            pieces = changed
    current = joined(pieces)
    if _squash(current) == target:
        if current != decoded:
            losses.append(Loss("spacing", "Spaces differ: decode() joins the tokens with its own spacing rules "
                                          f"(e.g. {_first_difference(current, decoded, plain=True)})."))
    else:
        losses.append(Loss("other", "The decoded text differs from the input beyond the reasons above"
                                    f"{_first_difference(_squash(current), target)}."))
    return losses


_WINDOW = 300  # similarity is measured on a window from the first difference: long texts stay fast


def _closeness(candidate: str, target: str) -> float:
    start = max(0, len(os.path.commonprefix([candidate, target])) - 20)
    return SequenceMatcher(None, candidate[start:start + _WINDOW], target[start:start + _WINDOW],
                           autojunk=False).ratio()


def _first_difference(a: str, b: str, plain: bool = False) -> str:
    if a == b:
        return ""
    start = len(os.path.commonprefix([a, b]))
    tail = len(os.path.commonprefix([a[start:][::-1], b[start:][::-1]])) if len(a) + len(b) < 20_000 else 0
    a_end, b_end = max(start, len(a) - tail), max(start, len(b) - tail)
    left = a[max(0, start - 3):min(a_end + 3, start + 20)]
    right = b[max(0, start - 3):min(b_end + 3, start + 20)]
    text = f"{left!r} → {right!r}"
    return text if plain else f" ({text})"


# -- normalisation --------------------------------------------------------------------------------
@dataclass
class Normalisation:
    lowercases: bool
    strips_accents: bool
    unicode_form: str  # "NFKC", "NFC", ... or "" when none is visible


def describe_normalisation(handle_or_tokenizer) -> Normalisation:
    """Probe what the tokenizer does to text before splitting it (lower-casing, accents, NFKC)."""
    tokenizer = getattr(handle_or_tokenizer, "tokenizer", handle_or_tokenizer)
    with TOKENIZER_LOCK:
        backend = getattr(tokenizer, "backend_tokenizer", None)
        normalizer = getattr(backend, "normalizer", None) if backend is not None else None
        if normalizer is not None:
            normalize = normalizer.normalize_str
        else:
            def normalize(text: str) -> str:
                return tokenizer.convert_tokens_to_string(tokenizer.tokenize(text))
        probe = normalize("Àb")
        ligature = normalize("ﬁ")
    lowercases = "a" in probe.lower() and not any(c.isupper() for c in probe)
    strips = probe.strip().lower().startswith("a")
    form = "NFKC" if ligature.strip() == "fi" else ""
    return Normalisation(lowercases, strips, form)
