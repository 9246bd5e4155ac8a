"""Headless verbs of ``main.py``. One module per verb, each with ``register(subparsers)``.

A verb's handler returns an exit code. :class:`~services.core.errors.WorkbenchError` becomes one line
on stderr and exit code 2; anything unexpected becomes one line and exit code 1.
"""

from __future__ import annotations

import os
import sys

from cli import analyse, download, library, predict, tokenize, train

# Modules that register verbs, imported by name so that a frozen build finds them; add yours here.
VERB_MODULES = [predict, tokenize, analyse, library, download, train]


def register_all(subparsers) -> None:
    for module in VERB_MODULES:
        module.register(subparsers)


def run_command(args) -> int:
    from services.core.errors import Cancelled, WorkbenchError

    # stderr carries our own progress bar and one-line errors only, not library progress bars
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        return int(args.handler(args) or 0)
    except WorkbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Cancelled):
        print("cancelled", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - one readable line, never a traceback
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
