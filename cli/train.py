"""``main.py train`` (fine-tune a model on a labelled file) and ``main.py train-starter``.

Progress goes to stderr, the metrics as one JSON object to stdout, the model into the library.
Ctrl+C stops training after the current step and keeps (and saves) the best epoch so far.
"""

from __future__ import annotations

import json
import signal
import sys
from contextlib import contextmanager

from services.training import TEXT_CLASSIFICATION, TRAIN_TASKS
from services.training.config import HELP, Hyperparameters, default_learning_rate


def register(subparsers) -> None:
    defaults = Hyperparameters()
    parser = subparsers.add_parser("train", help="fine-tune a model on a labelled file and save it to the library",
                                   description="Fine-tune MODEL on FILE; progress on stderr, metrics as JSON on stdout.")
    parser.add_argument("--task", choices=list(TRAIN_TASKS), default=TEXT_CLASSIFICATION,
                        help="text-classification (CSV/TSV/JSONL text+label) or token-classification (CoNLL/JSONL, BIO tags)")
    parser.add_argument("--model", default="builtin", help="base model: 'builtin' or a model folder (default: builtin)")
    parser.add_argument("--data", required=True, metavar="FILE", help="the labelled training file")
    parser.add_argument("--validation", metavar="FILE", help="a separate validation file (default: a stratified split)")
    parser.add_argument("--validation-split", type=float, default=20.0, metavar="PCT",
                        help="percentage held back for validation when no --validation file is given (default: 20)")
    parser.add_argument("--test", metavar="FILE", help="also measure the kept model on this held-out file")
    parser.add_argument("--text-column", metavar="C", help="the text column (default: guessed, e.g. 'text')")
    parser.add_argument("--label-column", metavar="L", help="the label column (default: guessed, e.g. 'label')")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, metavar="N", help=HELP["epochs"])
    parser.add_argument("--lr", type=float, metavar="F", help=HELP["learning_rate"] + " (default: by --task)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, metavar="N", help=HELP["batch_size"])
    parser.add_argument("--max-length", type=int, default=defaults.max_length, metavar="N", help=HELP["max_length"])
    parser.add_argument("--warmup", type=float, default=defaults.warmup_ratio, metavar="F", help=HELP["warmup_ratio"])
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay, metavar="F", help=HELP["weight_decay"])
    parser.add_argument("--patience", type=int, default=defaults.patience, metavar="N", help=HELP["patience"])
    parser.add_argument("--min-steps", type=int, default=defaults.min_steps, metavar="N", help=HELP["min_steps"])
    parser.add_argument("--head-only", action="store_true", help=HELP["head_only"])
    parser.add_argument("--freeze-embeddings", action="store_true", default=defaults.freeze_embeddings,
                        help=HELP["freeze_embeddings"])
    parser.add_argument("--seed", type=int, default=defaults.seed, metavar="N", help=HELP["seed"])
    parser.add_argument("--precision", choices=["float32", "bfloat16", "float16"], default=defaults.precision,
                        help=HELP["precision"])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default: cpu)")
    parser.add_argument("--name", required=True, help="the name to save the model under in the library")
    parser.set_defaults(handler=run_train)

    starter = subparsers.add_parser("train-starter", help="train a starter model: sentiment (default) or NER "
                                                         "(built-in model, the app's starter data)")
    starter.add_argument("--task", default="text-classification", choices=["text-classification", "token-classification"],
                         help="text-classification: starter-sentiment; token-classification: starter-ner")
    starter.add_argument("--name", help="library name (default: starter-sentiment or starter-ner, numbered if taken)")
    starter.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default: cpu)")
    starter.set_defaults(handler=run_train_starter)


@contextmanager
def _interrupt_cancels(token):
    """Ctrl+C cancels the token (training stops after the step, the best epoch is kept) instead of killing."""
    def handler(_signum, _frame):
        print("\nstopping after this step (Ctrl+C again to abort)…", file=sys.stderr)
        token.cancel()
        signal.signal(signal.SIGINT, previous)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (e.g. called from a test thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _quiet_transformers() -> None:
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


def run_train(args) -> int:
    from services.core.cancel import CancelToken
    from cli.progress import StderrProgress
    from services.training.data import prepare_data
    from services.training.heldout import measure_on_file
    from services.training.save import check_name_available, save_result
    from services.training.trainer import train_model

    name = check_name_available(args.name)
    learning_rate = args.lr if args.lr is not None else default_learning_rate(args.task)
    hp = Hyperparameters(epochs=args.epochs, learning_rate=learning_rate, batch_size=args.batch_size,
                         max_length=args.max_length, warmup_ratio=args.warmup, weight_decay=args.weight_decay,
                         seed=args.seed, head_only=args.head_only, freeze_embeddings=args.freeze_embeddings,
                         patience=args.patience, min_steps=args.min_steps, precision=args.precision)
    hp.check()
    data = prepare_data(args.data, args.task, text_column=args.text_column, label_column=args.label_column,
                        validation_path=args.validation, validation_fraction=args.validation_split / 100, seed=args.seed)
    for warning in data.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"training on {len(data.train)} examples, validating on {len(data.validation)} ({data.validation_source}); "
          f"labels: {', '.join(data.label_names)}", file=sys.stderr)
    _quiet_transformers()
    token = CancelToken()
    bar = StderrProgress("train")
    try:
        with _interrupt_cancels(token):
            result = train_model(data, args.model, hp, device=args.device, progress=bar, cancel=token)
    finally:
        bar.close()
    if args.test:
        measure_on_file(result, args.test, args.text_column, args.label_column)
    save_result(result, name)
    print(f"saved to {result.saved_path}", file=sys.stderr)
    print(json.dumps(result.summary()))
    return 0


def run_train_starter(args) -> int:
    from services.core.cancel import CancelToken
    from cli.progress import StderrProgress
    from services.training.save import save_result, unique_name
    from services.training.starter import starter_for, train_starter

    _quiet_transformers()
    token = CancelToken()
    bar = StderrProgress("train-starter")
    try:
        with _interrupt_cancels(token):
            result = train_starter(args.name, device=args.device, task=args.task, progress=bar, cancel=token)
    finally:
        bar.close()
    if result.cancelled:  # Ctrl+C: keep the best epoch so far
        save_result(result, args.name or unique_name(starter_for(args.task).name))
    print(f"saved to {result.saved_path}", file=sys.stderr)
    print(json.dumps(result.summary()))
    return 0
