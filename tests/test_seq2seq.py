"""Summarisation and translation on tiny random BART, T5, Marian and NLLB-style models: the same text as
a direct ``model.generate`` with the same settings, streaming, Cancel within one step, task prefixes,
languages, long inputs (truncated with a notice, or chunked), and every bad input the issue lists."""

from __future__ import annotations

import shutil
import types

import pytest

from services.core.cancel import CancelToken
from services.core.errors import Cancelled, InputError, ModelError
from services.core.models import load_model
from services.run import predict
from services.run.seq2seq import generation_defaults, languages_of, marian_pair, split_into_chunks
from tests import tiny_qa_seq2seq

TEXT = "The hotel room was clean, quiet and close to the station."
LONG = " ".join(["Battery life is great but the screen scratches easily.",
                 "Paris and Rome are lovely in the autumn, said the guide."] * 12)
@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models run fastest on one thread and do not fight other processes for the cores."""


SETTINGS = {"num_beams": 2, "max_new_tokens": 10, "min_new_tokens": 4, "length_penalty": 1.3,
            "no_repeat_ngram_size": 2}


@pytest.fixture(scope="module")
def s2s(tiny_bart, tiny_t5, tiny_marian, tiny_nllb):
    return {"bart": load_model(tiny_bart, "summarization"),
            "t5": load_model(tiny_t5, "summarization"),
            "t5-translate": load_model(tiny_t5, "translation"),
            "marian": load_model(tiny_marian, "translation"),
            "nllb": load_model(tiny_nllb, "translation")}


@pytest.fixture(scope="module")
def multi_marian(tmp_path_factory):
    folder = tiny_qa_seq2seq.build_marian(tmp_path_factory.mktemp("marian") / "opus-mt-en-ROMANCE",
                                          targets=("fr", "es", "it"))
    return load_model(folder, "translation")


def direct(loaded, source: str, **settings) -> str:
    """The plain transformers way: tokenizer → model.generate → decode."""
    import torch

    inputs = loaded.tokenizer(source, return_tensors="pt", truncation=True, max_length=loaded.max_length)
    with torch.inference_mode():
        output = loaded.model.generate(**inputs, **settings)
    return loaded.tokenizer.decode(output[0], skip_special_tokens=True)


# -- same text as model.generate -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bart", "marian"])
@pytest.mark.parametrize("beams", [1, 3])
def test_output_equals_direct_generate(s2s, name, beams):
    loaded = s2s[name]
    key = "summary_text" if loaded.task == "summarization" else "translation_text"
    options = {**SETTINGS, "num_beams": beams}
    ours = predict(loaded, [TEXT], options)[0]
    expected_settings = dict(SETTINGS, num_beams=beams, do_sample=False)
    if beams > 1:
        expected_settings["early_stopping"] = False
    theirs = direct(loaded, TEXT, **expected_settings)
    assert ours[key] == theirs.strip()
    assert ours["new_tokens"] >= 4
    assert ours["truncated"] is False


VARIED = [  # (model, base settings, setting, two values that give different outputs on the tiny model)
    ("bart", {"num_beams": 4, "min_new_tokens": 0, "max_new_tokens": 12}, "length_penalty", (0.0, 1.0)),
    ("bart", {"num_beams": 1, "max_new_tokens": 12}, "min_new_tokens", (0, 5)),
    ("bart", {"min_new_tokens": 0, "max_new_tokens": 12, "length_penalty": 1.0}, "num_beams", (1, 4)),
    ("t5", {"num_beams": 1, "max_new_tokens": 12, "prefix": ""}, "no_repeat_ngram_size", (0, 2)),
    ("t5", {"num_beams": 1, "no_repeat_ngram_size": 0, "prefix": ""}, "max_new_tokens", (3, 6)),
]


@pytest.mark.parametrize("name, base, setting, values", VARIED, ids=[v[2] for v in VARIED])
def test_each_setting_reaches_generate(s2s, name, base, setting, values):
    """Each setting changes the text on these tiny models, and ours follows model.generate either way."""
    loaded = s2s[name]
    outputs = []
    for value in values:
        options = {"min_new_tokens": 0, "length_penalty": 1.0, "no_repeat_ngram_size": 0, **base, setting: value}
        ours = predict(loaded, [TEXT], options)[0]["summary_text"]
        settings = {k: v for k, v in options.items() if k != "prefix"}
        if settings["num_beams"] > 1:
            settings["early_stopping"] = name == "t5"  # T5's summarization params say early_stopping
        assert ours == direct(loaded, TEXT, **settings, do_sample=False).strip()
        outputs.append(ours)
    assert outputs[0] != outputs[1]


def test_t5_uses_its_task_prefix_and_task_settings(s2s):
    loaded = s2s["t5"]
    defaults = generation_defaults(loaded, "summarization")
    assert defaults == {"num_beams": 2, "max_new_tokens": 40, "min_new_tokens": 5, "length_penalty": 2.0,
                        "no_repeat_ngram_size": 3, "early_stopping": True, "prefix": "summarize: "}
    ours = predict(loaded, [TEXT], {})[0]
    assert ours["prefix"] == "summarize: "
    theirs = direct(loaded, "summarize: " + TEXT, num_beams=2, max_new_tokens=40, min_new_tokens=5,
                    length_penalty=2.0, no_repeat_ngram_size=3, early_stopping=True, do_sample=False)
    assert ours["summary_text"] == theirs.strip()
    # the user's settings override the checkpoint's; a typed prefix replaces the task's
    ours = predict(loaded, [TEXT], {**SETTINGS, "prefix": ""})[0]
    assert ours["summary_text"] == direct(loaded, TEXT, **SETTINGS, early_stopping=True, do_sample=False).strip()


def test_t5_translation_picks_the_prefix_of_the_language_pair(s2s):
    loaded = s2s["t5-translate"]
    languages = languages_of(loaded)
    assert languages.kind == "prefix" and ("en", "fr") in languages.pairs and ("en", "de") in languages.pairs
    result = predict(loaded, [TEXT], {"src_lang": "en", "tgt_lang": "fr", "num_beams": 1, "max_new_tokens": 6})[0]
    assert result["prefix"] == "translate English to French: " and result["tgt_lang"] == "fr"
    assert result["translation_text"] == direct(loaded, "translate English to French: " + TEXT, num_beams=1,
                                                max_new_tokens=6, min_new_tokens=0, length_penalty=1.0,
                                                no_repeat_ngram_size=0, do_sample=False).strip()
    with pytest.raises(InputError, match="Unknown target language 'ro'.*It takes: de, fr"):
        predict(loaded, [TEXT], {"src_lang": "en", "tgt_lang": "ro"})


def test_nllb_language_codes_come_from_the_tokenizer(s2s):
    loaded = s2s["nllb"]
    languages = languages_of(loaded)
    assert languages.kind == "codes" and set(tiny_qa_seq2seq.NLLB_CODES) <= set(languages.targets)
    options = {"src_lang": "deu_Latn", "tgt_lang": "fra_Latn", "num_beams": 1, "max_new_tokens": 6, "min_new_tokens": 6}
    result = predict(loaded, [TEXT], options)[0]
    tokenizer = loaded.tokenizer
    fra = tokenizer.convert_tokens_to_ids("fra_Latn")
    assert result["settings"]["forced_bos_token_id"] == fra
    assert tokenizer("x")["input_ids"][0] == tokenizer.convert_tokens_to_ids("deu_Latn")  # src_lang was set
    import torch

    inputs = tokenizer(TEXT, return_tensors="pt")
    with torch.inference_mode():
        output = loaded.model.generate(**inputs, forced_bos_token_id=fra, num_beams=1, max_new_tokens=6,
                                       min_new_tokens=6, do_sample=False, length_penalty=1.0, no_repeat_ngram_size=0)
    assert output[0, 1].item() == fra  # the first generated token is the target language
    assert result["translation_text"] == tokenizer.decode(output[0], skip_special_tokens=True).strip()


def test_marian_pair_comes_from_the_name(s2s):
    languages = languages_of(s2s["marian"])
    assert (languages.kind, languages.default_source, languages.default_target) == ("pair", "en", "fr")
    cache_path = "/home/u/.cache/huggingface/hub/models--Helsinki-NLP--opus-mt-en-de/snapshots/0123abcd"
    info = types.SimpleNamespace(path=cache_path, config={}, name="0123abcd")
    assert marian_pair(info) == ("en", "de")
    info = types.SimpleNamespace(path="/x/0123abcd", config={"_name_or_path": "Helsinki-NLP/opus-mt-tc-big-en-fr"},
                                 name="0123abcd")
    assert marian_pair(info) == ("en", "fr")


def test_multi_target_marian_puts_the_target_token_first(multi_marian):
    languages = languages_of(multi_marian)
    assert languages.kind == "marian-multi" and languages.targets == ["fr", "es", "it"]
    result = predict(multi_marian, [TEXT], {"tgt_lang": "es", "num_beams": 1, "max_new_tokens": 5})[0]
    assert result["prefix"] == ">>es<< "
    assert result["translation_text"] == direct(multi_marian, ">>es<< " + TEXT, num_beams=1, max_new_tokens=5,
                                                min_new_tokens=0, length_penalty=1.0, no_repeat_ngram_size=0,
                                                do_sample=False).strip()
    ids = multi_marian.tokenizer(">>es<< " + TEXT)["input_ids"]
    assert ids[0] == multi_marian.tokenizer.convert_tokens_to_ids(">>es<<")
    with pytest.raises(InputError, match="Unknown target language 'de'"):
        predict(multi_marian, [TEXT], {"tgt_lang": "de"})


# -- streaming and Cancel ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bart", "marian", "nllb"])
def test_streaming_gives_the_same_text_as_not_streaming(s2s, name):
    loaded = s2s[name]
    key = "summary_text" if loaded.task == "summarization" else "translation_text"
    events = []
    options = {"num_beams": 1, "max_new_tokens": 12, "min_new_tokens": 8}
    if name == "nllb":
        options["tgt_lang"] = "fra_Latn"
    streamed = predict(loaded, [TEXT], options,
                       progress=lambda done, total=None, message="", data=None: events.append((done, data)))[0]
    plain = predict(loaded, [TEXT], {**options, "stream": False})[0]
    assert streamed[key] == plain[key]
    texts = [data for _done, data in events if data is not None]
    assert len(texts) >= 8 and texts[-1].strip() == streamed[key]
    assert [done for done, _d in events] == list(range(1, len(events) + 1))


@pytest.mark.parametrize("beams", [1, 2])
def test_cancel_stops_generation_within_one_step(s2s, beams):
    loaded = s2s["marian"]
    cancel = CancelToken()
    steps = []

    def progress(done, total=None, message="", data=None):
        steps.append(done)
        if done == 3:
            cancel.cancel()

    options = {"num_beams": beams, "max_new_tokens": 60, "min_new_tokens": 60}
    with pytest.raises(Cancelled):
        predict(loaded, [TEXT], options, progress=progress, cancel=cancel)
    assert max(steps) == 3  # the step that saw the cancel was the last one


def test_cancel_keeps_the_texts_already_done(s2s):
    loaded = s2s["bart"]
    cancel = CancelToken()
    seen = []

    def progress(done, total=None, message="", data=None):
        seen.append(message)
        if "text 2 of 2" in message:
            cancel.cancel()

    with pytest.raises(Cancelled) as caught:
        predict(loaded, [TEXT, TEXT], {"num_beams": 1, "max_new_tokens": 5, "min_new_tokens": 5},
                progress=progress, cancel=cancel)
    assert len(caught.value.partial) == 1 and "summary_text" in caught.value.partial[0]


# -- long input -------------------------------------------------------------------------------------
def test_long_input_is_truncated_with_a_notice(s2s):
    loaded = s2s["bart"]
    result = predict(loaded, [LONG], {"num_beams": 1, "max_new_tokens": 4})[0]
    assert result["truncated"] is True and result["input_tokens"] == loaded.max_length
    assert "only the first part was used" in result["notice"] and str(loaded.max_length) in result["notice"]
    short = predict(loaded, [TEXT], {"num_beams": 1, "max_new_tokens": 4})[0]
    assert short["truncated"] is False and "notice" not in short


@pytest.mark.parametrize("name", ["bart", "t5", "marian"])
def test_long_input_chunked_and_joined(s2s, name):
    loaded = s2s[name]
    plan_prefix = "summarize: " if name == "t5" else ""
    chunks = split_into_chunks(loaded.tokenizer, LONG, plan_prefix, loaded.max_length)
    assert len(chunks) > 1
    assert " ".join(chunks).split() == LONG.split()  # nothing lost, nothing repeated
    for chunk in chunks:
        assert len(loaded.tokenizer(plan_prefix + chunk)["input_ids"]) <= loaded.max_length
    options = {"num_beams": 1, "max_new_tokens": 4, "min_new_tokens": 2, "chunking": True}
    result = predict(loaded, [LONG], options)[0]
    key = "summary_text" if loaded.task == "summarization" else "translation_text"
    assert result["chunks"] == len(chunks) and "chunks" in result["notice"] and result["truncated"] is False
    expected = [predict(loaded, [chunk], options)[0][key] for chunk in chunks]
    assert result[key] == " ".join(e for e in expected if e)


def test_a_word_longer_than_the_limit_still_makes_chunks(s2s):
    loaded = s2s["bart"]
    text = "short words here. " + "x" * 2000
    chunks = split_into_chunks(loaded.tokenizer, text, "", loaded.max_length)
    assert chunks[0] == "short words here."


# -- bad input ---------------------------------------------------------------------------------------
def test_a_seq2seq_model_without_a_tokenizer(tmp_path, tiny_bart):
    folder = tmp_path / "bart-no-tokenizer"
    shutil.copytree(tiny_bart, folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(ModelError, match="has no tokenizer"):
        load_model(folder, "summarization")


def test_a_seq2seq_model_without_decoder_start_token_id(tmp_path):
    import torch

    folder = tiny_qa_seq2seq.build_t5(tmp_path / "t5-no-start", decoder_start=False)
    loaded = load_model(folder, "summarization")
    with pytest.raises(ValueError):  # what transformers itself would say, deep inside generate
        loaded.model.generate(**loaded.tokenizer(TEXT, return_tensors="pt"), max_new_tokens=2)
    with pytest.raises(ModelError, match="no decoder_start_token_id"):
        predict(loaded, [TEXT], {"max_new_tokens": 2})
    assert torch.is_tensor(loaded.tokenizer(TEXT, return_tensors="pt")["input_ids"])


def test_unknown_language_codes(s2s):
    with pytest.raises(InputError, match="Unknown target language 'xx_Latn'.*eng_Latn"):
        predict(s2s["nllb"], [TEXT], {"src_lang": "eng_Latn", "tgt_lang": "xx_Latn"})
    with pytest.raises(InputError, match="choose the target language.*--tgt-lang fra_Latn"):
        predict(s2s["nllb"], [TEXT], {"src_lang": "eng_Latn"})
    with pytest.raises(InputError, match="Unknown source language 'klingon'"):
        predict(s2s["nllb"], [TEXT], {"src_lang": "klingon", "tgt_lang": "fra_Latn"})
    with pytest.raises(InputError, match="Unknown target language 'de'.*It takes: fr"):
        predict(s2s["marian"], [TEXT], {"tgt_lang": "de"})
    with pytest.raises(InputError, match="takes no source or target language"):
        predict(load_model(s2s["bart"].info.path, "translation"), [TEXT], {"tgt_lang": "fr"})
    with pytest.raises(InputError, match="Languages apply to translation"):
        predict(s2s["bart"], [TEXT], {"tgt_lang": "fr"})


def test_empty_text_and_bad_settings(s2s):
    with pytest.raises(InputError, match="empty"):
        predict(s2s["bart"], ["   "], {})
    with pytest.raises(InputError, match="min_new_tokens .* must not exceed"):
        predict(s2s["bart"], [TEXT], {"min_new_tokens": 9, "max_new_tokens": 3})
    with pytest.raises(InputError, match="num_beams"):
        predict(s2s["bart"], [TEXT], {"num_beams": 0})


def test_a_qa_model_asked_to_summarise_is_refused(tiny_bert_qa, tiny_bart):
    with pytest.raises(ModelError, match="cannot do summarisation.*It can do:.*Question answering"):
        load_model(tiny_bert_qa, "summarization")
    with pytest.raises(ModelError, match="cannot do question answering.*Summarisation, Translation"):
        load_model(tiny_bart, "question-answering")


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
    ("t5", {"max_new_tokens": 6}),  # the task prefix and T5's task settings (beams, penalties)
    ("bart", {"num_beams": 1, "max_new_tokens": 8, "min_new_tokens": 3}),
    ("nllb", {"src_lang": "deu_Latn", "tgt_lang": "fra_Latn", "max_new_tokens": 5}),
    ("t5-translate", {"tgt_lang": "de", "max_new_tokens": 5, "num_beams": 1}),
])
def test_show_code_prints_the_same_text(s2s, name, options):
    from services.run.code_snippets import code_for

    loaded = s2s[name]
    key = "summary_text" if loaded.task == "summarization" else "translation_text"
    texts = [TEXT, LONG]  # the long one is cut at the limit in both
    ours = predict(loaded, texts, options)
    code = code_for(loaded.task, str(loaded.info.path), options, texts)
    assert "AutoModelForSeq2SeqLM" in code and "pipeline" not in code
    assert run_snippet(code) == [{key: r[key]} for r in ours]


def test_show_code_for_a_multi_target_marian(multi_marian):
    from services.run.code_snippets import code_for

    options = {"tgt_lang": "it", "max_new_tokens": 4, "num_beams": 1}
    ours = predict(multi_marian, [TEXT], options)
    code = code_for("translation", str(multi_marian.info.path), options, [TEXT])
    assert ">>it<< " in code
    assert run_snippet(code) == [{"translation_text": ours[0]["translation_text"]}]
