"""``main.py predict``: run a task on texts and print one JSON object per text on stdout.

    python main.py predict --task text-classification --model ./my-model "Great film!" "Dull."
    python main.py predict --task zero-shot-classification --model builtin --labels sports,politics "..."
    python main.py predict --task sentence-similarity --model builtin "A cat sits." "A kitten rests."
    python main.py predict --task question-answering --model ./squad-model --question "Who?" "CONTEXT..."
    python main.py predict --task summarization --model ./t5-small "A long text..."
    python main.py predict --task translation --model ./opus-mt-en-fr "Hello, world."

With ``sentence-similarity`` and exactly two texts it prints their cosine; otherwise each text's
embedding shape (``--embeddings`` adds the vectors). Texts "-" are read from stdin, one per line.
"""

from __future__ import annotations

import argparse
import json
import sys

from services.core.errors import InputError
from services.core.precision import PRECISIONS
from services.core.tasks import AGGREGATIONS, DEFAULT_AGGREGATION, TASKS

from cli import text_tasks


def register(subparsers) -> None:
    parser = subparsers.add_parser("predict", help="run a task on texts and print one JSON line per text",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", required=True, choices=list(TASKS), help="what to do with the texts")
    parser.add_argument("--model", required=True, help="a save_pretrained() folder, or 'builtin'")
    parser.add_argument("--labels", help="zero-shot candidate labels, comma-separated")
    parser.add_argument("--template", help="zero-shot hypothesis template with {} for the label")
    parser.add_argument("--multi-label", action="store_true", help="zero-shot: score each label on its own")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default: cpu)")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="float32 (default), bfloat16 (CPUs with AMX/AVX512-BF16, GPUs), float16 (GPUs), int8 (CPU), "
                             "or auto: the fastest that agrees with float32 on a built-in sample; reduced precisions "
                             "are checked against float32 and the result goes to stderr")
    parser.add_argument("--dtype", default=None, help=argparse.SUPPRESS)  # the older name of --precision
    parser.add_argument("--top-k", type=int, help="classification: how many classes; fill-mask: candidates")
    parser.add_argument("--aggregation", default=DEFAULT_AGGREGATION, choices=AGGREGATIONS,
                        help=f"NER: how word pieces become entities (default: {DEFAULT_AGGREGATION}, one label per word)")
    parser.add_argument("--max-new-tokens", type=int, help="text generation: tokens to add")
    parser.add_argument("--temperature", type=float, help="text generation: sampling temperature")
    parser.add_argument("--top-p", type=float, help="text generation: nucleus sampling probability")
    parser.add_argument("--greedy", action="store_true", help="text generation: no sampling")
    parser.add_argument("--seed", type=int, help="text generation: random seed")
    parser.add_argument("--embeddings", action="store_true", help="similarity: print the vectors too")
    text_tasks.add_arguments(parser)
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to run on ('-' reads lines from stdin)")
    parser.set_defaults(handler=run)


def _texts(args) -> list[str]:
    texts: list[str] = []
    for text in args.texts:
        if text == "-":
            texts += [line.rstrip("\n") for line in sys.stdin if line.strip()]
        else:
            texts.append(text)
    if not texts:
        raise InputError("No text given.", hint="Pass the texts after the options, or '-' to read them from stdin.")
    return texts


def _options(args) -> dict:
    options: dict = {"aggregation_strategy": args.aggregation}
    if args.top_k is not None:
        options["top_k"] = args.top_k
    if args.labels is not None:
        options["candidate_labels"] = args.labels
    if args.template:
        options["hypothesis_template"] = args.template
    options["multi_label"] = args.multi_label
    for name in ("max_new_tokens", "temperature", "top_p", "seed"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.greedy:
        options["do_sample"] = False
    return options


def report_precision(check) -> None:
    """The precision line on stderr when it is not plain float32 (stdout stays JSON)."""
    if check is not None and (check.requested != "float32" or check.notes):
        summary, *notes = check.lines()
        print(f"precision: {summary}", file=sys.stderr)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)


def run(args) -> int:
    from services.core import precision
    from services.run import predict, similarity
    from services.run.common import check_texts

    texts = _texts(args)
    task_options = text_tasks.options(args, args.task)  # before the model loads: a missing --question says so now
    if args.task != text_tasks.QA:
        texts = check_texts(texts)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # stderr carries our own progress and one-line errors only
    hf_logging.set_verbosity_error()
    progress = None
    if sys.stderr.isatty():
        from cli.progress import StderrProgress

        progress = StderrProgress(args.task)
    kwargs = {"progress": progress} if progress else {}
    try:
        loaded = precision.load(args.model, args.task, device=args.device,
                                precision=args.precision or args.dtype or "float32",
                                options=precision.engine_options(args.task, _options(args)), **kwargs)
        report_precision(loaded.check)
        if args.task == "sentence-similarity" and len(texts) == 2:
            results = [similarity(loaded, texts[0], texts[1], **kwargs)]
            results[0] = {"text_a": texts[0], "text_b": texts[1], **results[0]}
        elif args.task == text_tasks.QA or args.task in text_tasks.SEQ2SEQ:
            raw = predict(loaded, texts, {**_options(args), **task_options}, **kwargs)
            for result in raw:
                if result.get("notice"):
                    print(f"note: {result['notice']}", file=sys.stderr)
            results = [text_tasks.printable(args.task, result, args.top_k) for result in raw]
        else:
            results = [{"text": text, **result} for text, result in
                       zip(texts, predict(loaded, texts, _options(args), **kwargs))]
            if args.task == "sentence-similarity" and not args.embeddings:
                for result in results:
                    del result["embedding"]
    finally:
        if progress:
            progress.close()
    for result in results:
        print(json.dumps(result, ensure_ascii=False))
    return 0
