"""Reduced precision done safely: what a device supports, and a measured agreement check before use.

Precisions: ``float32`` (always), ``bfloat16`` (CPUs with AMX or AVX512-BF16, Apple silicon, most
CUDA GPUs), ``float16`` (GPUs only: on a CPU it is slower than float32), ``int8`` (dynamic
quantization of the linear layers, CPU only) and ``auto``.

A reduced precision is never switched on silently. :func:`prepare` runs the model at float32 and at
the reduced precision on the same sample of texts (the user's own when analysing a file, a fixed
built-in sample otherwise), times both and compares the results:

* labels (classification, zero-shot, entities for NER): the same on at least 99.5 % of the texts,
  and class scores (probabilities, 0-1) within 0.01 of float32 on average;
* embeddings: every text's embedding at cosine 0.999 or more to its float32 twin.

**Auto** keeps the fastest precision that the device supports, that passed, and that is at least
:data:`MIN_SPEEDUP` times as fast as float32; otherwise float32, with the reason. An explicitly chosen
precision is kept even if it failed, but its record says so. The result is a
:class:`PrecisionCheck` (immutable): one line for the user ("bfloat16: 2.3× faster, 100 % same labels
on 200 texts"), a dict for the Analyse manifest.

bfloat16 support is read from the CPU's flags (``/proc/cpuinfo`` on Linux), not from whether torch
runs it: torch runs bfloat16 on any x86 CPU, but without AMX or AVX512-BF16 it is emulated, ~4x
slower than float32 here. ``WORKBENCH_CPU_BF16=0`` (or ``1``) overrides the detection (tests, CI).

torch is imported inside functions only.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import platform
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import DeviceError, InputError

PRECISIONS = ("auto", "float32", "bfloat16", "float16", "int8")
REDUCED = ("bfloat16", "float16", "int8")
CHECKED_TASKS = ("text-classification", "token-classification", "zero-shot-classification", "sentence-similarity")
CPU_BF16_ENV = "WORKBENCH_CPU_BF16"  # "0": treat the CPU as without bfloat16, "1": as with it
SAMPLE_SIZE = 200  # texts in the agreement check
MIN_SAMPLE = 16  # the check's float32 pass stops after CHECK_SECONDS, but never below this many texts
CHECK_SECONDS = 10.0
CHUNK = 32  # texts per engine call in the check (the engine's CPU batch size)
WARM_UP = 8  # texts run once, untimed, before each timed pass
MIN_SPEEDUP = 1.1  # Auto replaces float32 only by a precision at least this much faster

BUILTIN_SAMPLE_NOTE = "the built-in sample"
OWN_SAMPLE_NOTE = "your texts"


@dataclass(frozen=True)
class Tolerance:
    """How close to float32 a reduced precision must stay to pass the check."""

    labels: float = 0.995  # share of texts with the same predicted label (same entities for NER)
    score: float = 0.01  # mean absolute difference of the class scores (probabilities 0-1)
    cosine: float = 0.999  # smallest cosine between a text's embedding and its float32 embedding

    def describe(self, task: str) -> str:
        if task == "sentence-similarity":
            return f"every embedding at cosine ≥ {self.cosine:g} to float32"
        what = "entities" if task == "token-classification" else "labels"
        return f"same {what} on ≥ {self.labels * 100:g} % of texts, class scores within {self.score:g} on average"


TOLERANCE = Tolerance()


# -- what the hardware supports ------------------------------------------------------------------
@dataclass(frozen=True)
class Support:
    precision: str
    supported: bool
    reason: str  # why (not)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpu_bfloat16(force: bool | None = None, *, cpuinfo: str | None = None, system: str | None = None,
                 machine: str | None = None) -> Support:
    """Whether this CPU runs bfloat16 natively: AMX or AVX512-BF16 (x86 Linux), BF16 (Arm Linux), Apple silicon.

    ``force`` (or the environment variable ``WORKBENCH_CPU_BF16`` = 0/1) overrides the detection;
    ``cpuinfo``, ``system`` and ``machine`` stand in for the real machine in tests.
    """
    if force is None:
        setting = os.environ.get(CPU_BF16_ENV, "").strip().lower()
        if setting in ("0", "false", "no", "off"):
            force = False
        elif setting in ("1", "true", "yes", "on"):
            force = True
    if force is not None:
        return Support("bfloat16", force, f"set by {CPU_BF16_ENV}" if force else
                       f"turned off ({CPU_BF16_ENV}=0 or by the caller)")
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    if system == "Darwin":
        if machine in ("arm64", "aarch64"):
            return Support("bfloat16", True, "Apple silicon")
        return Support("bfloat16", False, "this Intel Mac's CPU has no native bfloat16")
    if system == "Linux":
        text = _read("/proc/cpuinfo") if cpuinfo is None else cpuinfo
        flags: set[str] = set()
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() in ("flags", "features"):
                flags.update(value.split())
        if "amx_bf16" in flags:
            return Support("bfloat16", True, "AMX (amx_bf16)")
        if "avx512_bf16" in flags:
            return Support("bfloat16", True, "AVX512-BF16")
        if machine in ("aarch64", "arm64") and "bf16" in flags:
            return Support("bfloat16", True, "Arm BF16")
        return Support("bfloat16", False, "this CPU has neither AMX nor AVX512-BF16, so bfloat16 would be emulated "
                                          "and slower than float32")
    return Support("bfloat16", False, f"native bfloat16 is not detected on {system or 'this system'}")


def _int8_support() -> Support:
    import torch

    engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    if not engines:
        return Support("int8", False, "this torch build has no quantized CPU kernels")
    return Support("int8", True, f"dynamic quantization ({torch.backends.quantized.engine})")


def device_kind(device: str) -> str:
    device = str(device)
    return "cuda" if device.startswith("cuda") else "mps" if device.startswith("mps") else "cpu"


def precision_support(device: str = "cpu", *, cpu_bf16: Support | None = None) -> dict[str, Support]:
    """Every precision (not auto) on ``device``: supported or not, and why."""
    kind = device_kind(device)
    table = {"float32": Support("float32", True, "full precision")}
    if kind == "cpu":
        table["bfloat16"] = cpu_bf16 or cpu_bfloat16()
        table["float16"] = Support("float16", False, "float16 runs on GPUs only; on a CPU it is slower than float32")
        table["int8"] = _int8_support()
    elif kind == "cuda":
        import torch

        table["bfloat16"] = Support("bfloat16", True, "CUDA") if torch.cuda.is_bf16_supported() else \
            Support("bfloat16", False, "this GPU has no bfloat16 support")
        table["float16"] = Support("float16", True, "CUDA")
        table["int8"] = Support("int8", False, "int8 (dynamic quantization) runs on the CPU only")
    else:
        table["bfloat16"] = Support("bfloat16", False, "bfloat16 is not used on Apple GPUs (MPS) here")
        table["float16"] = Support("float16", True, "MPS")
        table["int8"] = Support("int8", False, "int8 (dynamic quantization) runs on the CPU only")
    return table


def supported_precisions(device: str = "cpu") -> tuple[str, ...]:
    """``auto`` and the precisions ``device`` supports, in menu order."""
    table = precision_support(device)
    return ("auto",) + tuple(p for p in PRECISIONS[1:] if table[p].supported)


def loading_dtype(precision: str) -> str:
    """The torch dtype a model is loaded in for ``precision`` (auto and int8 start from float32)."""
    return precision if precision in ("float32", "bfloat16", "float16") else "float32"


def check_precision_name(precision: str) -> str:
    if precision not in PRECISIONS:
        raise InputError(f"Unknown precision '{precision}'.", hint=f"Choose one of: {', '.join(PRECISIONS)}.")
    return precision


def resolve(precision: str, device: str = "cpu") -> tuple[str, tuple[str, ...]]:
    """What runs for a requested precision on ``device``, and notes saying why it differs.

    int8 on a GPU is refused (:class:`DeviceError` offering the CPU): quantized kernels exist for the
    CPU only, and running float32 on the GPU instead would not be what was asked for. Any other
    precision the device does not support falls back to float32, said so in the notes.
    """
    check_precision_name(precision)
    kind = device_kind(device)
    if precision == "int8" and kind != "cpu":
        raise DeviceError(f"int8 precision runs on the CPU only (dynamic quantization has no {kind.upper()} kernels), "
                          f"not on {device}.",
                          hint="Choose bfloat16 or float16 on the GPU, or run int8 on the CPU.", fallback="cpu")
    if precision in ("auto", "float32"):
        return precision, ()
    support = precision_support(device)[precision]
    if support.supported:
        return precision, ()
    where = "this CPU" if kind == "cpu" else device
    return "float32", (f"{precision} is not supported on {where}: {support.reason}. float32 is used instead.",)


# -- the sample --------------------------------------------------------------------------------
def builtin_sample(size: int = SAMPLE_SIZE) -> list[str]:
    """A fixed sample of everyday English: the starter sets' held-out reviews and news sentences."""
    import csv

    folder = Path(__file__).resolve().parents[2] / "resources" / "starter"
    texts: list[str] = []
    try:
        with open(folder / "sentiment_test.csv", encoding="utf-8", newline="") as handle:
            texts += [row["text"] for row in csv.DictReader(handle) if row.get("text", "").strip()]
    except (OSError, KeyError, csv.Error):
        pass
    sentences, words = [], []
    for line in _read(str(folder / "ner_test.conll")).splitlines():
        if line.strip():
            words.append(line.split()[0])
        elif words:
            sentences.append(" ".join(words))
            words = []
    if words:
        sentences.append(" ".join(words))
    reviews = texts[: size - size // 4]
    texts = reviews + sentences[: size - len(reviews)]
    if not texts:  # the app was installed without its resources: a few sentences of our own
        texts = ["The film was a delight from start to finish.", "The delivery arrived late and the box was crushed.",
                 "Maria Lopez joined Acme Corporation in Berlin last spring.", "A cat sits on the mat."]
    return texts[:size]


def own_sample(texts: Iterable[str], size: int = SAMPLE_SIZE) -> list[str]:
    """Up to ``size`` non-empty texts from ``texts`` (e.g. the first records of the user's files)."""
    sample = []
    for text in texts:
        if isinstance(text, str) and text.strip():
            sample.append(text)
            if len(sample) >= size:
                break
    return sample


# -- the record --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    """One reduced precision against float32 on the same texts."""

    precision: str
    seconds: float
    speedup: float  # float32 seconds / these seconds
    texts: int
    agreement: float | None = None  # share of texts with the same label (entities); None for embeddings
    score_diff: float | None = None  # mean absolute class-score difference
    min_cosine: float | None = None  # embeddings: the smallest cosine to float32
    passed: bool = False
    reason: str = ""  # why it failed the check

    def agreement_text(self) -> str:
        if self.min_cosine is not None:
            return f"embeddings at cosine ≥ {_floor(self.min_cosine)}"
        share = _percent(self.agreement or 0.0)
        return f"{share} same labels" if self.score_diff is not None or self.agreement is not None else ""

    def speed_text(self) -> str:
        if self.speedup >= 1:
            return f"{self.speedup:.1f}× faster"
        return f"{1 / max(self.speedup, 1e-9):.1f}× slower"

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in dataclasses.asdict(self).items()}


