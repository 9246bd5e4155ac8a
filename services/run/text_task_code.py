"""Show code for question answering, summarisation and translation: manual Auto-class code.

transformers 5 has no pipeline for these tasks, so the snippets spell the work out:
``AutoModelForQuestionAnswering`` + the span search (windows, softmax over the context and CLS,
start ≤ end, length limit, whole words, top-k, "no answer"), or ``AutoModelForSeq2SeqLM.generate``
with the same settings, prefix and languages as the run. Each prints what the app showed.
"""

from __future__ import annotations

from services.core.errors import InputError
from services.core.model_info import inspect_model

_QA_BODY = '''
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForQuestionAnswering.from_pretrained(model_dir).to(device).eval()
question_first = tokenizer.padding_side == "right"  # XLNet-style models read the context first
context_id = 1 if question_first else 0
max_seq_len = min(max_seq_len, {limit})  # tokens per window, within the model's limit
if stride is None:  # half the room beside the question, at most {default_stride} tokens
    room = max_seq_len - len(tokenizer(question, add_special_tokens=False)["input_ids"])
    stride = min({default_stride}, (room - tokenizer.num_special_tokens_to_add(pair=True)) // 2)


def trim(context, start, end):
    while start < end and context[start].isspace():
        start += 1
    while end > start and context[end - 1].isspace():
        end -= 1
    return start, end


def answer(context):
    # the question stays whole; the context is cut into windows that overlap by `stride` tokens
    first, second = (question, context) if question_first else (context, question)
    enc = tokenizer(first, second, truncation="only_second" if question_first else "only_first",
                    max_length=max_seq_len, stride=stride, return_overflowing_tokens=True,
                    return_offsets_mapping=True, padding=True, return_tensors="pt")
    inputs = {{k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}}
    with torch.inference_mode():
        out = model(**inputs)
    best, null_scores = {{}}, []
    for w in range(len(enc["input_ids"])):
        seq, words = enc.sequence_ids(w), enc.word_ids(w)
        offsets = enc["offset_mapping"][w].tolist()
        ids = enc["input_ids"][w].tolist()
        in_context = torch.tensor([s == context_id and e > b for s, (b, e) in zip(seq, offsets)])
        spans = {{}}  # each word's characters (answers start and end on whole words)
        for i, word in enumerate(words):
            if in_context[i]:
                b, e = spans.get(word, offsets[i])
                spans[word] = (min(b, offsets[i][0]), max(e, offsets[i][1]))
        chars = [spans[words[i]] if in_context[i] else tuple(offsets[i]) for i in range(len(ids))]
        cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else None
        allowed = in_context.clone()
        if cls is not None:
            allowed[cls] = True  # the CLS token stands for "no answer"
        p_start = torch.softmax(out.start_logits[w].float().cpu().masked_fill(~allowed, -float("inf")), -1)
        p_end = torch.softmax(out.end_logits[w].float().cpu().masked_fill(~allowed, -float("inf")), -1)
        if cls is not None:
            null_scores.append(float(p_start[cls] * p_end[cls]))
        n = len(ids)
        length = torch.arange(n)[None, :] - torch.arange(n)[:, None]  # end - start
        valid = (length >= 0) & (length < max_answer_len) & in_context[:, None] & in_context[None, :]
        scores = (p_start[:, None] * p_end[None, :]).masked_fill(~valid, -1.0)
        for s, e in valid.nonzero().tolist():
            start, end = trim(context, chars[s][0], chars[e][1])
            score = float(scores[s, e])
            if end > start and score > best.get((start, end), -1.0):
                best[(start, end)] = score
    answers = [{{"answer": context[s:e], "score": score, "start": s, "end": e}} for (s, e), score in best.items()]
    if allow_no_answer and null_scores:
        answers.append({{"answer": "", "score": min(null_scores), "start": 0, "end": 0}})
    answers.sort(key=lambda a: (-a["score"], a["answer"] != "", a["start"], a["end"]))
    return answers[:top_k] if top_k > 1 else answers[0]


result = [answer(context) for context in contexts]
print(result)
'''

