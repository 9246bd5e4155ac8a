"""Tokenize examples for training (no padding: the collator pads each batch) and predict in batches.

For NER the word-level tags are aligned to subword tokens: the first subword of each word carries
the word's label, the other subwords and the special tokens get -100 (ignored by the loss).
Predictions use the task table's scoring rule (``services.core.tasks``) and the engine's per-word
rule (``services.core.heads.word_labels``, "first" sub-token), so the numbers of the training report
are the ones the Run panel and Analyse give for the saved model.
"""

from __future__ import annotations

from services.core.errors import InputError

IGNORE = -100


def effective_max_length(tokenizer, model, requested: int) -> int:
    limit = requested
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limit = min(limit, positions)
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < 1_000_000:
        limit = min(limit, model_max)
    return max(8, int(limit))


def encode_texts(tokenizer, texts: list[str], label_ids: list[int] | None, max_length: int) -> list[dict]:
    """One dict per text (``input_ids``, ``attention_mask``, …, ``labels``), unpadded."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    keys = [k for k in encoded.keys()]
    items = []
    for index in range(len(texts)):
        item = {key: encoded[key][index] for key in keys}
        if label_ids is not None:
            item["labels"] = int(label_ids[index])
        items.append(item)
    return items


def _require_fast(tokenizer) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise InputError("NER training needs a fast tokenizer (tokenizer.json) to align tags to subwords.",
                         hint="Choose a base model whose folder has tokenizer.json.")


def encode_words(tokenizer, token_lists: list[list[str]], tag_ids: list[list[int]] | None,
                 max_length: int) -> tuple[list[dict], list[list[int | None]]]:
    """Tokenize pre-split words; returns the items and each item's ``word_ids`` (None for specials)."""
    _require_fast(tokenizer)
    encoded = tokenizer([list(t) for t in token_lists], is_split_into_words=True, truncation=True, max_length=max_length)
    keys = [k for k in encoded.keys()]
    items, word_ids_all = [], []
    for index in range(len(token_lists)):
        word_ids = encoded.word_ids(index)
        item = {key: encoded[key][index] for key in keys}
        if tag_ids is not None:
            labels, previous = [], None
            for word in word_ids:
                if word is None or word == previous:
                    labels.append(IGNORE)
                else:
                    labels.append(int(tag_ids[index][word]))
                previous = word
            item["labels"] = labels
        items.append(item)
        word_ids_all.append(word_ids)
    return items, word_ids_all


def _batches(items: list[dict], batch_size: int):
    """Batches of indices, longest first, so that each batch pads little."""
    order = sorted(range(len(items)), key=lambda i: -len(items[i]["input_ids"]))
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def _forward(model, tokenizer, items: list[dict], batch_size: int, cancel=None):
    import torch

    device = next(model.parameters()).device
    model.eval()
    outputs: dict[int, object] = {}
    with torch.no_grad():
        for indices in _batches(items, batch_size):
            if cancel is not None:
                cancel.check()
            batch = tokenizer.pad([{k: v for k, v in items[i].items() if k != "labels"} for i in indices],
                                  return_tensors="pt")
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = model(**batch).logits.float().cpu()
            for row, index in enumerate(indices):
                outputs[index] = logits[row]
    return [outputs[i] for i in range(len(items))]


def predict_texts(model, tokenizer, texts: list[str], max_length: int, batch_size: int = 64,
                  cancel=None) -> tuple[list[int], list[list[float]]]:
    """Predicted label ids and class scores for each text."""
    from services.core import tasks

    function = tasks.score_function(model.config)
    items = encode_texts(tokenizer, texts, None, max_length)
    predicted, probabilities = [], []
    for logits in _forward(model, tokenizer, items, batch_size, cancel):
        probs = tasks.to_scores(logits.numpy(), function)
        predicted.append(int(probs.argmax()))
        probabilities.append([float(p) for p in probs])
    return predicted, probabilities


def predict_words(model, tokenizer, token_lists: list[list[str]], max_length: int, batch_size: int = 64,
                  outside_id: int = 0, cancel=None) -> list[list[int]]:
    """A tag id per word (the engine's rule: from its first subword); words cut off by ``max_length`` get
    ``outside_id``."""
    from services.core import heads, tasks

    items, word_ids_all = encode_words(tokenizer, token_lists, None, max_length)
    results = []
    for tokens, word_ids, logits in zip(token_lists, word_ids_all, _forward(model, tokenizer, items, batch_size, cancel)):
        tags = [outside_id] * len(tokens)
        for word, (label_id, _score) in heads.word_labels(word_ids, tasks.to_scores(logits.numpy())).items():
            tags[word] = label_id
        results.append(tags)
    return results