def _percent(share: float) -> str:
    value = share * 100
    return f"{value:.0f} %" if value >= 99.95 or value == int(value) else f"{value:.1f} %"


def _floor(value: float, digits: int = 4) -> str:
    """A cosine written without rounding up (0.99996 → 0.9999, never 1.0000 unless it is)."""
    scale = 10 ** digits
    return f"{int(value * scale) / scale:.{digits}f}"


@dataclass(frozen=True)
class PrecisionCheck:
    """Which precision runs, why, and how it compared with float32 (immutable; shown and written to manifests)."""

    requested: str
    precision: str  # what runs
    device: str
    task: str
    texts: int = 0  # texts in the check (0: not measured)
    sample: str = ""  # whose texts: "your texts" or "the built-in sample"
    float32_seconds: float = 0.0
    measurements: tuple[Measurement, ...] = ()
    notes: tuple[str, ...] = ()  # fallbacks, weights stored in another dtype
    reason: str = ""  # why float32 was kept, or why an explicit choice did not pass (in full)
    brief: str = ""  # the same in a few words, for the one-line summary ("int8: cosine 0.860 < 0.999")
    tolerance: Tolerance = TOLERANCE
    min_speedup: float = MIN_SPEEDUP
    threads: int = 0  # torch CPU threads during the check (0: not set)

    def measurement(self, precision: str | None = None) -> Measurement | None:
        precision = precision or self.precision
        return next((m for m in self.measurements if m.precision == precision), None)

    @property
    def passed(self) -> bool:
        chosen = self.measurement()
        return self.precision == "float32" or (chosen is not None and chosen.passed)

    def outcome(self) -> str:
        """What runs and why, short: "bfloat16: 2.3× faster, 100 % same labels on 200 texts",
        "float32: int8: cosine 0.860 < 0.999; bfloat16: not supported here"."""
        chosen = self.measurement()
        if chosen is not None:
            figures = f"{chosen.speed_text()}, {chosen.agreement_text()} on {chosen.texts} texts"
            if not chosen.passed:
                return f"{self.precision} (as chosen; failed the check): {figures}"
            return f"{self.precision}: {figures}"
        if self.precision != "float32":
            return f"{self.precision}: not checked against float32"
        return f"float32: {self.brief}" if self.brief else "float32"

    def summary(self) -> str:
        """One line for the user: :meth:`outcome`, saying when Auto kept float32 ("float32 (auto): ...")."""
        line = self.outcome()
        if self.requested == "auto" and self.precision == "float32":
            line = "float32 (auto)" + line[len("float32"):]
        return line

    def lines(self) -> list[str]:
        """The summary, then each note it does not already say (for the CLI's stderr)."""
        summary = self.summary()
        return [summary] + [note for note in self.notes if note not in summary]

    def to_dict(self) -> dict:
        return {"requested": self.requested, "precision": self.precision, "device": self.device, "task": self.task,
                "summary": self.summary(), "texts": self.texts, "sample": self.sample,
                "float32_seconds": round(self.float32_seconds, 4),
                "measurements": [m.to_dict() for m in self.measurements], "notes": list(self.notes),
                "reason": self.reason, "brief": self.brief, "tolerance": dataclasses.asdict(self.tolerance),
                "tolerance_text": self.tolerance.describe(self.task), "min_speedup": self.min_speedup,
                "threads": self.threads}


