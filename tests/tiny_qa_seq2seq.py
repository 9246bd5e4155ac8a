"""Tiny random-weight question-answering and sequence-to-sequence models built from real configs.

QA: BERT and DistilBERT (the built-in model's BERT vocabulary), RoBERTa (a byte-level BPE trained
here). Seq2seq: BART (byte-level BPE), T5 (a SentencePiece-style Unigram trained with the
``tokenizers`` library, with T5's task prefixes in ``task_specific_params``), Marian (real
SentencePiece models trained with the ``sentencepiece`` package, as ``MarianTokenizer`` needs), and
an NLLB-style M2M100 whose tokenizer carries language codes. Every tokenizer is trained from the
project's own text (``tests.tiny_models.CORPUS`` plus a few lines in French and German).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.tiny_models import CORPUS, _copy_bert_tokenizer

EXTRA = [
    "Le film était un plaisir du début à la fin.",
    "Der Service im Restaurant war langsam und die Suppe war kalt.",
    "Marie a rejoint Acme à Berlin au printemps dernier.",
    "summarize: translate English to French: translate English to German:",
] * 10
TEXT = CORPUS + EXTRA
MAX_LENGTH = 128
T5_TASK_PARAMS = {
    "summarization": {"early_stopping": True, "length_penalty": 2.0, "max_length": 40, "min_length": 5,
                      "no_repeat_ngram_size": 3, "num_beams": 2, "prefix": "summarize: "},
    "translation_en_to_de": {"early_stopping": True, "max_length": 30, "num_beams": 2,
                             "prefix": "translate English to German: "},
    "translation_en_to_fr": {"early_stopping": True, "max_length": 30, "num_beams": 2,
                             "prefix": "translate English to French: "},
}
NLLB_CODES = ["eng_Latn", "fra_Latn", "deu_Latn"]


def _merges(model: dict) -> list[tuple[str, str]]:
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]


# -- question answering ---------------------------------------------------------------------------
def build_bert_qa(folder: Path, seed: int = 11) -> Path:
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=MAX_LENGTH)
    folder.mkdir(parents=True, exist_ok=True)
    BertForQuestionAnswering(config).save_pretrained(folder)
    _copy_bert_tokenizer(folder, MAX_LENGTH)
    return folder


def build_distilbert_qa(folder: Path, seed: int = 12) -> Path:
    import torch
    from transformers import DistilBertConfig, DistilBertForQuestionAnswering

    torch.manual_seed(seed)
    config = DistilBertConfig(vocab_size=30522, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                              max_position_embeddings=MAX_LENGTH)
    folder.mkdir(parents=True, exist_ok=True)
    DistilBertForQuestionAnswering(config).save_pretrained(folder)
    _copy_bert_tokenizer(folder, MAX_LENGTH)
    path = folder / "tokenizer_config.json"  # as distilbert-base-cased-distilled-squad: no token_type_ids
    config = json.loads(path.read_text())
    config["tokenizer_class"] = "DistilBertTokenizer"
    path.write_text(json.dumps(config))
    return folder


def train_roberta_tokenizer(vocab_size: int = 500):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    raw = ByteLevelBPETokenizer()
    raw.train_from_iterator(TEXT, vocab_size=vocab_size, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    model = json.loads(raw._tokenizer.to_str())["model"]
    return RobertaTokenizer(vocab=model["vocab"], merges=_merges(model), model_max_length=MAX_LENGTH)


def build_roberta_qa(folder: Path, seed: int = 13) -> Path:
    import torch
    from transformers import RobertaConfig, RobertaForQuestionAnswering

    torch.manual_seed(seed)
    tokenizer = train_roberta_tokenizer()
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=64, max_position_embeddings=MAX_LENGTH + 2, pad_token_id=tokenizer.pad_token_id,
                           bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    folder.mkdir(parents=True, exist_ok=True)
    RobertaForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# -- sequence to sequence -------------------------------------------------------------------------
def build_bart(folder: Path, seed: int = 14) -> Path:
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(seed)
    tokenizer = train_roberta_tokenizer()
    config = BartConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                        max_position_embeddings=MAX_LENGTH, pad_token_id=tokenizer.pad_token_id,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                        decoder_start_token_id=tokenizer.eos_token_id, forced_eos_token_id=tokenizer.eos_token_id)
    folder.mkdir(parents=True, exist_ok=True)
    BartForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def train_t5_tokenizer(vocab_size: int = 400):
    """A Unigram (SentencePiece-style) vocabulary trained with ``tokenizers``, in T5's layout
    (``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2), wrapped in transformers' ``T5Tokenizer``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Tokenizer

    raw = Tokenizer(models.Unigram())
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"],
                                      unk_token="<unk>")
    raw.train_from_iterator(TEXT, trainer=trainer)
    vocab = [tuple(entry) for entry in json.loads(raw.to_str())["model"]["vocab"]]
    return T5Tokenizer(vocab=vocab, extra_ids=4, model_max_length=MAX_LENGTH)


def build_t5(folder: Path, seed: int = 15, *, decoder_start: bool = True) -> Path:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(seed)
    tokenizer = train_t5_tokenizer()
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=16, d_ff=64, num_layers=1, num_decoder_layers=1,
                      num_heads=2, n_positions=MAX_LENGTH, pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.eos_token_id,
                      decoder_start_token_id=tokenizer.pad_token_id if decoder_start else None,
                      task_specific_params=T5_TASK_PARAMS)
    folder.mkdir(parents=True, exist_ok=True)
    model = T5ForConditionalGeneration(config)
    if not decoder_start:
        model.generation_config.decoder_start_token_id = None
        model.generation_config.bos_token_id = None
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_marian(folder: Path, seed: int = 16, targets: tuple[str, ...] = ()) -> Path:
    """A Marian model; name the folder as the Hub does (``opus-mt-en-fr``: the pair is read from it).
    With ``targets`` it is a multi-target model whose vocabulary holds ``>>fr<<``-style target tokens."""
    import io

    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(TEXT), model_writer=buffer, vocab_size=200, hard_vocab_limit=False,
                                   model_type="unigram", character_coverage=1.0, pad_id=-1, bos_id=-1,
                                   eos_id=1, unk_id=0, unk_piece="<unk>", eos_piece="</s>",
                                   minloglevel=2)
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(buffer.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=buffer.getvalue())
    vocab = {processor.id_to_piece(i): i for i in range(processor.get_piece_size())}
    for target in targets:
        vocab[f">>{target}<<"] = len(vocab)
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    tokenizer = MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json"),
                                source_lang="en", target_lang="fr", model_max_length=MAX_LENGTH)
    config = MarianConfig(vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                          max_position_embeddings=MAX_LENGTH, pad_token_id=vocab["<pad>"], eos_token_id=vocab["</s>"],
                          decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=vocab["</s>"])
    MarianMTModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_nllb(folder: Path, seed: int = 17) -> Path:
    """An NLLB-style model (M2M100 architecture, ``NllbTokenizer`` with a few language codes)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    torch.manual_seed(seed)
    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    raw.train_from_iterator(TEXT, trainer=trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>"]))
    model = json.loads(raw.to_str())["model"]
    tokenizer = NllbTokenizer(vocab=model["vocab"], merges=_merges(model), additional_special_tokens=list(NLLB_CODES),
                              src_lang="eng_Latn", model_max_length=MAX_LENGTH)
    config = M2M100Config(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                          max_position_embeddings=MAX_LENGTH, pad_token_id=tokenizer.pad_token_id,
                          bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                          decoder_start_token_id=tokenizer.eos_token_id)
    folder.mkdir(parents=True, exist_ok=True)
    M2M100ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