_SEQ2SEQ_BODY = '''
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).to(device).eval()
max_length = min({limit})  # longer inputs are cut here
{languages}
result = []
for text in texts:
    inputs = tokenizer(prefix + text, truncation=True, max_length=max_length, return_tensors="pt").to(device)
    with torch.inference_mode():
        output = model.generate(**inputs, {settings})
    result.append({{{key!r}: tokenizer.decode(output[0], skip_special_tokens=True).strip()}})
print(result)
'''


def _limit_expression(position_limit: int | None) -> str:
    """The model's input limit as the app computes it (``LoadedModel.max_length``), as code."""
    tokenizer_limit = "tokenizer.model_max_length or 512, 1_000_000"
    return f"{tokenizer_limit}, {position_limit}" if position_limit else tokenizer_limit


def question_answering_code(header: str, texts: list[str], options: dict, device: str,
                            max_length: int | None) -> str:
    from services.run.question_answering import DEFAULT_MAX_ANSWER_LEN, DEFAULT_MAX_SEQ_LEN, DEFAULT_STRIDE, DEFAULT_TOP_K

    question = str(options.get("question") or "Type your question here.")
    top_k = int(options.get("top_k") or DEFAULT_TOP_K)
    max_answer_len = int(options.get("max_answer_len") or DEFAULT_MAX_ANSWER_LEN)
    max_seq_len = int(options.get("max_seq_len") or DEFAULT_MAX_SEQ_LEN)
    stride = options.get("stride")
    stride = None if stride in (None, "") else int(stride)
    return ("import torch\nfrom transformers import AutoModelForQuestionAnswering, AutoTokenizer\n\n" + header
            + f"device = {device!r}\nquestion = {question!r}\ncontexts = {list(texts)!r}\n"
            f"top_k = {top_k}\nmax_answer_len = {max_answer_len}  # tokens\n"
            f"max_seq_len = {max_seq_len}  # tokens per window\n"
            f"stride = {stride!r}  # tokens of context shared by neighbouring windows (None: the default)\n"
            f"allow_no_answer = {bool(options.get('allow_no_answer', False))}  # SQuAD 2.0 models\n"
            + _QA_BODY.format(limit=_limit_expression(max_length), default_stride=DEFAULT_STRIDE))


def seq2seq_code(task: str, model: str, header: str, texts: list[str], options: dict, device: str,
                 max_length: int) -> str:
    from services.run.seq2seq import OUTPUT_KEY, languages_from_files, resolve

    info = inspect_model(model)
    plan = resolve(info, languages_from_files(info), task, options)
    settings = ", ".join(f"{k}={v!r}" for k, v in plan["settings"].items())
    languages = ""
    if plan["set_src_lang"]:
        languages += f"tokenizer.src_lang = {plan['src_lang']!r}  # the source language code goes before the text\n"
    if plan["forced_bos_token"]:
        languages += (f"forced_bos_token_id = tokenizer.convert_tokens_to_ids({plan['forced_bos_token']!r})"
                      "  # the output starts with the target language\n")
        settings += ", forced_bos_token_id=forced_bos_token_id"
    elif plan["tgt_lang"]:
        languages += f"# {plan['src_lang'] or '?'} → {plan['tgt_lang']}" + (
            " (the >>xx<< token in the prefix picks the target)\n" if plan["prefix"].startswith(">>") else "\n")
    body = _SEQ2SEQ_BODY.format(languages=languages, limit=_limit_expression(info.max_length), settings=settings,
                                key=OUTPUT_KEY[task])
    note = ("# Longer texts are cut at the model's limit here; Analyse can summarise them in chunks instead.\n"
            if options.get("chunking") else "")
    return ("import torch\nfrom transformers import AutoModelForSeq2SeqLM, AutoTokenizer\n\n" + header
            + f"device = {device!r}\ntexts = {list(texts)!r}\nprefix = {plan['prefix']!r}"
            + ("  # the model's task prefix\n" if plan["prefix"] else "\n") + note + body)


def code_for_text_task(task: str, model: str, header: str, texts: list[str], options: dict, device: str,
                       max_length: int) -> str:
    if task == "question-answering":
        return question_answering_code(header, texts, options, device, max_length)
    if task in ("summarization", "translation"):
        return seq2seq_code(task, model, header, texts, options, device, max_length)
    raise InputError(f"No code for task '{task}'.")
