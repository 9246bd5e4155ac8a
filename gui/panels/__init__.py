"""The dock panels, in the order they are docked: one package per panel under ``gui/``.

Each class has ``TITLE``, ``OBJECT_NAME``, ``AREA`` ("main", "left", "right" or "bottom") and takes
``(context, parent=None)``. Imported by name (not looked up from strings) so that a frozen build
(PyInstaller) finds every panel.
"""

from gui.analyse.panel import AnalysePanel
from gui.internals.panel import InternalsPanel
from gui.jobs.panel import JobsPanel
from gui.library.panel import LibraryPanel
from gui.log.panel import LogPanel
from gui.run.panel import RunPanel
from gui.tokenizer.panel import TokenizerPanel
from gui.train.panel import TrainPanel

PANELS = [RunPanel, TokenizerPanel, InternalsPanel, LibraryPanel, TrainPanel, AnalysePanel, JobsPanel, LogPanel]
