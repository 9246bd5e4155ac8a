"""Text classification, fill-mask (manual forward passes) and named-entity recognition."""

from __future__ import annotations

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core import tasks
from services.core.errors import InputError
from services.run.common import batches, device_errors, encode, fit_text, forward, hf_pipeline, int_option

def classify(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
             cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """Label and score per text, plus every class's score (high to low, ``top_k`` of them)."""
    top_k = int_option(options, "top_k", None)
    function = tasks.score_function(loaded.model.config)
    id2label = loaded.model.config.id2label
    results: list[dict] = []
    for start, chunk in batches(texts):
        cancel.check()
        batch, truncated = encode(loaded, chunk)
        logits = forward(loaded, batch).logits.float().cpu()
        scores = tasks.to_scores(logits.numpy(), function)
        for row, was_cut in zip(scores.tolist(), truncated):
            ranked = sorted(((id2label[i], s) for i, s in enumerate(row)), key=lambda pair: pair[1], reverse=True)
            if top_k is not None:
                ranked = ranked[:top_k]
            results.append({"label": ranked[0][0], "score": ranked[0][1], "scores": dict(ranked),
                            "function": function, "truncated": was_cut})
        progress(start + len(chunk), len(texts), "Classifying")
    return results


def fill_mask(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
              cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """Top-k candidates for the mask token (for each mask when there are several)."""
    import torch

    tokenizer = loaded.tokenizer
    mask, mask_id = tokenizer.mask_token, tokenizer.mask_token_id
    if mask is None or mask_id is None:
        raise InputError(f"The tokenizer of '{loaded.info.name}' has no mask token, so it cannot fill a mask.")
    for index, text in enumerate(texts):
        if mask not in text:
            where = "The text" if len(texts) == 1 else f"Text {index + 1}"
            raise InputError(f"{where} has no {mask} token for the model to fill.",
                             hint=f"Write {mask} where the missing word goes, e.g. 'Paris is the {mask} of France.'")
    top_k = int_option(options, "top_k", 5)
    top_k = min(top_k, loaded.model.config.vocab_size)
    results: list[dict] = []
    for start, chunk in batches(texts):
        cancel.check()
        batch, truncated = encode(loaded, chunk)
        logits = forward(loaded, batch).logits.float().cpu()
        input_ids = batch["input_ids"].cpu()
        attention = batch["attention_mask"].cpu()
        for row in range(len(chunk)):
            ids = input_ids[row][attention[row] == 1]
            positions = (ids == mask_id).nonzero(as_tuple=True)[0].tolist()
            if not positions:
                raise InputError(f"The {mask} token lies beyond the model's limit of {loaded.max_length} tokens.",
                                 hint="Shorten the text before the mask.")
            single = len(positions) == 1
            per_mask = []
            for position in positions:
                probs = torch.softmax(logits[row, position], dim=-1)
                values, predictions = probs.topk(top_k)
                candidates = []
                for value, token in zip(values.tolist(), predictions.tolist()):
                    filled = ids.clone()
                    filled[position] = token
                    candidates.append({
                        "token_str": tokenizer.decode([token]),
                        "score": value,
                        "sequence": tokenizer.decode(filled.tolist(), skip_special_tokens=single),
                        "token": token,
                    })
                per_mask.append(candidates)
            results.append({"candidates": per_mask[0], "masks": per_mask, "mask_token": mask,
                            "truncated": truncated[row]})
        progress(start + len(chunk), len(texts), "Filling masks")
    return results


def _plain(value):
    """numpy scalars from the pipeline → plain Python numbers (JSON-friendly)."""
    return value.item() if hasattr(value, "item") else value


def recognise_entities(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
                       cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """Entities per text through transformers' token-classification pipeline (its aggregation rules)."""
    strategy = tasks.aggregation(options.get("aggregation_strategy"))
    if strategy in tasks.WORD_AGGREGATIONS and not getattr(loaded.tokenizer, "is_fast", False):
        raise InputError(f"Aggregation '{strategy}' needs a fast tokenizer (word boundaries).",
                         hint="Use 'simple' or 'none' with this model.")
    runner = hf_pipeline(loaded, "token-classification")
    results: list[dict] = []
    for index, text in enumerate(texts):
        cancel.check()
        fitted, was_cut = fit_text(loaded.tokenizer, text, loaded.max_length)
        with device_errors(loaded.device):
            raw = runner(fitted, aggregation_strategy=strategy)
        entities = []
        for item in raw:
            entity = {key: _plain(value) for key, value in item.items()}
            entity["score"] = float(entity["score"])
            entities.append(entity)
        results.append({"entities": entities, "aggregation_strategy": strategy, "truncated": was_cut,
                        "text_used": fitted})
        progress(index + 1, len(texts), "Finding entities")
    return results
