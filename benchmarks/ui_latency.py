"""How long does the GUI thread stall while the app imports torch, loads a model and runs 500 texts?

Starts the real main window offscreen. A 10 ms QTimer records the gap between its ticks from the
first paint on, while, through the normal job path (the job runner's model lane): the start-up
job imports torch/transformers, then the built-in model is loaded and 500 sentences are embedded
with ``services.run.predict``. Prints the worst gap per phase; last line: ``max_stall_ms=N``
(the worst gap over all phases; target N <= 50, never above 100).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="workbench-bench-")

SUBJECTS = ["The film", "This phone", "Our hotel room", "The new app update", "That novel", "The soup", "Customer service"]
VERDICTS = ["was wonderful", "felt far too long", "surprised me in a good way", "crashed twice", "was cold and bland",
            "exceeded every expectation", "was fine, nothing more"]


def sentences(count: int) -> list[str]:
    return [f"{SUBJECTS[i % len(SUBJECTS)]} {VERDICTS[(i * 3) % len(VERDICTS)]} (note {i})." for i in range(count)]


def main() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import create_window
    from gui.common.first_paint import OnFirstPaint

    app = QApplication([])
    window = create_window()
    gaps: dict[str, float] = {}
    state = {"phase": "before first paint", "last": time.perf_counter()}

    def tick() -> None:
        now = time.perf_counter()
        phase = state["phase"]
        gaps[phase] = max(gaps.get(phase, 0.0), now - state["last"])
        state["last"] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    texts = sentences(500)
    timings: dict[str, float] = {}

    def run_batch(progress, cancel):
        from services.core.models import default_host
        from services.run import predict

        state["phase"] = "load built-in model"
        start = time.perf_counter()
        loaded = default_host.get("builtin", "sentence-similarity", device="cpu")
        timings["load"] = time.perf_counter() - start
        state["phase"] = "embed 500 sentences"
        start = time.perf_counter()
        results = predict(loaded, texts, {}, progress=progress, cancel=cancel)
        timings["infer"] = time.perf_counter() - start
        return results

    def start_batch() -> None:
        job = window.context.runner.submit("Embed 500 sentences", run_batch, key="bench")
        job.result.connect(lambda results: timings.__setitem__("count", len(results)))
        job.finished.connect(finish)

    def finish() -> None:
        state["phase"] = "done"
        QTimer.singleShot(50, app.quit)

    def on_first_paint() -> None:
        state["phase"] = "start-up job: import torch + transformers"
        state["last"] = time.perf_counter()
        timer.start()
        warmup = window.start_device_detection()
        warmup.finished.connect(start_batch)

    window._first_paint = OnFirstPaint(window, on_first_paint)
    window.show()
    app.exec()
    timer.stop()
    window.close()
    assert timings.get("count") == 500, "the batch did not complete"
    gaps.pop("done", None)
    gaps.pop("before first paint", None)
    for phase, gap in gaps.items():
        print(f"{phase}: longest gap between 10 ms ticks {gap * 1000:.1f} ms")
    print(f"model load {timings['load']:.2f} s, 500 sentences {timings['infer']:.2f} s")
    print(f"max_stall_ms={max(gaps.values()) * 1000:.0f}")


if __name__ == "__main__":
    main()
