"""Question answering on tiny random BERT, DistilBERT and RoBERTa QA models: windows over long
contexts, answers that are always ``context[start:end]``, agreement with a direct forward pass, and
every bad input the issue lists."""

from __future__ import annotations

import random

import numpy as np
import pytest

from services.core.errors import InputError, ModelError
from services.core.models import load_model
from services.run import predict
from services.run.question_answering import Settings, encode_windows, explain
from tests.tiny_models import CORPUS

@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models run fastest on one thread and do not fight other processes for the cores."""


QUESTION = "Who joined Acme Corporation?"
SENTENCES = sorted(set(CORPUS))


@pytest.fixture(scope="module")
def qa_models(tiny_bert_qa, tiny_distilbert_qa, tiny_roberta_qa):
    return {name: load_model(folder, "question-answering")
            for name, folder in (("bert", tiny_bert_qa), ("distilbert", tiny_distilbert_qa),
                                 ("roberta", tiny_roberta_qa))}


def random_context(rng: random.Random, sentences: int) -> str:
    spaces = [" ", "  ", "\n", " \t "]
    return "".join(rng.choice(SENTENCES) + rng.choice(spaces) for _ in range(sentences)).rstrip()


@pytest.mark.parametrize("name", ["bert", "distilbert", "roberta"])
def test_every_answer_is_the_context_substring_for_long_contexts(qa_models, name):
    loaded = qa_models[name]
    rng = random.Random(7)
    contexts = [random_context(rng, n) for n in (1, 3, 25, 60)]
    options = {"question": QUESTION, "top_k": 5, "max_seq_len": 48, "stride": 12}
    results = predict(loaded, contexts, options)
    assert results[-1]["windows"] > 5  # many overlapping windows
    for context, result in zip(contexts, results):
        assert result["answers"] and len(result["answers"]) <= 5
        scores = [a["score"] for a in result["answers"]]
        assert scores == sorted(scores, reverse=True)
        for answer in result["answers"]:
            assert answer["answer"] == context[answer["start"]:answer["end"]]
            assert answer["answer"] and answer["answer"] == answer["answer"].strip()
            assert 0.0 < answer["score"] <= 1.0
        assert result["answer"] == result["answers"][0]["answer"]


LONG_QUESTION = "After the long meeting in the old town hall, which company did Maria Lopez from Berlin finally join?"


@pytest.mark.parametrize("name", ["bert", "roberta"])
@pytest.mark.parametrize("question", [QUESTION, LONG_QUESTION])
def test_windows_keep_the_question_whole_and_cover_the_context(qa_models, name, question):
    tokenizer = qa_models[name].tokenizer
    context = random_context(random.Random(3), 30)
    question_ids = tokenizer(question, add_special_tokens=False)["input_ids"]
    max_seq_len = len(question_ids) + tokenizer.num_special_tokens_to_add(pair=True) + 16  # 16 context tokens
    settings = Settings(max_seq_len=max_seq_len, stride=6)
    windows = encode_windows(tokenizer, question, context, settings)
    assert len(windows) > 3
    covered = np.zeros(len(context), dtype=bool)
    previous_end = None
    for encoded in windows:
        assert len(encoded.ids) <= max_seq_len
        ids = encoded.ids
        assert any(ids[i:i + len(question_ids)] == question_ids for i in range(len(ids)))  # the whole question
        spans = encoded.window.offsets[encoded.window.context]
        for start, end in spans:
            covered[start:end] = True
        first_token_start = int(spans[0][0])
        if previous_end is not None:
            assert first_token_start < previous_end  # windows overlap (stride)
        previous_end = int(spans[-1][1])
        assert not encoded.window.context[encoded.window.null_index]  # CLS is not context
    assert covered[[i for i, ch in enumerate(context) if not ch.isspace()]].all()


def test_answer_agrees_with_a_direct_forward_pass(qa_models):
    """The best span and its score, recomputed by hand from the model's own logits."""
    import torch

    loaded = qa_models["bert"]
    context = "Maria Lopez joined Acme Corporation in Berlin last spring."
    result = predict(loaded, [context], {"question": QUESTION, "align_to_words": False})[0]
    tokenizer, model = loaded.tokenizer, loaded.model
    encoded = tokenizer(QUESTION, context, return_offsets_mapping=True, return_tensors="pt")
    offsets = encoded.pop("offset_mapping")[0].tolist()
    with torch.inference_mode():
        output = model(**encoded)
    sequence = encoded.sequence_ids(0)
    allowed = [i for i, s in enumerate(sequence) if s == 1 or i == 0]
    start = torch.softmax(output.start_logits[0, allowed], -1).numpy()
    end = torch.softmax(output.end_logits[0, allowed], -1).numpy()
    best = max(((start[a] * end[b], allowed[a], allowed[b]) for a in range(len(allowed)) for b in range(len(allowed))
                if allowed[a] > 0 and allowed[a] <= allowed[b] < allowed[a] + 15),
               key=lambda t: t[0])
    assert result["score"] == pytest.approx(float(best[0]), rel=1e-5)
    assert (result["start"], result["end"]) == (offsets[best[1]][0], offsets[best[2]][1])