# -- models at a precision -----------------------------------------------------------------------
_QUANTIZATION_MESSAGES = (r"torch\.ao\.quantization is deprecated", r"torch\.quantize_per_tensor, .* are deprecated")


def _silence_quantization_deprecation() -> None:
    """torch 2.13 deprecates ``torch.ao.quantization`` (in favour of torchao, not a dependency here).
    Eager dynamic quantization still works and is what int8 means in this app, so its two deprecation
    messages (and only those) are not shown to users. Re-added when missing (``catch_warnings`` blocks,
    e.g. pytest's, restore the filter list on exit)."""
    import re
    import warnings

    present = {f[1].pattern for f in warnings.filters if f[0] == "ignore" and isinstance(f[1], re.Pattern)}
    for message in _QUANTIZATION_MESSAGES:
        if message not in present:
            warnings.filterwarnings("ignore", message=message)


def quantize_int8(model):
    """A copy of ``model`` with its linear layers dynamically quantized to int8 (CPU)."""
    import torch

    _silence_quantization_deprecation()
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=False)


_variants: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # float32 model -> {precision: model}


def at_precision(loaded, precision: str):
    """``loaded`` (a float32 LoadedModel) as a LoadedModel at ``precision`` (a cached copy; float32: itself)."""
    if precision == loaded.dtype:
        return loaded
    import torch

    models = _variants.setdefault(loaded.model, {})
    model = models.get(precision)
    if model is None:
        if precision == "int8":
            if device_kind(loaded.device) != "cpu":
                resolve("int8", loaded.device)  # raises the clear refusal
            model = quantize_int8(loaded.model)
        else:
            model = copy.deepcopy(loaded.model).to(getattr(torch, precision))
        model.eval()
        models[precision] = model
    return dataclasses.replace(loaded, model=model, dtype=precision, check=None)


