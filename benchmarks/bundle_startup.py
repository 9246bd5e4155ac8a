"""Time to the first painted window: the built bundle vs ``python main.py``, in the same run.

Both start in fresh processes (best of N each, interleaved so that both see the same machine), offscreen,
with a throw-away settings folder, and report their first paint with WORKBENCH_DEBUG_STARTUP=1. The
clock runs from launching the process to the marker line. Build the bundle first
(``python3 packaging/build.py``). Last line:
``bundle_time_to_window_s=X source_time_to_window_s=Y ratio=X/Y`` (target: ratio <= 1.2).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "WORKBENCH_WINDOW_SHOWN"
DEFAULT_BUNDLE = ROOT / "dist" / "TransformersWorkbench" / "transformers-workbench"


def time_to_window(command: list[str], timeout: float = 120.0) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, WORKBENCH_HOME=home, WORKBENCH_DEBUG_STARTUP="1",
                   QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        try:
            for line in process.stdout:
                if line.startswith(MARKER):
                    return time.perf_counter() - start
                if time.perf_counter() - start > timeout:
                    break
            raise RuntimeError(f"{command[0]} never reported its first paint")
        finally:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bundle", default=str(DEFAULT_BUNDLE), help="the bundle's executable")
    args = parser.parse_args()
    if not Path(args.bundle).is_file():
        sys.exit(f"{args.bundle} does not exist: build it with python3 packaging/build.py")
    commands = {"bundle": [args.bundle], "source": [sys.executable, str(ROOT / "main.py")]}
    for command in commands.values():  # warm the file cache once each; not counted
        time_to_window(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(args.runs):
        for name, command in commands.items():
            times[name].append(time_to_window(command))
        print(f"run {run + 1}: bundle {times['bundle'][-1]:.3f} s, source {times['source'][-1]:.3f} s")
    bundle, source = min(times["bundle"]), min(times["source"])
    print(f"best of {args.runs}: bundle {bundle:.3f} s, source {source:.3f} s (python: {sys.executable})")
    print(f"bundle_time_to_window_s={bundle:.3f} source_time_to_window_s={source:.3f} ratio={bundle / source:.2f}")


if __name__ == "__main__":
    main()
