"""Extractive question answering on ``AutoModelForQuestionAnswering`` (transformers 5 removed the pipeline).

Two halves:

* **Decoding** (pure numpy, testable on hand-built logits): :func:`window_spans` turns one window's
  start/end logits into its best valid spans (start ≤ end, both inside the context — never in the
  question or on special tokens or padding —, at most ``max_answer_len`` tokens); :func:`decode`
  ranks the spans of every window together, maps them to character offsets, and adds SQuAD 2.0's
  "no answer" (the CLS token's start × end score) when the user allows it. Scores are the
  pipeline's: per window, softmax of the start logits and of the end logits over the context tokens
  and the CLS token; a span scores p_start × p_end; the no-answer score is the smallest CLS score
  over the windows. The answer text is always exactly ``context[start:end]``.
* **The model part** (:func:`answer_questions`): the question is kept whole and the context is split
  into windows of ``max_seq_len`` tokens overlapping by ``stride`` tokens; the windows run through
  the model in batches; :func:`explain` returns the same plus every window's per-token logits (for
  Internals).

torch is imported inside functions only.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.run.common import device_errors, int_option

DEFAULT_TOP_K = 1
DEFAULT_MAX_ANSWER_LEN = 15  # tokens (the pipeline's default)
DEFAULT_MAX_SEQ_LEN = 384  # tokens per window (the pipeline's default), capped by the model's limit
DEFAULT_STRIDE = 128  # tokens of context overlap between windows (the pipeline's doc_stride), capped to fit
WINDOW_BATCH = 16
PER_WINDOW = 20  # candidates kept per window before windows are ranked together


# -- decoding (pure numpy) ------------------------------------------------------------------------
@dataclass
class Window:
    """One window's logits and where its tokens lie.

    ``context[i]`` says token ``i`` belongs to the context (not the question, not a special token,
    not padding); ``offsets[i]`` is its ``(start, end)`` character span in the context (used only
    where ``context`` is true); ``null_index`` is the CLS token's position (the "no answer" token)
    or None when the model has none.
    """

    start_logits: np.ndarray
    end_logits: np.ndarray
    context: np.ndarray
    offsets: np.ndarray
    null_index: int | None = 0

    def __post_init__(self):
        self.start_logits = np.asarray(self.start_logits, dtype=np.float64).reshape(-1)
        self.end_logits = np.asarray(self.end_logits, dtype=np.float64).reshape(-1)
        self.context = np.asarray(self.context, dtype=bool).reshape(-1)
        self.offsets = np.asarray(self.offsets, dtype=np.int64).reshape(-1, 2)
        n = len(self.start_logits)
        if not (len(self.end_logits) == len(self.context) == len(self.offsets) == n):
            raise ValueError("start/end logits, context mask and offsets must have one entry per token")
        if self.null_index is not None and not 0 <= self.null_index < n:
            self.null_index = None


@dataclass
class WindowScores:
    """The probabilities behind a window's choice (what Internals shows)."""

    start_probs: np.ndarray
    end_probs: np.ndarray
    spans: list[tuple[float, int, int]]  # (score, start token, end token), best first
    null_score: float | None


def _masked_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    probs = np.zeros_like(logits, dtype=np.float64)
    if not allowed.any():
        return probs
    values = logits[allowed]
    exp = np.exp(values - values.max())
    probs[allowed] = exp / exp.sum()
    return probs


def window_spans(window: Window, max_answer_len: int = DEFAULT_MAX_ANSWER_LEN,
                 limit: int | None = PER_WINDOW) -> WindowScores:
    """The best ``limit`` (None: all) valid spans of one window, by p_start × p_end, ties broken by
    position (earlier start, then shorter span first)."""
    if max_answer_len < 1:
        raise InputError(f"The maximum answer length must be at least 1 token (got {max_answer_len}).")
    allowed = window.context.copy()
    if window.null_index is not None:
        allowed[window.null_index] = True
    p_start = _masked_softmax(window.start_logits, allowed)
    p_end = _masked_softmax(window.end_logits, allowed)
    null_score = None if window.null_index is None else float(p_start[window.null_index] * p_end[window.null_index])
    ctx = np.flatnonzero(window.context)
    if ctx.size == 0:
        return WindowScores(p_start, p_end, [], null_score)
    # every (start, end) pair of context tokens with start <= end < start + max_answer_len
    starts, ends = np.meshgrid(ctx, ctx, indexing="ij")
    valid = (ends >= starts) & (ends - starts < max_answer_len)
    starts, ends = starts[valid], ends[valid]
    scores = p_start[starts] * p_end[ends]
    order = np.lexsort((ends - starts, starts, -scores))
    if limit is not None:
        order = order[:limit]
    spans = [(float(scores[i]), int(starts[i]), int(ends[i])) for i in order]
    return WindowScores(p_start, p_end, spans, null_score)


