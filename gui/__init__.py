"""Widgets of Transformers Workbench. Imports services/, never the reverse."""

import sys

if sys.version_info < (3, 12):
    # PySide6 6.12 / shiboken6 on Python 3.11 return None/True/False from void Qt calls and from
    # Signal.emit() without taking a reference, so every such call drops one reference to the
    # singleton; after a few thousand calls Python aborts ("none_dealloc: deallocating None").
    # Python 3.12+ makes these objects immortal; give them the same protection here.
    import ctypes

    for _singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(_singleton)).value += 1 << 40
    del _singleton
