"""The task table: the one place that says which tasks exist, which models do them, and how their
outputs become scores. Every layer (GUI, CLI, services) reads it; nothing else repeats it.

- task ids and display names (``TASKS``: what the app runs now; ``TASK_TABLE`` also lists the tasks
  that come later), the Auto class each task loads;
- which heads do which task (architecture name suffix → tasks), which model types are plain
  encoders (embeddings, embedding zero-shot), NLI detection by an ``entailment`` label;
- zero-shot defaults (hypothesis template, candidate labels) and comma-separated label parsing;
- how logits become scores (transformers' text-classification rule: identity for regression,
  sigmoid for multi-label or a single output, softmax otherwise), NLI and embedding zero-shot scores;
- NER aggregation strategies and the default ("first": one label per word, from its first sub-token).

Plain Python; numpy is imported inside the scoring functions, so the GUI may import this at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from services.core.errors import InputError


@dataclass(frozen=True)
class TaskSpec:
    id: str
    name: str  # what a user reads
    auto_class: str | None  # None: it depends on the model (zero-shot: NLI head or plain encoder)
    runnable: bool = True  # False: planned, not run by the app yet


TASK_TABLE: tuple[TaskSpec, ...] = (
    TaskSpec("text-classification", "Text classification / sentiment", "AutoModelForSequenceClassification"),
    TaskSpec("token-classification", "Named-entity recognition", "AutoModelForTokenClassification"),
    TaskSpec("zero-shot-classification", "Zero-shot classification", None),
    TaskSpec("fill-mask", "Fill-mask", "AutoModelForMaskedLM"),
    TaskSpec("sentence-similarity", "Sentence similarity / embeddings", "AutoModel"),
    TaskSpec("text-generation", "Text generation", "AutoModelForCausalLM"),
    # transformers 5 removed these pipelines; the checkpoints still load with these Auto classes, and
    # services.run.question_answering / services.run.seq2seq do the rest
    TaskSpec("question-answering", "Question answering", "AutoModelForQuestionAnswering"),
    TaskSpec("summarization", "Summarisation", "AutoModelForSeq2SeqLM"),
    TaskSpec("translation", "Translation", "AutoModelForSeq2SeqLM"),
)
SPECS = {spec.id: spec for spec in TASK_TABLE}
# Task ids the app runs (GUI, CLI, services), in menu order → display name.
TASKS = {spec.id: spec.name for spec in TASK_TABLE if spec.runnable}

# Heads: architecture class-name suffix → the tasks that head does, and the Auto class that reloads it.
HEADS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("ForSequenceClassification", ("text-classification",), "AutoModelForSequenceClassification"),
    ("ForTokenClassification", ("token-classification",), "AutoModelForTokenClassification"),
    ("ForMaskedLM", ("fill-mask",), "AutoModelForMaskedLM"),
    ("ForPreTraining", ("fill-mask",), "AutoModelForPreTraining"),
    ("LMHeadModel", ("text-generation",), "AutoModelForCausalLM"),
    ("ForCausalLM", ("text-generation",), "AutoModelForCausalLM"),
    ("ForQuestionAnswering", ("question-answering",), "AutoModelForQuestionAnswering"),
    # text-to-text encoder-decoders (only where the config says is_encoder_decoder and the model is not
    # speech or vision: see is_text_seq2seq); translation models list translation first
    ("MTModel", ("translation", "summarization"), "AutoModelForSeq2SeqLM"),  # Marian
    ("M2M100ForConditionalGeneration", ("translation", "summarization"), "AutoModelForSeq2SeqLM"),  # M2M100, NLLB
    ("FSMTForConditionalGeneration", ("translation", "summarization"), "AutoModelForSeq2SeqLM"),
    ("ForConditionalGeneration", ("summarization", "translation"), "AutoModelForSeq2SeqLM"),  # BART, T5, mBART, ...
)
SEQ2SEQ_TASKS = ("summarization", "translation")
# Text encoder-decoders whose configs may leave is_encoder_decoder out (it is their class default).
SEQ2SEQ_TYPES = frozenset({
    "bart", "mbart", "t5", "mt5", "umt5", "longt5", "marian", "pegasus", "pegasus_x", "m2m_100", "nllb-moe", "led",
    "bigbird_pegasus", "blenderbot", "blenderbot-small", "fsmt", "prophetnet", "plbart", "mvp", "switch_transformers",
})
# Encoder-decoders that read speech or images, not text: never offered for summarisation/translation.
NON_TEXT_SEQ2SEQ_TYPES = frozenset({
    "whisper", "speech_to_text", "speech-encoder-decoder", "vision-encoder-decoder", "seamless_m4t",
    "seamless_m4t_v2", "moonshine", "pop2piano", "pix2struct", "musicgen", "musicgen_melody", "kyutai_speech_to_text",
})
# Model types that are encoders: their hidden states give sentence embeddings (and embedding zero-shot).
ENCODER_TYPES = frozenset({
    "bert", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "deberta", "deberta-v2", "camembert",
    "mpnet", "xlnet", "modernbert", "ernie", "megatron-bert", "funnel", "longformer", "mobilebert", "squeezebert",
})
EMBEDDING_TASKS = ("sentence-similarity", "zero-shot-classification")

# Zero-shot defaults.
DEFAULT_TEMPLATE = "This example is {}."
DEFAULT_LABELS = "sports, politics, technology, cooking"
# all-MiniLM-L6-v2 was trained with a contrastive loss whose cosine scale is 20; the same scale turns
# cosines into a softmax over labels that is neither flat nor one-hot.
SIMILARITY_SCALE = 20.0

# NER: how sub-token predictions become entities (transformers' aggregation strategy names).
AGGREGATIONS = ("none", "simple", "first", "average", "max")
WORD_AGGREGATIONS = ("first", "average", "max")  # one label per word
DEFAULT_AGGREGATION = "first"


# -- which model does which task ------------------------------------------------------------------
def is_nli(labels: Iterable[str]) -> bool:
    """An NLI classifier (zero-shot by entailment) is one with an ``entailment`` label."""
    return any(str(name).lower().startswith("entail") for name in labels)


def head_of(architecture: str) -> tuple[tuple[str, ...], str] | None:
    """``(tasks, auto_class)`` of an architecture's head, or None for a bare encoder/unknown head."""
    for suffix, tasks, auto_class in HEADS:
        if architecture.endswith(suffix):
            return tasks, auto_class
    return None


