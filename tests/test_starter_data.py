"""The project's own starter data sets (resources/starter): counts, balance, splits, BIO, reproducibility."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

STARTER = Path(__file__).resolve().parent.parent / "resources" / "starter"
SCRIPT = STARTER / "make_starter_data.py"
FILES = ["sentiment_train.csv", "sentiment_test.csv", "ner_train.conll", "ner_test.conll"]
DOMAINS = {"film", "restaurant", "product", "app", "hotel", "book"}
ENTITY_TYPES = {"PER", "ORG", "LOC", "MISC"}


def _sentiment(split: str) -> list[dict[str, str]]:
    with open(STARTER / f"sentiment_{split}.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["text", "label", "domain"]
        return list(reader)


def _ner(split: str) -> list[list[tuple[str, str]]]:
    text = (STARTER / f"ner_{split}.conll").read_text(encoding="utf-8")
    sentences = []
    for block in text.strip("\n").split("\n\n"):
        sent = []
        for line in block.split("\n"):
            parts = line.split(" ")
            assert len(parts) == 2 and all(parts), f"bad line {line!r} in ner_{split}.conll"
            sent.append((parts[0], parts[1]))
        sentences.append(sent)
    return sentences


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def test_sentiment_counts_and_balance():
    train, test = _sentiment("train"), _sentiment("test")
    assert len(train) + len(test) >= 1500
    assert 0.15 <= len(test) / (len(train) + len(test)) <= 0.25
    for rows in (train, test):
        labels = Counter(r["label"] for r in rows)
        assert set(labels) == {"positive", "negative"}
        assert labels["positive"] == labels["negative"]
        domains = Counter(r["domain"] for r in rows)
        assert set(domains) == DOMAINS
        # roughly even across domains
        assert max(domains.values()) <= 1.5 * min(domains.values())
        for domain in DOMAINS:
            in_domain = Counter(r["label"] for r in rows if r["domain"] == domain)
            assert in_domain["positive"] == in_domain["negative"] > 0


def test_sentiment_texts_unique_and_disjoint():
    train, test = _sentiment("train"), _sentiment("test")
    all_texts = [r["text"] for r in train + test]
    assert all(t and t == t.strip() for t in all_texts)
    assert len(set(all_texts)) == len(all_texts), "duplicate texts"
    keys = [_key(t) for t in all_texts]
    assert len(set(keys)) == len(keys), "texts differing only in case/punctuation"
    assert not {_key(r["text"]) for r in train} & {_key(r["text"]) for r in test}
    lengths = [len(t.split()) for t in all_texts]
    assert min(lengths) >= 3 and max(lengths) <= 60
    assert sum(1 for n in lengths if n >= 25) >= 30, "some long texts expected"


def test_ner_counts_bio_and_types():
    train, test = _ner("train"), _ner("test")
    assert len(train) + len(test) >= 300
    assert len(train) >= 250 and len(test) >= 50
    for sentences in (train, test):
        types = Counter()
        for sent in sentences:
            prev = "O"
            for token, tag in sent:
                assert tag == "O" or re.fullmatch(r"[BI]-(PER|ORG|LOC|MISC)", tag), tag
                if tag.startswith("I-"):
                    assert prev != "O" and prev[2:] == tag[2:], f"I- without B-: {sent}"
                if tag.startswith("B-"):
                    types[tag[2:]] += 1
                prev = tag
        assert set(types) == ENTITY_TYPES
        assert any(all(tag == "O" for _, tag in s) for s in sentences), "sentences without entities"
        assert any(tag.startswith("I-") for s in sentences for _, tag in s), "multi-token entities"
    train_text = {" ".join(t for t, _ in s) for s in train}
    test_text = [" ".join(t for t, _ in s) for s in test]
    assert not train_text & set(test_text)
    assert len(set(test_text)) == len(test_text) and len(train_text) == len(train)


def test_generator_reproduces_committed_files(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--output-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (STARTER / name).read_bytes(), name


@pytest.mark.parametrize("name", FILES)
def test_files_are_utf8_with_unix_newlines(name):
    data = (STARTER / name).read_bytes()
    data.decode("utf-8")
    assert b"\r" not in data
