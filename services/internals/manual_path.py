"""The manual PyTorch path, step by step: input tensors → raw logits → softmax (with temperature) →
argmax → ``config.id2label``, attention weights per layer and head, and the exact Python that
reproduces the numbers.

Modes: sequence classification, zero-shot through an NLI model (premise/hypothesis pairs, softmax of
the entailment logits over the candidate labels, as the zero-shot pipeline does), token
classification, and attention only (an encoder without a task head, e.g. the built-in model).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError, ModelError
from services.core import tasks
from services.core.model_info import ModelInfo, inspect_model
from services.core.tasks import DEFAULT_TEMPLATE

MODES = {
    "sequence-classification": "Sequence classification",
    "zero-shot": "Zero-shot (NLI premise/hypothesis)",
    "token-classification": "Token classification",
    "attention": "Attention only (no task head)",
}
MAX_DISPLAY_VALUES = 512


@dataclass
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str
    values: list  # nested lists, the first MAX_DISPLAY_VALUES of the last dimension


@dataclass
class InternalsResult:
    mode: str
    model_name: str
    model_path: str
    auto_class: str
    text: str
    tokens: list[str]  # the tokens of the (first) input row
    inputs: list[TensorInfo]
    logits: list[list[float]]  # raw model output rows (empty in attention mode)
    logit_rows: list[str]  # what each logits row is: "text", a candidate label, or a token
    logit_columns: list[str]  # what each logits column is: id2label names
    score_logits: list[list[float]]  # the logits that become scores (``activation``), one row per prediction
    score_labels: list[str]  # names of the score columns
    activation: str  # tasks.score_function: "softmax", "sigmoid" (multi-label) or "none" (regression)
    attentions: Any = None  # numpy float32 [layers, heads, seq, seq], or None
    outputs: list[TensorInfo] = field(default_factory=list)
    candidate_labels: list[str] = field(default_factory=list)
    hypothesis_template: str = DEFAULT_TEMPLATE
    device: str = "cpu"
    dtype: str = "float32"

    @property
    def layers(self) -> int:
        return 0 if self.attentions is None else int(self.attentions.shape[0])

    @property
    def heads(self) -> int:
        return 0 if self.attentions is None else int(self.attentions.shape[1])


@dataclass
class Prediction:
    row: str
    index: int  # argmax column
    label: str  # id2label name (or candidate label)
    probability: float
    uncertain: bool

    @property
    def shown_label(self) -> str:
        return "uncertain" if self.uncertain else self.label


@dataclass
class Scores:
    probabilities: list[list[float]]
    predictions: list[Prediction]
    temperature: float
    threshold: float


def modes_for(info: ModelInfo) -> list[str]:
    """The internals views a model supports, best first."""
    modes = []
    if "zero-shot-classification" in info.tasks and info.is_nli:
        modes.append("zero-shot")
    if "text-classification" in info.tasks:
        modes.append("sequence-classification")
    if "token-classification" in info.tasks:
        modes.append("token-classification")
    if "sentence-similarity" in info.tasks or "text-generation" in info.tasks:
        modes.append("attention")
    return modes


def task_for_mode(info: ModelInfo, mode: str) -> str:
    if mode == "zero-shot":
        return "zero-shot-classification"
    if mode == "sequence-classification":
        return "text-classification"
    if mode == "token-classification":
        return "token-classification"
    return "text-generation" if "sentence-similarity" not in info.tasks else "sentence-similarity"


# -- running the model ----------------------------------------------------------------------------
def run_internals(spec: str, text: str, *, mode: str | None = None, candidate_labels: list[str] | None = None,
                  hypothesis_template: str = DEFAULT_TEMPLATE, attentions: bool = True, device: str = "cpu",
                  dtype: str = "float32", host=None, progress: Progress = no_progress,
                  cancel: CancelToken = NEVER_CANCELLED) -> InternalsResult:
    """Load ``spec`` (cached on ``host``) and run ``text`` through it the manual way."""
    if text is None or not text.strip():
        raise InputError("The text is empty.", hint="Type a sentence to run through the model.")
    info = inspect_model(spec)
    available = modes_for(info)
    mode = mode or (available[0] if available else None)
    if mode not in MODES:
        raise InputError(f"Unknown internals view '{mode}'.", hint=f"Choose one of: {', '.join(MODES)}.")
    if mode not in available:
        raise ModelError(f"'{info.display_name}' has no {MODES[mode].lower()} head.",
                         hint=f"It supports: {', '.join(MODES[m] for m in available) or 'nothing here'}.")
    if mode == "zero-shot":
        candidate_labels = candidate_labels or []
        if not candidate_labels:
            raise InputError("Zero-shot needs candidate labels.", hint="Type labels separated by commas.")
        if "{}" not in hypothesis_template:
            raise InputError("The hypothesis template needs a {} where the label goes.",
                             hint=f"For example: {DEFAULT_TEMPLATE}")
    if host is None:
        from services.core.models import default_host as host
    progress(0, 3, f"Loading {info.display_name}")
    loaded = host.get(spec, task_for_mode(info, mode), device=device, dtype=dtype, progress=progress, cancel=cancel)
    cancel.check()
    progress(1, 3, "Running the model")
    import torch

    tokenizer, model = loaded.tokenizer, loaded.model
    if mode == "zero-shot":
        hypotheses = [hypothesis_template.format(label) for label in candidate_labels]
        inputs = tokenizer([text] * len(hypotheses), hypotheses, return_tensors="pt", padding=True,
                           truncation="only_first")
    else:
        inputs = tokenizer(text, return_tensors="pt", truncation=True)
    inputs = inputs.to(loaded.device)
    with torch.inference_mode(), _eager_attention(model, attentions):
        output = model(**inputs, output_attentions=attentions)
    cancel.check()
    progress(2, 3, "Reading the outputs")
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0].tolist())
    if mode == "zero-shot" and "attention_mask" in inputs:
        tokens = tokens[: int(inputs["attention_mask"][0].sum())]
    result = InternalsResult(
        mode=mode, model_name=info.display_name, model_path=str(info.path.resolve()), auto_class=loaded.auto_class,
        text=text, tokens=tokens, inputs=[_tensor_info(name, value) for name, value in inputs.items()],
        logits=[], logit_rows=[], logit_columns=[], score_logits=[], score_labels=[], activation="softmax",
        candidate_labels=list(candidate_labels or []), hypothesis_template=hypothesis_template,
        device=loaded.device, dtype=loaded.dtype)
    config = model.config
    id2label = {int(k): str(v) for k, v in (getattr(config, "id2label", None) or {}).items()}
    if mode != "attention":
        logits = output.logits.float().cpu()
        result.outputs.append(_tensor_info("logits", logits))
        columns = [id2label.get(i, f"LABEL_{i}") for i in range(logits.shape[-1])]
        result.logit_columns = columns
        if mode == "sequence-classification":
            result.logits = logits.tolist()
            result.logit_rows = ["text"]
            result.score_logits, result.score_labels = result.logits, columns
            result.activation = tasks.score_function(config)
        elif mode == "zero-shot":
            entailment, _contradiction = tasks.nli_label_ids(id2label)
            result.logits = logits.tolist()
            result.logit_rows = list(candidate_labels)
            result.score_logits = [[row[entailment] for row in result.logits]]
            result.score_labels = list(candidate_labels)
        else:
            result.logits = logits[0].tolist()
            result.logit_rows = tokens
            result.score_logits, result.score_labels = result.logits, columns
    else:
        hidden = getattr(output, "last_hidden_state", None)
        if hidden is not None:
            result.outputs.append(_tensor_info("last_hidden_state", hidden.float().cpu()))
    if attentions:
        result.attentions = _stack_attentions(output, len(tokens))
    progress(3, 3, "Done")
    return result


@contextlib.contextmanager
def _eager_attention(model, wanted: bool):
    """Attention weights need the eager implementation; switch for this call, then switch back."""
    current = getattr(model.config, "_attn_implementation", None)
    if not wanted or current in (None, "eager") or not hasattr(model, "set_attn_implementation"):
        yield
        return
    model.set_attn_implementation("eager")
    try:
        yield
    finally:
        model.set_attn_implementation(current)


def _stack_attentions(output, length: int):
    import numpy as np

    attentions = getattr(output, "attentions", None)
    if not attentions:
        return None
    stacked = np.stack([layer[0].float().cpu().numpy() for layer in attentions])  # [layers, heads, seq, seq]
    return stacked[:, :, :length, :length].astype("float32")


def _tensor_info(name: str, tensor) -> TensorInfo:
    values = tensor.detach().cpu()
    if values.dim() >= 1:
        values = values[..., :MAX_DISPLAY_VALUES]
    return TensorInfo(name, tuple(int(n) for n in tensor.shape), str(tensor.dtype), values.tolist())


# -- scores: pure arithmetic, cheap enough for the GUI thread ------------------------------------
def score(result: InternalsResult, temperature: float = 1.0, threshold: float = 0.0) -> Scores:
    """Softmax (or sigmoid) of ``logits / temperature``, argmax, id2label, and the uncertainty threshold."""
    if not temperature or temperature <= 0 or math.isnan(temperature):
        raise InputError("Temperature must be greater than 0.", hint="1.0 gives the model's own probabilities.")
    if not 0 <= threshold <= 1:
        raise InputError("The confidence threshold must lie between 0 and 1.")
    probabilities, predictions = [], []
    if result.mode == "zero-shot":
        entailment, contradiction = tasks.nli_label_ids(dict(enumerate(result.logit_columns)))
        rows = [tasks.nli_zero_shot_scores(result.logits, entailment, contradiction, False, temperature)]
        row_names = ["candidates"]
    else:
        rows = tasks.to_scores(result.score_logits, result.activation, temperature) if result.score_logits else []
        row_names = result.logit_rows
    for name, row in zip(row_names, rows):
        probs = [float(value) for value in row]
        best = max(range(len(probs)), key=probs.__getitem__)
        probabilities.append(probs)
        uncertain = result.activation != "none" and probs[best] < threshold  # a regression value is no confidence
        predictions.append(Prediction(name, best, result.score_labels[best], probs[best], uncertain))
    return Scores(probabilities, predictions, temperature, threshold)


# -- "Show code": the exact Python that reproduces the numbers ------------------------------------
def generate_code(result: InternalsResult, temperature: float = 1.0, threshold: float = 0.0,
                  layer: int = 0, head: int | None = 0) -> str:
    """A self-contained script: run it with the same Python and it prints the numbers the panel shows."""
    auto_class = result.auto_class
    lines = [
        f"# {MODES[result.mode]} with {result.model_name}: the manual PyTorch path.",
        "import torch",
        f"from transformers import AutoTokenizer, {auto_class}",
        "",
        f"model_path = {result.model_path!r}",
        f"text = {result.text!r}",
    ]
    if result.mode != "attention":
        lines += [f"temperature = {float(temperature)!r}  # 1.0 = the model's own probabilities",
                  f"threshold = {float(threshold)!r}  # below this confidence the answer is 'uncertain'"]
    if result.mode == "zero-shot":
        lines += [f"candidate_labels = {result.candidate_labels!r}",
                  f"hypothesis_template = {result.hypothesis_template!r}"]
    lines += [
        "",
        "tokenizer = AutoTokenizer.from_pretrained(model_path)",
        f"model = {auto_class}.from_pretrained(model_path"
        + (', attn_implementation="eager")  # eager: returns attention weights' if result.mode == "attention" else ")"),
        "model.eval()",
        "",
    ]
    if result.mode == "zero-shot":
        lines += [
            "# One premise/hypothesis pair per candidate label, as the zero-shot pipeline builds them.",
            "hypotheses = [hypothesis_template.format(label) for label in candidate_labels]",
            'inputs = tokenizer([text] * len(hypotheses), hypotheses, return_tensors="pt", padding=True, '
            'truncation="only_first")',
        ]
    else:
        lines.append('inputs = tokenizer(text, return_tensors="pt", truncation=True)')
    lines += [
        'print("input_ids", inputs["input_ids"].tolist())',
        'print("tokens", tokenizer.convert_ids_to_tokens(inputs["input_ids"][0]))',
        "",
        "with torch.inference_mode():  # no gradients: inference only",
    ]
    if result.mode == "attention":
        lines += [
            "    outputs = model(**inputs, output_attentions=True)",
            "attentions = torch.stack(outputs.attentions)[:, 0]  # [layers, heads, tokens, tokens]",
            'print("attention_shape", list(attentions.shape))',
        ]
        selected = "attentions[{}].mean(dim=0)".format(layer) if head is None else f"attentions[{layer}, {head}]"
        lines.append(f'print("attention", {selected}.tolist())  # layer {layer}, '
                     + ("average over heads" if head is None else f"head {head}"))
        return "\n".join(lines) + "\n"
    lines += ["    logits = model(**inputs).logits", ""]
    if result.mode == "sequence-classification":
        lines.append("logits = logits[0]  # one row: the scores of each label")
        if result.activation == "sigmoid":
            lines.append("probabilities = (logits / temperature).sigmoid()  # independent labels")
        elif result.activation == "none":
            lines.append("probabilities = logits  # a regression head: the raw value is the answer")
        else:
            lines.append("probabilities = (logits / temperature).softmax(dim=-1)")
        lines += [
            "predicted = int(probabilities.argmax(dim=-1))",
            "confidence = float(probabilities[predicted])",
            "label = model.config.id2label[predicted]",
            'print("logits", logits.tolist())',
            'print("probabilities", probabilities.tolist())',
            'print("prediction", label if confidence >= threshold else "uncertain", confidence)',
        ]
    elif result.mode == "zero-shot":
        entailment, contradiction = tasks.nli_label_ids(dict(enumerate(result.logit_columns)))
        lines += [
            "# The entailment logit of each pair, softmaxed across the candidate labels.",
            f"entailment, contradiction = {entailment}, {contradiction}  # {result.logit_columns[entailment]!r}, "
            f"{result.logit_columns[contradiction]!r}",
            "if len(candidate_labels) == 1:  # one label: entailment against contradiction (the pipeline's rule)",
            "    probabilities = (logits[:, [contradiction, entailment]] / temperature).softmax(dim=-1)[:, 1]",
            "else:",
            "    probabilities = (logits[:, entailment] / temperature).softmax(dim=-1)",
            "predicted = int(probabilities.argmax())",
            "confidence = float(probabilities[predicted])",
            'print("logits", logits.tolist())',
            'print("probabilities", probabilities.tolist())',
            'print("prediction", candidate_labels[predicted] if confidence >= threshold else "uncertain", confidence)',
        ]
    else:
        lines += [
            "logits = logits[0]  # one row per token",
            "probabilities = (logits / temperature).softmax(dim=-1)",
            "predicted = probabilities.argmax(dim=-1)",
            'print("logits", logits.tolist())',
            'print("probabilities", probabilities.tolist())',
            "for token, index, row in zip(tokenizer.convert_ids_to_tokens(inputs['input_ids'][0]), predicted.tolist(),",
            "                             probabilities.tolist()):",
            "    label = model.config.id2label[index] if row[index] >= threshold else 'uncertain'",
            '    print("prediction", token, label, row[index])',
        ]
    return "\n".join(lines) + "\n"