def is_text_seq2seq(config: Mapping) -> bool:
    """A text encoder-decoder (``AutoModelForSeq2SeqLM`` + ``generate``): summarisation and translation."""
    model_type = str(config.get("model_type", ""))
    if model_type in NON_TEXT_SEQ2SEQ_TYPES:
        return False
    return bool(config.get("is_encoder_decoder")) or model_type in SEQ2SEQ_TYPES


def tasks_for_config(config: Mapping) -> list[str]:
    """The tasks a model can do (in ``TASKS`` order), from its architectures, model type and labels."""
    architectures = list(config.get("architectures") or [])
    model_type = config.get("model_type", "")
    labels = [str(v) for v in (config.get("id2label") or {}).values()]
    seq2seq = is_text_seq2seq(config)
    tasks: list[str] = []
    for architecture in architectures:
        head = head_of(architecture)
        if head is not None and (seq2seq or not set(head[0]) & set(SEQ2SEQ_TASKS)):
            tasks += head[0]
        if architecture.endswith("ForSequenceClassification") and is_nli(labels):
            tasks.append("zero-shot-classification")
    is_encoder = model_type in ENCODER_TYPES or any(a.endswith(("Model", "ForMaskedLM")) for a in architectures)
    if seq2seq and any(t in tasks for t in SEQ2SEQ_TASKS):
        is_encoder = False  # MarianMTModel ends in "Model" but is no sentence encoder
    if is_encoder and "text-generation" not in tasks:
        tasks += EMBEDDING_TASKS  # embeddings, and zero-shot by embedding similarity
    return [task for task in TASKS if task in tasks]


def primary_task(architectures: Iterable[str], nli: bool, tasks: list[str], current: str) -> str:
    """The task a model was built for (its head; zero-shot for NLI models), else ``current`` or its first task."""
    if nli and "zero-shot-classification" in tasks:
        return "zero-shot-classification"
    for architecture in architectures:
        head = head_of(architecture)
        for task in head[0] if head else ():
            if task in tasks:
                return task
    return current if current in tasks else tasks[0]


def auto_class_for(task: str, nli: bool = False) -> str:
    """The Auto class that loads a model for ``task`` (zero-shot: the NLI head, or the bare encoder)."""
    if task == "zero-shot-classification":
        return "AutoModelForSequenceClassification" if nli else "AutoModel"
    return SPECS[task].auto_class  # type: ignore[return-value]


def auto_class_for_architecture(architectures: list[str]) -> str:
    """The Auto class that reloads a saved model with its own head (``AutoModel`` for a bare encoder)."""
    head = head_of(architectures[0]) if architectures else None
    return head[1] if head else "AutoModel"