def _trim(context: str, start: int, end: int) -> tuple[int, int]:
    """The span without leading/trailing whitespace (offsets may include a word's leading space)."""
    start, end = max(0, int(start)), min(len(context), int(end))
    while start < end and context[start].isspace():
        start += 1
    while end > start and context[end - 1].isspace():
        end -= 1
    return start, end


def decode(windows: list[Window], context: str, *, top_k: int = DEFAULT_TOP_K,
           max_answer_len: int = DEFAULT_MAX_ANSWER_LEN, allow_no_answer: bool = False) -> dict:
    """Rank the spans of every window together; the best ``top_k`` answers as the pipeline's dicts.

    Returns ``{"answer", "score", "start", "end", "answers": [...top_k...], "no_answer_score",
    "windows", "best_window"}``: the first four describe the best answer (or "no answer": empty text
    at 0..0). Each answer's ``answer`` is exactly ``context[start:end]``; the same character span
    found in two overlapping windows appears once, with its higher score.
    """
    if top_k < 1:
        raise InputError(f"top_k must be at least 1 (got {top_k}).")
    best: dict[tuple[int, int], dict] = {}
    null_scores = []
    for index, window in enumerate(windows):
        scored = window_spans(window, max_answer_len, None)
        if scored.null_score is not None:
            null_scores.append(scored.null_score)
        found: set[tuple[int, int]] = set()  # this window's distinct answers, best first
        for score, token_start, token_end in scored.spans:
            start, end = _trim(context, window.offsets[token_start][0], window.offsets[token_end][1])
            if end <= start or (start, end) in found:  # e.g. two pieces of one word, widened to the same word
                continue
            found.add((start, end))
            old = best.get((start, end))
            if old is None or score > old["score"]:
                best[(start, end)] = {"answer": context[start:end], "score": score, "start": start, "end": end,
                                      "window": index, "tokens": (token_start, token_end)}
            if len(found) >= top_k:  # the window's best top_k texts: no later span of it can make the top_k
                break
    answers = sorted(best.values(), key=lambda a: (-a["score"], a["start"], a["end"]))
    no_answer = min(null_scores) if null_scores else None
    if allow_no_answer and no_answer is not None:
        answers.append({"answer": "", "score": no_answer, "start": 0, "end": 0, "window": None, "tokens": None})
        answers.sort(key=lambda a: (-a["score"], a["answer"] != "", a["start"], a["end"]))
    answers = answers[:top_k]
    if not answers:  # no context token in any window (cannot happen with a non-empty context)
        answers = [{"answer": "", "score": 0.0, "start": 0, "end": 0, "window": None, "tokens": None}]
    top = answers[0]
    return {"answer": top["answer"], "score": top["score"], "start": top["start"], "end": top["end"],
            "answers": [{k: a[k] for k in ("answer", "score", "start", "end")} for a in answers],
            "no_answer_score": no_answer, "windows": len(windows), "best_window": top["window"],
            "best_tokens": top["tokens"]}


# -- the model part -------------------------------------------------------------------------------
@dataclass
class Settings:
    top_k: int = DEFAULT_TOP_K
    max_answer_len: int = DEFAULT_MAX_ANSWER_LEN
    max_seq_len: int = DEFAULT_MAX_SEQ_LEN
    stride: int = DEFAULT_STRIDE
    allow_no_answer: bool = False
    align_to_words: bool = True


@dataclass
class Encoded:
    """One window as tokens, ready for the model and for decoding."""

    ids: list[int]
    type_ids: list[int] | None
    tokens: list[str]
    window: Window
    extras: dict = field(default_factory=dict)


def check_question(question) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("The question is empty.", hint="Type a question about the context, e.g. 'Who joined Acme?'.")
    return question.strip()


