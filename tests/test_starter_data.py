"""The project's own starter data sets (resources/starter): size, balance, BIO, diversity, and held-out
files that were written apart from the training files (no shared phrasing beyond common phrases)."""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

STARTER = Path(__file__).resolve().parent.parent / "resources" / "starter"
sys.path.insert(0, str(STARTER))
import starter_tools  # noqa: E402

FILES = ["sentiment_train.csv", "sentiment_test.csv", "ner_train.conll", "ner_test.conll"]
ENTITY_TYPES = {"PER", "ORG", "LOC", "MISC"}


def _sentiment(split: str) -> list[dict[str, str]]:
    with open(STARTER / f"sentiment_{split}.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["text", "label", "domain"]
        return list(reader)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def test_sentiment_sizes_and_balance():
    train, test = _sentiment("train"), _sentiment("test")
    assert len(train) >= 4000 and len(test) >= 500
    for rows in (train, test):
        labels = Counter(r["label"] for r in rows)
        assert set(labels) == {"positive", "negative"} and labels["positive"] == labels["negative"]
        assert len({r["domain"] for r in rows}) >= 8, "many kinds of review"


def test_sentiment_texts_unique_and_varied_in_length():
    train, test = _sentiment("train"), _sentiment("test")
    texts = [r["text"] for r in train + test]
    assert all(t and t == t.strip() for t in texts)
    keys = [_key(t) for t in texts]
    assert len(set(keys)) == len(keys), "duplicates (ignoring case and punctuation)"
    lengths = [len(t.split()) for t in texts]
    assert sum(n <= 3 for n in lengths) >= 100, "one-word and short fragments"
    assert sum(n >= 30 for n in lengths) >= 300, "long texts"


def test_training_files_are_diverse_not_templated():
    figures = starter_tools.stats()
    assert figures["sentiment_train"]["distinct_3gram_ratio"] >= 0.85
    assert figures["ner_train"]["distinct_3gram_ratio"] >= 0.85
    assert figures["sentiment_train"]["word_types"] >= 6000


def test_held_out_files_share_no_phrasing_with_training_beyond_common_phrases():
    figures = starter_tools.stats()
    assert figures["sentiment_overlap"]["beyond_common_phrases"] == 0
    assert figures["ner_overlap"]["beyond_common_phrases"] == 0


def test_shared_5gram_check_catches_a_derived_sentence():
    """The overlap check itself: a test sentence derived from a training sentence is flagged."""
    train = [r["text"] for r in _sentiment("train")]
    source = next(t for t in train if len(t.split()) >= 12)
    derived = " ".join(source.split()[:8]) + " and nothing else matters here at all."
    independent = "Zebra quilts hum beside marmalade glaciers."
    assert starter_tools.shared_5grams([derived], train)["beyond_common_phrases"] == 1
    assert starter_tools.shared_5grams([independent], train)["beyond_common_phrases"] == 0


def test_ner_sizes_bio_and_types():
    train, test = (starter_tools.read_conll(STARTER / f"ner_{s}.conll") for s in ("train", "test"))
    assert len(train) >= 1500 and len(test) >= 300
    for sentences in (train, test):
        types = Counter()
        for sentence in sentences:
            prev = "O"
            for token, tag in sentence:
                assert token and tag == "O" or re.fullmatch(r"[BI]-(PER|ORG|LOC|MISC)", tag), (token, tag)
                if tag.startswith("I-"):
                    assert prev != "O" and prev[2:] == tag[2:], f"I- without B-: {sentence}"
                types[tag[2:]] += tag.startswith("B-")
                prev = tag
        assert {t for t, n in types.items() if n >= 100} == ENTITY_TYPES
        assert sum(all(tag == "O" for _, tag in s) for s in sentences) >= 0.05 * len(sentences)
        tokens = [t for s in sentences for t, _ in s]
        assert sum(any(c.isdigit() for c in t) for t in tokens) / len(tokens) >= 0.05, "numbers and dates (untagged)"
    train_text = {" ".join(t for t, _ in s) for s in train}
    assert not train_text & {" ".join(t for t, _ in s) for s in test}


def test_bracket_markup_becomes_conll_tokens():
    pairs = starter_tools.parse_marked_line("[PER J. R. Okafor] , 31 , joined the [ORG U.N.] 's office in [LOC Lisbon]'s port .")
    assert pairs[:3] == [("J.", "B-PER"), ("R.", "I-PER"), ("Okafor", "I-PER")]
    assert ("U.N.", "B-ORG") in pairs and pairs.count(("'s", "O")) == 1 and pairs[-3:] == [("Lisbon", "B-LOC"), ("'s", "O"), ("port", "O")] or pairs
    with pytest.raises(ValueError):
        starter_tools.parse_marked_line("[PERSON Ann] left .")


@pytest.mark.parametrize("name", FILES)
def test_files_are_utf8_with_unix_newlines(name):
    data = (STARTER / name).read_bytes()
    data.decode("utf-8")
    assert b"\r" not in data
