"""The same analysis on a Ray cluster: ``main.py analyse ... --ray ADDRESS`` (the ``cluster`` extra).

Everything but the scoring happens here, on the driver, exactly as in the local run
(``services.analyse.run``): the same file scan and reader (so the same record ids and warnings),
the same run key, results file, resume and export, and the same manifest plus a ``cluster``
section. The records not yet in the results are put into Ray's object store in blocks, and
``Dataset.map_batches`` runs :class:`services.analyse.scorer.BatchScorer` (a thin adapter around
the engine) as the actor class of an actor pool; result rows stream back here and are appended to
the results file as they arrive, in whatever order the actors finish (the export sorts them).

Addresses: ``local`` starts a private Ray instance on this machine, bound to 127.0.0.1 (no
dashboard, no usage report) and stops it at the end; ``auto`` joins the cluster this machine
belongs to (``ray start`` was run here, or ``RAY_ADDRESS`` is set, as inside ``ray job submit``);
anything else is a cluster address (``HOST:6379``, ``ray://HOST:10001``).

The model: each actor loads it from the folder the driver names, so that folder must exist on
every node, at the same path (shared storage), or at the path given as ``worker_model``; a small
model (under Ray's 512 MiB package limit) can instead travel with the job (``ship_model``: Ray's
runtime environment, ``py_modules``). Each actor checks that its copy holds the driver's weights.

Each actor reserves ``cpus_per_actor`` CPUs and runs torch on that many threads (Ray also sets
``OMP_NUM_THREADS`` from it), so the pool never oversubscribes a node. Ray restarts an actor whose
process dies and runs its batch again; the results file keeps one row per record id.

Importing this module without Ray raises :class:`InputError` with the install command.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from services.core.errors import InputError, WorkbenchError

INSTALL_COMMAND = "pip install 'transformers-workbench[cluster]'   (or: pip install 'ray[data]>=2.60,<3')"
MIN_RAY = (2, 60)

try:
    import ray
    import ray.data
except ImportError as _error:
    raise InputError(f"--ray needs Ray Data, which is not installed in this Python ({_error}).",
                     hint=f"Install it with: {INSTALL_COMMAND}") from None

if tuple(int(part) for part in ray.__version__.split(".")[:2] if part.isdigit()) < MIN_RAY:
    raise InputError(f"--ray needs Ray 2.60 or newer; this Python has Ray {ray.__version__}.",
                     hint=f"Upgrade it with: {INSTALL_COMMAND}")

import pyarrow as pa  # noqa: E402 - installed with ray[data]

from services.analyse.manifest import now_iso, versions, weights_sha256  # noqa: E402
from services.analyse.results_store import ResultsStore, write_json_atomic  # noqa: E402
from services.analyse.run import (AnalyseRequest, RunResult, default_results_path, expected_records,  # noqa: E402
                                  gather_inputs, manifest_path_for, run_key_for)
from services.analyse.scorer import BatchScorer, records_to_columns  # noqa: E402
from services.core import tasks  # noqa: E402
from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress  # noqa: E402
from services.core.eta import RecentRate, format_eta  # noqa: E402
from services.core.files import FileWarning  # noqa: E402
from services.core.model_info import BUILTIN  # noqa: E402
from services.core.readers import iter_records  # noqa: E402

LOOPBACK = "127.0.0.1"
START_HINT = ("Start one with `ray start --head` (then each worker with `ray start --address HEAD:6379`), "
              "or use --ray local.")
BLOCK_CHARS = 4_000_000  # a block also closes at this many characters of text (bounds its size)
RECORD_SCHEMA = pa.schema([("id", pa.string()), ("file", pa.string()), ("index", pa.int64()), ("line", pa.int64()),
                           ("text", pa.large_string()), ("gold", pa.string()), ("flags", pa.string()),
                           ("chars", pa.int64())])


def ship_limit_bytes() -> int:
    """The most a runtime-environment package may weigh: Ray's gRPC message limit (512 MiB by default)."""
    try:
        from ray._private.runtime_env.packaging import GCS_STORAGE_MAX_SIZE

        return int(GCS_STORAGE_MAX_SIZE)
    except (ImportError, AttributeError, ValueError):
        return 512 * 1024 * 1024


@dataclass
class ClusterOptions:
    address: str = "local"  # "local", "auto" or a cluster address
    actors: int = 0  # most actors (0: as many as the cluster's CPUs allow at cpus_per_actor each)
    cpus_per_actor: int = 2  # CPUs each actor reserves = its torch threads
    block_rows: int = 256  # records per block handed to an actor (one map_batches call)
    worker_model: str | None = None  # the model folder's path on the workers (default: the driver's path)
    ship_model: bool = False  # send the model folder with the job instead (small models only)


