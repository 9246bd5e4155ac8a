"""Text classification and named-entity recognition (through the batch engine), and fill-mask."""

from __future__ import annotations

from services.core import tasks
from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.run.common import batches, encode, forward, int_option, through_engine


def classify(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
             cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """Label and score per text, plus every class's score (high to low, ``top_k`` of them); ``function``
    says how the logits became scores (softmax, sigmoid, or none for a regression head)."""
    top_k = int_option(options, "top_k", None)
    results = through_engine(loaded, texts, progress=progress, cancel=cancel, message="Classifying")
    for result in results:
        ranked = sorted(result["scores"].items(), key=lambda pair: pair[1], reverse=True)
        result["scores"] = dict(ranked[:top_k] if top_k is not None else ranked)
    return results


def recognise_entities(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
                       cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """Entities per text, grouped by the chosen aggregation strategy (default: by word, first sub-token)."""
    strategy = tasks.aggregation(options.get("aggregation_strategy"))
    results = through_engine(loaded, texts, progress=progress, cancel=cancel, message="Finding entities",
                             aggregation=strategy)
    for text, result in zip(texts, results):
        result.update(aggregation_strategy=strategy, text_used=text)
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
