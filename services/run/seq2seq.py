"""Summarisation and translation on ``AutoModelForSeq2SeqLM.generate`` (transformers 5 removed the pipelines).

* **Settings**: greedy or beam search, max/min new tokens, length penalty, no-repeat n-gram size.
  Defaults come from the checkpoint (its ``config.json`` / ``generation_config.json`` and, for the
  task, ``task_specific_params`` as T5 and distilBART carry them); the user's options override them.
* **Prefixes and languages**: T5-style task prefixes (``"summarize: "``, ``"translate English to
  French: "``) from ``task_specific_params``; Marian pairs from the model's name (``opus-mt-en-fr``)
  or, for multi-target Marian models, a ``>>fr<<`` target token; NLLB/mBART/M2M100 language codes from
  the tokenizer (``src_lang`` on the tokenizer, ``forced_bos_token_id`` for the target).
* **Streaming and Cancel**: with greedy search a streamer reports the text so far through
  ``progress(data=...)`` after every token; a stopping criterion checks the cancel token after every
  step (beam search included), so Cancel stops generation within one step.
* **Long input**: cut at the model's limit with a notice (``truncated``), or with ``chunking`` split
  at sentence boundaries into pieces that fit, each generated on its own and the outputs joined
  (``chunks`` says how many; the notice says so).

torch is imported inside functions only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import Cancelled, InputError, ModelError
from services.run.common import device_errors, float_option, int_option

DEFAULT_MAX_NEW_TOKENS = 64
GENERATION_KEYS = ("num_beams", "max_length", "min_length", "max_new_tokens", "min_new_tokens", "length_penalty",
                   "no_repeat_ngram_size", "early_stopping")
OUTPUT_KEY = {"summarization": "summary_text", "translation": "translation_text"}
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "ro": "Romanian", "es": "Spanish",
                  "it": "Italian", "pt": "Portuguese", "nl": "Dutch"}
_MARIAN_NAME = re.compile(r"opus-mt-(?:tc-(?:big-|base-)?)?([A-Za-z_]+)-([A-Za-z_]+)")
_LANG_CODE = re.compile(r"^(?:[a-z]{2,3}_[A-Z][A-Za-z]{1,3}|__[a-z]{2,3}__)$")  # NLLB eng_Latn, mBART en_XX, M2M __en__
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")


# -- what the model offers --------------------------------------------------------------------------
def _read_json(path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _task_params(config: dict, task: str, src: str | None = None, tgt: str | None = None) -> dict:
    params = config.get("task_specific_params") or {}
    if task == "summarization":
        return dict(params.get("summarization") or {})
    if src and tgt:
        return dict(params.get(f"translation_{src}_to_{tgt}") or {})
    pairs = [key for key in params if key.startswith("translation_")]
    return dict(params[pairs[0]]) if len(pairs) == 1 else {}


def _t5_pairs(config: dict) -> list[tuple[str, str]]:
    pairs = []
    for key in config.get("task_specific_params") or {}:
        match = re.fullmatch(r"translation_([A-Za-z_]+)_to_([A-Za-z_]+)", key)
        if match:
            pairs.append((match.group(1), match.group(2)))
    return pairs


def marian_pair(info) -> tuple[str, str] | None:
    """``("en", "fr")`` from a Marian model's name (its folder, its Hub cache path, or ``_name_or_path``)."""
    for where in (str(info.path), str(info.config.get("_name_or_path") or ""), info.name):
        match = _MARIAN_NAME.search(where.replace("--", "/"))
        if match:
            return match.group(1), match.group(2)
    return None


@dataclass
class Languages:
    """The languages a model takes: ``kind`` is ``"codes"`` (NLLB/mBART/M2M100: ``src_lang`` and a forced
    first token), ``"marian-multi"`` (``>>xx<<`` target tokens), ``"pair"`` (one fixed Marian pair),
    ``"prefix"`` (T5 task prefixes per pair) or ``"none"``."""

    kind: str = "none"
    sources: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    default_source: str | None = None
    default_target: str | None = None


