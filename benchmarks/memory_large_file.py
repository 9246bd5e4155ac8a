"""Peak memory of the Analyse engine on a 1 GB text file (streamed, never loaded whole).

Generates a ~1 GB file of English sentences (one per line) in a temporary folder, analyses it with
text classification on the built-in encoder (a 2-label random head, saved to the temporary folder)
for at most ``--seconds``, then reports records done, throughput, the model's size on disk and the
peak resident memory (``getrusage`` max RSS), and deletes the temporary folder.
Last line: ``peak_rss_mb=… model_mb=… target_mb=… records=…``.

    python benchmarks/memory_large_file.py [--size-mb 1024] [--seconds 120]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_throughput import sentence  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_big_file(path: Path, size_mb: int, seed: int = 11) -> int:
    """Write ``size_mb`` MiB of sentences: a varied 4 MiB block, repeated with a running line prefix."""
    rng = random.Random(seed)
    lines = []
    size = 0
    while size < 4 << 20:
        line = sentence(rng)
        lines.append(line)
        size += len(line) + 1
    block = "\n".join(lines) + "\n"
    written = 0
    target = size_mb << 20
    with open(path, "w", encoding="utf-8") as handle:
        while written < target:
            handle.write(block)
            written += len(block.encode("utf-8"))
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--max-tokens", type=int, default=0, help="engine token budget per batch (0: automatic)")
    args = parser.parse_args()

    import logging

    import subprocess

    import transformers
    from transformers import BertForSequenceClassification  # noqa: F401  (part of the runtime baseline)

    from services.core.engine import EngineOptions
    from services.analyse.run import AnalyseRequest, analyse
    from services.core.models import ModelHost

    transformers.logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="wb-mem-") as tmp:
        tmp = Path(tmp)
        model_dir = tmp / "classifier"
        # built in a child process, so this process holds only the copy the analysis loads
        subprocess.run([sys.executable, "-c", "import sys; sys.path[:0] = sys.argv[2:]; "
                        "from batch_throughput import build_classifier; from pathlib import Path; "
                        "build_classifier(Path(sys.argv[1]))", str(model_dir), str(Path(__file__).parent),
                        str(Path(__file__).resolve().parents[1])], check=True, capture_output=True)
        model_mb = sum(f.stat().st_size for f in model_dir.iterdir()) / 2**20
        data = tmp / "big.txt"
        started = time.perf_counter()
        size = write_big_file(data, args.size_mb)
        print(f"generated {size / 2**20:.0f} MiB in {time.perf_counter() - started:.1f} s: {data}")
        baseline = rss_mb()
        print(f"runtime baseline (Python + torch + transformers imported, no model): {baseline:.0f} MiB RSS")
        last = [0.0]

        def progress(done, total=None, message="", data=None):
            now = time.monotonic()
            if now - last[0] > 15:
                last[0] = now
                print(f"  {message}  RSS {rss_mb():.0f} MiB", flush=True)

        request = AnalyseRequest(paths=[str(data)], task="text-classification", model=str(model_dir),
                                 engine=EngineOptions(max_tokens=args.max_tokens))
        started = time.perf_counter()
        result = analyse(request, tmp / "results.jsonl", seconds=args.seconds, host=ModelHost(), progress=progress)
        elapsed = time.perf_counter() - started
        peak = peak_rss_mb()
        print(f"records done: {result.rows:,} in {elapsed:.1f} s (scan + model load + analysis; "
              f"stopped by the time limit: {not result.complete})")
        target = model_mb + 300
        print(f"model size on disk: {model_mb:.0f} MiB; peak RSS: {peak:.0f} MiB "
              f"(above the runtime baseline: {peak - baseline:.0f} MiB)")
        print(f"target model + 300 MiB = {target:.0f} MiB: whole process {'met' if peak < target else 'missed'}; "
              f"above baseline {'met' if peak - baseline < target else 'missed'}")
        print(f"peak_rss_mb={peak:.0f} baseline_mb={baseline:.0f} model_mb={model_mb:.0f} target_mb={target:.0f} "
              f"records={result.rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
