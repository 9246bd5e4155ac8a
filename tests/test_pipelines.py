"""services.run on every task: tiny random models (code paths, equality with transformers'
pipeline) and the real built-in model (similarity and zero-shot accuracy claims)."""

from __future__ import annotations

import io
import contextlib

import pytest

from services.core.cancel import CancelToken
from services.run.code_snippets import code_for
from services.core.errors import Cancelled, DeviceError, InputError
from services.core.models import load_model
from services.run import predict, similarity
from services.run.common import device_errors

TEXTS = ["The film was a delight from start to finish.", "Service was slow and the soup was cold.",
         "Maria Lopez joined Acme Corporation in Berlin last spring."]
LONG = "word " * 400  # far beyond the tiny models' 128 tokens and the built-in model's 256


@pytest.fixture(scope="module")
def models(tiny_classifier, tiny_ner, tiny_nli, tiny_mlm, tiny_gpt2):
    return {
        "classifier": load_model(tiny_classifier, "text-classification"),
        "ner": load_model(tiny_ner, "token-classification"),
        "nli": load_model(tiny_nli, "zero-shot-classification"),
        "mlm": load_model(tiny_mlm, "fill-mask"),
        "gpt2": load_model(tiny_gpt2, "text-generation"),
    }


@pytest.fixture(scope="module")
def builtin_similarity():
    return load_model("builtin", "sentence-similarity")


@pytest.fixture(scope="module")
def builtin_zero_shot():
    return load_model("builtin", "zero-shot-classification")


def hf(task, folder):
    from transformers import pipeline

    return pipeline(task, model=str(folder), device="cpu")


def run_snippet(code: str):
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102 - the point is that it runs
    return namespace["result"]


# -- text classification ---------------------------------------------------------------------------
def test_classification_equals_transformers_pipeline(models, tiny_classifier):
    ours = predict(models["classifier"], TEXTS)
    theirs = hf("text-classification", tiny_classifier)(TEXTS, top_k=None)
    for mine, reference in zip(ours, theirs):
        assert list(mine["scores"]) == [item["label"] for item in reference]  # same classes, same order
        for item in reference:
            assert mine["scores"][item["label"]] == pytest.approx(item["score"], abs=1e-5)
        assert mine["label"] == reference[0]["label"]
        assert mine["score"] == pytest.approx(reference[0]["score"], abs=1e-5)
        assert mine["truncated"] is False
        assert sum(mine["scores"].values()) == pytest.approx(1.0, abs=1e-5)


def test_classification_top_k_limits_classes(models):
    result = predict(models["classifier"], TEXTS[:1], {"top_k": 1})[0]
    assert list(result["scores"]) == [result["label"]]


def test_classification_long_text_is_truncated_and_says_so(models, tiny_classifier):
    result = predict(models["classifier"], [LONG, "short"])
    assert [r["truncated"] for r in result] == [True, False]
    reference = hf("text-classification", tiny_classifier)(LONG, top_k=None, truncation=True)
    assert result[0]["scores"][reference[0]["label"]] == pytest.approx(reference[0]["score"], abs=1e-5)


def test_classification_snippet_reproduces_the_result(models, tiny_classifier):
    code = code_for("text-classification", str(tiny_classifier), {"top_k": None}, TEXTS[:2])
    theirs = run_snippet(code)
    ours = predict(models["classifier"], TEXTS[:2])
    for mine, reference in zip(ours, theirs):
        assert mine["score"] == pytest.approx(reference[0]["score"], abs=1e-5)


# -- named entities ----------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["none", "simple", "first", "average", "max"])
def test_entities_equal_transformers_pipeline(models, tiny_ner, strategy):
    ours = predict(models["ner"], [TEXTS[2]], {"aggregation_strategy": strategy})[0]
    theirs = hf("token-classification", tiny_ner)(TEXTS[2], aggregation_strategy=strategy)
    key = "entity" if strategy == "none" else "entity_group"
    assert len(ours["entities"]) == len(theirs) > 0
    for mine, reference in zip(ours["entities"], theirs):
        assert mine[key] == reference[key]
        assert (mine["start"], mine["end"]) == (reference["start"], reference["end"])
        # the word is the text's own characters (the pipeline's is the tokens joined: lower-cased, "##" pieces)
        assert mine["word"] == TEXTS[2][mine["start"]:mine["end"]]
        if strategy == "none":
            assert mine["index"] == reference["index"]
        assert mine["score"] == pytest.approx(float(reference["score"]), abs=1e-5)
        assert isinstance(mine["score"], float) and isinstance(mine["start"], int)


