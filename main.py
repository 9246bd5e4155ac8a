"""Transformers Workbench: ``python main.py`` opens the window; ``python main.py VERB ...`` runs headless.

Verbs (``python main.py --help`` lists them) call the same services as the GUI. Errors print one
clear line on stderr and exit non-zero; set WORKBENCH_DEBUG=1 for a traceback.
"""

from __future__ import annotations

import time

_STARTED_AT = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    from cli import register_all

    parser = argparse.ArgumentParser(prog="main.py", description="Transformers Workbench (no verb: open the window)")
    parser.add_argument("--library", metavar="DIR", help="model library folder (default: the app's data folder)")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB")
    register_all(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from services.core.warmup import configure_torch_environment

    configure_torch_environment()  # before any verb imports torch
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.library:
        os.environ["WORKBENCH_LIBRARY"] = os.path.abspath(args.library)
    if args.verb is None:
        from gui.app import run_gui

        return run_gui([sys.argv[0]], started_at=_STARTED_AT)
    from cli import run_command

    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
