"""The same analysis through the local engine and through ``--ray local``, in one run.

Builds a 2-label text classifier on the built-in encoder (all-MiniLM-L6-v2 with a random head, as
``batch_throughput.py`` does), writes a file of sentences, then runs ``analyse`` on it twice:

  (a) the local path (``services.analyse.run.analyse``: one process, the engine),
  (b) the Ray path (``services.analyse.cluster.analyse_on_ray`` with ``--ray local``: a private Ray
      instance on 127.0.0.1, an actor pool of engines, results streamed back to the same store).

Both times are end to end (model load included; for Ray also starting and stopping the instance
and the actors). It checks that both give the same labels (scores to 1e-5) and prints rows/s for
each, Ray's start-up cost and its steady rate per actor. On one machine Ray cannot be faster than
the engine (the same cores, plus Ray's own processes): the ratio is the overhead that more machines
must amortise. Last line: ``ray_local_vs_engine=X`` (Ray's rows/s divided by the engine's).

    python benchmarks/cluster_throughput.py [--texts 2000] [--cpus-per-actor 2] [--seed 7]

Needs the ``cluster`` extra (``pip install -e '.[cluster]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from services.core.warmup import configure_torch_environment  # noqa: E402

configure_torch_environment()  # torch runs here as it does in the app

from batch_throughput import build_classifier, write_sentences  # noqa: E402  (same model and texts)


def rows_of(path: Path) -> dict[str, dict]:
    with open(path, encoding="utf-8") as handle:
        handle.readline()  # header
        return {row["id"]: row for row in map(json.loads, handle)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--cpus-per-actor", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import logging

    import transformers

    from services.analyse.cluster import ClusterOptions, analyse_on_ray
    from services.analyse.run import AnalyseRequest, analyse
    from services.core.engine import usable_cores

    transformers.logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="wb-cluster-bench-") as tmp:
        tmp = Path(tmp)
        model_dir = build_classifier(tmp / "classifier")
        data = tmp / "sentences.txt"
        write_sentences(data, args.texts, args.seed)
        request = AnalyseRequest(paths=[str(data)], task="text-classification", model=str(model_dir))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"texts: {args.texts}  cores: {usable_cores()}  load average: {load:.1f}  "
              f"Ray: {args.cpus_per_actor} CPU(s) per actor")

        start = time.perf_counter()
        local = analyse(request, tmp / "local.jsonl", resume=False)
        t_local = time.perf_counter() - start
        print(f"(a) local engine:  {local.rows / t_local:8.1f} rows/s  ({local.rows} rows, {t_local:.1f} s end to end)")

        start = time.perf_counter()
        remote = analyse_on_ray(request, tmp / "ray.jsonl", resume=False,
                                cluster=ClusterOptions(address="local", cpus_per_actor=args.cpus_per_actor))
        t_ray = time.perf_counter() - start
        cluster = json.loads(remote.manifest_path.read_text())["cluster"]
        busy = sum(actor["busy_s"] for actor in cluster["actors"])
        print(f"(b) --ray local:   {remote.rows / t_ray:8.1f} rows/s  ({remote.rows} rows, {t_ray:.1f} s end to end: "
              f"{t_ray - cluster['wall_s']:.1f} s starting and stopping Ray and reading the input, "
              f"{cluster['wall_s']:.1f} s from the first block to the last result, actors busy {busy:.1f} s)")
        for actor in cluster["actors"]:
            print(f"    actor {actor['actor']}: {actor['rows']} rows, {actor['rows_per_s']} rows/s while busy")

        a, b = rows_of(local.results_path), rows_of(remote.results_path)
        assert a.keys() == b.keys(), "the two runs scored different records"
        same = sum(a[k]["label"] == b[k]["label"] for k in a)
        worst = max(abs(a[k]["score"] - b[k]["score"]) for k in a)
        print(f"agreement: {same}/{len(a)} labels, largest score difference {worst:.2e}")
        assert same == len(a) and worst <= 1e-5, "Ray and the engine disagree"
        print(f"ray_local_vs_engine={(remote.rows / t_ray) / (local.rows / t_local):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
