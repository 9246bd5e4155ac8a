"""Tokenizer services on the real built-in BERT WordPiece tokenizer and an XLNet-style Unigram one."""

from __future__ import annotations

import shutil

import pytest

from services.core.errors import InputError, ModelError
from services.tokenizer.batch import encode_batch, split_lines
from services.tokenizer.compare import compare_tokenizers
from services.tokenizer.custom import add_custom_tokens, parse_tokens, save_with_custom_tokens
from services.tokenizer.inspect import describe_normalisation, encode, explain_round_trip, load_tokenizer, steps

SEED = "I'm so excited to be learning about large language models."
SEED_TOKENS = ["[CLS]", "i", "'", "m", "so", "excited", "to", "be", "learning", "about", "large", "language",
               "models", ".", "[SEP]"]


@pytest.fixture(scope="module")
def bert():
    return load_tokenizer("builtin")


@pytest.fixture(scope="module")
def xlnet(xlnet_style_tokenizer):
    return load_tokenizer(xlnet_style_tokenizer)


# -- encoding -------------------------------------------------------------------------------------
def test_seed_sentence_with_bert(bert):
    encoding = encode(bert, SEED)
    assert encoding.tokens == SEED_TOKENS
    assert encoding.input_ids[0] == 101 and encoding.input_ids[-1] == 102
    assert encoding.input_ids[1:4] == [1045, 1005, 1049]
    assert [row.token_type_id for row in encoding.rows] == [0] * 15
    assert [row.attention_mask for row in encoding.rows] == [1] * 15
    assert encoding.rows[0].roles == ("cls_token",) and encoding.rows[-1].roles == ("sep_token",)
    assert encoding.rows[0].start is None and encoding.rows[0].special
    assert encoding.unknown_count == 0


def test_offsets_point_at_the_text_each_token_came_from(bert):
    text = "Tokenizers split UNBELIEVABLY long words."
    encoding = encode(bert, text)
    pieces = [row for row in encoding.rows if not row.special]
    assert any(row.token.startswith("##") for row in pieces)  # WordPiece continuation pieces
    for row in pieces:
        assert text[row.start:row.end].lower() == row.token.removeprefix("##")
    assert encoding.row_at(0, text.index("split")) == next(r.position for r in pieces if r.token == "split")
    assert encoding.row_at(0, text.index(" ")) is None


def test_sentence_pair_types_and_segments(bert):
    encoding = encode(bert, "How old are you?", "I am six.")
    types = [row.token_type_id for row in encoding.rows]
    first_sep = encoding.tokens.index("[SEP]")
    assert types[: first_sep + 1] == [0] * (first_sep + 1)
    assert set(types[first_sep + 1:]) == {1}
    six = next(row for row in encoding.rows if row.token == "six")
    assert six.segment == 1 and "I am six."[six.start:six.end] == "six"


def test_bert_and_xlnet_put_special_tokens_in_different_places(bert, xlnet):
    bert_encoding, xlnet_encoding = encode(bert, SEED), encode(xlnet, SEED)
    assert bert_encoding.tokens[0] == "[CLS]" and bert_encoding.tokens[-1] == "[SEP]"
    assert xlnet_encoding.tokens[-2:] == ["<sep>", "<cls>"]  # XLNet: at the end
    assert not xlnet_encoding.rows[0].special
    assert xlnet_encoding.rows[-1].token_type_id == 2  # XLNet's <cls> has its own segment id
    assert xlnet_encoding.rows[-1].roles == ("cls_token",)
    assert len(xlnet_encoding.rows) != len(bert_encoding.rows)


def test_normalisation_bert_lowercases_and_strips_accents_xlnet_keeps_them(bert, xlnet):
    assert describe_normalisation(bert).lowercases and describe_normalisation(bert).strips_accents
    style = describe_normalisation(xlnet)
    assert not style.lowercases and not style.strips_accents and style.unicode_form == "NFKC"


def test_emoji_and_characters_outside_the_vocabulary_become_unknown(bert, xlnet):
    text = "I love it 😀 ☃"
    encoding = encode(bert, text)
    assert encoding.unknown_count == 2
    assert encoding.unknown_chars == ["😀", "☃"]
    assert all(row.roles == ("unk_token",) for row in encoding.rows if row.unknown)
    assert encode(xlnet, "Zoë 😀").unknown_count >= 1


def test_empty_text_is_refused(bert):
    for text in ("", "   \n"):
        with pytest.raises(InputError, match="empty"):
            encode(bert, text)


def test_long_input_is_encoded_and_flagged(bert):
    text = ("The tokenizer handles long input. " * 3000)[:100_000]
    encoding = encode(bert, text)
    assert len(text) == 100_000 and len(encoding.rows) > 15_000
    assert any("model_max_length" in note for note in encoding.notes)
    last = encoding.rows[-2]
    assert text[last.start:last.end].lower() == last.token.removeprefix("##")