def languages_of(loaded) -> Languages:
    """The languages of a loaded model (its tokenizer is the authority on language codes)."""
    tokenizer = loaded.tokenizer
    codes = [t for t in getattr(tokenizer, "all_special_tokens", []) if _LANG_CODE.match(str(t))]
    if not hasattr(tokenizer, "src_lang"):
        codes = []
    targets = [c.strip(">").strip("<") for c in getattr(tokenizer, "supported_language_codes", None) or []]
    return _languages(loaded.info, codes, getattr(tokenizer, "src_lang", None), targets)


def languages_from_files(info) -> Languages:
    """The same from the model folder's JSON files only (no tokenizer load: for pickers and code)."""
    config = _read_json(info.path / "tokenizer_config.json")
    special = _read_json(info.path / "special_tokens_map.json")
    listed = []
    for holder in (config, special):
        for key in ("extra_special_tokens", "additional_special_tokens"):
            value = holder.get(key)
            if isinstance(value, list):
                listed += [str(v.get("content", "")) if isinstance(v, dict) else str(v) for v in value]
    codes = list(dict.fromkeys(t for t in listed if _LANG_CODE.match(t)))
    targets = []
    if info.model_type == "marian":
        vocab = _read_json(info.path / "vocab.json")
        targets = [k[2:-2] for k in vocab if k.startswith(">>") and k.endswith("<<")]
    return _languages(info, codes, config.get("src_lang"), targets)


def _languages(info, codes: list[str], src_lang, marian_targets: list[str]) -> Languages:
    if codes:  # NLLB, mBART-50, M2M100: the source defaults to the tokenizer's; the target is the user's choice
        source = src_lang if src_lang in codes else codes[0]
        return Languages("codes", codes, codes, [], source, None)
    pair = marian_pair(info) if info.model_type == "marian" else None
    if info.model_type == "marian" and marian_targets:
        return Languages("marian-multi", [pair[0]] if pair else [], marian_targets, [],
                         pair[0] if pair else None, marian_targets[0])
    if pair:
        return Languages("pair", [pair[0]], [pair[1]], [pair], pair[0], pair[1])
    pairs = _t5_pairs(info.config)
    if pairs:
        return Languages("prefix", sorted({p[0] for p in pairs}), sorted({p[1] for p in pairs}), pairs,
                         pairs[0][0], pairs[0][1])
    return Languages()


def generation_defaults(info, task: str, src: str | None = None, tgt: str | None = None,
                        languages: Languages | None = None) -> dict:
    """The checkpoint's own generation settings for ``task`` (what the old pipeline used), as our options:
    ``num_beams``, ``max_new_tokens``, ``min_new_tokens``, ``length_penalty``, ``no_repeat_ngram_size``,
    ``early_stopping``, ``prefix``. ``info`` is the model's ``ModelInfo`` (or a loaded model)."""
    info = getattr(info, "info", info)
    folder = info.path
    raw: dict = {}
    config = info.config
    raw.update({k: config[k] for k in GENERATION_KEYS if k in config})
    raw.update({k: v for k, v in _read_json(folder / "generation_config.json").items() if k in GENERATION_KEYS})
    if task == "translation" and (src is None or tgt is None):
        langs = languages or languages_from_files(info)
        src, tgt = src or langs.default_source, tgt or langs.default_target
    params = _task_params(config, task, src, tgt)
    raw.update({k: v for k, v in params.items() if k in GENERATION_KEYS})
    defaults = {
        "num_beams": int(raw.get("num_beams") or 1),
        "max_new_tokens": int(raw.get("max_new_tokens") or raw.get("max_length") or DEFAULT_MAX_NEW_TOKENS),
        "min_new_tokens": int(raw.get("min_new_tokens") or raw.get("min_length") or 0),
        "length_penalty": float(raw.get("length_penalty", 1.0)),
        "no_repeat_ngram_size": int(raw.get("no_repeat_ngram_size") or 0),
        "early_stopping": bool(raw.get("early_stopping", False)),
        "prefix": str(params.get("prefix") or ""),
    }
    if defaults["max_new_tokens"] == 20 and "max_new_tokens" not in raw and raw.get("max_length") == 20:
        defaults["max_new_tokens"] = DEFAULT_MAX_NEW_TOKENS  # 20 is transformers' generic default, not a choice
    defaults["min_new_tokens"] = min(defaults["min_new_tokens"], defaults["max_new_tokens"])
    return defaults