def check_context(context, index: int | None = None) -> str:
    where = "The context" if index is None else f"Context {index + 1}"
    if not isinstance(context, str):
        raise InputError(f"{where} is not text ({type(context).__name__}).")
    if not context.strip():
        raise InputError(f"{where} is empty (or only whitespace).",
                         hint="Paste the text that holds the answer; the model only picks a span out of it.")
    return context


def settings_from(loaded, question: str, options: dict) -> Settings:
    """Validated settings; the window length is capped by the model and must leave room beside the question."""
    tokenizer = loaded.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise InputError("Question answering needs a fast tokenizer (tokenizer.json): a slow one cannot map "
                         "tokens back onto the context.", hint="Save the model's tokenizer as a fast one.")
    top_k = int_option(options, "top_k", DEFAULT_TOP_K)
    max_answer_len = int_option(options, "max_answer_len", DEFAULT_MAX_ANSWER_LEN)
    max_seq_len = min(int_option(options, "max_seq_len", DEFAULT_MAX_SEQ_LEN, minimum=8), loaded.max_length)
    question_tokens = len(tokenizer(question, add_special_tokens=False, verbose=False)["input_ids"])
    room = max_seq_len - question_tokens - tokenizer.num_special_tokens_to_add(pair=True)
    if room < 2:
        raise InputError(f"The question is {question_tokens} tokens long; with it, a window of {max_seq_len} tokens "
                         "leaves no room for the context.",
                         hint=f"Shorten the question (the model reads at most {loaded.max_length} tokens at a time).")
    stride = options.get("stride")
    if stride in (None, ""):
        stride = min(DEFAULT_STRIDE, room // 2)
    else:
        stride = int_option(options, "stride", None, minimum=0)
        if stride >= room:
            raise InputError(f"The window overlap (stride {stride}) must be smaller than the {room} context tokens "
                             "that fit in a window beside the question.", hint="Choose a smaller stride.")
    return Settings(top_k, max_answer_len, max_seq_len, stride, bool(options.get("allow_no_answer", False)),
                    bool(options.get("align_to_words", True)))


def encode_windows(tokenizer, question: str, context: str, settings: Settings) -> list[Encoded]:
    """The question (kept whole) with overlapping windows of the context, as the model reads them."""
    question_first = getattr(tokenizer, "padding_side", "right") == "right"
    first, second = (question, context) if question_first else (context, question)
    encoded = tokenizer(first, second, truncation="only_second" if question_first else "only_first",
                        max_length=settings.max_seq_len, stride=settings.stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True, padding=False, verbose=False)
    context_id = 1 if question_first else 0
    cls_id = tokenizer.cls_token_id
    windows = []
    for row in range(len(encoded["input_ids"])):
        ids = list(encoded["input_ids"][row])
        sequence_ids = encoded.sequence_ids(row)
        offsets = np.asarray(encoded["offset_mapping"][row], dtype=np.int64).reshape(-1, 2)
        in_context = np.asarray([s == context_id for s in sequence_ids], dtype=bool)
        in_context &= offsets[:, 1] > offsets[:, 0]  # zero-width tokens cannot start or end an answer
        if settings.align_to_words:
            offsets = _word_offsets(encoded, row, sequence_ids, context_id, offsets)
        null_index = ids.index(cls_id) if cls_id is not None and cls_id in ids else None
        type_ids = list(encoded["token_type_ids"][row]) if "token_type_ids" in encoded else None
        tokens = tokenizer.convert_ids_to_tokens(ids)
        windows.append(Encoded(ids, type_ids, tokens, Window(np.zeros(len(ids)), np.zeros(len(ids)), in_context,
                                                              offsets, null_index)))
    return windows


def _word_offsets(encoded, row, sequence_ids, context_id, offsets) -> np.ndarray:
    """Each context token's span widened to its whole word (the pipeline's ``align_to_words``)."""
    words = encoded.word_ids(row)
    spans: dict[int, tuple[int, int]] = {}
    for word, sequence, (start, end) in zip(words, sequence_ids, offsets):
        if word is None or sequence != context_id or end <= start:
            continue
        old = spans.get(word)
        spans[word] = (start, end) if old is None else (min(old[0], start), max(old[1], end))
    widened = offsets.copy()
    for i, (word, sequence) in enumerate(zip(words, sequence_ids)):
        if word is not None and sequence == context_id and word in spans:
            widened[i] = spans[word]
    return widened


def _model_inputs(loaded) -> set[str]:
    try:
        return set(inspect.signature(loaded.model.forward).parameters)
    except (TypeError, ValueError):
        return {"input_ids", "attention_mask", "token_type_ids"}


def run_windows(loaded, windows: list[Encoded], cancel: CancelToken = NEVER_CANCELLED) -> None:
    """Fill every window's start/end logits (batches of padded windows, ``torch.inference_mode``)."""
    import torch

    accepted = _model_inputs(loaded)
    pad = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0
    for begin in range(0, len(windows), WINDOW_BATCH):
        cancel.check()
        batch = windows[begin:begin + WINDOW_BATCH]
        width = max(len(w.ids) for w in batch)
        ids = np.full((len(batch), width), pad, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)
        for row, window in enumerate(batch):
            n = len(window.ids)
            ids[row, :n], mask[row, :n] = window.ids, 1
            if window.type_ids is not None:
                types[row, :n] = window.type_ids
        inputs = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if "token_type_ids" in accepted and any(w.type_ids is not None for w in batch):
            inputs["token_type_ids"] = torch.from_numpy(types)
        inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
        with device_errors(loaded.device, "answer the question"), torch.inference_mode():
            output = loaded.model(**inputs)
        starts = output.start_logits.float().cpu().numpy()
        ends = output.end_logits.float().cpu().numpy()
        for row, window in enumerate(batch):
            n = len(window.ids)
            window.window.start_logits = starts[row, :n].astype(np.float64)
            window.window.end_logits = ends[row, :n].astype(np.float64)


def answer_one(loaded, question: str, context: str, settings: Settings,
               cancel: CancelToken = NEVER_CANCELLED) -> tuple[dict, list[Encoded]]:
    windows = encode_windows(loaded.tokenizer, question, context, settings)
    run_windows(loaded, windows, cancel)
    result = decode([w.window for w in windows], context, top_k=settings.top_k,
                    max_answer_len=settings.max_answer_len, allow_no_answer=settings.allow_no_answer)
    return result, windows


def answer_questions(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """The runner of ``question-answering``: each text is a context, ``options["question"]`` the question.

    Options: ``question`` (required), ``top_k``, ``max_answer_len``, ``max_seq_len``, ``stride``,
    ``allow_no_answer`` (SQuAD 2.0 models), ``align_to_words``. One dict per context (see :func:`decode`),
    plus ``question``; a long context is read in overlapping windows, never cut.
    """
    question = check_question(options.get("question"))
    contexts = [check_context(text, i if len(texts) > 1 else None) for i, text in enumerate(texts)]
    settings = settings_from(loaded, question, options)
    results = []
    for index, context in enumerate(contexts):
        cancel.check()
        result, _windows = answer_one(loaded, question, context, settings, cancel)
        result.pop("best_tokens", None)
        results.append({**result, "question": question, "truncated": False})
        progress(index + 1, len(contexts), "Answering")
    return results


def explain(loaded, question: str, context: str, options: dict | None = None,
            cancel: CancelToken = NEVER_CANCELLED) -> dict:
    """What Internals shows: the answer, and per window the tokens, their start/end logits and
    probabilities, which tokens may hold the answer, the window's best spans and its no-answer score."""
    options = dict(options or {})
    question = check_question(question)
    context = check_context(context)
    settings = settings_from(loaded, question, options)
    result, windows = answer_one(loaded, question, context, settings, cancel)
    detail = []
    for index, encoded in enumerate(windows):
        scored = window_spans(encoded.window, settings.max_answer_len, 5)
        detail.append({
            "tokens": encoded.tokens, "start_logits": encoded.window.start_logits.tolist(),
            "end_logits": encoded.window.end_logits.tolist(), "start_probs": scored.start_probs.tolist(),
            "end_probs": scored.end_probs.tolist(), "context": encoded.window.context.tolist(),
            "null_index": encoded.window.null_index, "null_score": scored.null_score,
            "spans": [{"score": s, "start_token": a, "end_token": b,
                       "text": context[slice(*_trim(context, encoded.window.offsets[a][0],
                                                    encoded.window.offsets[b][1]))]}
                      for s, a, b in scored.spans],
        })
    return {**result, "question": question, "context": context, "windows_detail": detail,
            "settings": {"top_k": settings.top_k, "max_answer_len": settings.max_answer_len,
                         "max_seq_len": settings.max_seq_len, "stride": settings.stride,
                         "allow_no_answer": settings.allow_no_answer}}
