"""``main.py tokenize``: the tokens, ids, token_type_ids, attention_mask and offsets of a text.

    python main.py tokenize --model builtin "I'm so excited to be learning about large language models."
    python main.py tokenize --model FOLDER --pair "second segment" --json "first segment"
"""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("tokenize", help="show how a tokenizer splits a text (tokens, ids, masks, offsets)")
    parser.add_argument("--model", default="builtin", help='"builtin" or a model/tokenizer folder (default: builtin)')
    parser.add_argument("--pair", metavar="TEXT2", help="a second segment (sentence pair)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("text", nargs="+", help="the text to tokenize (quote it when it has spaces)")
    parser.set_defaults(handler=run)


def check_one_text(texts: list[str], pair: str | None) -> str:
    """The one text to tokenize; two or more say how to pass a second segment (or a text with spaces)."""
    from services.core.errors import InputError

    if len(texts) == 1:
        return texts[0]
    shown = " ".join(f'"{t}"' for t in texts[:3]) + (" …" if len(texts) > 3 else "")
    if len(texts) == 2 and pair is None:
        raise InputError(f"tokenize takes one text, got 2 ({shown}).",
                         hint=f'For a sentence pair pass the second segment with --pair: tokenize "{texts[0]}" '
                              f'--pair "{texts[1]}". For one text with spaces, put it in quotes.')
    raise InputError(f"tokenize takes one text, got {len(texts)} ({shown}).",
                     hint="Put a text with spaces in quotes; a second segment goes after --pair.")


def run(args) -> int:
    from services.tokenizer.inspect import describe_roles, encode, load_tokenizer, role_name

    text = check_one_text(args.text, args.pair)
    handle = load_tokenizer(args.model)
    encoding = encode(handle, text, args.pair)
    if args.json:
        print(json.dumps(encoding.to_json(handle.tokenizer), ensure_ascii=False))
        return 0
    out = sys.stdout
    out.write(f"tokenizer: {handle.name}  ({len(encoding.rows)} tokens, {encoding.unknown_count} unknown)\n")
    out.write(f"{'pos':>4}  {'token':<18} {'id':>7}  {'type':>4}  {'mask':>4}  {'offsets':<10}  role\n")
    for row in encoding.rows:
        offsets = f"{row.start}-{row.end}" if row.start is not None else "-"
        role = ", ".join(role_name(key) for key in row.roles)
        type_id = "-" if row.token_type_id is None else str(row.token_type_id)
        out.write(f"{row.position:>4}  {row.token:<18} {row.id:>7}  {type_id:>4}  {row.attention_mask:>4}  "
                  f"{offsets:<10}  {role}\n")
    out.write(f"input_ids:      {encoding.input_ids}\n")
    out.write(f"token_type_ids: {[row.token_type_id for row in encoding.rows]}\n")
    out.write(f"attention_mask: {[row.attention_mask for row in encoding.rows]}\n")
    out.write(f"offsets:        {[(row.start, row.end) if row.start is not None else None for row in encoding.rows]}\n")
    seen = set()
    for row in encoding.rows:
        if row.roles and row.token not in seen:
            seen.add(row.token)
            out.write(f"{row.token}: {describe_roles(row.roles)}\n")
    for note in encoding.notes:
        out.write(f"note: {note}\n")
    return 0