def test_entities_long_text_truncated(models):
    result = predict(models["ner"], ["Maria went to Berlin. " * 60])[0]
    assert result["truncated"] is True
    assert max(entity["end"] for entity in result["entities"]) <= len(result["text_used"])


def test_unknown_aggregation_is_refused(models):
    with pytest.raises(InputError, match="aggregation strategy 'median'"):
        predict(models["ner"], ["Maria"], {"aggregation_strategy": "median"})


# -- zero-shot -------------------------------------------------------------------------------------
def test_zero_shot_nli_goes_through_the_transformers_pipeline(models, tiny_nli):
    labels = ["sports", "politics", "cooking"]
    for multi in (False, True):
        ours = predict(models["nli"], [TEXTS[0]], {"candidate_labels": labels, "multi_label": multi})[0]
        theirs = hf("zero-shot-classification", tiny_nli)(TEXTS[0], candidate_labels=labels, multi_label=multi)
        assert ours["method"] == "nli"
        assert ours["labels"] == theirs["labels"]
        assert ours["scores"] == pytest.approx(theirs["scores"], abs=1e-5)
        assert ours["scores"] == sorted(ours["scores"], reverse=True)


def test_zero_shot_embedding_on_the_builtin_model(builtin_zero_shot):
    labels = "cooking, sports, politics, technology"
    texts = ["The team won the match in extra time.", "Simmer the onions in butter until soft.",
             "Parliament passed the new tax law after a long debate."]
    results = predict(builtin_zero_shot, texts, {"candidate_labels": labels})
    assert [r["labels"][0] for r in results] == ["sports", "cooking", "politics"]  # the real model gets these right
    for result in results:
        assert result["method"] == "embedding"
        assert sum(result["scores"]) == pytest.approx(1.0, abs=1e-5)
        assert result["scores"] == sorted(result["scores"], reverse=True)
    multi = predict(builtin_zero_shot, texts[:1], {"candidate_labels": labels, "multi_label": True})[0]
    assert multi["scores"] == pytest.approx([min(max(c, 0.0), 1.0) for c in multi["cosines"]])


def test_zero_shot_embedding_snippet_reproduces_the_result(builtin_zero_shot):
    options = {"candidate_labels": ["sports", "cooking"], "hypothesis_template": "This text is about {}."}
    ours = predict(builtin_zero_shot, [TEXTS[0]], options)[0]
    theirs = run_snippet(code_for("zero-shot-classification", "builtin", options, [TEXTS[0]]))[0]
    assert theirs["labels"] == ours["labels"]
    assert theirs["scores"] == pytest.approx(ours["scores"], abs=1e-5)


@pytest.mark.parametrize("options, message", [
    ({"candidate_labels": " , "}, "at least one candidate label"),
    ({"candidate_labels": "a,b", "hypothesis_template": "no placeholder"}, "has no {}"),
])
def test_zero_shot_bad_options(builtin_zero_shot, options, message):
    with pytest.raises(InputError, match=message):
        predict(builtin_zero_shot, ["text"], options)


# -- fill-mask ---------------------------------------------------------------------------------------
def test_fill_mask_equals_transformers_pipeline(models, tiny_mlm):
    text = "Paris is the [MASK] of France."
    ours = predict(models["mlm"], [text], {"top_k": 5})[0]["candidates"]
    theirs = hf("fill-mask", tiny_mlm)(text, top_k=5)
    assert [c["token"] for c in ours] == [c["token"] for c in theirs]
    assert [c["token_str"] for c in ours] == [c["token_str"] for c in theirs]
    assert [c["sequence"] for c in ours] == [c["sequence"] for c in theirs]
    assert [c["score"] for c in ours] == pytest.approx([c["score"] for c in theirs], abs=1e-5)


def test_fill_mask_without_mask_token_names_the_token(models):
    with pytest.raises(InputError, match=r"no \[MASK\] token"):
        predict(models["mlm"], ["Paris is the capital of France."])


def test_fill_mask_beyond_the_limit(models):
    with pytest.raises(InputError, match="beyond the model's limit"):
        predict(models["mlm"], [LONG + "[MASK]"])


