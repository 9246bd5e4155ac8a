"""One analysis, end to end: scan inputs, resume the results file, run the engine, write the manifest.

``analyse(request, ...)`` is what the CLI verb and the GUI job call. It is resumable: the results
file is keyed by a hash of the inputs' contents, the model's weights, the task and the settings
that change results, so running the same analysis again skips every record already on disk.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from services.core.engine import Engine, EngineOptions
from services.core.files import FileWarning, InputFile, collect_files, scan_files
from services.analyse.manifest import now_iso, versions, weights_sha256
from services.core.readers import ReadOptions, iter_records, validate_options
from services.analyse.results_store import ResultsStore, write_json_atomic
from services.analyse.scorer import result_row
from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.eta import RecentRate, format_eta
from services.core.errors import Cancelled, InputError
from services.core.model_info import inspect_model
from services.core.tasks import TASKS
from services.core.paths import app_data_dir


WARNINGS_IN_PROGRESS = 1000  # progress events carry (a copy of) at most this many warnings; the result has all


@dataclass
class AnalyseRequest:
    paths: list[str]
    task: str
    model: str
    read: ReadOptions = field(default_factory=ReadOptions)
    engine: EngineOptions = field(default_factory=EngineOptions)
    device: str = "cpu"
    dtype: str = "float32"  # older callers' name for the precision (used when ``precision`` is None)
    precision: str | None = None  # auto, float32, bfloat16, float16 or int8 (services.core.precision)

    @property
    def requested_precision(self) -> str:
        return self.precision or self.dtype or "float32"


@dataclass
class RunResult:
    results_path: Path
    manifest_path: Path
    run_key: str
    task: str
    model: str
    files: list[InputFile]
    warnings: list[FileWarning]
    rows: int  # rows in the results file (resumed + new)
    new_rows: int
    resumed_rows: int
    complete: bool  # False when a time limit stopped it early
    id2label: dict = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    precision: dict = field(default_factory=dict)  # the PrecisionCheck as in the manifest
    precision_check: object = None  # the PrecisionCheck itself (services.core.precision)
    threads: int = 0  # torch CPU threads the engine used (0: a GPU, or left as they were)

    @property
    def file_paths(self) -> list[str]:
        return [f.path for f in self.files]


class _TimeUp(Cancelled):
    pass


class _Deadline:
    """Wraps a cancel token; also stops (without error) once ``seconds`` have passed."""

    def __init__(self, inner: CancelToken, seconds: float | None):
        self.inner = inner
        self.deadline = time.monotonic() + seconds if seconds else None

    def check(self) -> None:
        self.inner.check()
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _TimeUp()

    @property
    def cancelled(self) -> bool:
        return self.inner.cancelled


def default_results_path(run_key: str) -> Path:
    return app_data_dir() / "analyse" / run_key[:20] / "results.jsonl"


def manifest_path_for(results_or_out: Path) -> Path:
    name = results_or_out.name
    stem = name[: -len(".partial.jsonl")] if name.endswith(".partial.jsonl") else results_or_out.stem
    if stem.endswith((".csv", ".jsonl", ".tsv")):
        stem = Path(stem).stem
    return results_or_out.with_name(f"{stem}.manifest.json")


def expected_records(files: list[InputFile], read: ReadOptions) -> int:
    total = 0
    for info in files:
        if info.kind == "text" and read.mode == "file":
            total += 1 if info.size else 0
        elif info.kind in ("csv", "tsv"):
            total += max(0, info.lines - 1)
        else:
            total += info.lines
    return total


def run_key_for(request: AnalyseRequest, files: list[InputFile], weights: str) -> str:
    data = {"inputs": [[f.path, f.sha256] for f in files], "read": request.read.to_dict(), "task": request.task,
            "weights": weights, "settings": request.engine.result_settings()}
    if request.requested_precision != "float32":  # results of reduced precision are kept apart (float32 keys unchanged)
        data["precision"] = request.requested_precision
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()




def _previous_choice(manifest_path: Path, run_key: str, requested: str) -> str | None:
    """On resume: the precision Auto chose for the first part of this run (from its manifest), so the
    rest of the rows are made the same way."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    previous = manifest.get("precision") if isinstance(manifest, dict) else None
    if manifest.get("run_key") == run_key and isinstance(previous, dict) and previous.get("requested") == requested:
        return previous.get("precision")
    return None


def _prepare_precision(loaded, request: AnalyseRequest, files, store, manifest_path: Path, run_key: str,
                       progress: Progress, cancel: CancelToken):
    """The model at the requested precision, checked on the first records of the user's own files."""
    from services.core import precision

    requested = request.requested_precision
    precision.check_precision_name(requested)
    if requested == "float32":
        return precision.prepare(loaded, "float32", texts=[], cancel=cancel)
    sample = precision.own_sample(r.text for r in iter_records(files, request.read, []))
    chosen = _previous_choice(manifest_path, run_key, requested) if requested == "auto" and store.rows else None
    checked = precision.prepare(loaded, chosen or requested, texts=sample, options=request.engine,
                                progress=lambda d, t, m: progress(store.rows, None, m), cancel=cancel)
    if chosen:
        note = f"auto chose {chosen} for the first part of this run; kept for the rest"
        checked = replace(checked, check=replace(checked.check, requested="auto", notes=checked.check.notes + (note,)))
    return checked


def result_labels(engine: Engine) -> dict[int, str]:
    """The labels results can carry: the zero-shot candidates, else the model's id2label."""
    if engine.task == "zero-shot-classification":
        return dict(enumerate(engine.labels))
    return dict(engine.id2label) if engine.task == "text-classification" else {}


