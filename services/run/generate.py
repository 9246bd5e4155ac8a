"""Text generation with ``model.generate``: streamed token by token, cancellable between tokens."""

from __future__ import annotations

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError
from services.run.common import device_errors, float_option, int_option, token_count

DEFAULT_MAX_NEW_TOKENS = 40


def generation_settings(options: dict, max_length: int) -> dict:
    """Validated ``generate`` keyword arguments from the user's options."""
    max_new = int_option(options, "max_new_tokens", DEFAULT_MAX_NEW_TOKENS)
    if max_new >= max_length:
        raise InputError(f"max_new_tokens ({max_new}) must be smaller than the model's limit of {max_length} tokens.")
    do_sample = bool(options.get("do_sample", True))
    settings: dict = {"max_new_tokens": max_new, "do_sample": do_sample}
    if do_sample:
        settings["temperature"] = float_option(options, "temperature", 1.0, low=0.01, high=10.0)
        settings["top_p"] = float_option(options, "top_p", 1.0, low=0.01, high=1.0)
        settings["top_k"] = 0  # nucleus sampling only, so top_p means what the user set
    return settings


def _streaming_helpers(tokenizer, prompt: str, total: int, progress: Progress, cancel: CancelToken):
    from transformers import StoppingCriteria, StoppingCriteriaList
    from transformers.generation.streamers import BaseStreamer

    class Streamer(BaseStreamer):
        """Receives each new token from ``generate``; reports the cumulative text."""

        def __init__(self):
            self.ids: list[int] = []
            self.prompt_seen = False
            self.text = ""

        def put(self, value):
            if not self.prompt_seen:  # generate first pushes the prompt itself
                self.prompt_seen = True
                return
            self.ids += [int(token) for token in value.reshape(-1).tolist()]
            self.text = tokenizer.decode(self.ids, skip_special_tokens=True)
            progress(len(self.ids), total, "Generating", data=prompt + self.text)

        def end(self):
            pass

    class StopOnCancel(StoppingCriteria):
        """Checked after every token: blocks while paused, raises Cancelled once cancelled."""

        def __call__(self, input_ids, scores, **kwargs):
            import torch

            cancel.check()
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return Streamer(), StoppingCriteriaList([StopOnCancel()])


def generate(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
             cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """Continue each prompt; ``progress(data=prompt + text so far)`` after every token."""
    import torch

    tokenizer, model = loaded.tokenizer, loaded.model
    settings = generation_settings(options, loaded.max_length)
    budget = loaded.max_length - settings["max_new_tokens"]
    seed = options.get("seed")
    results = []
    for text in texts:
        cancel.check()
        truncated = token_count(tokenizer, text) > budget
        encoded = tokenizer(text, return_tensors="pt")
        if truncated:  # keep the end of the prompt: that is what the continuation follows
            encoded = {key: value[:, -budget:] for key, value in encoded.items()}
            prompt = tokenizer.decode(encoded["input_ids"][0], skip_special_tokens=True)
        else:
            prompt = text
        encoded = {key: value.to(loaded.device) for key, value in encoded.items()}
        streamer, stopping = _streaming_helpers(tokenizer, prompt, settings["max_new_tokens"], progress, cancel)
        if seed not in (None, "") and settings["do_sample"]:
            torch.manual_seed(int(seed))
        with device_errors(loaded.device, "generate text"), torch.inference_mode():
            model.generate(**encoded, **settings, streamer=streamer, stopping_criteria=stopping,
                           pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None
                           else tokenizer.eos_token_id)
        cancel.check()
        results.append({"generated_text": prompt + streamer.text, "new_text": streamer.text,
                        "new_tokens": len(streamer.ids), "truncated": truncated})
    return results