def saved_dtype(info) -> str | None:
    """The dtype the weights are stored in: config.json's ``dtype``/``torch_dtype``, else the first
    floating tensor in a safetensors header; None if unknown."""
    value = info.config.get("dtype") or info.config.get("torch_dtype")
    if isinstance(value, str) and value in ("float32", "float16", "bfloat16"):
        return value
    names = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}
    for name in info.weight_files:
        if not name.endswith(".safetensors"):
            continue
        try:
            import struct

            with open(Path(info.path) / name, "rb") as handle:
                (length,) = struct.unpack("<Q", handle.read(8))
                if length > 100_000_000:
                    return None
                header = json.loads(handle.read(length))
        except (OSError, ValueError, struct.error):
            return None
        for key, tensor in header.items():
            if key != "__metadata__" and tensor.get("dtype") in names:
                return names[tensor["dtype"]]
    return None


def weights_note(info, device: str, precision: str) -> str:
    """Say so when the stored weights' dtype is not what runs on the CPU (e.g. float16 weights)."""
    stored = saved_dtype(info)
    if device_kind(device) != "cpu" or stored in (None, "float32", precision):
        return ""
    runs = "float32" if precision in ("float32", "auto") else precision
    return (f"The weights are stored as {stored}; {stored} is slow on CPUs, so they were loaded as float32 "
            f"(exact: every {stored} value fits in float32) and run as {runs}.")


