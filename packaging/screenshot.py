"""A picture of the bundled app's window: ``.venv/bin/python packaging/screenshot.py [BUNDLE] [OUT.png]``.

``--click X,Y`` (with xdotool) clicks there once the app is ready, ``--settle S`` waits S seconds before the
grab: e.g. ``--click 49,345 --settle 30`` presses the Run panel's Run button at the default window size.

Starts Xvfb, runs the bundle there as a real X11 window (Qt's xcb plugin from the bundle), waits until the
window has painted and imported torch/transformers (WORKBENCH_DEBUG_STARTUP=1), then grabs the screen with
Qt from this Python (PySide6 in the dev venv) and crops it to the window. Needs Debian's xvfb and the xcb
libraries listed in docs (design notes, "Testing as a user would").
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1280, 820)


def wait_for(process: subprocess.Popen, marker: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        if line.startswith(marker):
            return line.strip()
        if time.monotonic() > deadline:
            break
    raise SystemExit(f"the app never printed {marker}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", default=str(ROOT / "dist" / "TransformersWorkbench"))
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "bundle.png"))
    parser.add_argument("--click", action="append", default=[], metavar="X,Y")
    parser.add_argument("--settle", type=float, default=1.0, metavar="S")
    args = parser.parse_args()
    bundle = Path(args.bundle).resolve()
    out = Path(args.out)
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is not installed (apt-get install xvfb)")
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{SIZE[0]}x{SIZE[1] + 40}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    home = tempfile.mkdtemp(prefix="workbench-shot-")
    app = None
    try:
        time.sleep(1.0)  # Xvfb has no readiness signal
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
               "WORKBENCH_DEBUG_STARTUP": "1", "LANG": "C.UTF-8"}
        app = subprocess.Popen([str(bundle / "transformers-workbench")], env=env, cwd=home, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        print(wait_for(app, "WORKBENCH_WINDOW_SHOWN", 120))
        print(wait_for(app, "WORKBENCH_TORCH_READY", 300))
        for point in args.click:
            x, y = point.split(",")
            subprocess.run(["xdotool", "mousemove", x, y, "click", "1"], env=dict(os.environ, DISPLAY=display),
                           check=True)
        time.sleep(args.settle)  # let the app repaint after the start-up job (and the clicks)
        os.environ.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
        from PySide6.QtGui import QGuiApplication

        grabber = QGuiApplication([sys.argv[0]])  # noqa: F841
        screen = QGuiApplication.primaryScreen()
        picture = screen.grabWindow(0)
        image = picture.toImage()
        # crop to what is not the X root background (the window, undecorated, at its position)
        background = image.pixel(image.width() - 1, image.height() - 1)
        xs = [x for x in range(image.width()) if image.pixel(x, image.height() // 2) != background]
        ys = [y for y in range(image.height()) if image.pixel(image.width() // 2, y) != background]
        if xs and ys:
            picture = picture.copy(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)
        out.parent.mkdir(parents=True, exist_ok=True)
        picture.save(str(out), "PNG")
        print(f"wrote {out} ({picture.width()}x{picture.height()})")
    finally:
        if app is not None:
            app.terminate()
            app.wait(timeout=15)
        xvfb.terminate()
        xvfb.wait(timeout=15)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
