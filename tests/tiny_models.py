"""Tiny random-weight models built from real configs, for tests (no download, seconds to build).

Encoders reuse the built-in model's BERT tokenizer; the GPT-2 model and the XLNet-style
tokenizer are trained here from the project's own text.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from services.core.model_info import builtin_model_path

BERT_TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]

CORPUS = [
    "The film was a delight from start to finish.",
    "Service at the restaurant was slow and the soup was cold.",
    "Maria Lopez joined Acme Corporation in Berlin last spring.",
    "This app crashes every time I open the settings page.",
    "The hotel room was clean, quiet and close to the station.",
    "I could not put the book down; the ending surprised me.",
    "Battery life is great but the screen scratches easily.",
    "Paris and Rome are lovely in the autumn, said the guide.",
    "Transformers turn tokens into vectors and vectors into predictions.",
    "A tokenizer splits text into pieces and maps each piece to an id.",
] * 20


def _bert_config(**extra):
    from transformers import BertConfig

    return BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=128, **extra)


def _copy_bert_tokenizer(folder: Path, model_max_length: int = 128) -> None:
    source = builtin_model_path()
    for name in BERT_TOKENIZER_FILES:
        if (source / name).exists():
            shutil.copy(source / name, folder / name)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["model_max_length"] = model_max_length
    config_path.write_text(json.dumps(config))


def _save(model, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    _copy_bert_tokenizer(folder)
    return folder


def build_classifier(folder: Path, labels=("negative", "positive"), seed: int = 0) -> Path:
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(seed)
    id2label = dict(enumerate(labels))
    config = _bert_config(num_labels=len(labels), id2label=id2label, label2id={v: k for k, v in id2label.items()})
    return _save(BertForSequenceClassification(config), folder)


def build_nli(folder: Path, seed: int = 1) -> Path:
    return build_classifier(folder, labels=("contradiction", "neutral", "entailment"), seed=seed)


def build_token_classifier(folder: Path, seed: int = 2) -> Path:
    import torch
    from transformers import BertForTokenClassification

    torch.manual_seed(seed)
    id2label = dict(enumerate(NER_LABELS))
    config = _bert_config(num_labels=len(NER_LABELS), id2label=id2label, label2id={v: k for k, v in id2label.items()})
    return _save(BertForTokenClassification(config), folder)


def build_masked_lm(folder: Path, seed: int = 3) -> Path:
    import torch
    from transformers import BertForMaskedLM

    torch.manual_seed(seed)
    return _save(BertForMaskedLM(_bert_config()), folder)


def build_encoder(folder: Path, seed: int = 4) -> Path:
    import torch
    from transformers import BertModel

    torch.manual_seed(seed)
    return _save(BertModel(_bert_config()), folder)


def train_byte_bpe_tokenizer(vocab_size: int = 400):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    raw = ByteLevelBPETokenizer()
    raw.train_from_iterator(CORPUS, vocab_size=vocab_size, min_frequency=1, special_tokens=["<|endoftext|>"])
    return PreTrainedTokenizerFast(tokenizer_object=raw._tokenizer, bos_token="<|endoftext|>",
                                   eos_token="<|endoftext|>", unk_token="<|endoftext|>", model_max_length=128)


def build_gpt2(folder: Path, seed: int = 5) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    tokenizer = train_byte_bpe_tokenizer()
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    folder.mkdir(parents=True, exist_ok=True)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_xlnet_style_tokenizer(folder: Path, vocab_size: int = 300):
    """A SentencePiece-like Unigram tokenizer configured as XLNet's: ``<sep> <cls>`` at the end, left padding."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<s>", "</s>", "<cls>", "<sep>", "<mask>"]
    raw = Tokenizer(models.Unigram())
    raw.normalizer = normalizers.Sequence([normalizers.NFKC()])
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    raw.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>")
    raw.train_from_iterator(CORPUS, trainer=trainer)
    sep, cls = raw.token_to_id("<sep>"), raw.token_to_id("<cls>")
    raw.post_processor = processors.TemplateProcessing(
        single="$A:0 <sep>:0 <cls>:2", pair="$A:0 <sep>:0 $B:1 <sep>:1 <cls>:2",
        special_tokens=[("<sep>", sep), ("<cls>", cls)],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>",
        cls_token="<cls>", sep_token="<sep>", mask_token="<mask>", padding_side="left", model_max_length=128,
    )
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)
    return folder