# -- the check -----------------------------------------------------------------------------------
def _label_and_scores(task: str, result: dict) -> tuple[object, dict[str, float]]:
    if task == "text-classification":
        return result.get("label"), dict(result.get("scores") or {})
    if task == "zero-shot-classification":
        labels, scores = result.get("labels") or [], result.get("scores") or []
        return (labels[0] if labels else None), dict(zip(labels, scores))
    entities = result.get("entities") or []
    key = tuple(sorted((e.get("entity_group") or e.get("entity"), e.get("start"), e.get("end")) for e in entities))
    scores = {f"{e.get('entity_group') or e.get('entity')}@{e.get('start')}-{e.get('end')}": e.get("score", 0.0)
              for e in entities}
    return key, scores


def compare(task: str, reference: list[dict], other: list[dict], tolerance: Tolerance = TOLERANCE) -> dict:
    """How ``other``'s results agree with the float32 ``reference`` on the same texts (engine result dicts)."""
    import numpy as np

    if task == "sentence-similarity":
        cosines = []
        for a, b in zip(reference, other):
            va, vb = np.asarray(a["embedding"], dtype=np.float64), np.asarray(b["embedding"], dtype=np.float64)
            cosines.append(float(va @ vb / max(1e-12, np.linalg.norm(va) * np.linalg.norm(vb))))
        low = min(cosines) if cosines else 1.0
        passed = low >= tolerance.cosine
        reason = "" if passed else f"an embedding's cosine to float32 fell to {_floor(low)} (needs ≥ {tolerance.cosine:g})"
        return {"min_cosine": low, "passed": passed, "reason": reason}
    same, diffs = 0, []
    for a, b in zip(reference, other):
        label_a, scores_a = _label_and_scores(task, a)
        label_b, scores_b = _label_and_scores(task, b)
        same += label_a == label_b
        shared = set(scores_a) & set(scores_b)
        if shared:
            diffs.append(sum(abs(scores_a[k] - scores_b[k]) for k in shared) / len(shared))
    agreement = same / max(1, len(reference))
    score_diff = float(sum(diffs) / len(diffs)) if diffs else 0.0
    problems = []
    what = "entities" if task == "token-classification" else "labels"
    if agreement < tolerance.labels:
        problems.append(f"only {_percent(agreement)} same {what} (needs ≥ {tolerance.labels * 100:g} %)")
    if score_diff > tolerance.score:
        problems.append(f"class scores moved by {score_diff:.3f} on average (allowed {tolerance.score:g})")
    return {"agreement": agreement, "score_diff": score_diff, "passed": not problems, "reason": "; ".join(problems)}


