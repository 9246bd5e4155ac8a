"""Run a task on a loaded model: the one entry point the GUI, the CLI and other panels call.

``predict(loaded, texts, options)`` returns one dict per text (see each runner for its keys);
``similarity(loaded, a, b)`` compares two texts. Empty text raises :class:`InputError`; a text
longer than the model's limit is truncated and its result says ``"truncated": True``; a device
that runs out of memory raises the :class:`DeviceError` from ``services.core.devices``.
"""

from __future__ import annotations

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.run.classify import classify, fill_mask, recognise_entities
from services.run.common import check_texts
from services.run.embeddings import embeddings, similarity, zero_shot
from services.run.generate import generate
from services.run.question_answering import answer_questions
from services.run.seq2seq import run_seq2seq

RUNNERS = {
    "text-classification": classify,
    "token-classification": recognise_entities,
    "zero-shot-classification": zero_shot,
    "fill-mask": fill_mask,
    "sentence-similarity": embeddings,
    "text-generation": generate,
    "question-answering": answer_questions,  # texts are contexts; options["question"] is the question
    "summarization": run_seq2seq,
    "translation": run_seq2seq,
}
CHECKS_OWN_INPUT = ("question-answering",)  # names the context and the question in its own messages

__all__ = ["predict", "similarity", "RUNNERS"]


def predict(loaded, texts: list[str], options: dict | None = None, *, progress: Progress = no_progress,
            cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """Run ``loaded.task`` on every text; one result dict per text, in order."""
    runner = RUNNERS.get(loaded.task)
    if runner is None:
        raise InputError(f"The task '{loaded.task}' cannot be run here.", hint=f"Tasks: {', '.join(RUNNERS)}.")
    texts = [texts] if isinstance(texts, str) else list(texts)
    if loaded.task not in CHECKS_OWN_INPUT or not texts:
        texts = check_texts(texts)
    return runner(loaded, texts, dict(options or {}), progress=progress, cancel=cancel)
