"""Turn model outputs into result dicts: class scores (aggregated over chunks), entities (chunk
tokens merged back onto the original text), zero-shot scores and pooled embeddings.

Plain numpy; the engine hands over float32 arrays. Keys match ``services.run.predict``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from services.core import tasks


def classification_result(chunk_probs: list[np.ndarray], chunk_weights: list[int], id2label: dict, truncated: bool,
                          function: str = "softmax") -> dict:
    """Average the chunks' scores (weighted by their real tokens); the top label wins. ``function`` is
    how the scores were made from the logits (:func:`services.core.tasks.score_function`)."""
    if len(chunk_probs) == 1:
        probs = chunk_probs[0]
    else:
        weights = np.asarray(chunk_weights, dtype=np.float64)
        probs = (np.stack(chunk_probs).astype(np.float64) * weights[:, None]).sum(axis=0) / weights.sum()
    best = int(np.argmax(probs))
    result = {"label": id2label.get(best, str(best)), "score": float(probs[best]),
              "scores": {id2label.get(i, str(i)): float(p) for i, p in enumerate(probs)}, "function": function,
              "truncated": truncated}
    if len(chunk_probs) > 1:
        result["chunks"] = len(chunk_probs)
    return result


class Token(NamedTuple):
    """One sub-token of a text: its characters, the tokenizer's word index (-1: none), its label
    probabilities, and its position in the input ids."""

    start: int
    end: int
    word: int
    probs: np.ndarray
    index: int


def merge_chunk_tokens(chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> list[Token]:
    """Tokens of a text from its (overlapping) chunks, sorted by start.

    ``chunks`` holds ``(offsets[T, 2], probs[T, C], real[T] bool, words[T] int)`` per chunk (``words``:
    the tokenizer's word index of each token, -1 for none). A token seen in two chunks keeps the
    prediction of the chunk where it sits further from the chunk's edge (more context). ``index`` is
    the token's position in the first chunk's input ids (the pipeline's ``index``), counted on beyond it.
    """
    best: dict[tuple[int, int], tuple[int, int, np.ndarray]] = {}
    lead = None
    for offsets, probs, real, words in chunks:
        positions = np.flatnonzero(real)
        if positions.size == 0:
            continue
        first, last = positions[0], positions[-1]
        lead = int(first) if lead is None else lead
        for position in positions:
            start, end = int(offsets[position, 0]), int(offsets[position, 1])
            if end <= start:
                continue
            centrality = int(min(position - first, last - position))
            key = (start, end)
            if key not in best or centrality > best[key][0]:
                best[key] = (centrality, int(words[position]), probs[position])
    return [Token(start, end, word, probs, (lead or 0) + ordinal)
            for ordinal, ((start, end), (_c, word, probs)) in enumerate(sorted(best.items()))]


def word_label(token_probs: np.ndarray, strategy: str = tasks.DEFAULT_AGGREGATION) -> tuple[int, float]:
    """One label for a word from its sub-tokens' probabilities ``[n, C]`` (transformers' rules):
    ``first`` the first sub-token's best label, ``average`` the best of the averaged probabilities,
    ``max`` the best label of the most confident sub-token."""
    if strategy == "first":
        probs = token_probs[0]
    elif strategy == "average":
        probs = np.nanmean(token_probs, axis=0)
    elif strategy == "max":
        probs = token_probs[int(np.argmax(token_probs.max(axis=-1)))]
    else:
        raise ValueError(f"{strategy!r} is not a word aggregation")
    best = int(np.argmax(probs))
    return best, float(probs[best])


def word_labels(word_ids: list, token_probs: np.ndarray, strategy: str = tasks.DEFAULT_AGGREGATION) -> dict[int, tuple[int, float]]:
    """``{word: (label id, score)}`` for the words of one sequence (``word_ids`` per position, None for
    special tokens; ``token_probs[T, C]``): the rule that both NER inference and training evaluation use."""
    positions: dict[int, list[int]] = {}
    for position, word in enumerate(word_ids):
        if word is not None and word >= 0:
            positions.setdefault(int(word), []).append(position)
    return {word: word_label(token_probs[rows], strategy) for word, rows in positions.items()}


def _tag(label: str) -> tuple[str, str]:
    """``("B"|"I", type)`` as transformers reads a label: ``B-``/``I-`` prefixes, anything else continues."""
    if label.startswith(("B-", "I-")):
        return label[0], label[2:]
    return "I", label


def entities(text: str, tokens: list[Token], id2label: dict, strategy: str = tasks.DEFAULT_AGGREGATION,
             word_spans: dict[int, tuple[int, int]] | None = None) -> list[dict]:
    """Entities of a text from its tokens, with transformers' aggregation strategies:

    ``none`` one row per token (``entity``, ``index``); ``simple`` adjacent tokens of one type merged;
    ``first``/``average``/``max`` one label per word (:func:`word_label`), then adjacent words of one
    type merged, so an entity starts and ends on word boundaries (``word_spans``: each word's full
    character span, also where the model saw only part of it). ``O`` is never an entity.
    """
    def name(label_id: int) -> str:
        return str(id2label.get(label_id, label_id))

    if strategy == "none":
        rows = []
        for token in tokens:
            label_id = int(np.argmax(token.probs))
            if name(label_id) != "O":
                rows.append({"entity": name(label_id), "score": float(token.probs[label_id]), "index": token.index,
                             "word": text[token.start:token.end], "start": token.start, "end": token.end})
        return rows
    items: list[tuple[int, int, str, float]] = []  # start, end, label, score
    if strategy == "simple":
        for token in tokens:
            label_id = int(np.argmax(token.probs))
            items.append((token.start, token.end, name(label_id), float(token.probs[label_id])))
    elif strategy in tasks.WORD_AGGREGATIONS:
        groups: list[list[Token]] = []
        for token in tokens:
            if groups and token.word >= 0 and groups[-1][-1].word == token.word:
                groups[-1].append(token)
            else:
                groups.append([token])
        spans = word_spans or {}
        for group in groups:
            label_id, score = word_label(np.stack([t.probs for t in group]), strategy)
            start, end = spans.get(group[0].word, (group[0].start, group[-1].end))
            items.append((min(start, group[0].start), max(end, group[-1].end), name(label_id), score))
    else:
        raise ValueError(f"unknown aggregation strategy {strategy!r}")
    grouped: list[list[tuple[int, int, str, float]]] = []
    for item in items:
        bi, kind = _tag(item[2])
        if grouped and bi != "B" and _tag(grouped[-1][-1][2])[1] == kind:
            grouped[-1].append(item)
        else:
            grouped.append([item])
    result = []
    for group in grouped:
        kind = group[0][2].split("-", 1)[-1]
        if kind == "O":
            continue
        start, end = group[0][0], group[-1][1]
        result.append({"entity_group": kind, "score": float(np.mean([item[3] for item in group])),
                       "word": text[start:end], "start": start, "end": end})
    return result


def zero_shot_result(scores: np.ndarray, labels: list[str], method: str, multi_label: bool, truncated: bool,
                     cosines: np.ndarray | None = None) -> dict:
    order = sorted(range(len(labels)), key=lambda i: float(scores[i]), reverse=True)
    result = {"labels": [labels[i] for i in order], "scores": [float(scores[i]) for i in order], "method": method,
              "multi_label": multi_label, "truncated": truncated}
    if cosines is not None:
        result["cosines"] = [float(cosines[i]) for i in order]
    return result


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Pool token vectors ``[B, T, H]`` over real tokens (mask ``[B, T]``) → ``[B, H]`` (not normalised)."""
    if mode == "cls":
        return hidden[:, 0]
    mask3 = mask[:, :, None].astype(hidden.dtype)
    if mode == "max":
        return np.where(mask3 > 0, hidden, -np.inf).max(axis=1)
    return (hidden * mask3).sum(axis=1) / np.clip(mask3.sum(axis=1), 1e-9, None)


def normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.clip(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12, None)


def embedding_result(chunk_vectors: list[np.ndarray], chunk_weights: list[int], truncated: bool,
                     decimals: int | None = 6) -> dict:
    """Chunks' embeddings averaged (weighted by tokens) and re-normalised; a list of floats (rounded to
    ``decimals``, or as computed when None)."""
    if len(chunk_vectors) == 1:
        vector = chunk_vectors[0]
    else:
        weights = np.asarray(chunk_weights, dtype=np.float32)[:, None]
        vector = normalise((np.stack(chunk_vectors) * weights).sum(axis=0) / weights.sum())
    values = [float(v) for v in vector] if decimals is None else [round(float(v), decimals) for v in vector]
    result = {"embedding": values, "shape": [int(vector.shape[0])],
              "truncated": truncated}
    if len(chunk_vectors) > 1:
        result["chunks"] = len(chunk_vectors)
    return result