def _timed(engine, chunks: list[list[str]], cancel: CancelToken, *, budget: float | None = None,
           reference: list[float] | None = None) -> tuple[list[dict], list[float]]:
    """Results and per-chunk seconds for ``chunks``.

    ``budget``: stop once that many seconds have passed (and at least MIN_SAMPLE texts are done).
    ``reference``: float32's per-chunk seconds; stop once this pass is clearly slower (more than twice
    float32's time on the same chunks), so an emulated precision does not stall the check."""
    results: list[dict] = []
    times: list[float] = []
    for chunk in chunks:
        cancel.check()
        started = time.perf_counter()
        results += engine.predict_texts(chunk, cancel)
        times.append(time.perf_counter() - started)
        if len(results) < MIN_SAMPLE:
            continue
        if budget is not None and sum(times) > budget:
            break
        if reference is not None and sum(times) > 2 * sum(reference[:len(times)]) + 0.5:
            break
    return results, times


def engine_options(task: str, options: dict | None = None):
    """EngineOptions for a Run-panel / ``predict`` options dict (zero-shot labels, template, NER aggregation);
    zero-shot without labels gets the default candidate labels, so the check can run before any are typed."""
    from services.core import tasks
    from services.core.engine import EngineOptions

    options = dict(options or {})
    labels = tasks.parse_labels(options.get("candidate_labels"))
    if task == "zero-shot-classification" and not labels:
        labels = tasks.parse_labels(tasks.DEFAULT_LABELS)
    return EngineOptions(labels=labels, template=str(options.get("hypothesis_template") or ""),
                         multi_label=bool(options.get("multi_label", False)),
                         aggregation=str(options.get("aggregation_strategy") or tasks.DEFAULT_AGGREGATION))


def _engine(loaded, options):
    from services.core.engine import Engine

    base = options if options is not None else engine_options(loaded.task)
    if loaded.task == "zero-shot-classification" and not base.labels:
        base = dataclasses.replace(base, labels=engine_options(loaded.task).labels)
    return Engine(loaded, dataclasses.replace(base, threads=-1, embedding_decimals=None))


def measure(base, candidates: Iterable[str], texts: list[str], *, options=None, tolerance: Tolerance = TOLERANCE,
            budget: float = CHECK_SECONDS, progress: Progress = no_progress,
            cancel: CancelToken = NEVER_CANCELLED) -> tuple[float, int, list[Measurement]]:
    """Time float32 and each candidate on the same texts and compare their results.

    Returns (float32 seconds, texts used, measurements). The float32 pass stops adding texts once it
    has run ``budget`` seconds (large models, long texts); every candidate runs exactly those texts.
    """
    candidates = list(candidates)
    chunks = [texts[i:i + CHUNK] for i in range(0, len(texts), CHUNK)]
    steps = len(candidates) + 1
    progress(0, steps, f"Checking precision: float32 on {len(texts)} texts")
    reference_engine = _engine(base, options)
    reference_engine.predict_texts(texts[:WARM_UP], cancel)
    reference, ref_times = _timed(reference_engine, chunks, cancel, budget=budget)
    chunks = chunks[:len(ref_times)]
    count = len(reference)
    out = []
    for step, precision in enumerate(candidates, start=1):
        progress(step, steps, f"Checking precision: {precision} against float32 on {count} texts")
        engine = _engine(at_precision(base, precision), options)
        engine.predict_texts(texts[:WARM_UP], cancel)
        results, times = _timed(engine, chunks, cancel, reference=ref_times)
        verdict = compare(base.task, reference[:len(results)], results, tolerance)
        seconds = sum(times)
        out.append(Measurement(precision, seconds, sum(ref_times[:len(times)]) / max(seconds, 1e-9), len(results),
                               verdict.get("agreement"), verdict.get("score_diff"), verdict.get("min_cosine"),
                               verdict["passed"], verdict["reason"]))
    progress(steps, steps, "Precision checked")
    return sum(ref_times), count, out


def _brief(measured: Measurement, tolerance: Tolerance) -> str:
    """Why a measured precision was not kept, in a few words."""
    if measured.min_cosine is not None and not measured.passed:
        return f"{measured.precision}: cosine {_floor(measured.min_cosine, 3)} < {tolerance.cosine:g}"
    if not measured.passed and (measured.agreement or 0.0) < tolerance.labels:
        return f"{measured.precision}: {_percent(measured.agreement or 0.0)} same labels"
    if not measured.passed:
        return f"{measured.precision}: scores moved {measured.score_diff or 0.0:.3f}"
    return f"{measured.precision}: {'only ' if measured.speedup >= 1 else ''}{measured.speed_text()}"


