"""The work of Transformers Workbench, free of widgets.

Nothing here imports Qt (the CLI and plain pytest use these modules without a QApplication), and
no module imports torch or transformers at import time: they are imported inside the functions that need them, so the
GUI can import these modules while painting its first window.
"""