def test_answers_align_to_whole_words(qa_models):
    context = "Unbelievably, the transformers tokenizer splits unfamiliar words into several pieces."
    result = predict(qa_models["bert"], [context], {"question": QUESTION, "top_k": 10})[0]
    for answer in result["answers"]:
        start, end = answer["start"], answer["end"]
        assert start == 0 or not (context[start - 1].isalnum() and context[start].isalnum())  # not mid-word
        assert end == len(context) or not (context[end - 1].isalnum() and context[end].isalnum())


def test_explain_gives_logits_per_token_and_how_the_span_was_chosen(qa_models):
    context = "Maria Lopez joined Acme Corporation in Berlin last spring."
    detail = explain(qa_models["bert"], QUESTION, context, {"top_k": 2})
    window = detail["windows_detail"][0]
    assert len(window["tokens"]) == len(window["start_logits"]) == len(window["end_logits"]) == len(window["context"])
    assert window["tokens"][0] == "[CLS]" and window["null_index"] == 0
    best = window["spans"][0]
    assert detail["answer"] == best["text"] == context[detail["start"]:detail["end"]]
    assert window["context"][best["start_token"]] and window["context"][best["end_token"]]
    assert abs(sum(window["start_probs"]) - 1.0) < 1e-6


def test_no_answer_option_is_offered(qa_models):
    context = "Maria Lopez joined Acme Corporation in Berlin last spring."
    options = {"question": QUESTION, "allow_no_answer": True, "top_k": 1000}
    result = predict(qa_models["roberta"], [context], options)[0]
    detail = explain(qa_models["roberta"], QUESTION, context, options)["windows_detail"][0]
    null = detail["start_probs"][0] * detail["end_probs"][0]  # <s>, RoBERTa's CLS
    assert result["no_answer_score"] == pytest.approx(null)
    empty = [a for a in result["answers"] if a["answer"] == ""]
    assert len(empty) == 1 and empty[0]["score"] == pytest.approx(null)  # ranked among the spans


# -- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("question", ["", "   \n"])
def test_empty_question(qa_models, question):
    with pytest.raises(InputError, match="question is empty"):
        predict(qa_models["bert"], ["Some context."], {"question": question})
    with pytest.raises(InputError, match="question is empty"):
        predict(qa_models["bert"], ["Some context."], {})


@pytest.mark.parametrize("context", ["", "   ", "\n\t \n"])
def test_empty_or_whitespace_context(qa_models, context):
    with pytest.raises(InputError, match="context is empty"):
        predict(qa_models["bert"], [context], {"question": QUESTION})
    with pytest.raises(InputError, match="Context 2 is empty"):
        predict(qa_models["bert"], ["Fine.", context], {"question": QUESTION})


def test_question_longer_than_the_model_limit(qa_models):
    question = "Who " + "really " * 150 + "joined?"
    with pytest.raises(InputError, match="question is .* tokens long.*no room"):
        predict(qa_models["distilbert"], ["Maria joined Acme."], {"question": question})


def test_bad_options(qa_models):
    with pytest.raises(InputError, match="stride"):
        predict(qa_models["bert"], ["Maria joined Acme."], {"question": QUESTION, "max_seq_len": 32, "stride": 40})
    with pytest.raises(InputError, match="top_k"):
        predict(qa_models["bert"], ["Maria joined Acme."], {"question": QUESTION, "top_k": 0})


def test_a_qa_model_cannot_be_loaded_to_summarise(tiny_bert_qa):
    with pytest.raises(ModelError, match="cannot do summarisation.*It can do: .*Question answering"):
        load_model(tiny_bert_qa, "summarization")


# -- Show code ---------------------------------------------------------------------------------------
def run_snippet(code: str):
    import contextlib
    import io

    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102 - the point is that it runs
    assert printed.getvalue().strip() == str(namespace["result"])
    return namespace["result"]


@pytest.mark.parametrize("name, options", [
    ("bert", {"top_k": 3}),
    ("distilbert", {"top_k": 1, "max_seq_len": 40, "stride": 8}),
    ("roberta", {"top_k": 4, "max_seq_len": 48, "allow_no_answer": True, "max_answer_len": 5}),
])
def test_show_code_prints_the_same_answers(qa_models, name, options):
    from services.run.code_snippets import code_for

    loaded = qa_models[name]
    contexts = ["Maria Lopez joined Acme Corporation in Berlin last spring.", random_context(random.Random(5), 12)]
    options = {"question": QUESTION, **options}
    ours = predict(loaded, contexts, options)
    code = code_for("question-answering", str(loaded.info.path), options, contexts)
    assert "AutoModelForQuestionAnswering" in code and "pipeline" not in code
    theirs = run_snippet(code)
    for mine, printed in zip(ours, theirs):
        printed = printed if isinstance(printed, list) else [printed]
        assert [(a["answer"], a["start"], a["end"]) for a in printed] == \
               [(a["answer"], a["start"], a["end"]) for a in mine["answers"]]
        assert [a["score"] for a in printed] == pytest.approx([a["score"] for a in mine["answers"]], rel=1e-4)
