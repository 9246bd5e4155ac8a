"""One batch of records through the engine: the unit of work that Analyse hands to a Ray actor.

:class:`BatchScorer` is a thin adapter around :class:`services.core.engine.Engine`: it loads the
model once, and each call turns a batch of records (columns, as Ray Data passes them) into result
rows, the same rows the local run writes. It is plain Python (no Ray), so a test can call it on a
batch; ``services.analyse.cluster`` runs it as the actor class of ``Dataset.map_batches``.

Where the model comes from on a worker: the folder path the driver names (shared storage mounted
at the same path on every node, or the workers' own path given separately), or a copy Ray shipped
with the job (``shipped``: the folder's name inside a ``py_modules`` package on ``sys.path``).
Either way the worker checks that the folder exists and holds the same weights as the driver's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Iterable, Mapping

from services.core.engine import Engine, EngineOptions
from services.core.errors import InputError
from services.core.readers import Record

RECORD_COLUMNS = ("id", "file", "index", "line", "text", "gold", "flags", "chars")
OUTPUT_COLUMNS = ("file", "index", "row", "actor", "seconds", "engine")
SHARED_STORAGE_HINT = ("Every Ray node reads the model from its own disk: put the folder on storage that all nodes "
                       "mount at the same path (or give the workers' path with --ray-model-path), or ship a small "
                       "model with the job with --ray-ship-model.")


def result_row(record: Record, result: dict) -> dict:
    """The results-file row for one record (the local run's row: record fields, flags, then the result)."""
    flags = list(record.flags)
    if not record.text.strip():
        flags.append("empty")
    if result.get("truncated"):
        flags.append("truncated")
    if result.get("chunks"):
        flags.append("chunked")
    return {"id": record.id, "file": record.file, "index": record.index, "line": record.line,
            "text": record.text, "gold": record.gold, "flags": flags, **result}


def records_to_columns(records: Iterable[Record]) -> dict[str, list]:
    """Records as columns (flags as a JSON list, so every column has one plain type)."""
    columns: dict[str, list] = {name: [] for name in RECORD_COLUMNS}
    for record in records:
        columns["id"].append(record.id)
        columns["file"].append(record.file)
        columns["index"].append(int(record.index))
        columns["line"].append(int(record.line))
        columns["text"].append(record.text)
        columns["gold"].append(record.gold)
        columns["flags"].append(json.dumps(list(record.flags)))
        columns["chars"].append(int(record.chars))
    return columns


def records_from_columns(batch) -> list[Record]:
    """The records of a batch: a mapping of columns (lists or arrays) or a ``pyarrow.Table``."""
    columns: Mapping = batch.to_pydict() if hasattr(batch, "to_pydict") else batch
    count = len(columns["id"])
    return [Record(str(columns["id"][i]), str(columns["file"][i]), int(columns["index"][i]), int(columns["line"][i]),
                   str(columns["text"][i]), None if columns["gold"][i] is None else str(columns["gold"][i]),
                   tuple(json.loads(columns["flags"][i])), int(columns["chars"][i]))
            for i in range(count)]


def node_name() -> str:
    """This machine as an error message names it: host name, and its Ray node address inside Ray."""
    ray = sys.modules.get("ray")
    if ray is not None and getattr(ray, "is_initialized", lambda: False)():
        return f"{socket.gethostname()} ({ray.util.get_node_ip_address()})"
    return socket.gethostname()


def find_shipped(name: str) -> Path | None:
    """A model folder Ray shipped with the job (``py_modules``): ``<entry on sys.path>/<name>``."""
    for entry in sys.path:
        if "py_modules_files" in entry and (Path(entry) / name).is_dir():
            return Path(entry) / name
    return None


def worker_model_path(spec: str, shipped: str | None = None) -> str:
    """The model folder on this worker, or an :class:`InputError` that names the path and the node."""
    from services.core.model_info import BUILTIN

    if shipped:
        found = find_shipped(shipped)
        if found is None:
            raise InputError(f"The model folder '{shipped}' shipped with the Ray job is not on worker node "
                             f"{node_name()}.", hint="Check the job's runtime environment (py_modules).")
        return str(found)
    if spec == BUILTIN:
        return spec
    path = Path(spec)
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise InputError(f"The model folder '{spec}' {what} on worker node {node_name()}.", hint=SHARED_STORAGE_HINT)
    return spec


def check_weights(path: str, expected: str, weight_files: list[str], driver_path: str) -> None:
    """Refuse a worker's model folder whose weights differ from the driver's (results would too)."""
    from services.core.model_info import resolve_model_path
    from services.analyse.manifest import weights_sha256

    if not expected or not weight_files:
        return
    folder = resolve_model_path(path)
    missing = [name for name in weight_files if not (folder / name).is_file()]
    if missing:
        raise InputError(f"The model folder '{folder}' on worker node {node_name()} has no {', '.join(missing)}.",
                         hint=SHARED_STORAGE_HINT)
    if weights_sha256(folder, weight_files) != expected:
        raise InputError(f"The model folder '{folder}' on worker node {node_name()} holds other weights than "
                         f"'{driver_path}' on this machine.",
                         hint="Copy the same model to every node (or point --ray-model-path at the same copy).")


class BatchScorer:
    """Load the model once; each call scores one batch of records and returns its result rows.

    Columns out: ``row`` (the results-file row as JSON), ``file``/``index`` (its key), ``actor``,
    ``seconds`` (the batch's time shared over its rows) and ``engine`` (the engine's settings as
    JSON, on a batch's first row only). The model runs in float32, prepared as the local run does.
    ``model`` is the folder as the workers see it; ``weights_sha256``/``weight_files`` (from the
    driver's copy) are checked against it. ``threads`` is the torch CPU threads: the CPUs the actor
    was given, so that actors never oversubscribe a node.
    """

    def __init__(self, model: str, task: str, options: EngineOptions | None = None, *, device: str = "cpu",
                 threads: int = 1, weights_sha256: str = "", weight_files: list[str] | None = None,
                 driver_model: str = "", shipped: str | None = None):
        from services.core import precision
        from services.core.models import default_host

        path = worker_model_path(model, shipped)
        check_weights(path, weights_sha256, list(weight_files or []), driver_model or model)
        options = dataclasses.replace(options or EngineOptions(), threads=max(1, int(threads)))
        loaded = default_host.get(path, task, device=device, dtype="float32")
        loaded = precision.prepare(loaded, "float32", texts=[])  # as the local run at float32: the check on record
        self.engine = Engine(loaded, options)
        self.model_path = path
        self.actor = f"{node_name()}:{os.getpid()}"
        choice = self.engine.thread_choice
        self.settings = json.dumps({
            "batch_size": self.engine.batch_size, "max_tokens": self.engine.max_tokens,
            "max_length": self.engine.max_length, "dtype": loaded.dtype, "precision": loaded.check.to_dict(),
            "threads": choice.to_dict() if choice else {"threads": self.engine.threads}})

    def score(self, records: list[Record]) -> list[dict]:
        """Result rows for ``records`` (in the order the engine finishes them)."""
        pairs: list[tuple[Record, dict]] = []
        self.engine.run(records, pairs.extend)
        return [result_row(record, result) for record, result in pairs]

    def __call__(self, batch) -> dict[str, list]:
        started = time.perf_counter()
        rows = self.score(records_from_columns(batch))
        seconds = time.perf_counter() - started
        share = seconds / len(rows) if rows else 0.0
        return {"file": [row["file"] for row in rows], "index": [int(row["index"]) for row in rows],
                "row": [json.dumps(row, ensure_ascii=False) for row in rows], "actor": [self.actor] * len(rows),
                "seconds": [share] * len(rows), "engine": [self.settings] + [""] * (len(rows) - 1)}
