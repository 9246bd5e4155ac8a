"""Layering rules from design.md, checked on the real source."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert "Contracts: 2 kept, 0 broken" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0


def test_services_import_no_widgets():
    offenders = []
    for path in (ROOT / "services").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(from|import)\s+PySide6(\.QtWidgets|\.QtGui|\s+import\s+.*\b(QtWidgets|QtGui)\b)", text, re.M):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_window_modules_do_not_import_torch():
    """The start-up path (main window and every panel) must not import torch, transformers or
    pyqtgraph (half a second with what it imports): they load on a worker or when first shown."""
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gui.app import create_window\n"
        "w = create_window()\n"
        "heavy = [m for m in ('torch', 'transformers', 'pyqtgraph') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"imported on the start-up path: {result.stdout}"
