"""The batch engine (the one inference path of Run, predict and Analyse): same results as transformers'
pipelines and a plain torch computation, truncation flagged, chunking, cancel, pause."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from services.core.engine import Engine, EngineOptions
from services.core.readers import Record
from services.core.cancel import CancelToken
from services.core.errors import Cancelled, InputError
from services.core.models import load_model
from services.run import predict
from tests.tiny_models import CORPUS

TEXTS = list(dict.fromkeys(CORPUS)) + ["short", "Maria Lopez flew from Paris to Rome with Acme. " * 12]
LONG = "Maria Lopez joined Acme Corporation in Berlin last spring. " * 40  # far beyond 128 tokens


@pytest.fixture(scope="module")
def classifier(tiny_classifier):
    return load_model(str(tiny_classifier), "text-classification")


def hf(task, folder):
    from transformers import pipeline

    return pipeline(task, model=str(folder), device="cpu")


def mean_pooled(loaded, texts):
    """Sentence embeddings computed plainly in torch (mean over real tokens, L2-normalised)."""
    import torch

    batch = loaded.tokenizer(texts, padding=True, truncation=True, max_length=loaded.max_length, return_tensors="pt")
    with torch.inference_mode():
        hidden = loaded.model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def test_classification_matches_transformers_pipeline(classifier, tiny_classifier):
    ours = Engine(classifier, EngineOptions(batch_size=4, max_tokens=256)).predict_texts(TEXTS + [LONG])
    theirs = hf("text-classification", tiny_classifier)(TEXTS + [LONG], top_k=None, truncation=True)
    for a, b in zip(ours, theirs):
        assert a["label"] == b[0]["label"]
        assert a["score"] == pytest.approx(b[0]["score"], abs=1e-5)
        assert a["function"] == "softmax"
    assert ours[-1]["truncated"] is True and not any(r["truncated"] for r in ours[:-2])


def test_batching_does_not_change_results(classifier):
    small = Engine(classifier, EngineOptions(batch_size=1)).predict_texts(TEXTS)
    big = Engine(classifier, EngineOptions(batch_size=64, max_tokens=100_000)).predict_texts(TEXTS)
    for a, b in zip(small, big):
        assert a["label"] == b["label"] and a["score"] == pytest.approx(b["score"], abs=1e-5)


def test_chunking_aggregates_classification_over_chunks(classifier):
    engine = Engine(classifier, EngineOptions(chunking=True, stride=16))
    result = engine.predict_texts([LONG])[0]
    assert result["chunks"] > 1 and result["truncated"] is False
    assert sum(result["scores"].values()) == pytest.approx(1.0, abs=1e-5)
    # the average of the chunks' own probabilities (weighted by tokens), computed independently
    encoded = classifier.tokenizer(LONG, truncation=True, max_length=classifier.max_length, stride=16,
                                   return_overflowing_tokens=True)
    import torch

    probs, weights = [], []
    with torch.inference_mode():
        for ids in encoded["input_ids"]:
            logits = classifier.model(input_ids=torch.tensor([ids])).logits[0]
            probs.append(torch.softmax(logits, -1).numpy())
            weights.append(len(ids))
    expected = np.average(np.stack(probs), axis=0, weights=weights)
    assert result["chunks"] == len(weights)
    assert list(result["scores"].values()) == pytest.approx(expected.tolist(), abs=1e-5)


def test_stride_must_fit_in_a_chunk(classifier):
    with pytest.raises(InputError, match="stride"):
        Engine(classifier, EngineOptions(chunking=True, stride=500))


def test_entities_match_transformers_first_strategy_and_chunks_map_back(tiny_ner):
    loaded = load_model(str(tiny_ner), "token-classification")
    short = TEXTS[:-1]
    ours = Engine(loaded).predict_texts(short)  # the default: one label per word, from its first sub-token
    theirs = hf("token-classification", tiny_ner)(short, aggregation_strategy="first")
    for a, b in zip(ours, theirs):
        assert [(e["entity_group"], e["start"], e["end"]) for e in a["entities"]] == \
               [(e["entity_group"], e["start"], e["end"]) for e in b]
        assert [e["score"] for e in a["entities"]] == pytest.approx([float(e["score"]) for e in b], abs=1e-5)
    chunked = Engine(loaded, EngineOptions(chunking=True, stride=24)).predict_texts([LONG])[0]
    assert chunked["chunks"] > 1 and not chunked["truncated"]
    assert chunked["entities"] and max(e["end"] for e in chunked["entities"]) > 1000  # beyond the first chunk
    for entity in chunked["entities"]:
        assert LONG[entity["start"]:entity["end"]] == entity["word"]
    starts = [e["start"] for e in chunked["entities"]]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # overlaps merged, no duplicates
    flagged = Engine(loaded).predict_texts([LONG])[0]
    assert flagged["truncated"] is True and max(e["end"] for e in flagged["entities"]) < 700


def test_zero_shot_nli_matches_transformers_and_embeddings_match_torch(tiny_nli, tiny_encoder):
    import torch

    labels = ["travel", "business news", "food"]
    loaded = load_model(str(tiny_nli), "zero-shot-classification")
    for multi in (False, True):
        ours = Engine(loaded, EngineOptions(labels=labels, multi_label=multi)).predict_texts(TEXTS[:6])
        theirs = hf("zero-shot-classification", tiny_nli)(TEXTS[:6], candidate_labels=labels, multi_label=multi)
        for a, b in zip(ours, theirs):
            assert a["method"] == "nli" and a["labels"] == b["labels"]
            assert a["scores"] == pytest.approx(b["scores"], abs=1e-5)
    loaded = load_model(str(tiny_encoder), "zero-shot-classification")
    ours = Engine(loaded, EngineOptions(labels=labels)).predict_texts(TEXTS[:6])
    cosines = mean_pooled(loaded, TEXTS[:6]) @ mean_pooled(loaded, [f"This example is {label}." for label in labels]).T
    expected = torch.softmax(cosines * 20.0, dim=-1)
    for a, row in zip(ours, expected.tolist()):
        assert a["method"] == "embedding"
        assert a["scores"] == pytest.approx(sorted(row, reverse=True), abs=1e-5)
        assert a["labels"][0] == labels[max(range(len(labels)), key=row.__getitem__)]
    with pytest.raises(InputError, match="candidate label"):
        Engine(load_model(str(tiny_nli), "zero-shot-classification"), EngineOptions(labels=[]))


def test_embeddings_match_torch(tiny_encoder):
    loaded = load_model(str(tiny_encoder), "sentence-similarity")
    ours = Engine(loaded).predict_texts(TEXTS[:5])
    theirs = mean_pooled(loaded, TEXTS[:5])
    for a, b in zip(ours, theirs):
        assert a["shape"] == list(b.shape)
        assert np.allclose(a["embedding"], b.numpy(), atol=1e-5)


def test_fill_mask_goes_through_the_pipelines_service(tiny_mlm):
    loaded = load_model(str(tiny_mlm), "fill-mask")
    results = Engine(loaded).predict_texts(["The [MASK] was great.", "I [MASK] it."])
    assert results == predict(loaded, ["The [MASK] was great.", "I [MASK] it."])


def test_empty_records_get_a_row_without_running_the_model(classifier):
    records = [Record("a#0", "a", 0, 1, ""), Record("a#1", "a", 1, 2, "fine text")]
    seen = []
    Engine(classifier).run(records, seen.extend)
    assert [r.id for r, _res in seen] == ["a#0", "a#1"]
    assert "label" not in seen[0][1] and seen[1][1]["label"]


def test_cancel_stops_between_batches(classifier):
    token = CancelToken()
    records = [Record(f"x#{i}", "x", i, i + 1, f"text number {i}") for i in range(200)]
    emitted = []

    def emit(pairs):
        emitted.extend(pairs)
        token.cancel()

    with pytest.raises(Cancelled):
        Engine(classifier, EngineOptions(batch_size=8)).run(records, emit, token)
    assert 0 < len(emitted) < 200


def test_pause_blocks_until_resumed(classifier):
    token = CancelToken()
    records = [Record(f"x#{i}", "x", i, i + 1, f"text {i}") for i in range(64)]
    emitted = []
    first_batch = threading.Event()

    def emit(pairs):
        emitted.extend(pairs)
        if not first_batch.is_set():
            token.pause()
            first_batch.set()

    worker = threading.Thread(target=Engine(classifier, EngineOptions(batch_size=8)).run,
                              args=(records, emit, token))
    worker.start()
    assert first_batch.wait(30)
    worker.join(0.3)  # paused: still waiting in cancel.check()
    assert worker.is_alive() and len(emitted) == 8
    token.resume()
    worker.join(30)
    assert not worker.is_alive() and len(emitted) == 64


def test_a_word_cut_at_the_models_limit_keeps_its_whole_span(tiny_ner):
    """Without chunking the model sees only the first piece of a word that the limit cuts; the word (and
    so an entity on it) still spans the whole word, never ending inside it."""
    from services.core.engine import _word_spans

    loaded = load_model(str(tiny_ner), "token-classification")
    engine = Engine(loaded)
    inner = loaded.max_length - loaded.tokenizer.num_special_tokens_to_add(pair=False)
    text = "a " * (inner - 1) + "Ouagadougou is far."
    seqs = engine._encode([text])
    first = seqs[0]
    assert len(seqs) > 1 and loaded.tokenizer.convert_ids_to_tokens(first.ids[-2]) == "ou"  # cut inside the word
    spans = _word_spans(seqs, 1, chunking=False)[0]
    start = text.index("Ouagadougou")
    assert spans[first.words[-2]] == (start, start + len("Ouagadougou"))
    assert max(spans) == first.words[-2]  # nothing past the cut word was read
