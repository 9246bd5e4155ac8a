"""The Qt binding must not leak or drop references: PySide6 6.12.0 on Python 3.11 drops one
reference to None/True/False per Signal.emit() and per void Qt call, and Python aborts after a
few thousand. pyproject.toml excludes it; this test fails if such a build comes back."""

import subprocess
import sys

CODE = """
import sys
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
class Sender(QObject):
    ping = Signal(int)
sender = Sender()
before = sys.getrefcount(None), sys.getrefcount(True)
for i in range(5000):
    label.setText("x")
    sender.ping.emit(i)
after = sys.getrefcount(None), sys.getrefcount(True)
print(before[0] - after[0], before[1] - after[1])
"""


def test_signal_emit_keeps_singleton_references():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert result.returncode == 0, result.stderr[-500:]
    lost_none, lost_true = (int(x) for x in result.stdout.split())
    assert lost_none < 100 and lost_true < 100
