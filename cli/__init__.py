"""Headless verbs of ``main.py``. One module per verb, each with ``register(subparsers)``.

A verb's handler returns an exit code. :class:`~services.core.errors.WorkbenchError` becomes one line
on stderr and exit code 2; anything unexpected becomes one line and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from cli import analyse, download, library, predict, tokenize, train

# Modules that register verbs, imported by name so that a frozen build finds them; add yours here.
VERB_MODULES = [predict, tokenize, analyse, library, download, train]


def register_all(subparsers) -> None:
    for module in VERB_MODULES:
        module.register(subparsers)
    for parser in set(subparsers.choices.values()):
        add_verbose(parser)


def add_verbose(parser) -> None:
    """``--verbose`` on each verb that runs (``predict --verbose``, ``library list --verbose``)."""
    groups = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    for group in groups:
        for child in set(group.choices.values()):
            add_verbose(child)
    if not groups and "--verbose" not in parser._option_string_actions:
        parser.add_argument("--verbose", action="store_true",
                            help="also show the libraries' own warnings and progress bars on stderr")


def quiet_libraries(verbose: bool) -> None:
    """stdout carries only what the user asked for, stderr our own progress, warnings and one-line errors:
    no tqdm bars, no transformers load reports or advice, unless ``--verbose`` or WORKBENCH_DEBUG. Set
    before transformers is imported (a verb imports it in its handler); set again if it already was."""
    if verbose:
        return
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


def check_arguments(args) -> None:
    """Checks every verb shares, made before any model loads: ``--model`` names a folder (a library name,
    a cached repo id, 'builtin' or a path: one resolver for every verb, so the verb and any worker get the
    folder's path), and zero-shot has ``--labels``."""
    from services.core.errors import InputError
    from services.core.model_info import BUILTIN, resolve_model_path

    model = getattr(args, "model", None)
    if isinstance(model, str) and model not in (BUILTIN, "built-in"):
        args.model = str(resolve_model_path(model))
    if getattr(args, "task", None) == "zero-shot-classification" and hasattr(args, "labels"):
        from services.core.tasks import parse_labels

        if not parse_labels(args.labels):
            raise InputError("Zero-shot classification needs candidate labels: pass them with --labels.",
                             hint='For example --labels "sports,politics,cooking".')


def run_command(args) -> int:
    from services.core.errors import Cancelled, WorkbenchError

    quiet_libraries(bool(getattr(args, "verbose", False) or os.environ.get("WORKBENCH_DEBUG")))
    try:
        check_arguments(args)
        return int(args.handler(args) or 0)
    except WorkbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`... | head`): nothing left to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (KeyboardInterrupt, Cancelled):
        print("cancelled", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - one readable line, never a traceback
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
