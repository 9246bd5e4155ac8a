"""Reading and checking labelled data for fine-tuning: formats, labels, splits and every bad input."""

from __future__ import annotations

import json
import random

import pytest

from services.core.errors import InputError
from services.training import TEXT_CLASSIFICATION, TOKEN_CLASSIFICATION
from services.training.data import (
    guess_columns, imbalance_warning, label_value, ordered_labels, prepare_data, sha256_of, summarize,
)

POSITIVE = ["great film", "lovely food", "wonderful hotel", "excellent book", "superb app", "friendly staff"]
NEGATIVE = ["awful film", "terrible food", "dirty hotel", "boring book", "buggy app", "rude staff"]


def sentiment_rows(n: int = 40, seed: int = 0) -> list[tuple[str, str]]:
    """Balanced, easily learnable texts: a positive or negative phrase plus a varying tail."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "positive" if i % 2 else "negative"
        phrase = rng.choice(POSITIVE if label == "positive" else NEGATIVE)
        rows.append((f"{phrase} number {i}" + " really" * (i % 4), label))
    return rows


def write_csv(path, rows, header=("text", "label"), delimiter=","):
    lines = [delimiter.join(header)]
    for row in rows:
        lines.append(delimiter.join(f'"{v}"' if delimiter in str(v) else str(v) for v in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


NER_SENTENCES = [
    (["Maria", "Lopez", "joined", "Acme", "Corp", "in", "Berlin", "."], ["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "O", "B-LOC", "O"]),
    (["Paris", "is", "lovely", "."], ["B-LOC", "O", "O", "O"]),
    (["John", "works", "for", "Globex", "."], ["B-PER", "O", "O", "B-ORG", "O"]),
    (["The", "Olympics", "came", "to", "Rome", "."], ["O", "B-MISC", "O", "O", "B-LOC", "O"]),
]


def write_conll(path, sentences=NER_SENTENCES, repeat: int = 4):
    blocks = []
    for _ in range(repeat):
        for tokens, tags in sentences:
            blocks.append("\n".join(f"{t} {g}" for t, g in zip(tokens, tags)))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


# -- formats ---------------------------------------------------------------------------------------
def test_csv_labels_counts_and_stratified_split(tmp_path):
    data = prepare_data(write_csv(tmp_path / "reviews.csv", sentiment_rows(40)), TEXT_CLASSIFICATION,
                        validation_fraction=0.25, seed=1)
    assert data.labels == ["negative", "positive"] and data.label_names == data.labels
    assert data.id2label == {0: "negative", 1: "positive"} and data.label2id == {"negative": 0, "positive": 1}
    assert len(data.train) == 30 and len(data.validation) == 10
    assert sorted(data.validation.targets) == ["negative"] * 5 + ["positive"] * 5  # stratified
    assert data.counts == {"negative": 15, "positive": 15}
    assert data.validation_source == "25% split of reviews.csv" and [w for w in data.warnings if "imbalance" in w] == []
    assert set(data.train.inputs).isdisjoint(data.validation.inputs)
    assert data.train.sha256 == sha256_of(tmp_path / "reviews.csv") and len(data.train.sha256) == 64


def test_split_is_reproducible_with_the_seed(tmp_path):
    path = write_csv(tmp_path / "r.csv", sentiment_rows(40))
    a = prepare_data(path, TEXT_CLASSIFICATION, seed=3).validation.inputs
    assert a == prepare_data(path, TEXT_CLASSIFICATION, seed=3).validation.inputs
    assert a != prepare_data(path, TEXT_CLASSIFICATION, seed=4).validation.inputs


def test_tsv_and_jsonl_and_column_choice(tmp_path):
    rows = [(label, text) for text, label in sentiment_rows(20)]
    tsv = write_csv(tmp_path / "r.tsv", rows, header=("sentiment", "review"), delimiter="\t")
    data = prepare_data(tsv, TEXT_CLASSIFICATION)
    assert (data.text_column, data.label_column) == ("review", "sentiment")
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text("\n".join(json.dumps({"body": t, "tag": lab, "id": i}) for i, (t, lab) in enumerate(sentiment_rows(20))))
    data = prepare_data(jsonl, TEXT_CLASSIFICATION, text_column="body", label_column="tag")
    assert data.labels == ["negative", "positive"] and len(data.train) + len(data.validation) == 20


def test_guess_columns():
    assert guess_columns(["id", "text", "label", "domain"]) == ("text", "label")
    assert guess_columns(["review", "stars"], need_label=True) == ("review", "stars")
    assert guess_columns(["review", "stars"]) == ("review", None)  # Analyse: a gold label is optional
    assert guess_columns(["only"], need_label=True) == ("only", None)


def test_numeric_and_string_labels_both_work(tmp_path):
    numeric = [(text, "1" if label == "positive" else "0") for text, label in sentiment_rows(20)]
    data = prepare_data(write_csv(tmp_path / "n.csv", numeric), TEXT_CLASSIFICATION)
    assert data.labels == ["0", "1"] and data.id2label == {0: "0", 1: "1"}
    # JSON numbers (ints and floats that are whole) keep their digits as names, sorted numerically.
    jsonl = tmp_path / "n.jsonl"
    values = [2, 10, 2.0, 10, 1]
    jsonl.write_text("\n".join(json.dumps({"text": f"t {i}", "label": values[i % 5]}) for i in range(20)))
    data = prepare_data(jsonl, TEXT_CLASSIFICATION)
    assert data.labels == ["1", "2", "10"]
    assert label_value(3.0) == "3" and label_value(True) == "true" and label_value(" x ") == "x" and label_value("") is None
    # Label names can be edited; the values found in the data stay the keys.
    data = prepare_data(write_csv(tmp_path / "n2.csv", numeric), TEXT_CLASSIFICATION,
                        label_names={"0": "negative", "1": "positive"})
    assert data.label_names == ["negative", "positive"] and data.encode("1") == 1
    with pytest.raises(InputError, match="same name"):
        prepare_data(tmp_path / "n2.csv", TEXT_CLASSIFICATION, label_names={"0": "x", "1": "x"})


def test_empty_or_missing_texts_are_skipped_and_counted(tmp_path):
    path = tmp_path / "gaps.csv"
    lines = ["text,label"] + [f"{t},{lab}" for t, lab in sentiment_rows(20)]
    lines += [",positive", "   ,negative", "lonely text without label,", "short"]  # "short" has no label cell
    path.write_text("\n".join(lines) + "\n")
    data = prepare_data(path, TEXT_CLASSIFICATION)
    assert len(data.train) + len(data.validation) == 20
    assert data.train.skipped == {"empty or missing text": 2, "empty or missing label": 2}
    assert any("Skipped 4 rows" in w for w in data.warnings)
    summary = summarize(path, TEXT_CLASSIFICATION)
    assert summary["skipped"] == {"empty or missing text": 2, "empty or missing label": 2} and summary["usable"] == 20


def test_imbalance_warning(tmp_path):
    rows = [(f"good thing {i}", "positive") for i in range(30)] + [(f"bad thing {i}", "negative") for i in range(5)]
    data = prepare_data(write_csv(tmp_path / "skew.csv", rows), TEXT_CLASSIFICATION)
    imbalance = [w for w in data.warnings if "imbalance" in w]
    assert len(imbalance) == 1 and "6×" in imbalance[0]
    assert imbalance_warning({"a": 10, "b": 9}) == ""
    assert summarize(tmp_path / "skew.csv", TEXT_CLASSIFICATION)["warnings"]


def test_separate_validation_file(tmp_path):
    train = write_csv(tmp_path / "train.csv", sentiment_rows(20))
    val = write_csv(tmp_path / "val.csv", sentiment_rows(6, seed=9))
    data = prepare_data(train, TEXT_CLASSIFICATION, validation_path=val)
    assert len(data.train) == 20 and len(data.validation) == 6 and data.validation_source == "val.csv"


def test_conll_and_jsonl_ner(tmp_path):
    data = prepare_data(write_conll(tmp_path / "ner.conll"), TOKEN_CLASSIFICATION, validation_fraction=0.25)
    assert data.labels == ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert len(data.train) == 12 and len(data.validation) == 4
    assert data.train.inputs[0] and len(data.train.inputs[0]) == len(data.train.targets[0])
    jsonl = tmp_path / "ner.jsonl"
    jsonl.write_text("\n".join(json.dumps({"tokens": t, "ner_tags": g}) for t, g in NER_SENTENCES * 3))
    assert prepare_data(jsonl, TOKEN_CLASSIFICATION).labels == data.labels
    assert ordered_labels({"O", "I-PER"}, TOKEN_CLASSIFICATION) == ["O", "B-PER", "I-PER"]


def test_preview_summary(tmp_path):
    path = write_csv(tmp_path / "r.csv", sentiment_rows(30))
    summary = summarize(path, TEXT_CLASSIFICATION)
    assert summary["columns"] == ["text", "label"] and len(summary["rows"]) == 20 and summary["total"] == 30
    assert summary["counts"] == {"negative": 15, "positive": 15} and summary["problems"] == []
    ner = summarize(write_conll(tmp_path / "n.conll"), TOKEN_CLASSIFICATION)
    assert ner["columns"] == ["tokens", "tags"] and ner["rows"][0][0].startswith("Maria Lopez")
    assert ner["counts"]["B-PER"] == 8


# -- bad input ---------------------------------------------------------------------------------------
def test_missing_label_column(tmp_path):
    path = write_csv(tmp_path / "r.csv", sentiment_rows(20))
    with pytest.raises(InputError, match="no label column 'stars'.*Columns found: text, label"):
        prepare_data(path, TEXT_CLASSIFICATION, label_column="stars")
    only_text = tmp_path / "only.csv"
    only_text.write_text("text\n" + "\n".join(t for t, _ in sentiment_rows(20)))
    with pytest.raises(InputError, match="no label column"):
        prepare_data(only_text, TEXT_CLASSIFICATION)
    assert summarize(only_text, TEXT_CLASSIFICATION)["problems"]


def test_only_one_class(tmp_path):
    rows = [(f"good {i}", "positive") for i in range(20)]
    with pytest.raises(InputError, match="same label \\('positive'\\).*at least two classes"):
        prepare_data(write_csv(tmp_path / "one.csv", rows), TEXT_CLASSIFICATION)


def test_fewer_than_ten_rows(tmp_path):
    with pytest.raises(InputError, match="only 9 usable examples.*at least 10"):
        prepare_data(write_csv(tmp_path / "few.csv", sentiment_rows(9)), TEXT_CLASSIFICATION)
    rows = sentiment_rows(8) + [("", "positive"), ("", "negative")]
    with pytest.raises(InputError, match="only 8 usable examples \\(2 more skipped: 2 empty or missing text\\)"):
        prepare_data(write_csv(tmp_path / "few2.csv", rows), TEXT_CLASSIFICATION)


def test_validation_labels_unseen_in_training(tmp_path):
    train = write_csv(tmp_path / "train.csv", sentiment_rows(20))
    val = write_csv(tmp_path / "val.csv", sentiment_rows(4) + [("so-so", "neutral")])
    with pytest.raises(InputError, match="never occur in the training data: neutral"):
        prepare_data(train, TEXT_CLASSIFICATION, validation_path=val)


def test_ner_tags_not_in_bio_form(tmp_path):
    bad = [(["Maria", "lives", "in", "Rome"], ["PER", "O", "O", "LOC"])] * 12
    with pytest.raises(InputError, match="'PER'.*not in BIO form"):
        prepare_data(write_conll(tmp_path / "bad.conll", bad, repeat=1), TOKEN_CLASSIFICATION)
    bioes = [(["Maria", "Lopez"], ["B-PER", "E-PER"])] * 12
    with pytest.raises(InputError, match="'E-PER'.*BIO"):
        prepare_data(write_conll(tmp_path / "bioes.conll", bioes, repeat=1), TOKEN_CLASSIFICATION)
    no_tag = tmp_path / "notag.conll"
    no_tag.write_text("Maria B-PER\nLopez\n")
    with pytest.raises(InputError, match="Line 2 .* has no tag"):
        prepare_data(no_tag, TOKEN_CLASSIFICATION)
    mismatch = tmp_path / "mismatch.jsonl"
    mismatch.write_text(json.dumps({"tokens": ["a", "b"], "tags": ["O"]}))
    with pytest.raises(InputError, match="2 tokens but 1 tags"):
        prepare_data(mismatch, TOKEN_CLASSIFICATION)


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        prepare_data(tmp_path / "nope.csv", TEXT_CLASSIFICATION)
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(InputError, match="file type"):
        prepare_data(tmp_path / "x.xlsx", TEXT_CLASSIFICATION)
    (tmp_path / "only_broken.jsonl").write_text('{oops\n[1, 2]\n')
    with pytest.raises(InputError, match="has no rows"):
        prepare_data(tmp_path / "only_broken.jsonl", TEXT_CLASSIFICATION)
    with pytest.raises(InputError, match="NER needs tokens"):
        prepare_data(write_csv(tmp_path / "t.csv", sentiment_rows(20)), TOKEN_CLASSIFICATION)
    with pytest.raises(InputError, match="CoNLL"):
        prepare_data(write_conll(tmp_path / "n.conll"), TEXT_CLASSIFICATION)


def test_cp1252_and_utf16_training_files_are_read_with_analyses_warning(tmp_path):
    """The same reader as Analyse: a cp1252 file is accepted with the warning Analyse shows; UTF-16 by BOM."""
    from services.core.files import scan_file
    from services.core.readers import ReadOptions, iter_file_records

    rows = [(f"caf\xe9 n\xb0{i} was {'lovely' if i % 2 else 'awful'}", "positive" if i % 2 else "negative")
            for i in range(20)]
    body = "text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(body.encode("cp1252"))
    data = prepare_data(latin, TEXT_CLASSIFICATION)
    texts = sorted(data.train.inputs + data.validation.inputs)
    assert texts == sorted(t for t, _ in rows)  # decoded as cp1252, not mangled
    info, _ = scan_file(str(latin))
    analyse_warning = [str(w) for w in info.warnings]
    assert analyse_warning and all(w in data.warnings for w in analyse_warning)
    assert "cp1252" in analyse_warning[0]
    analysed = [r.text for r in iter_file_records(info, ReadOptions(), [])]
    assert sorted(analysed) == texts  # Analyse reads the very same texts
    wide = tmp_path / "wide.csv"
    wide.write_bytes(body.encode("utf-16"))
    data16 = prepare_data(wide, TEXT_CLASSIFICATION)
    assert sorted(data16.train.inputs + data16.validation.inputs) == texts and not data16.warnings[:1] == analyse_warning


def test_binary_training_file_says_binary(tmp_path):
    binary = tmp_path / "model.csv"
    binary.write_bytes(b"text,label\n\x00\x01\x02\x00" * 50)
    with pytest.raises(InputError, match="binary file") as caught:
        prepare_data(binary, TEXT_CLASSIFICATION)
    assert "UTF-8" not in str(caught.value) + (caught.value.hint or "")


def test_broken_json_lines_are_skipped_with_their_line_numbers(tmp_path):
    lines = [json.dumps({"text": t, "label": lab}) for t, lab in sentiment_rows(20)]
    lines.insert(3, "{oops")
    path = tmp_path / "some_broken.jsonl"
    path.write_text("\n".join(lines) + "\n")
    data = prepare_data(path, TEXT_CLASSIFICATION)
    assert len(data.train) + len(data.validation) == 20
    assert any("line 4" in w and "not valid JSON" in w for w in data.warnings)


def test_a_tiny_validation_set_is_called_out(tmp_path):
    """10 rows split 20 %: 2 validation examples; the run says its scores mean little (issue 14)."""
    data = prepare_data(write_csv(tmp_path / "ten.csv", sentiment_rows(10)), TEXT_CLASSIFICATION)
    assert len(data.validation) == 2
    assert any("only 2 examples" in w and "mean little" in w for w in data.warnings)
    roomy = prepare_data(write_csv(tmp_path / "many.csv", sentiment_rows(200)), TEXT_CLASSIFICATION)
    assert not any("mean little" in w for w in roomy.warnings)


def test_small_files_are_planned_for_enough_updates():
    from services.training.config import MAX_PLANNED_EPOCHS, Hyperparameters

    hp = Hyperparameters(epochs=3, batch_size=16, min_steps=300)
    assert hp.planned_epochs(1440) == 4  # 90 updates per epoch
    assert hp.planned_epochs(100_000) == 3  # big files keep the epochs asked for
    assert hp.planned_epochs(20) == MAX_PLANNED_EPOCHS
    assert Hyperparameters(epochs=3, min_steps=0).planned_epochs(20) == 3
    lowered, note = Hyperparameters().for_model(110_000_000)
    assert lowered.learning_rate < Hyperparameters().learning_rate and "110M" in note
    assert Hyperparameters().for_model(22_000_000) == (Hyperparameters(), "")


def test_each_task_has_its_default_learning_rate_and_large_models_lower_either():
    """Text classification defaults to 5e-5 (its one-label head fell to one class at 1e-4), NER to 1e-4; a kept
    default of either is lowered for a large model, a learning rate the user chose is not."""
    from services.training.config import Hyperparameters

    sentences, tags = Hyperparameters.defaults_for("text-classification"), Hyperparameters.defaults_for("token-classification")
    assert (sentences.learning_rate, tags.learning_rate) == (5e-5, 1e-4)
    assert sentences.batch_size == tags.batch_size == Hyperparameters().batch_size
    for hp in (sentences, tags):
        assert hp.for_model(110_000_000)[0].learning_rate == 3e-5
    assert Hyperparameters(learning_rate=7e-5).for_model(110_000_000)[0].learning_rate == 7e-5
