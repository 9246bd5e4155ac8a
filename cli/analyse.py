"""``main.py analyse PATH... --task TASK --model MODEL``: the Analyse engine, headless.

Results stream into ``<out>.partial.jsonl`` while the run goes; ``--resume`` continues a run that
was stopped (killed, cancelled, crashed) without duplicating or losing rows. At the end the rows
are exported in input order to ``--out`` (CSV or JSONL by extension; JSON lines on stdout without
``--out``) and the manifest is written next to it. Progress goes to stderr.

``--ray ADDRESS`` runs the same analysis on a Ray cluster (``local``: a private instance on this
machine bound to 127.0.0.1; ``auto``: the cluster this machine belongs to; or a cluster address):
same inputs, ids, results and manifest (plus the cluster's size and per-actor throughput). It needs
the ``cluster`` extra; see ``services.analyse.cluster``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers) -> None:
    from services.core.precision import PRECISIONS
    from services.core.tasks import TASKS

    parser = subparsers.add_parser("analyse", help="run a task over local files (txt, md, csv, tsv, jsonl, json)",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    parser.add_argument("--task", required=True, choices=list(TASKS))
    parser.add_argument("--model", default="builtin", help="model folder, or 'builtin' (default)")
    parser.add_argument("--column", help="CSV/TSV column or JSON field holding the text (default: guessed)")
    parser.add_argument("--gold", help="CSV/TSV column or JSON field holding the gold label (for evaluation)")
    parser.add_argument("--mode", choices=["lines", "file"], default="lines",
                        help="txt/md: one record per line (default) or one per file")
    parser.add_argument("--labels", help="zero-shot candidate labels, comma-separated")
    parser.add_argument("--template", default="", help="zero-shot hypothesis template, e.g. 'This text is about {}.'")
    parser.add_argument("--multi-label", action="store_true", help="zero-shot: score labels independently")
    parser.add_argument("--chunk", action="store_true", help="split long texts into overlapping chunks (else flag them)")
    parser.add_argument("--stride", type=int, default=32, help="tokens of overlap between chunks (default 32)")
    parser.add_argument("--batch-size", type=int, default=0, help="most texts per batch (default: automatic)")
    parser.add_argument("--max-chars", type=int, default=1_000_000, help="longest record read, in characters")
    parser.add_argument("--out", help="results file (.csv, .tsv or .jsonl); JSON lines on stdout if omitted")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run of the same analysis")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="float32 (default), bfloat16, float16 (GPUs), int8 (CPU), or auto: the fastest precision "
                             "that agrees with float32 on the first 200 records (labels ≥ 99.5 %%, embeddings cosine "
                             "≥ 0.999); the check goes to stderr and the manifest")
    parser.add_argument("--dtype", default=None, help=argparse.SUPPRESS)  # the older name of --precision
    parser.add_argument("--seconds", type=float, default=None, help="stop (resumably) after this many seconds")
    parser.add_argument("--evaluate", action="store_true", help="print accuracy / macro-F1 against --gold")
    group = parser.add_argument_group("Ray cluster", "needs the 'cluster' extra: "
                                    "pip install 'transformers-workbench[cluster]'")
    group.add_argument("--ray", metavar="ADDRESS",
                     help="score on Ray: 'local' (a private instance on 127.0.0.1), 'auto' (the cluster this "
                          "machine joined) or a cluster address (HOST:6379, ray://HOST:10001)")
    group.add_argument("--ray-actors", type=int, default=0, metavar="N",
                     help="most actors, each loading the model once (default: as many as the cluster's CPUs allow)")
    group.add_argument("--ray-cpus-per-actor", type=int, default=2, metavar="N",
                     help="CPUs each actor reserves, and its torch threads (default 2)")
    group.add_argument("--ray-block-rows", type=int, default=256, metavar="N",
                     help="records per block handed to an actor (default 256)")
    group.add_argument("--ray-model-path", metavar="PATH",
                     help="where the workers find the model folder, if not at --model's path (shared storage)")
    group.add_argument("--ray-ship-model", action="store_true",
                     help="send the model folder with the job (Ray's runtime environment, at most 512 MiB)")
    from cli import text_tasks

    text_tasks.add_arguments(parser, analyse=True)  # --question, languages, beams...; --chunk: summarise in chunks
    parser.set_defaults(handler=run)


def run(args) -> int:
    from services.core.engine import EngineOptions
    from services.core.readers import ReadOptions
    from services.analyse.results_store import export, write_rows, rows_in_order
    from services.analyse.run import AnalyseRequest, analyse, manifest_path_for
    from cli.progress import StderrProgress
    from services.core.errors import InputError
    from services.core.tasks import parse_labels
    from cli import text_tasks

    labels = parse_labels(args.labels)
    task_options = text_tasks.options(args, args.task)
    if not args.ray and (args.ray_model_path or args.ray_ship_model or args.ray_actors):
        raise InputError("--ray-model-path, --ray-ship-model and --ray-actors need --ray.")
    if args.max_chars < 1:
        raise InputError("--max-chars must be at least 1.")
    request = AnalyseRequest(
        paths=args.paths, task=args.task, model=args.model,
        read=ReadOptions(mode=args.mode, column=args.column, gold=args.gold, max_chars=args.max_chars),
        engine=EngineOptions(chunking=args.chunk, stride=args.stride, batch_size=args.batch_size, labels=labels,
                             template=args.template, multi_label=args.multi_label, task_options=task_options),
        device=args.device, precision=args.precision or args.dtype or "float32")
    if args.ray and request.requested_precision != "float32":
        raise InputError("--precision applies to local runs; a --ray run computes in float32.",
                         hint="Leave out --precision (or use float32) with --ray.")
    out = Path(args.out).expanduser() if args.out else None
    if out is not None:
        if out.suffix.lower() not in (".csv", ".tsv", ".jsonl"):
            raise InputError(f"--out must end in .csv, .tsv or .jsonl (got '{out.name}').")
        if out.is_dir():
            raise InputError(f"--out '{out}' is a folder; name a file in it.")
        results = out.with_name(out.name + ".partial.jsonl")
        manifest = manifest_path_for(out)
    else:
        results = manifest = None
    bar = StderrProgress("analyse")
    try:
        if args.ray:
            from services.analyse.cluster import ClusterOptions, analyse_on_ray  # InputError if Ray is missing

            cluster = ClusterOptions(address=args.ray, actors=args.ray_actors, cpus_per_actor=args.ray_cpus_per_actor,
                                     block_rows=args.ray_block_rows, worker_model=args.ray_model_path,
                                     ship_model=args.ray_ship_model)
            result = analyse_on_ray(request, results, cluster=cluster, resume=args.resume or out is None,
                                    manifest_path=manifest, seconds=args.seconds, progress=bar)
        else:
            result = analyse(request, results, resume=args.resume or out is None, manifest_path=manifest,
                             seconds=args.seconds, progress=bar)
    finally:
        bar.close()
    from cli.predict import report_precision

    report_precision(getattr(result, "precision_check", None))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not result.complete:
        print(f"stopped after {args.seconds:g}s with {result.rows:,} records done; run again with --resume "
              "to continue", file=sys.stderr)
        return 3
    evaluation = None
    if args.evaluate:
        from services.analyse.evaluate import evaluate_file

        evaluation = evaluate_file(result.results_path, result.id2label)
    if out is not None:
        export(result.results_path, out, result.file_paths, result.task)
        os.unlink(result.results_path)
        print(f"{result.rows:,} records → {out} (manifest {result.manifest_path.name}"
              f"{f', {result.resumed_rows:,} resumed' if result.resumed_rows else ''})", file=sys.stderr)
    else:
        write_rows(sys.stdout, rows_in_order(result.results_path, result.file_paths), result.task, "jsonl")
    if args.evaluate:
        print(evaluation.summary() if evaluation else "no gold labels to evaluate against (use --gold)",
              file=sys.stderr)
    return 0
