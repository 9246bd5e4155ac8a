"""Import torch and transformers without freezing the GUI thread (run on a worker).

Two things stall other threads while a big library is imported, because they hold the GIL:
``dlopen`` of torch's huge shared libraries (hundreds of ms), and the garbage collector's full
passes over the hundreds of thousands of objects the imports create. So we ``dlopen`` the
libraries through ctypes (a foreign call, which releases the GIL) before Python imports them,
pause the collector during the imports, and freeze the imported objects out of later passes.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import sys
import threading

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress

TORCH_LIBRARIES = ("libc10.so", "libtorch_cpu.so", "libtorch.so", "libtorch_python.so")
# oneDNN (torch's CPU kernels) caches compiled primitives per tensor shape, 1024 of them by default.
# Batches of varying length make new shapes all the time, so on a large file the cache grew the
# process by ~200 MB in 90 s; without it, memory stays flat and throughput was the same or better
# here (engine 297-347 vs 281-332 texts/s). Read once, when torch first runs a kernel.
ONEDNN_CACHE_SETTING = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "0")


def configure_torch_environment() -> None:
    """Environment for torch, set before it is imported (a user's own setting wins)."""
    os.environ.setdefault(*ONEDNN_CACHE_SETTING)


_IMPORT_LOCK = threading.Lock()  # importing transformers from two threads at once can fail
MODULES = ("torch", "transformers", "transformers.modeling_utils", "transformers.models.bert.modeling_bert",
           "transformers.pipelines")


def _preload_torch_libraries() -> None:
    """Linux only, best effort: load torch's shared libraries with the GIL released."""
    if not sys.platform.startswith("linux") or "torch" in sys.modules:
        return
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return
    lib_dir = os.path.join(list(spec.submodule_search_locations)[0], "lib")
    try:
        libdl = ctypes.CDLL(None)
        libdl.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        libdl.dlopen.restype = ctypes.c_void_p
    except (OSError, AttributeError):
        return
    for name in TORCH_LIBRARIES:
        path = os.path.join(lib_dir, name)
        if os.path.exists(path):
            libdl.dlopen(path.encode(), os.RTLD_NOW | os.RTLD_GLOBAL)


def import_heavy_modules(progress: Progress = no_progress, cancel: CancelToken = NEVER_CANCELLED) -> None:
    """Import torch, transformers and the modules the first model load needs (once, thread-safe).

    transformers' lazy module is not safe to import from two threads at the same time (one of
    them may see a half-initialised module), so every worker job calls this first: the first
    one imports, the others wait for it.
    """
    if _done.is_set():
        return
    with _IMPORT_LOCK:
        if not _done.is_set():
            _import(progress, cancel)


_done = threading.Event()  # set once every module in MODULES is imported


def _import(progress: Progress, cancel: CancelToken) -> None:
    total = len(MODULES) + 1
    progress(0, total, "Loading PyTorch libraries")
    configure_torch_environment()
    _preload_torch_libraries()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for index, name in enumerate(MODULES, start=1):
            cancel.check()
            progress(index, total, f"Importing {name}")
            importlib.import_module(name)
        _done.set()
    finally:
        gc.freeze()  # keep the imported modules out of future collections
        if was_enabled:
            gc.enable()
