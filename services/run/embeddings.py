"""Sentence embeddings, similarity and zero-shot classification (NLI or embedding similarity), all
through the batch engine (``services.core.engine``), so typed text and files give the same numbers.

Embeddings follow the sentence-transformers recipe the built-in model was trained with: the last
hidden states are pooled (mean over real tokens unless the model's ``1_Pooling/config.json`` says
CLS or max) and L2-normalised, so the dot product of two embeddings is their cosine similarity.
"""

from __future__ import annotations

from services.core import tasks
from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.model_info import pooling_of
from services.run.common import check_texts, through_engine


def embeddings(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
               cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    results = through_engine(loaded, texts, progress=progress, cancel=cancel, message="Embedding")
    mode, _ = pooling_of(loaded.info.path)
    for result in results:
        result.update(pooling=mode, normalized=True)
    return results


def similarity(loaded, text_a: str, text_b: str, *, progress: Progress = no_progress,
               cancel: CancelToken = NEVER_CANCELLED) -> dict:
    """Cosine similarity of two texts' embeddings (pooled, L2-normalised), with the vectors' shape."""
    check_texts([text_a, text_b])
    a, b = embeddings(loaded, [text_a, text_b], {}, progress=progress, cancel=cancel)
    cosine = sum(x * y for x, y in zip(a["embedding"], b["embedding"]))
    return {"cosine": float(cosine), "shape": a["shape"], "truncated": a["truncated"] or b["truncated"],
            "truncated_each": [a["truncated"], b["truncated"]], "pooling": a["pooling"]}


def zero_shot(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
              cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """Candidate labels ranked: by an NLI model's entailment (transformers' zero-shot rule), or by the
    cosine between the text's and each label's hypothesis embedding (``tasks.embedding_zero_shot_scores``)."""
    labels = tasks.candidate_labels(options.get("candidate_labels"))
    template = tasks.hypothesis_template(options.get("hypothesis_template"))
    method = "NLI" if loaded.info.is_nli else "embeddings"
    return through_engine(loaded, texts, progress=progress, cancel=cancel, message=f"Classifying ({method})",
                          labels=labels, template=template, multi_label=bool(options.get("multi_label", False)))