# -- steps and round trip -------------------------------------------------------------------------
def test_steps_of_the_seed_sentence(bert):
    result = steps(bert, SEED)
    assert result.tokens == SEED_TOKENS[1:-1]
    assert result.ids == [1045, 1005, 1049, 2061, 7568, 2000, 2022, 4083, 2055, 2312, 2653, 4275, 1012]
    assert result.ids_with_special == [101] + result.ids + [102]
    assert result.decoded_with_special.startswith("[CLS] ") and result.decoded_with_special.endswith("[SEP]")
    assert "[CLS]" not in result.decoded_without_special
    kinds = [loss.kind for loss in result.losses]
    assert "lower-casing" in kinds and "spacing" in kinds and "unknown" not in kinds


def test_round_trip_explains_accents_and_unknown_characters(bert):
    result = steps(bert, "Café naïve 😀")
    kinds = {loss.kind for loss in result.losses}
    assert {"unknown", "lower-casing", "accents"} <= kinds
    assert "other" not in kinds
    unknown = next(loss for loss in result.losses if loss.kind == "unknown")
    assert "😀" in unknown.explanation


def test_round_trip_is_lossless_where_it_should_be(xlnet, bert):
    assert steps(xlnet, "the film was a delight from start to finish.").lossless
    assert steps(bert, "the film was a delight").lossless


def test_explain_round_trip_reports_what_it_cannot_explain():
    losses = explain_round_trip("abc", "xyz", [], "[UNK]")
    assert [loss.kind for loss in losses] == ["other"]


# -- loading --------------------------------------------------------------------------------------
def test_tokenizer_only_folder_loads(xlnet_style_tokenizer):
    handle = load_tokenizer(xlnet_style_tokenizer)
    assert not handle.has_model and handle.is_fast
    assert not (xlnet_style_tokenizer / "config.json").exists()


def test_model_folder_without_tokenizer_is_a_clear_error(tiny_classifier, tmp_path):
    folder = tmp_path / "no-tokenizer"
    shutil.copytree(tiny_classifier, folder)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(ModelError, match="model folder without a tokenizer"):
        load_tokenizer(folder)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_tokenizer(tmp_path / "nowhere")
    with pytest.raises(ModelError, match="no tokenizer files"):
        load_tokenizer(tmp_path)


def test_broken_tokenizer_file(tmp_path):
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(ModelError, match="could not be loaded"):
        load_tokenizer(tmp_path)


# -- batches --------------------------------------------------------------------------------------
LINES = ["Short.", "A much longer line that needs many more tokens than the first."]


def test_padding_longest_right_for_bert(bert):
    result = encode_batch(bert, LINES, padding="longest")
    short, long_ = result.rows
    assert len(short.input_ids) == len(long_.input_ids) == result.width
    assert short.input_ids[-1] == 0 and short.tokens[-1] == "[PAD]" and short.attention_mask[-1] == 0
    assert short.input_ids[0] == 101 and short.attention_mask.count(1) == 4
    assert result.tensors["input_ids"] == ((2, result.width), "torch.int64")
    assert result.tensors["attention_mask"] == ((2, result.width), "torch.int64")


def test_xlnet_pads_on_the_left(xlnet):
    result = encode_batch(xlnet, LINES, padding="longest", padding_side="left")
    short = result.rows[0]
    assert short.tokens[0] == "<pad>" and short.attention_mask[0] == 0
    assert short.tokens[-2:] == ["<sep>", "<cls>"] and short.attention_mask[-1] == 1


def test_max_length_padding_and_no_padding(bert):
    padded = encode_batch(bert, LINES, padding="max_length", max_length=32)
    assert padded.width == 32 and all(len(row.input_ids) == 32 for row in padded.rows)
    ragged = encode_batch(bert, LINES, padding="none")
    assert len(ragged.rows[0].input_ids) < len(ragged.rows[1].input_ids)
    assert ragged.tensors == {} and "rectangular" in ragged.tensor_note


def test_truncation_with_stride_returns_overlapping_overflow(bert):
    result = encode_batch(bert, LINES, padding="longest", truncation="longest_first", max_length=8, stride=2)
    assert all(len(row.input_ids) == 8 for row in result.rows)
    pieces = [row for row in result.rows if row.sample == 1]
    assert len(pieces) >= 3 and result.overflow_count == len(pieces) - 1
    first, second = pieces[0], pieces[1]
    body = lambda row: [t for t, m in zip(row.tokens, row.attention_mask) if m and t not in ("[CLS]", "[SEP]")]  # noqa: E731
    assert body(first)[-2:] == body(second)[:2]  # stride=2: consecutive pieces share two tokens
    assert result.tensors["input_ids"][0] == (len(result.rows), 8)
    assert any("overflowing" in note for note in result.notes)


def test_pair_truncation_only_second(bert):
    lines = split_lines("short question ||| a very long context that will be cut off at the end")
    assert lines == [("short question", "a very long context that will be cut off at the end")]
    result = encode_batch(bert, lines, truncation="only_second", max_length=10)
    row = result.rows[0]
    assert len(row.input_ids) == 10
    assert row.tokens[:4] == ["[CLS]", "short", "question", "[SEP]"]  # the first text is intact
    assert row.token_type_ids[-1] == 1 and result.overflow_count >= 1