def gather_inputs(request: AnalyseRequest, progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED):
    """The scanned input files, their warnings and the model's info: the same for a local and a Ray run."""
    progress(0, None, "Finding files")
    paths, warnings = collect_files(request.paths, cancel)
    files, scan_warnings = scan_files(paths, cancel, progress=lambda d, t, m: progress(0, None, m))
    warnings += scan_warnings
    if not files:
        reasons = "; ".join(str(w) for w in warnings[:3]) or "no files were given"
        raise InputError(f"There is nothing to analyse: {reasons}.",
                         hint="Add .txt, .md, .csv, .tsv, .jsonl or .json files, or folders holding them.")
    validate_options(files, request.read)
    return files, warnings, inspect_model(request.model)


def analyse(request: AnalyseRequest, results_path: str | Path | None = None, *, resume: bool = True,
            manifest_path: str | Path | None = None, seconds: float | None = None, host=None,
            progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> RunResult:
    """Analyse every record of ``request.paths``; results stream to ``results_path`` (JSONL)."""
    if request.task not in TASKS:
        raise InputError(f"Unknown task '{request.task}'.", hint=f"Tasks: {', '.join(TASKS)}.")
    started = now_iso()
    files, warnings, info = gather_inputs(request, progress, cancel)
    weights = weights_sha256(info.path, info.weight_files) if info.weight_files else ""
    run_key = run_key_for(request, files, weights)
    results_path = Path(results_path) if results_path else default_results_path(run_key)
    manifest_path = Path(manifest_path) if manifest_path else manifest_path_for(results_path)
    header = {"task": request.task, "model": str(info.path), "files": [f.path for f in files], "created": started}
    store = ResultsStore(results_path, run_key, header, resume=resume)
    try:
        if store.restarted_reason:
            warnings.append(FileWarning(str(results_path), "restart", f"started over: {store.restarted_reason}"))
        if host is None:
            from services.core.models import default_host as host
        progress(0, None, f"Loading {info.display_name}")
        from services.core.precision import resolve

        resolve(request.requested_precision, request.device)  # int8 on a GPU: refused before loading
        loaded = host.get(request.model, request.task, device=request.device, dtype="float32", cancel=cancel)
        loaded = _prepare_precision(loaded, request, files, store, manifest_path, run_key, progress, cancel)
        check = loaded.check
        engine = Engine(loaded, request.engine)
        threads_text = f" · {engine.thread_choice.describe()}" if engine.thread_choice else ""
        how = f" · {loaded.dtype}{threads_text}"  # in every progress message: the Jobs dock shows it
        total = max(expected_records(files, request.read), store.rows)
        rate = RecentRate()
        counts = {"truncated": 0, "chunked": 0, "empty": 0, "too_long": 0}
        new_rows = 0
        progress(store.rows, total, f"Analysing · {check.summary()}{threads_text}",
                 {"rows": store.rows, "results": str(results_path),
                                                  "warnings": len(warnings), "rate": 0.0})

        def emit(pairs) -> None:
            nonlocal new_rows, total
            rows = []
            for record, result in pairs:
                row = result_row(record, result)
                for flag in row["flags"]:
                    counts[flag.replace("-", "_")] = counts.get(flag.replace("-", "_"), 0) + 1
                rows.append(row)
            new_rows += store.write(rows)
            done = store.rows
            total = max(total, done)
            speed = rate.add(new_rows)
            left = RecentRate.remaining(done, total, speed)
            eta = f" · ETA {format_eta(left)}" if left is not None else ""
            progress(done, total, f"{done:,} / ~{total:,} records · {speed:,.1f} rec/s{how}{eta}",
                     {"rows": done, "results": str(results_path), "warnings": len(warnings), "rate": speed,
                      "warning_list": tuple(warnings[:WARNINGS_IN_PROGRESS])})  # a frozen copy: the list grows here

        deadline = _Deadline(cancel, seconds)
        records = (r for r in iter_records(files, request.read, warnings) if not store.is_done(r.file, r.index))
        complete = True
        try:
            engine.run(records, emit, deadline)
        except _TimeUp:
            complete = False
    finally:
        store.close()
    rows = store.rows
    progress(rows, rows if complete else max(total, rows + 1), f"{rows:,} records analysed",
             {"rows": rows, "results": str(results_path), "warnings": len(warnings), "rate": 0.0})
    manifest = {
        "format": "workbench-analyse-manifest/1", "run_key": run_key, "task": request.task,
        "inputs": [f.to_dict() for f in files],
        "model": {"path": str(info.path), "name": info.display_name, "model_type": info.model_type,
                  "weights_sha256": weights, "weight_files": info.weight_files},
        "settings": {"read": request.read.to_dict(), "engine": request.engine.result_settings(),
                     "batch_size": engine.batch_size, "max_tokens": engine.max_tokens,
                     "max_length": engine.max_length, "window": request.engine.window},
        "versions": versions(), "device": request.device, "dtype": loaded.dtype,
        "precision": check.to_dict(),
        "threads": engine.thread_choice.to_dict() if engine.thread_choice else {"threads": engine.threads},
        "started": started, "finished": now_iso(), "complete": complete,
        "counts": {"records": rows, "new": new_rows, "resumed": store.resumed, "files": len(files),
                   "warnings": len(warnings), **counts},
        "results": str(results_path),
        "warnings": [w.to_dict() for w in warnings[:500]],
    }
    write_json_atomic(manifest_path, manifest)
    return RunResult(results_path, manifest_path, run_key, request.task, str(info.path), files, warnings, rows,
                     new_rows, store.resumed, complete, result_labels(engine), list(result_labels(engine).values()),
                     check.to_dict(), check, engine.threads)
