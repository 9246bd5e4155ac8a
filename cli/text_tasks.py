"""Options of question answering, summarisation and translation, shared by ``predict`` and ``analyse``.

``add_arguments(parser)`` adds the flags, ``options(args)`` turns them into the services' options, and
``printable(task, result, top_k)`` gives the keys the removed transformers pipelines printed:
``{"answer", "score", "start", "end"}`` (a list with ``--top-k`` > 1), ``{"summary_text"}``,
``{"translation_text"}``.
"""

from __future__ import annotations

from services.core.errors import InputError

QA = "question-answering"
SEQ2SEQ = ("summarization", "translation")


def add_arguments(parser, *, analyse: bool = False) -> None:
    group = parser.add_argument_group("question answering, summarisation, translation")
    group.add_argument("--question", help="question answering: the question (each text is a context)")
    group.add_argument("--max-answer-len", type=int, help="question answering: longest answer in tokens (default 15)")
    group.add_argument("--allow-no-answer", action="store_true",
                       help="question answering: allow 'no answer' (SQuAD 2.0 models)")
    group.add_argument("--src-lang", help="translation: source language (e.g. en, eng_Latn, en_XX)")
    group.add_argument("--tgt-lang", help="translation: target language (e.g. fr, fra_Latn, fr_XX)")
    group.add_argument("--num-beams", type=int, help="summarisation/translation: beams (1 = greedy; default: the model's)")
    group.add_argument("--min-new-tokens", type=int, help="summarisation/translation: shortest output in tokens")
    group.add_argument("--length-penalty", type=float, help="summarisation/translation: >1 favours longer beams")
    group.add_argument("--no-repeat-ngram-size", type=int, help="summarisation/translation: never repeat an n-gram")
    group.add_argument("--prefix", help="summarisation/translation: text put before the input (default: the "
                                        "model's task prefix, e.g. T5's 'summarize: ')")
    if analyse:
        group.add_argument("--top-k", type=int, help="question answering: answers kept per record (default 1)")
        group.add_argument("--max-new-tokens", type=int, help="summarisation/translation: longest output in tokens")


def options(args, task: str) -> dict:
    """The services' options for ``task`` from the parsed flags (unset flags leave the model's defaults)."""
    values: dict = {}
    if task == QA:
        if not (args.question or "").strip():
            raise InputError("Question answering needs a question.", hint="Pass it with --question \"...\".")
        values["question"] = args.question
        if getattr(args, "top_k", None) is not None:
            values["top_k"] = args.top_k
        if args.max_answer_len is not None:
            values["max_answer_len"] = args.max_answer_len
        if args.allow_no_answer:
            values["allow_no_answer"] = True
        return values
    if task in SEQ2SEQ:
        for name in ("src_lang", "tgt_lang", "num_beams", "min_new_tokens", "length_penalty", "no_repeat_ngram_size",
                     "prefix", "max_new_tokens"):
            value = getattr(args, name, None)
            if value is not None:
                values[name] = value
        return values
    for flag, name in (("--question", "question"), ("--src-lang", "src_lang"), ("--tgt-lang", "tgt_lang")):
        if getattr(args, name, None):
            raise InputError(f"{flag} applies to question answering or translation, not to {task}.")
    return values


def printable(task: str, result: dict, top_k: int | None = None):
    """What ``predict`` prints for one text of these tasks (the removed pipelines' keys)."""
    if task == QA:
        if top_k is not None and top_k > 1:
            return result["answers"]
        return {k: result[k] for k in ("answer", "score", "start", "end")}
    key = "summary_text" if task == "summarization" else "translation_text"
    return {key: result[key]}
