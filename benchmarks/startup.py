"""Time from launching ``python main.py`` to the first painted window, vs importing torch+transformers.

Both are measured in fresh processes on this machine (best of N runs each). The app is run
offscreen with a throw-away settings folder. Last line:
``time_to_window_s=X import_torch_transformers_s=Y``  (targets: X <= 1.0 and X < Y/2).
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


def time_to_window(timeout: float = 60.0) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, WORKBENCH_HOME=home, WORKBENCH_DEBUG_STARTUP="1", QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            for line in process.stdout:
                if line.startswith(MARKER):
                    return time.perf_counter() - start
                if time.perf_counter() - start > timeout:
                    break
            raise RuntimeError("the window never reported its first paint")
        finally:
            process.kill()
            process.wait()


def time_heavy_imports() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, transformers"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    windows, imports = [], []
    for run in range(args.runs):
        windows.append(time_to_window())
        imports.append(time_heavy_imports())
        print(f"run {run + 1}: window {windows[-1]:.3f}s, import torch+transformers {imports[-1]:.3f}s")
    x, y = min(windows), min(imports)
    print(f"best of {args.runs}: window {x:.3f}s, imports {y:.3f}s, ratio {x / y:.2f} (target < 0.5)")
    print(f"time_to_window_s={x:.3f} import_torch_transformers_s={y:.3f}")


if __name__ == "__main__":
    main()