# -- one request, checked -----------------------------------------------------------------------
@dataclass
class Plan:
    task: str
    settings: dict  # keyword arguments for model.generate
    prefix: str  # put before every input (T5 task prefix, Marian >>xx<< token)
    src_lang: str | None
    tgt_lang: str | None
    set_src_lang: bool  # the tokenizer's src_lang is set before encoding
    limit: int  # input tokens the encoder takes
    chunking: bool
    stream: bool


def check_decoder_start(loaded) -> None:
    """generate needs a first decoder token: ``decoder_start_token_id`` (or, failing that, ``bos_token_id``)."""
    model = loaded.model
    generation, config = getattr(model, "generation_config", None), model.config
    for holder in (generation, config, getattr(config, "decoder", None)):
        if holder is None:
            continue
        if getattr(holder, "decoder_start_token_id", None) is not None or getattr(holder, "bos_token_id", None) is not None:
            return
    raise ModelError(f"'{loaded.info.display_name}' has no decoder_start_token_id (nor a bos_token_id), so "
                     "generate cannot start the output.",
                     hint="Set decoder_start_token_id in its config.json (T5 and Marian use the pad token id, BART "
                          "the </s> id).")


def _check_language(code: str, allowed: list[str], what: str, model: str) -> str:
    if code in allowed:
        return code
    shown = ", ".join(allowed[:12]) + (f" … ({len(allowed)} in all)" if len(allowed) > 12 else "")
    raise InputError(f"Unknown {what} language '{code}' for '{model}'.",
                     hint=f"It takes: {shown}." if allowed else "It takes no language choice.")


def resolve(info, languages: Languages, task: str, options: dict) -> dict:
    """Settings, prefix and languages for ``task`` from the user's ``options`` over the checkpoint's defaults:
    ``{"settings", "prefix", "src_lang", "tgt_lang", "set_src_lang", "forced_bos_token"}`` (the target's
    language code when generation must start with it; its id comes from the tokenizer)."""
    if task not in OUTPUT_KEY:
        raise InputError(f"'{task}' is not a text-to-text task.", hint="Use summarization or translation.")
    name = info.display_name
    src = options.get("src_lang") or None
    tgt = options.get("tgt_lang") or None
    langs = languages
    prefix_extra, set_src, forced = "", False, None
    if (src or tgt) and task == "summarization" and langs.kind != "codes":
        raise InputError("Languages apply to translation, not summarisation.",
                         hint="Leave --src-lang/--tgt-lang out, or choose --task translation.")
    if task == "translation" or (langs.kind == "codes" and (src or tgt)):
        if langs.kind == "none":
            if src or tgt:
                raise InputError(f"'{name}' takes no source or target language.",
                                 hint="It translates as it was trained; leave the languages out.")
        elif langs.kind == "codes":
            if not tgt:
                example = next((c for c in langs.targets if c.startswith(("fra", "fr_", "__fr"))), langs.targets[0])
                raise InputError(f"'{name}' translates between many languages: choose the target language.",
                                 hint=f"For example --tgt-lang {example} (its codes: "
                                      f"{', '.join(langs.targets[:12])}{' …' if len(langs.targets) > 12 else ''}).")
            src = _check_language(src or langs.default_source, langs.sources, "source", name)
            tgt = _check_language(tgt or langs.default_target, langs.targets, "target", name)
            set_src, forced = True, tgt
        elif langs.kind == "marian-multi":
            if src and langs.sources:
                _check_language(src, langs.sources, "source", name)
            tgt = _check_language(tgt or langs.default_target, langs.targets, "target", name)
            prefix_extra = f">>{tgt}<< "
        else:  # one Marian pair, or T5 task prefixes per pair
            src = _check_language(src or langs.default_source, langs.sources, "source", name)
            tgt = _check_language(tgt or langs.default_target, langs.targets, "target", name)
            if langs.kind == "prefix" and (src, tgt) not in langs.pairs:
                pairs = ", ".join(f"{a}→{b}" for a, b in langs.pairs)
                raise InputError(f"'{name}' has no task prefix for {src}→{tgt}.", hint=f"Its pairs: {pairs}.")
    defaults = generation_defaults(info, task, src, tgt, langs)
    prefix = options.get("prefix")
    prefix = prefix_extra + (defaults["prefix"] if prefix is None else str(prefix))
    num_beams = int_option(options, "num_beams", defaults["num_beams"])
    max_new = int_option(options, "max_new_tokens", defaults["max_new_tokens"])
    min_new = int_option(options, "min_new_tokens", min(defaults["min_new_tokens"], max_new), minimum=0)
    if min_new > max_new:
        raise InputError(f"min_new_tokens ({min_new}) must not exceed max_new_tokens ({max_new}).")
    length_penalty = float_option(options, "length_penalty", defaults["length_penalty"], low=-10.0, high=10.0)
    no_repeat = int_option(options, "no_repeat_ngram_size", defaults["no_repeat_ngram_size"], minimum=0)
    settings = {"do_sample": False, "num_beams": num_beams, "max_new_tokens": max_new, "min_new_tokens": min_new,
                "length_penalty": length_penalty, "no_repeat_ngram_size": no_repeat}
    if num_beams > 1:
        settings["early_stopping"] = bool(options.get("early_stopping", defaults["early_stopping"]))
    return {"settings": settings, "prefix": prefix, "src_lang": src, "tgt_lang": tgt, "set_src_lang": set_src,
            "forced_bos_token": forced}


