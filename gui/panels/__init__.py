"""One dock panel per module. ``PANELS`` lists them in the order they are docked.

Each entry is ``(module, class name)``; the class has ``TITLE``, ``OBJECT_NAME``, ``AREA``
("main", "left", "right" or "bottom") and takes ``(context, parent=None)``.
"""

PANELS = [
    ("gui.panels.run_panel", "RunPanel"),
    ("gui.panels.tokenizer_panel", "TokenizerPanel"),
    ("gui.panels.internals_panel", "InternalsPanel"),
    ("gui.panels.library_panel", "LibraryPanel"),
    ("gui.panels.train_panel", "TrainPanel"),
    ("gui.panels.analyse_panel", "AnalysePanel"),
    ("gui.panels.jobs_panel", "JobsPanel"),
    ("gui.panels.log_panel", "LogPanel"),
]
