"""Sentence embeddings, similarity and zero-shot classification (NLI pipeline or embedding similarity).

Embeddings follow the sentence-transformers recipe the built-in model was trained with: the last
hidden states are pooled (mean over real tokens unless the model's ``1_Pooling/config.json`` says
CLS or max) and L2-normalised, so the dot product of two embeddings is their cosine similarity.
"""

from __future__ import annotations

import json
from pathlib import Path

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core import tasks
from services.run.common import batches, check_texts, device_errors, encode, fit_text, forward, hf_pipeline



def pooling_of(folder: Path) -> tuple[str, int | None]:
    """``(mode, max_seq_length)`` from a sentence-transformers folder; ``("mean", None)`` otherwise."""
    mode, limit = "mean", None
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        for module in modules:
            if str(module.get("type", "")).endswith("Pooling"):
                config = json.loads((folder / module["path"] / "config.json").read_text(encoding="utf-8"))
                if config.get("pooling_mode_cls_token"):
                    mode = "cls"
                elif config.get("pooling_mode_max_tokens"):
                    mode = "max"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        limit = int(json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return mode, limit


def embedding_limit(loaded) -> int:
    _mode, limit = pooling_of(loaded.info.path)
    return min(loaded.max_length, limit) if limit else loaded.max_length


def embed(loaded, texts: list[str], *, progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED,
          message: str = "Embedding"):
    """L2-normalised sentence embeddings, a float32 CPU tensor of shape (len(texts), hidden), and cut flags."""
    import torch

    mode, _limit = pooling_of(loaded.info.path)
    limit = embedding_limit(loaded)
    vectors, cut = [], []
    for start, chunk in batches(texts):
        cancel.check()
        batch, truncated = encode(loaded, chunk, max_length=limit)
        hidden = forward(loaded, batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        if mode == "cls":
            pooled = hidden[:, 0]
        elif mode == "max":
            pooled = hidden.masked_fill(mask == 0, -1e9).max(dim=1).values
        else:
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        vectors.append(torch.nn.functional.normalize(pooled, p=2, dim=-1).cpu())
        cut += truncated
        progress(start + len(chunk), len(texts), message)
    return torch.cat(vectors), cut


def embeddings(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
               cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    vectors, cut = embed(loaded, texts, progress=progress, cancel=cancel)
    mode, _ = pooling_of(loaded.info.path)
    return [{"embedding": vector.tolist(), "shape": list(vector.shape), "truncated": was_cut,
             "pooling": mode, "normalized": True} for vector, was_cut in zip(vectors, cut)]


def similarity(loaded, text_a: str, text_b: str, *, progress: Progress = no_progress,
               cancel: CancelToken = NEVER_CANCELLED) -> dict:
    """Cosine similarity of two texts' embeddings (mean pooling + L2 norm), with the vectors' shape."""
    check_texts([text_a, text_b])
    vectors, cut = embed(loaded, [text_a, text_b], progress=progress, cancel=cancel)
    mode, _ = pooling_of(loaded.info.path)
    return {"cosine": float(vectors[0] @ vectors[1]), "shape": list(vectors[0].shape), "truncated": any(cut),
            "truncated_each": cut, "pooling": mode}


def zero_shot(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
              cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    labels = tasks.candidate_labels(options.get("candidate_labels"))
    template = tasks.hypothesis_template(options.get("hypothesis_template"))
    multi_label = bool(options.get("multi_label", False))
    if loaded.info.is_nli:
        return _zero_shot_nli(loaded, texts, labels, template, multi_label, progress, cancel)
    return _zero_shot_embedding(loaded, texts, labels, template, multi_label, progress, cancel)


def _zero_shot_nli(loaded, texts, labels, template, multi_label, progress, cancel) -> list[dict]:
    """transformers' zero-shot pipeline: each label's hypothesis is an NLI pair; entailment decides."""
    tokenizer = loaded.tokenizer
    hypotheses = [template.format(label) for label in labels]
    longest = max(len(tokenizer(h, add_special_tokens=False)["input_ids"]) for h in hypotheses)
    extra = tokenizer.num_special_tokens_to_add(pair=True) - tokenizer.num_special_tokens_to_add(pair=False)
    budget = max(8, loaded.max_length - longest - extra)
    runner = hf_pipeline(loaded, "zero-shot-classification")
    results = []
    for index, text in enumerate(texts):
        cancel.check()
        fitted, was_cut = fit_text(tokenizer, text, budget)
        with device_errors(loaded.device):
            raw = runner(fitted, candidate_labels=labels, hypothesis_template=template, multi_label=multi_label)
        results.append({"labels": list(raw["labels"]), "scores": [float(s) for s in raw["scores"]],
                        "method": "nli", "multi_label": multi_label, "truncated": was_cut})
        progress(index + 1, len(texts), "Classifying (NLI)")
    return results


def _zero_shot_embedding(loaded, texts, labels, template, multi_label, progress, cancel) -> list[dict]:
    """Cosine between the text's embedding and each label's hypothesis embedding.

    Single-label: ``softmax(20 × cosine)`` over the labels (scores sum to 1).
    Multi-label: each label's score is its cosine clipped to [0, 1] (independent, not a probability).
    """
    label_vectors, _ = embed(loaded, [template.format(label) for label in labels], cancel=cancel)
    text_vectors, cut = embed(loaded, texts, progress=progress, cancel=cancel, message="Classifying (embeddings)")
    cosines = (text_vectors @ label_vectors.T).numpy()
    scores = tasks.embedding_zero_shot_scores(cosines, multi_label)
    results = []
    for row_scores, row_cosines, was_cut in zip(scores.tolist(), cosines.tolist(), cut):
        order = sorted(range(len(labels)), key=lambda i: row_scores[i], reverse=True)
        results.append({"labels": [labels[i] for i in order], "scores": [row_scores[i] for i in order],
                        "cosines": [row_cosines[i] for i in order], "method": "embedding",
                        "multi_label": multi_label, "truncated": was_cut})
    return results