def nli_label_ids(id2label: Mapping[int, str]) -> tuple[int, int]:
    """``(entailment, contradiction)`` label ids; without a ``contradiction`` label, transformers' choice."""
    lowered = {int(i): str(name).lower() for i, name in id2label.items()}
    entail = next((i for i, name in lowered.items() if name.startswith("entail")), None)
    if entail is None:
        raise InputError("The model has no 'entailment' label, so it cannot do NLI zero-shot.",
                         hint=f"Its labels are: {', '.join(map(str, id2label.values()))}.")
    contra = next((i for i, name in lowered.items() if name.startswith("contra")), None)
    if contra is None:
        contra = len(lowered) - 1 if entail == 0 else 0
    return entail, contra


# -- zero-shot inputs ---------------------------------------------------------------------------
def parse_labels(raw) -> list[str]:
    """Candidate labels from ``"a, b, c"`` (or a list): stripped, empty ones and repeats dropped."""
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else raw
    labels: list[str] = []
    for item in items:
        label = str(item).strip()
        if label and label not in labels:
            labels.append(label)
    return labels


def candidate_labels(raw) -> list[str]:
    """:func:`parse_labels`, refusing an empty result."""
    labels = parse_labels(raw)
    if not labels:
        raise InputError("Zero-shot classification needs at least one candidate label.",
                         hint="Type the labels separated by commas, e.g. sports, politics, cooking.")
    return labels


def hypothesis_template(template: str | None) -> str:
    """The template (the default when empty), refusing one without ``{}`` for the label."""
    template = str(template or DEFAULT_TEMPLATE)
    if "{}" not in template:
        raise InputError(f"The hypothesis template '{template}' has no {{}} for the label.",
                         hint=f"For example: '{DEFAULT_TEMPLATE}'.")
    return template


def aggregation(name: str | None) -> str:
    """A valid NER aggregation strategy (the default when empty)."""
    strategy = str(name or DEFAULT_AGGREGATION).lower()
    if strategy not in AGGREGATIONS:
        raise InputError(f"Unknown aggregation strategy '{strategy}'.", hint=f"Choose one of: {', '.join(AGGREGATIONS)}.")
    return strategy


# -- logits → scores ------------------------------------------------------------------------------
def score_function(config) -> str:
    """``"none"``, ``"sigmoid"`` or ``"softmax"`` for a classifier's logits — transformers' pipeline rule
    (``TextClassificationPipeline.postprocess``): regression → raw values; multi-label or a single
    output → sigmoid; otherwise softmax."""
    problem = getattr(config, "problem_type", None) if not isinstance(config, Mapping) else config.get("problem_type")
    num_labels = (getattr(config, "num_labels", 2) if not isinstance(config, Mapping)
                  else len(config.get("id2label") or {}) or 2)
    if problem == "regression":
        return "none"
    if problem == "multi_label_classification" or num_labels == 1:
        return "sigmoid"
    return "softmax"


def to_scores(logits, function: str = "softmax", temperature: float = 1.0):
    """Scores from logits (last axis), float32: ``function`` is what :func:`score_function` returned."""
    import numpy as np

    values = np.asarray(logits, dtype=np.float32)
    if function == "none":
        return values.copy()
    values = values / np.float32(temperature) if temperature != 1.0 else values
    if function == "sigmoid":
        return (1.0 / (1.0 + np.exp(-values))).astype(np.float32)
    if function != "softmax":
        raise ValueError(f"unknown score function {function!r}")
    shifted = values - values.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def nli_zero_shot_scores(logits, entail_id: int, contra_id: int, multi_label: bool, temperature: float = 1.0):
    """Scores of the candidate labels from NLI logits ``[labels, classes]`` (transformers' zero-shot rule):
    one label or multi-label → entailment vs contradiction per label; else softmax of the entailment
    logits across the labels."""
    import numpy as np

    values = np.asarray(logits, dtype=np.float32)
    if multi_label or values.shape[0] == 1:
        return to_scores(values[:, [contra_id, entail_id]], "softmax", temperature)[:, 1]
    return to_scores(values[:, entail_id], "softmax", temperature)


def embedding_zero_shot_scores(cosines, multi_label: bool):
    """Scores of the candidate labels from the text–hypothesis cosines: single-label softmax(20 × cosine)
    (scores sum to 1); multi-label each cosine clipped to [0, 1] (independent, not probabilities)."""
    import numpy as np

    values = np.asarray(cosines, dtype=np.float32)
    if multi_label:
        return np.clip(values, 0.0, 1.0)
    return to_scores(values * np.float32(SIMILARITY_SCALE), "softmax")
