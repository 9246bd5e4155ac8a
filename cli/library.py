"""``main.py [--library DIR] library list|import|rename|remove|verify``: the model library, headless."""

from __future__ import annotations

import datetime
import json
import sys

from services.core.errors import InputError


def register(subparsers) -> None:
    parser = subparsers.add_parser("library", help="list and manage the models on this machine")
    verbs = parser.add_subparsers(dest="library_verb", metavar="ACTION", required=True)

    listing = verbs.add_parser("list", help="every model: built-in, library, Hugging Face cache, extra folders")
    listing.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    listing.add_argument("--extra", action="append", default=[], metavar="DIR", help="also scan this folder (repeatable)")
    listing.add_argument("--no-cache", action="store_true", help="skip the Hugging Face cache")
    listing.set_defaults(handler=list_command)

    importing = verbs.add_parser("import", help="copy a model folder into the library")
    importing.add_argument("path")
    importing.add_argument("--name", help="name in the library (default: the folder's name)")
    importing.set_defaults(handler=import_command)

    rename = verbs.add_parser("rename", help="rename a library model")
    rename.add_argument("old")
    rename.add_argument("new")
    rename.set_defaults(handler=rename_command)

    remove = verbs.add_parser("remove", help="delete a library model or a Hugging Face cache entry")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="really delete (required)")
    remove.set_defaults(handler=remove_command)

    verify = verbs.add_parser("verify", help="reload a model and compare its outputs with the saved reference")
    verify.add_argument("name")
    verify.add_argument("--trust-remote-code", action="store_true", help="allow code shipped with the model to run")
    verify.set_defaults(handler=verify_command)


def _entries(args=None, include_cache: bool = True):
    from services.library.folder import list_models

    extra = getattr(args, "extra", []) if args is not None else []
    return list_models(extra_dirs=extra, include_cache=include_cache)


# Columns of `library list`: (header, widest a cell may be before it wraps; 0 = never wraps). A cell wraps
# between words (tasks between names), never inside one; PATH comes last and is printed whole.
COLUMNS = (("NAME", 40), ("SOURCE", 0), ("ARCHITECTURE", 34), ("TASKS", 26), ("LABELS", 24), ("PARAMS", 0),
           ("SIZE", 0), ("FORMAT", 0), ("TOKENIZER", 24), ("MODIFIED", 0), ("PROBLEM", 40), ("PATH", 0))


def _human(entry) -> list[str]:
    from services.library.ops import format_size

    params = f"{entry.parameters / 1e6:.1f}M" if entry.parameters else "?"
    modified = datetime.datetime.fromtimestamp(entry.modified).strftime("%Y-%m-%d") if entry.modified else ""
    fmt = entry.format + (" !" if entry.pickle_weights else "")
    return [entry.name, entry.source, entry.architecture or "-", ", ".join(entry.tasks) or "-",
            ", ".join(entry.labels[:4]) + (" …" if len(entry.labels) > 4 else ""), params,
            format_size(entry.size_bytes), fmt, entry.tokenizer_class, modified, entry.problem, str(entry.path)]


def _wrap(cell: str, width: int) -> list[str]:
    """The lines of one cell: whole when ``width`` is 0 or it fits, else wrapped between words (a word
    longer than the width gets a line of its own, uncut)."""
    import textwrap

    if not width or len(cell) <= width:
        return [cell]
    return textwrap.wrap(cell, width, break_long_words=False, break_on_hyphens=False) or [""]


def format_table(rows: list[list[str]]) -> str:
    """Rows as aligned columns; a row whose cells wrap takes several lines."""
    header = [name for name, _ in COLUMNS]
    wrapped = [[_wrap(cell, limit) for cell, (_, limit) in zip(row, COLUMNS)] for row in [header] + rows]
    widths = [max(len(line) for row in wrapped for line in row[i]) for i in range(len(COLUMNS))]
    lines = []
    for row in wrapped:
        for index in range(max(len(cell) for cell in row)):
            parts = [(cell[index] if index < len(cell) else "").ljust(width) for cell, width in zip(row, widths)]
            lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def list_command(args) -> int:
    entries = _entries(args, include_cache=not args.no_cache)
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2))
        return 0
    print(format_table([_human(e) for e in entries]))
    if any(e.pickle_weights for e in entries):
        print("\n! pickle (.bin) weights can run code when loaded; prefer safetensors.", file=sys.stderr)
    return 0


def import_command(args) -> int:
    from cli.progress import StderrProgress
    from services.library.ops import import_folder

    bar = StderrProgress("import")
    try:
        path = import_folder(args.path, args.name, progress=bar)
    finally:
        bar.close()
    print(path)
    return 0


def rename_command(args) -> int:
    from services.library.folder import find_model
    from services.library.ops import rename_model

    path = rename_model(find_model(args.old, _entries(include_cache=False)), args.new)
    print(path)
    return 0


def remove_command(args) -> int:
    from services.library.folder import find_model
    from services.library.ops import delete_model

    entry = find_model(args.name, _entries())
    if not args.yes:
        raise InputError(f"Not deleting '{entry.name}' without --yes.", hint="Run again with --yes to delete it.")
    print(delete_model(entry).message)
    return 0


def verify_command(args) -> int:
    from cli.progress import StderrProgress
    from services.library.folder import find_model
    from services.library.verify import verify_model

    entry = find_model(args.name, _entries())
    bar = StderrProgress("verify")
    try:
        result = verify_model(entry.spec, trust_remote_code=args.trust_remote_code, progress=bar)
    finally:
        bar.close()
    print(result.message)
    return 0 if result.passed else 1