class _ActorScorer(BatchScorer):
    """The actor class: a :class:`BatchScorer` whose set-up errors surface on its first batch.

    Ray keeps only the text of an error raised in an actor's constructor (and starts new actors
    until its budget runs out); an error raised from a call reaches the driver as the error object
    itself, so the user reads one line naming the missing folder and the node.
    """

    def __init__(self, **kwargs):
        self.error: WorkbenchError | None = None
        try:
            super().__init__(**kwargs)
        except WorkbenchError as error:
            self.error = error
            return
        self.actor = f"{ray.util.get_node_ip_address()}:{os.getpid()}"

    def __call__(self, batch):
        if self.error is not None:
            raise self.error
        return pa.table(super().__call__(batch))


def _user_error(error: BaseException) -> WorkbenchError | None:
    """The app's own error inside a Ray error chain (raised by an actor), if there is one."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        cause = getattr(error, "cause", None)
        if isinstance(cause, WorkbenchError):
            return cause
        if isinstance(error, WorkbenchError):
            return error
        error = error.__cause__ or error.__context__
    return None


class RaySession:
    """Start (``local``) or join a Ray cluster; ``close`` shuts down what we started or disconnects."""

    def __init__(self, address: str, runtime_env: dict | None = None):
        self.address = address or "local"
        self.local = self.address == "local"
        kwargs = dict(log_to_driver=False, logging_level=logging.ERROR, runtime_env=runtime_env or None,
                      namespace="workbench-analyse")
        if ray.is_initialized():
            raise InputError("Ray is already initialised in this process.", hint="Run the analysis in a new process.")
        try:
            if self.local:
                self._loopback_only()
                ray.init(address="local", _node_ip_address=LOOPBACK, include_dashboard=False, **kwargs)
            else:
                self._check_answers(self.address)
                ray.init(address=self.address, **kwargs)
        except ConnectionError as error:
            self.close()
            raise InputError(f"No Ray cluster found at '{self.address}': {error}", hint=START_HINT) from None
        except BaseException:  # Ctrl+C while starting: stop what was started
            self.close()
            raise
        if self.local:
            ips = {node["NodeManagerAddress"] for node in ray.nodes() if node.get("Alive")}
            if ips != {LOOPBACK}:
                self.close()
                raise InputError(f"Ray started on {', '.join(sorted(ips))} instead of {LOOPBACK} only.",
                                 hint="Report this: --ray local must stay on this machine.")
        data = ray.data.DataContext.get_current()
        data.enable_progress_bars = False  # our own progress line on stderr
        data.print_on_execution_start = False
        data.raise_original_map_exception = True  # an actor's InputError reaches us as itself
        logging.getLogger("ray.data").setLevel(logging.CRITICAL)  # errors reach the user as exceptions, once

    @staticmethod
    def _loopback_only() -> None:
        """Keep a local instance on 127.0.0.1: Ray ≥ 2.x maps 127.0.0.1 to the routable address unless
        clusters are switched off (its single-machine mode, as on macOS/Windows); no usage report."""
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read by the processes Ray starts
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False  # read by ray.init in this process (already imported)

    @staticmethod
    def _check_answers(address: str) -> None:
        """Refuse at once a cluster address where nothing listens (``ray.init`` retries for minutes)."""
        if address.startswith("ray://"):
            return
        try:
            from ray._private.services import canonicalize_bootstrap_address  # what ray.init resolves

            target = canonicalize_bootstrap_address(address)
        except ConnectionError as error:
            raise InputError(f"No Ray cluster found for --ray {address}: {error}", hint=START_HINT) from None
        except Exception:  # noqa: BLE001 - Ray's helper changed: leave the check to ray.init
            return
        if target is None:
            raise InputError(f"No Ray cluster found for --ray {address}.", hint=START_HINT)
        host, _, port = target.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
        except (OSError, ValueError) as error:
            raise InputError(f"Nothing answers at {target}, the Ray cluster of --ray {address} "
                             f"({getattr(error, 'strerror', None) or error}).",
                             hint=f"{START_HINT} A head started on this machine with --node-ip-address=127.0.0.1 "
                                  "is reached with RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 set here too (else Ray "
                                  "replaces 127.0.0.1 by this machine's network address).") from None

    def describe(self) -> dict:
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        resources = ray.cluster_resources()
        return {"address": self.address, "nodes": len(nodes), "cpus": int(resources.get("CPU", 0)),
                "gpus": int(resources.get("GPU", 0)),
                "node_addresses": sorted({n["NodeManagerAddress"] for n in nodes}),
                "ray": ray.__version__}

    def close(self) -> None:
        if ray.is_initialized():
            ray.shutdown()


def _worker_model(request: AnalyseRequest, info, cluster: ClusterOptions) -> tuple[str, str | None, dict | None]:
    """``(model spec the actors load, shipped folder name, runtime_env)``."""
    if cluster.ship_model:
        size = sum(p.stat().st_size for p in Path(info.path).rglob("*") if p.is_file())
        limit = ship_limit_bytes()
        if size >= limit:
            raise InputError(f"The model folder '{info.path}' weighs {size / 2**20:,.0f} MiB; Ray ships at most "
                             f"{limit / 2**20:,.0f} MiB with a job.",
                             hint="Put the folder on storage every node mounts at the same path instead "
                                  "(and drop --ray-ship-model).")
        return str(info.path), Path(info.path).name, {"py_modules": [str(Path(info.path).resolve())]}
    if cluster.worker_model:
        return cluster.worker_model, None, None
    if str(request.model) == BUILTIN:
        return BUILTIN, None, None
    return str(Path(info.path).resolve()), None, None


def _put_blocks(records, block_rows: int, progress: Progress, done: int, cancel: CancelToken) -> tuple[list, int]:
    """The records as Arrow blocks in Ray's object store (spilled to disk when larger than memory)."""
    refs, count, block, chars = [], 0, [], 0
    last = time.monotonic()

    def flush():
        nonlocal block, chars
        refs.append(ray.put(pa.Table.from_pydict(records_to_columns(block), schema=RECORD_SCHEMA)))
        block, chars = [], 0

    for record in records:
        block.append(record)
        chars += len(record.text)
        count += 1
        if len(block) >= block_rows or chars >= BLOCK_CHARS:
            flush()
            cancel.check()
            if time.monotonic() - last > 0.5:
                last = time.monotonic()
                progress(done, None, f"Reading records: {count:,}")
    if block:
        flush()
    return refs, count


