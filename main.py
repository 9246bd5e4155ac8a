"""Transformers Workbench: ``python main.py`` opens the window; ``python main.py VERB ...`` runs headless.

Verbs (``python main.py --help`` lists them) call the same services as the GUI. Errors print one
clear line on stderr and exit non-zero; set WORKBENCH_DEBUG=1 for a traceback.

The built app (``packaging/``) runs this same entry point. Child processes the app starts go
through it too, with an internal verb (``_hub-download`` …, never listed in ``--help``): the
frozen executable cannot run ``python -m``, so from source the child is ``python main.py
_hub-download …`` and in the bundle ``transformers-workbench _hub-download …``.
"""

from __future__ import annotations

import time

_STARTED_AT = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

APP_TITLE = "Transformers Workbench"


def app_version() -> str:
    """The version in pyproject.toml (beside this file in a checkout and in the bundle), else the installed one."""
    pyproject = Path(__file__).resolve().parent / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, ValueError, KeyError):
            pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("transformers-workbench")
    except PackageNotFoundError:
        return "unknown"


def check_data_folder() -> str | None:
    """Make sure settings and models have a writable home; returns a warning for the user, or None.

    With HOME unset (and no home in the user database) or not writable, the app's data folder cannot
    be made. Rather than fail later, the data go to a folder in the temporary directory for this session
    (WORKBENCH_HOME), and the user is told where and how to choose another.
    """
    import tempfile

    from services.core.paths import APP_DIR_NAME, app_data_dir

    try:
        folder = app_data_dir()
        reason = None
    except RuntimeError:  # Path.home(): HOME unset and no entry in the user database
        folder, reason = None, "there is no home folder (HOME is not set)"
    if folder is not None:
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            reason = f"the data folder {folder} cannot be created or written (no write access to {existing})"
        else:
            return None
    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    fallback = Path(tempfile.gettempdir()) / f"{APP_DIR_NAME}-{uid}"
    try:
        fallback.mkdir(mode=0o700, exist_ok=True)
    except OSError as error:
        return f"warning: {reason}, nor {fallback} ({error.strerror}): settings and models cannot be saved."
    os.environ["WORKBENCH_HOME"] = str(fallback)
    if folder is None:  # no home at all: give the libraries that look for one (HF cache, Qt) this folder
        os.environ["HOME"] = str(fallback)
    return (f"warning: {reason}; settings and models are kept in {fallback} for now. Set HOME to a writable "
            "folder, or WORKBENCH_HOME to the folder to use.")


def run_internal_verb(argv: list[str]) -> int:
    """A child process the app started itself (see the module docstring)."""
    from services.library import hub_download

    if argv[0] == hub_download.CHILD_VERB:
        return hub_download.child_main(argv[1:])
    print(f"error: unknown internal verb '{argv[0]}'", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    from cli import register_all

    prog = "transformers-workbench" if getattr(sys, "frozen", False) else "main.py"
    parser = argparse.ArgumentParser(prog=prog, description=f"{APP_TITLE} (no verb: open the window)")
    parser.add_argument("--version", action="version", version=f"{APP_TITLE} {app_version()}")
    parser.add_argument("--library", metavar="DIR", help="model library folder (default: the app's data folder)")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB")
    register_all(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_"):
        return run_internal_verb(argv)
    from services.core.warmup import configure_torch_environment

    configure_torch_environment()  # before any verb imports torch
    args = build_parser().parse_args(argv)
    if args.library:
        os.environ["WORKBENCH_LIBRARY"] = os.path.abspath(args.library)
    warning = check_data_folder()
    if warning:
        print(warning, file=sys.stderr)
    if args.verb is None:
        from gui.app import run_gui

        return run_gui([sys.argv[0]], started_at=_STARTED_AT, notices=[warning] if warning else [])
    from cli import run_command

    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