def plan_for(loaded, task: str, options: dict) -> Plan:
    """Validated generate settings, prefix and languages for ``task`` on ``loaded``."""
    if task not in OUTPUT_KEY:
        raise InputError(f"'{task}' is not a text-to-text task.", hint="Use summarization or translation.")
    if not getattr(loaded.model.config, "is_encoder_decoder", False):
        raise InputError(f"'{loaded.info.display_name}' is not an encoder-decoder model, so it cannot do {task}.")
    check_decoder_start(loaded)
    plan = resolve(loaded.info, languages_of(loaded), task, options)
    settings = plan["settings"]
    if plan["forced_bos_token"] is not None:
        settings["forced_bos_token_id"] = loaded.tokenizer.convert_tokens_to_ids(plan["forced_bos_token"])
    stream = bool(options.get("stream", True)) and settings["num_beams"] == 1
    return Plan(task, settings, plan["prefix"], plan["src_lang"], plan["tgt_lang"], plan["set_src_lang"],
                loaded.max_length, bool(options.get("chunking", False)), stream)


# -- input: truncation or chunks ------------------------------------------------------------------
def _count(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])


def split_into_chunks(tokenizer, text: str, prefix: str, limit: int) -> list[str]:
    """Consecutive pieces of ``text`` (whole sentences where they fit, else whole words) each of which,
    after ``prefix``, fits in ``limit`` tokens."""
    def fits(piece: str) -> bool:
        return _count(tokenizer, prefix + piece) <= limit

    units: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if not sentence:
            continue
        if fits(sentence):
            units.append(sentence)
            continue
        words, current = sentence.split(), ""
        for word in words:
            candidate = f"{current} {word}".strip()
            if current and not fits(candidate):
                units.append(current)
                current = word
            else:
                current = candidate
        if current:
            units.append(current)
    chunks: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current} {unit}".strip()
        if current and not fits(candidate):
            chunks.append(current)
            current = unit
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


# -- generation -----------------------------------------------------------------------------------
def _helpers(tokenizer, report, cancel: CancelToken, stream: bool):
    from transformers import StoppingCriteria, StoppingCriteriaList
    from transformers.generation.streamers import BaseStreamer

    class Streamer(BaseStreamer):
        """Receives each new token from ``generate`` (after the decoder's start token); reports the text so far."""

        def __init__(self):
            self.ids: list[int] = []
            self.started = False

        def put(self, value):
            if not self.started:  # generate first pushes the decoder's start token(s)
                self.started = True
                return
            self.ids += [int(token) for token in value.reshape(-1).tolist()]
            report(len(self.ids), tokenizer.decode(self.ids, skip_special_tokens=True))

        def end(self):
            pass

    class StopOnCancel(StoppingCriteria):
        """Checked after every generation step: blocks while paused, raises Cancelled once cancelled."""

        def __init__(self):
            self.steps = 0

        def __call__(self, input_ids, scores, **kwargs):
            import torch

            self.steps += 1
            if not stream:
                report(self.steps, None)
            cancel.check()
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return (Streamer() if stream else None), StoppingCriteriaList([StopOnCancel()])