def test_bad_batch_options(bert):
    with pytest.raises(InputError, match="only_second"):
        encode_batch(bert, LINES, truncation="only_second", max_length=8)
    with pytest.raises(InputError, match="empty"):
        encode_batch(bert, ["", "  "])
    with pytest.raises(InputError, match="stride"):
        encode_batch(bert, LINES, truncation="longest_first", max_length=4, stride=4)
    with pytest.raises(InputError, match="Unknown padding"):
        encode_batch(bert, LINES, padding="sideways")
    with pytest.raises(InputError, match="pairs and some are not"):
        encode_batch(bert, [("a", "b"), ("c", None)])


# -- custom tokens --------------------------------------------------------------------------------
def test_custom_special_tokens_become_single_tokens(bert):
    size = len(bert.tokenizer)
    custom = add_custom_tokens(bert, parse_tokens("<source_lang>, <target_lang>"), "<source_lang> hello <target_lang>")
    assert custom.tokens_before[:3] == ["<", "source", "_"]
    assert custom.tokens_after == ["<source_lang>", "hello", "<target_lang>"]
    assert custom.size_after == size + 2 and custom.ids_after[0] == size
    assert "resize_token_embeddings" in custom.explanation
    assert len(bert.tokenizer) == size  # the original is untouched
    again = add_custom_tokens(bert, ["[SEP]"])
    assert again.added == [] and again.existing == ["[SEP]"]
    with pytest.raises(InputError):
        parse_tokens(" , ")
    with pytest.raises(InputError, match="spaces"):
        add_custom_tokens(bert, ["<a b>"])


def test_save_with_resized_embeddings_reloads_with_the_bigger_vocabulary(tiny_classifier, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    target = tmp_path / "with-tokens"
    saved = save_with_custom_tokens(tiny_classifier, ["<source_lang>", "<target_lang>"], folder=target)
    assert saved.model_saved and saved.size_after == saved.size_before + 2
    assert saved.embedding_rows_before == 30522 and saved.embedding_rows_after == 30524
    tokenizer = AutoTokenizer.from_pretrained(target)
    model = AutoModelForSequenceClassification.from_pretrained(target)
    assert len(tokenizer) == 30524
    assert model.get_input_embeddings().weight.shape[0] == 30524 and model.config.vocab_size == 30524
    assert tokenizer.tokenize("<source_lang> hi") == ["<source_lang>", "hi"]
    assert model.config.id2label == {0: "negative", 1: "positive"}  # the head survived
    with pytest.raises(InputError, match="not empty"):
        save_with_custom_tokens(tiny_classifier, ["<x>"], folder=target)


def test_save_into_the_library_and_tokenizer_only(tiny_classifier, xlnet_style_tokenizer, tmp_path):
    library = tmp_path / "library"
    saved = save_with_custom_tokens(tiny_classifier, ["<x_lang>"], library_name="custom", library_root=library)
    assert saved.path == library / "custom" and (saved.path / "config.json").exists()
    only = save_with_custom_tokens(xlnet_style_tokenizer, ["<x_lang>"], folder=tmp_path / "tok")
    assert not only.model_saved and load_tokenizer(only.path).tokenizer.tokenize("<x_lang>") == ["<x_lang>"]
    with pytest.raises(InputError, match="tokenizer without a model"):
        save_with_custom_tokens(xlnet_style_tokenizer, ["<x_lang>"], library_name="t", library_root=library)


# -- compare --------------------------------------------------------------------------------------
def test_compare_bert_with_xlnet_style(bert, xlnet):
    comparison = compare_tokenizers([bert, xlnet], SEED)
    first, second = comparison.tokenizers
    assert first.start_specials == ["[CLS]"] and first.end_specials == ["[SEP]"]
    assert second.start_specials == [] and second.end_specials == ["<sep>", "<cls>"]
    assert first.special_placement == "start and end" and second.special_placement == "end"
    assert (first.padding_side, second.padding_side) == ("right", "left")
    assert first.vocab_size == 30522 and second.vocab_size < 1000
    assert first.model_max_length == 512 and second.model_max_length == 128
    assert first.normalisation.lowercases and not second.normalisation.lowercases
    assert comparison.differing_splits  # the small Unigram vocabulary splits words WordPiece keeps whole
    # every cell covers exactly the text of its tokens' offsets, and cells never overlap
    for compared in comparison.tokenizers:
        previous = 0
        for cell in compared.cells:
            assert cell.first >= previous and cell.last > cell.first
            previous = cell.last
    excited = next(c for c in first.cells if c.tokens == ["excited"])
    start, end = comparison.columns[excited.first][0], comparison.columns[excited.last - 1][1]
    assert SEED[start:end] == "excited"
    inside = [c for c in second.cells if start <= comparison.columns[c.first][0] and comparison.columns[c.last - 1][1] <= end]
    assert len(inside) >= 2  # the XLNet-style tokenizer needs several pieces for "excited"
    assert any(start < position < end for position in comparison.differing_splits)
    with pytest.raises(InputError, match="at least two"):
        compare_tokenizers([bert], SEED)
