"""Turn model outputs into result dicts: class scores (aggregated over chunks), entities (chunk
tokens merged back onto the original text), zero-shot scores and pooled embeddings.

Plain numpy; the engine hands over float32 arrays. Keys match ``services.run.predict``.
"""

from __future__ import annotations

import numpy as np


def classification_result(chunk_probs: list[np.ndarray], chunk_weights: list[int], id2label: dict, truncated: bool) -> dict:
    """Average the chunks' probabilities (weighted by their real tokens); the top label wins."""
    if len(chunk_probs) == 1:
        probs = chunk_probs[0]
    else:
        weights = np.asarray(chunk_weights, dtype=np.float64)
        probs = (np.stack(chunk_probs).astype(np.float64) * weights[:, None]).sum(axis=0) / weights.sum()
    best = int(np.argmax(probs))
    result = {"label": id2label.get(best, str(best)), "score": float(probs[best]),
              "scores": {id2label.get(i, str(i)): float(p) for i, p in enumerate(probs)}, "truncated": truncated}
    if len(chunk_probs) > 1:
        result["chunks"] = len(chunk_probs)
    return result


def _entity_type(label: str) -> tuple[str, str]:
    """``("B"|"I", type)``; a label without a B-/I- prefix continues a run of the same type."""
    if len(label) > 2 and label[1] == "-" and label[0] in "BIESbies":
        tag = label[0].upper()
        return ("B" if tag in "BS" else "I"), label[2:]
    return "I", label


def merge_chunk_tokens(chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[tuple[int, int, np.ndarray]]:
    """Tokens of a text from its (overlapping) chunks: ``(start, end, probs)`` sorted by start.

    ``chunks`` holds ``(offsets[T, 2], probs[T, C], real[T] bool)`` per chunk. A token seen in two
    chunks keeps the prediction of the chunk where it sits further from the chunk's edge (more context).
    """
    best: dict[tuple[int, int], tuple[int, np.ndarray]] = {}
    for offsets, probs, real in chunks:
        positions = np.flatnonzero(real)
        if positions.size == 0:
            continue
        first, last = positions[0], positions[-1]
        for position in positions:
            start, end = int(offsets[position, 0]), int(offsets[position, 1])
            if end <= start:
                continue
            centrality = int(min(position - first, last - position))
            key = (start, end)
            if key not in best or centrality > best[key][0]:
                best[key] = (centrality, probs[position])
    return [(start, end, probs) for (start, end), (_c, probs) in sorted(best.items())]


def group_entities(text: str, tokens: list[tuple[int, int, np.ndarray]], id2label: dict, truncated: bool) -> dict:
    """Group consecutive tokens of the same entity type (the pipeline's "simple" strategy)."""
    entities: list[dict] = []
    current: dict | None = None
    for start, end, probs in tokens:
        label_id = int(np.argmax(probs))
        label = str(id2label.get(label_id, label_id))
        score = float(probs[label_id])
        if label.upper() == "O":
            current = None
            continue
        tag, kind = _entity_type(label)
        if current is not None and tag == "I" and current["entity_group"] == kind:
            current["end"] = end
            current["_scores"].append(score)
            continue
        current = {"entity_group": kind, "start": start, "end": end, "_scores": [score]}
        entities.append(current)
    for entity in entities:
        scores = entity.pop("_scores")
        entity["score"] = float(np.mean(scores))
        entity["word"] = text[entity["start"]:entity["end"]]
    ordered = [{"entity_group": e["entity_group"], "word": e["word"], "start": e["start"], "end": e["end"],
                "score": e["score"]} for e in entities]
    return {"entities": ordered, "truncated": truncated}


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
                     decimals: int = 6) -> dict:
    """Chunks' embeddings averaged (weighted by tokens) and re-normalised; a list of floats."""
    if len(chunk_vectors) == 1:
        vector = chunk_vectors[0]
    else:
        weights = np.asarray(chunk_weights, dtype=np.float32)[:, None]
        vector = normalise((np.stack(chunk_vectors) * weights).sum(axis=0) / weights.sum())
    result = {"embedding": [round(float(v), decimals) for v in vector], "shape": [int(vector.shape[0])],
              "truncated": truncated}
    if len(chunk_vectors) > 1:
        result["chunks"] = len(chunk_vectors)
    return result