def generate_one(loaded, plan: Plan, text: str, report=lambda done, text: None,
                 cancel: CancelToken = NEVER_CANCELLED) -> tuple[str, int, int, bool]:
    """``(output text, input tokens, new tokens, truncated)`` for one input (cut at the model's limit)."""
    import torch

    tokenizer = loaded.tokenizer
    if plan.set_src_lang:
        tokenizer.src_lang = plan.src_lang
    source = plan.prefix + text
    full = _count(tokenizer, source)
    encoded = tokenizer(source, truncation=True, max_length=plan.limit, return_tensors="pt")
    inputs = {k: v.to(loaded.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
    streamer, stopping = _helpers(tokenizer, report, cancel, plan.stream)
    with device_errors(loaded.device, f"run {plan.task}"), torch.inference_mode():
        output = loaded.model.generate(**inputs, **plan.settings, streamer=streamer, stopping_criteria=stopping)
    cancel.check()
    ids = output[0].tolist()
    start = getattr(loaded.model.generation_config, "decoder_start_token_id", None)
    new_tokens = len(ids) - 1 if ids and start is not None and ids[0] == start else len(ids)
    return tokenizer.decode(ids, skip_special_tokens=True), min(full, plan.limit), new_tokens, full > plan.limit


def run_seq2seq(loaded, texts: list[str], options: dict, *, progress: Progress = no_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> list[dict]:
    """The runner of ``summarization`` and ``translation``: one dict per text with ``summary_text`` or
    ``translation_text``, ``truncated``, ``input_tokens``, ``new_tokens``, the languages and prefix used,
    ``notice`` when the input was cut or chunked, and ``chunks`` when chunked. ``progress(data=text so
    far)`` streams the output (greedy search)."""
    task = loaded.task
    plan = plan_for(loaded, task, options)
    key = OUTPUT_KEY[task]
    results: list[dict] = []
    total = len(texts)
    for index, text in enumerate(texts):
        cancel.check()
        pieces = (split_into_chunks(loaded.tokenizer, text, plan.prefix, plan.limit)
                  if plan.chunking and _count(loaded.tokenizer, plan.prefix + text) > plan.limit else [text])
        outputs: list[str] = []
        truncated = False
        input_tokens = new_tokens = 0
        for part, piece in enumerate(pieces):
            done_before = " ".join(outputs)

            def report(step, partial, _before=done_before, _part=part):
                if partial is None:
                    message = f"Generating (beam search), step {step}"
                    data = None
                else:
                    message = "Generating"
                    data = (_before + " " + partial).strip() if _before else partial
                if len(pieces) > 1:
                    message += f" · chunk {_part + 1} of {len(pieces)}"
                if len(texts) > 1:
                    message += f" · text {index + 1} of {total}"
                progress(step, plan.settings["max_new_tokens"], message, data=data)

            try:
                out, used, new, cut = generate_one(loaded, plan, piece, report, cancel)
            except Cancelled as error:
                partial = {key: " ".join(outputs), "cancelled": True} if outputs else None
                raise Cancelled(partial=results + ([partial] if partial else [])) from error
            outputs.append(out.strip())
            truncated = truncated or cut
            input_tokens += used
            new_tokens += new
        result = {key: " ".join(o for o in outputs if o), "truncated": truncated, "input_tokens": input_tokens,
                  "new_tokens": new_tokens, "prefix": plan.prefix, "src_lang": plan.src_lang,
                  "tgt_lang": plan.tgt_lang, "settings": dict(plan.settings)}
        if len(pieces) > 1:
            result["chunks"] = len(pieces)
            result["notice"] = (f"The input was longer than the model's {plan.limit} tokens, so it was "
                                f"{'summarised' if task == 'summarization' else 'translated'} in {len(pieces)} "
                                "chunks and the chunk outputs were joined.")
        elif truncated:
            full = _count(loaded.tokenizer, plan.prefix + text)
            result["notice"] = (f"The input was {full} tokens; the model reads at most {plan.limit}, so only the "
                                "first part was used.")
        results.append(result)
    return results