# -- similarity / embeddings --------------------------------------------------------------------------
def test_similarity_ranks_paraphrases_above_unrelated_sentences(builtin_similarity):
    loaded = builtin_similarity
    pairs_close = [("A cat sits on the mat.", "A kitten is resting on a rug."),
                   ("How do I reset my password?", "I forgot my password and need to change it.")]
    pairs_far = [("A cat sits on the mat.", "Stock markets fell sharply on Monday."),
                 ("How do I reset my password?", "The soup needs more salt.")]
    close = [similarity(loaded, a, b)["cosine"] for a, b in pairs_close]
    far = [similarity(loaded, a, b)["cosine"] for a, b in pairs_far]
    assert min(close) > max(far) + 0.2
    result = similarity(loaded, *pairs_close[0])
    assert result["shape"] == [384] and result["truncated"] is False


def test_embeddings_are_normalised_and_match_the_snippet(builtin_similarity):
    results = predict(builtin_similarity, TEXTS[:2])
    assert [r["shape"] for r in results] == [[384], [384]]
    for result in results:
        assert sum(v * v for v in result["embedding"]) == pytest.approx(1.0, abs=1e-4)
    theirs = run_snippet(code_for("sentence-similarity", "builtin", {}, TEXTS[:2]))
    ours = similarity(builtin_similarity, *TEXTS[:2])
    assert theirs["cosine"] == pytest.approx(ours["cosine"], abs=1e-5)
    assert theirs["shape"] == ours["shape"]


def test_embedding_long_text_truncated_at_the_sentence_limit(builtin_similarity):
    result = predict(builtin_similarity, [LONG, "short"])
    assert [r["truncated"] for r in result] == [True, False]


# -- text generation ----------------------------------------------------------------------------------
def test_generation_streams_cumulative_text(models):
    events = []
    result = predict(models["gpt2"], ["Once upon a time"], {"max_new_tokens": 12, "seed": 7},
                     progress=lambda done, total=None, message="", data=None: events.append((done, data)))[0]
    assert len(events) == result["new_tokens"] >= 1
    assert [done for done, _ in events] == list(range(1, len(events) + 1))
    assert all(data.startswith("Once upon a time") for _, data in events)
    assert events[-1][1] == result["generated_text"] == "Once upon a time" + result["new_text"]


def test_generation_seed_is_reproducible(models):
    options = {"max_new_tokens": 10, "seed": 3, "temperature": 0.9, "top_p": 0.9}
    first = predict(models["gpt2"], ["The hotel"], options)[0]
    second = predict(models["gpt2"], ["The hotel"], options)[0]
    assert first["generated_text"] == second["generated_text"]


def test_greedy_generation_equals_transformers_pipeline(models, tiny_gpt2):
    ours = predict(models["gpt2"], ["The film was"], {"max_new_tokens": 8, "do_sample": False})[0]
    theirs = run_snippet(code_for("text-generation", str(tiny_gpt2), {"max_new_tokens": 8, "do_sample": False},
                                  ["The film was"]))
    assert ours["generated_text"] == theirs[0][0]["generated_text"]


def test_generation_cancel_mid_way(models):
    token = CancelToken()
    seen = []

    def progress(done, total=None, message="", data=None):
        seen.append(done)
        if done == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        predict(models["gpt2"], ["Once upon a time"], {"max_new_tokens": 60, "do_sample": False},
                progress=progress, cancel=token)
    assert seen[-1] <= 4  # stopped right after the token that saw the cancel


def test_generation_bad_options(models):
    with pytest.raises(InputError, match="smaller than the model's limit"):
        predict(models["gpt2"], ["hi"], {"max_new_tokens": 500})
    with pytest.raises(InputError, match="top_p must be between"):
        predict(models["gpt2"], ["hi"], {"top_p": 3})


def test_generation_long_prompt_keeps_its_end(models):
    result = predict(models["gpt2"], ["start " + "word " * 300 + "finale"], {"max_new_tokens": 4, "seed": 1})[0]
    assert result["truncated"] is True
    assert "finale" in result["generated_text"] and "start" not in result["generated_text"]


# -- errors common to every task ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["classifier", "ner", "nli", "mlm", "gpt2"])
@pytest.mark.parametrize("texts", [[""], ["   \n"], [], ["fine", ""]])
def test_empty_text_is_refused(models, name, texts):
    with pytest.raises(InputError, match="empty|no text"):
        predict(models[name], texts, {"candidate_labels": "a"})


def test_out_of_memory_becomes_a_device_error():
    import torch

    with pytest.raises(DeviceError, match="ran out of memory") as caught:
        with device_errors("cuda:0"):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert caught.value.fallback == "cpu"
    with pytest.raises(ValueError):  # anything else passes through untouched
        with device_errors("cuda:0"):
            raise ValueError("not memory")