def analyse_on_ray(request: AnalyseRequest, results_path: str | Path | None = None, *,
                   cluster: ClusterOptions | None = None, resume: bool = True,
                   manifest_path: str | Path | None = None, seconds: float | None = None,
                   progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> RunResult:
    """:func:`services.analyse.run.analyse`, with the scoring done by an actor pool on a Ray cluster."""
    from services.core.models import validate_for_task

    cluster = cluster or ClusterOptions()
    if request.requested_precision != "float32":
        raise InputError("--precision applies to local runs; a --ray run computes in float32.",
                         hint="Leave out --precision (or use float32) with --ray.")
    if request.task not in tasks.TASKS:
        raise InputError(f"Unknown task '{request.task}'.", hint=f"Tasks: {', '.join(tasks.TASKS)}.")
    if cluster.cpus_per_actor < 1 or cluster.block_rows < 1 or cluster.actors < 0:
        raise InputError("--ray-cpus-per-actor and --ray-block-rows must be at least 1, --ray-actors at least 0.")
    started = now_iso()
    files, warnings, info = gather_inputs(request, progress, cancel)
    validate_for_task(info, request.task)
    labels: list[str] = []
    if request.task == "zero-shot-classification":  # refused here, before any node loads the model
        labels = tasks.candidate_labels(request.engine.labels)
        tasks.hypothesis_template(request.engine.template)
    weights = weights_sha256(info.path, info.weight_files) if info.weight_files else ""
    run_key = run_key_for(request, files, weights)
    results_path = Path(results_path) if results_path else default_results_path(run_key)
    manifest_path = Path(manifest_path) if manifest_path else manifest_path_for(results_path)
    spec, shipped, runtime_env = _worker_model(request, info, cluster)
    header = {"task": request.task, "model": str(info.path), "files": [f.path for f in files], "created": started}
    store = ResultsStore(results_path, run_key, header, resume=resume)
    counts = {"truncated": 0, "chunked": 0, "empty": 0, "too_long": 0}
    per_actor: dict[str, dict] = {}
    engine_settings: dict = {}
    new_rows = 0
    complete = True
    total = expected_records(files, request.read)
    described: dict = {}
    max_actors = 0
    wall = 0.0
    try:
        if store.restarted_reason:
            warnings.append(FileWarning(str(results_path), "restart", f"started over: {store.restarted_reason}"))
        progress(store.rows, None, f"Starting Ray ({cluster.address})")
        session = RaySession(cluster.address, runtime_env)
        try:
            described = session.describe()
            max_actors = cluster.actors or max(1, described["cpus"] // cluster.cpus_per_actor)
            records = (r for r in iter_records(files, request.read, warnings) if not store.is_done(r.file, r.index))
            refs, submitted = _put_blocks(records, cluster.block_rows, progress, store.rows, cancel)
            total = store.rows + submitted
            began = time.monotonic()
            if refs:
                progress(store.rows, total, f"Loading the model on up to {max_actors} actor(s)")
                scorer_args = dict(model=spec, task=request.task, options=request.engine, device=request.device,
                                   threads=cluster.cpus_per_actor, weights_sha256=weights,
                                   weight_files=list(info.weight_files), driver_model=str(info.path), shipped=shipped)
                dataset = ray.data.from_arrow_refs(refs).map_batches(
                    _ActorScorer, fn_constructor_kwargs=scorer_args, batch_size=None, batch_format="pyarrow",
                    compute=ray.data.ActorPoolStrategy(min_size=1, max_size=max_actors,
                                                       initial_size=min(max_actors, len(refs))),
                    num_cpus=cluster.cpus_per_actor,
                    num_gpus=1 if not str(request.device).startswith("cpu") else 0)
                deadline = time.monotonic() + seconds if seconds else None
                rate = RecentRate()
                rate.add(0)  # from the start: the first rate counts the actors' start-up (no 0 rec/s, no wild ETA)
                for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
                    columns = batch.to_pydict()
                    rows = [json.loads(text) for text in columns["row"]]
                    written = store.write(rows)
                    new_rows += written
                    for row in rows:
                        for flag in row.get("flags") or ():
                            key = flag.replace("-", "_")
                            counts[key] = counts.get(key, 0) + 1
                    for actor, busy, settings in zip(columns["actor"], columns["seconds"], columns["engine"]):
                        stats = per_actor.setdefault(actor, {"actor": actor, "rows": 0, "busy_s": 0.0})
                        stats["rows"] += 1
                        stats["busy_s"] += busy
                        if settings and not engine_settings:
                            engine_settings = json.loads(settings)
                    done = store.rows
                    speed = rate.add(new_rows)
                    left = RecentRate.remaining(done, total, speed)
                    eta = f" · ETA {format_eta(left)}" if left is not None else ""
                    progress(done, total, f"{done:,} / {total:,} records · {speed:,.1f} rec/s · "
                                          f"{len(per_actor)} actor(s){eta}",
                             {"rows": done, "results": str(results_path), "warnings": len(warnings), "rate": speed})
                    cancel.check()
                    if deadline is not None and time.monotonic() > deadline and done < total:
                        complete = False
                        break
            wall = time.monotonic() - began
        except Exception as error:  # a Ray error that carries one of ours (from an actor): the user reads ours
            mine = _user_error(error)
            if mine is None or mine is error:
                raise
            raise mine from None
        finally:
            session.close()
    finally:
        store.close()
    rows = store.rows
    progress(rows, rows if complete else max(total, rows + 1), f"{rows:,} records analysed",
             {"rows": rows, "results": str(results_path), "warnings": len(warnings), "rate": 0.0})
    actors = []
    for stats in per_actor.values():
        busy = stats["busy_s"]
        actors.append({**stats, "busy_s": round(busy, 3),
                       "rows_per_s": round(stats["rows"] / busy, 2) if busy else None})
    manifest = {
        "format": "workbench-analyse-manifest/1", "run_key": run_key, "task": request.task,
        "inputs": [f.to_dict() for f in files],
        "model": {"path": str(info.path), "name": info.display_name, "model_type": info.model_type,
                  "weights_sha256": weights, "weight_files": info.weight_files},
        "settings": {"read": request.read.to_dict(), "engine": request.engine.result_settings(),
                     "batch_size": engine_settings.get("batch_size"), "max_tokens": engine_settings.get("max_tokens"),
                     "max_length": engine_settings.get("max_length"),
                     "window": min(request.engine.window, cluster.block_rows)},  # an actor sorts one block
        "versions": versions(), "device": request.device, "dtype": engine_settings.get("dtype", "float32"),
        "precision": engine_settings.get("precision", {"requested": "float32", "precision": "float32"}),
        "threads": engine_settings.get("threads", {"threads": cluster.cpus_per_actor}),  # each actor's
        "started": started, "finished": now_iso(), "complete": complete,
        "counts": {"records": rows, "new": new_rows, "resumed": store.resumed, "files": len(files),
                   "warnings": len(warnings), **counts},
        "results": str(results_path),
        "warnings": [w.to_dict() for w in warnings[:500]],
        "cluster": {**described, "model_on_workers": "shipped with the job" if shipped else spec,
                    "actor_pool": {"min_size": 1, "max_size": max_actors, "cpus_per_actor": cluster.cpus_per_actor,
                                   "block_rows": cluster.block_rows, "used": len(actors)},
                    "wall_s": round(wall, 3), "rows_per_s": round(new_rows / wall, 2) if wall else None,
                    "actors": sorted(actors, key=lambda a: a["actor"])},
    }
    write_json_atomic(manifest_path, manifest)
    if request.task == "zero-shot-classification":
        id2label = dict(enumerate(labels))
    elif request.task == "text-classification":
        id2label = dict(info.labels)
    else:
        id2label = {}
    return RunResult(results_path, manifest_path, run_key, request.task, str(info.path), files, warnings, rows,
                     new_rows, store.resumed, complete, id2label, list(id2label.values()), manifest["precision"],
                     None, cluster.cpus_per_actor)