# float32 model -> {key: PrecisionCheck}. Only the records are kept (never a LoadedModel, which would hold
# the float32 model and so keep its own weak key alive after the model host let it go).
_checks: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _check_key(loaded, precision, texts, options, tolerance, min_speedup, budget, allow) -> str:
    settings = options.result_settings() if options is not None else {}
    data = json.dumps([loaded.task, loaded.device, precision, settings, dataclasses.asdict(tolerance), min_speedup,
                       budget, allow, texts], sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def prepare(loaded, precision: str = "auto", *, texts: list[str] | None = None, options=None,
            tolerance: Tolerance = TOLERANCE, min_speedup: float = MIN_SPEEDUP, budget: float = CHECK_SECONDS,
            check: bool = True, allow: Iterable[str] | None = None, progress: Progress = no_progress,
            cancel: CancelToken = NEVER_CANCELLED):
    """``loaded`` (a float32 model) at the precision to use, as a LoadedModel whose ``check`` is its
    :class:`PrecisionCheck`.

    ``texts``: the sample for the check (None: the built-in sample); ``options``: the EngineOptions
    the results will be made with (zero-shot labels matter); ``check=False`` skips the measurement of
    an explicitly chosen precision (Auto always measures); ``allow``: the reduced precisions Auto may
    pick from (None: every one the device supports). Results are cached per model, precision
    and sample, so a second Run in the Run panel does not check again.
    """
    from services.core.threads import choose_threads

    check_precision_name(precision)
    if loaded.dtype != "float32":
        raise InputError(f"The precision check starts from a float32 model, not {loaded.dtype}.")
    own = texts is not None
    texts = own_sample(texts) if own else builtin_sample()
    if not texts:
        texts, own = builtin_sample(), False
    allow = tuple(REDUCED if allow is None else (p for p in REDUCED if p in set(allow)))
    key = _check_key(loaded, precision, texts, options, tolerance, min_speedup, budget if check else None, allow)
    cached = _checks.get(loaded.model, {}).get(key)
    if cached is not None:
        return dataclasses.replace(at_precision(loaded, cached.precision), check=cached)
    runs, notes = resolve(precision, loaded.device)
    note = weights_note(loaded.info, loaded.device, runs)
    notes += (note,) if note else ()
    task = loaded.task
    sample = OWN_SAMPLE_NOTE if own else BUILTIN_SAMPLE_NOTE
    record = dict(requested=precision, device=str(loaded.device), task=task, notes=notes, tolerance=tolerance,
                  min_speedup=min_speedup)
    threads = 0
    if device_kind(loaded.device) == "cpu":
        import torch

        threads = torch.get_num_threads()
    if runs == "float32":
        parts = [f"{precision} not supported here"] if precision not in ("auto", "float32") else []
        stored = saved_dtype(loaded.info) if note else None
        parts += [f"{stored} weights loaded as float32"] if stored else []
        result = dataclasses.replace(loaded, check=PrecisionCheck(precision="float32", threads=threads,
                                                                  brief="; ".join(parts), **record))
    elif task not in CHECKED_TASKS:
        if runs == "auto":
            result = dataclasses.replace(loaded, check=PrecisionCheck(
                precision="float32", reason=f"there is no agreement check for {task}, so float32 is kept",
                threads=threads, **record))
        else:
            result = dataclasses.replace(at_precision(loaded, runs), check=PrecisionCheck(
                precision=runs, reason=f"there is no agreement check for {task}", threads=threads, **record))
    elif runs != "auto" and not check:
        result = dataclasses.replace(at_precision(loaded, runs), check=PrecisionCheck(
            precision=runs, reason="the check was skipped", threads=threads, **record))
    else:
        if runs == "auto":
            table = precision_support(loaded.device)
            candidates = [p for p in allow if table[p].supported]
            unsupported = [f"{p}: {table[p].reason}" for p in allow
                           if not table[p].supported and not (p == "float16" and device_kind(loaded.device) == "cpu")
                           and not (p == "int8" and device_kind(loaded.device) != "cpu")]
        else:
            candidates, unsupported = [runs], []
        if candidates:
            f32_seconds, count, measured = measure(loaded, candidates, texts, options=options, tolerance=tolerance,
                                                   budget=budget, progress=progress, cancel=cancel)
        else:
            f32_seconds, count, measured = 0.0, 0, []
        record.update(texts=count, sample=sample, float32_seconds=f32_seconds, measurements=tuple(measured),
                      threads=threads)
        if runs != "auto":
            chosen = measured[0]
            result = dataclasses.replace(at_precision(loaded, runs), check=PrecisionCheck(
                precision=runs, reason=chosen.reason, **record))
        else:
            passing = [m for m in measured if m.passed and m.speedup >= min_speedup]
            if passing:
                best = max(passing, key=lambda m: m.speedup)
                result = dataclasses.replace(at_precision(loaded, best.precision), check=PrecisionCheck(
                    precision=best.precision, **record))
            else:
                reasons = [f"{m.precision} {m.speed_text()} but {m.reason}" if not m.passed else
                           f"{m.precision} only {m.speed_text()} (needs ≥ {min_speedup:g}×)" for m in measured]
                reasons += unsupported
                why = "; ".join(reasons) or "no faster precision on this device"
                if count:
                    why += f" (checked on {count} texts)"
                brief = "; ".join([_brief(m, tolerance) for m in measured]
                                  + [f"{u.split(':')[0]}: not supported here" for u in unsupported]) \
                    or "no faster precision here"
                result = dataclasses.replace(loaded, check=PrecisionCheck(precision="float32", reason=why, brief=brief,
                                                                          **record))
    _checks.setdefault(loaded.model, {})[key] = result.check
    return result


def load(spec, task: str, *, device: str = "cpu", precision: str = "float32", texts: list[str] | None = None,
         options=None, host=None, tolerance: Tolerance = TOLERANCE, min_speedup: float = MIN_SPEEDUP,
         budget: float = CHECK_SECONDS, check: bool = True, allow: Iterable[str] | None = None,
         trust_remote_code: bool = False, progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED):
    """Load ``spec`` for ``task`` (float32, through ``host``) and :func:`prepare` it at ``precision``."""
    check_precision_name(precision)
    resolve(precision, device)  # refuse int8 on a GPU before a slow load
    if host is None:
        from services.core.models import default_host as host
    kwargs = {"trust_remote_code": True} if trust_remote_code else {}
    loaded = host.get(spec, task, device=device, dtype="float32", progress=progress, cancel=cancel, **kwargs)
    return prepare(loaded, precision, texts=texts, options=options, tolerance=tolerance, min_speedup=min_speedup,
                   budget=budget, check=check, allow=allow, progress=progress, cancel=cancel)


@dataclass(frozen=True)
class TrainingPrecision:
    """The precision a training run uses (mixed precision: autocast over float32 weights) and why."""

    requested: str
    precision: str  # "float32", "bfloat16" or "float16"
    note: str = ""

    def arguments(self) -> dict:
        """TrainingArguments settings for it."""
        return {"bf16": self.precision == "bfloat16", "fp16": self.precision == "float16"}


def training_precision(requested: str, device: str = "cpu") -> TrainingPrecision:
    """Mixed precision for training: bfloat16 autocast on CPUs that support it, float16/bfloat16 on GPUs.
    Unsupported choices train in float32 and say so; int8 and auto are not training precisions."""
    if requested in ("", "float32", None):
        return TrainingPrecision("float32", "float32")
    if requested not in ("bfloat16", "float16"):
        raise InputError(f"Training precision '{requested}' is not available.",
                         hint="Choose float32, bfloat16 (mixed precision) or float16 (GPUs).")
    support = precision_support(device)[requested]
    if support.supported:
        return TrainingPrecision(requested, requested, f"mixed precision: {requested} autocast ({support.reason})")
    return TrainingPrecision(requested, "float32",
                             f"{requested} mixed precision is not supported here ({support.reason}); trained in float32.")


__all__ = ["PRECISIONS", "PrecisionCheck", "Measurement", "Tolerance", "TOLERANCE", "Support", "cpu_bfloat16",
           "precision_support", "supported_precisions", "resolve", "prepare", "load", "measure", "compare",
           "builtin_sample", "own_sample", "at_precision", "quantize_int8", "training_precision", "engine_options"]
