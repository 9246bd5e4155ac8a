"""Fine-tuning tiny random-weight models for real: loss goes down, seeds repeat, cancel keeps the best epoch,
the saved folder reloads with identical predictions, out-of-memory gives advice."""

from __future__ import annotations

import json

import pytest

from services.core.cancel import CancelToken
from services.core.errors import Cancelled, DeviceError, InputError, ModelError
from services.training import TEXT_CLASSIFICATION, TOKEN_CLASSIFICATION
from services.training.config import Hyperparameters, TrainingSnapshot
from services.training.data import prepare_data
from services.training.encode import encode_words, predict_texts
from services.training.save import check_name_available, save_result, unique_name
from services.training.trainer import train_model
from tests.test_training_data import sentiment_rows, write_conll, write_csv

# The tiny test encoder is randomly initialised: unlike a pre-trained model's, its embeddings must learn too.
FAST = dict(learning_rate=1e-2, batch_size=8, max_length=32, warmup_ratio=0.0, patience=0, min_steps=0,
            freeze_embeddings=False)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def sentiment(tmp_path):
    return prepare_data(write_csv(tmp_path / "reviews.csv", sentiment_rows(48)), TEXT_CLASSIFICATION, seed=0)


def test_training_lowers_the_loss_and_learns(sentiment, tiny_encoder):
    events = []
    result = train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=6, **FAST),
                         progress=lambda done, total=None, message="", data=None: events.append(data))
    losses = [loss for _step, loss in result.losses]
    assert len(losses) >= 10
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.2
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert [h["epoch"] for h in result.history] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert result.metrics["accuracy"] >= 0.9 and result.metric_name == "macro_f1"
    assert result.best_epoch == max(result.history, key=lambda h: h["macro_f1"])["epoch"]
    assert result.metrics["macro_f1"] == pytest.approx(max(h["macro_f1"] for h in result.history))
    assert not result.cancelled and result.steps == 6 * 5 and result.train_samples == 6 * len(sentiment.train)
    assert sum(map(sum, result.confusion)) == len(sentiment.validation)
    # Progress: snapshots with the growing loss curve and an ETA; the last one carries the result.
    snapshots = [e for e in events if isinstance(e, TrainingSnapshot)]
    assert {"loading", "tokenizing", "training", "evaluating", "finished"} <= {s.phase for s in snapshots}
    assert any(s.eta_s is not None for s in snapshots)
    assert snapshots[-1].result is result and len(snapshots[-1].evals) == 6


def test_same_seed_same_metrics(sentiment, tiny_encoder):
    hp = Hyperparameters(epochs=2, seed=7, **FAST)
    first = train_model(sentiment, str(tiny_encoder), hp)
    second = train_model(sentiment, str(tiny_encoder), hp)
    assert first.losses == second.losses and first.history == second.history
    other = train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=2, seed=8, **FAST))
    assert other.losses != first.losses


def test_saved_model_reloads_with_identical_predictions(sentiment, tiny_encoder, tmp_path):
    result = train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=2, **FAST))
    library = tmp_path / "library"
    folder = save_result(result, "my sentiment", root=library)
    assert folder == library / "my sentiment" and result.saved_path == str(folder)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert model.config.id2label == {0: "negative", 1: "positive"}
    texts = sentiment.validation.inputs + ["great film, really", "boring book"]
    before = predict_texts(result.model, result.tokenizer, texts, result.max_length)
    after = predict_texts(model, tokenizer, texts, result.max_length)
    assert after[0] == before[0]
    assert after[1] == before[1]  # the very same probabilities, bit for bit
    assert after[0][:len(sentiment.validation)] == result.validation_predictions
    # The model card says where the model came from and how good it is.
    card = (folder / "README.md").read_text()
    for needle in ["base_model", "encoder", "reviews.csv", sentiment.train.sha256, "| 0 | negative | negative |",
                   "| learning_rate | 0.01 |", "Macro-F1", "transformers 5.", "torch 2.", "Date: 20"]:
        assert needle in card, needle
    summary = json.loads((folder / "training.json").read_text())
    assert summary["metrics"]["accuracy"] == round(result.metrics["accuracy"], 4)
    from services.core.model_info import inspect_model

    assert "text-classification" in inspect_model(folder).tasks


def test_a_name_that_already_exists_in_the_library(sentiment, tiny_encoder, tmp_path):
    result = train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=1, **FAST))
    save_result(result, "taken", root=tmp_path)
    with pytest.raises(InputError, match="'taken' already exists"):
        save_result(result, "taken", root=tmp_path)
    with pytest.raises(InputError, match="already exists"):
        check_name_available("taken", tmp_path)
    with pytest.raises(InputError, match="not a valid model name"):
        check_name_available("a/b", tmp_path)
    assert unique_name("taken", tmp_path) == "taken-2" and unique_name("free", tmp_path) == "free"


def _cancel_when(token: CancelToken, condition):
    def progress(done, total=None, message="", data=None):
        if isinstance(data, TrainingSnapshot) and condition(data):
            token.cancel()
    return progress


def test_cancel_in_the_first_step_keeps_nothing(sentiment, tiny_encoder):
    token = CancelToken()
    steps = []

    def progress(done, total=None, message="", data=None):
        if isinstance(data, TrainingSnapshot) and data.phase == "training":
            steps.append(data.step)
            token.cancel()

    with pytest.raises(Cancelled):
        train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=3, **FAST), progress=progress, cancel=token)
    assert set(steps) == {1}  # stopped right after the first step, no evaluation, nothing to keep


def test_cancel_in_the_last_epoch_keeps_the_best_so_far(sentiment, tiny_encoder):
    token = CancelToken()
    events = []

    def progress(done, total=None, message="", data=None):
        events.append(data)
        if isinstance(data, TrainingSnapshot) and data.phase == "training" and data.epoch > 2.2:
            token.cancel()

    result = train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=3, **FAST), progress=progress, cancel=token)
    assert result.cancelled and result.steps == 12 and len(result.history) == 2
    assert result.best_epoch in (1.0, 2.0)
    assert result.metrics["macro_f1"] == pytest.approx(max(h["macro_f1"] for h in result.history))
    assert events[-1].phase == "finished" and events[-1].result is result


def test_early_stopping_on_the_validation_metric(sentiment, tiny_encoder):
    hp = Hyperparameters(epochs=6, learning_rate=1e-9, batch_size=8, max_length=32, patience=1, min_steps=0)
    result = train_model(sentiment, str(tiny_encoder), hp)
    assert result.stopped_early and len(result.history) == 2 and result.best_epoch == 1.0


def test_out_of_memory_gives_clear_advice(sentiment, tiny_encoder, monkeypatch):
    import torch
    import transformers

    def exhausted(self, *args, **kwargs):  # what the allocator raises when the device is full
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(transformers.Trainer, "training_step", exhausted)
    with pytest.raises(DeviceError, match="ran out of memory.*smaller batch \\(e.g. 4\\).*maximum length \\(e.g. 16\\)"):
        train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=1, **FAST))


def test_head_only_freezes_the_encoder(sentiment, tiny_encoder):
    from transformers import AutoModel

    base = AutoModel.from_pretrained(tiny_encoder)
    result = train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=1, head_only=True, **FAST))
    trained = result.model.base_model.state_dict()
    for name, value in base.state_dict().items():
        if "pooler" not in name:
            assert trained[name].equal(value), name
    assert result.model.classifier.weight.requires_grad


def test_fixed_embeddings_stay_as_loaded_while_the_layers_above_learn(sentiment, tiny_encoder):
    from transformers import AutoModel

    base = AutoModel.from_pretrained(tiny_encoder).state_dict()
    result = train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=1, **{**FAST, "freeze_embeddings": True}))
    trained = result.model.base_model.state_dict()
    embeddings = [name for name in base if name.startswith("embeddings.")]
    assert embeddings and all(trained[name].equal(base[name]) for name in embeddings)
    layers = [name for name in base if name.startswith("encoder.") and name.endswith(".weight")]
    assert layers and all(not trained[name].equal(base[name]) for name in layers)

    everything = train_model(sentiment, str(tiny_encoder), Hyperparameters(epochs=1, **FAST))
    assert not everything.model.base_model.state_dict()["embeddings.word_embeddings.weight"].equal(
        base["embeddings.word_embeddings.weight"])


def test_word_labels_go_to_the_first_subword_only(tiny_encoder):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    items, word_ids = encode_words(tokenizer, [["Tokenization", "rocks"]], [[1, 0]], 32)
    pieces = tokenizer.convert_ids_to_tokens(items[0]["input_ids"])
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]" and len(pieces) > 4  # "tokenization" splits
    assert items[0]["labels"][0] == -100 and items[0]["labels"][-1] == -100
    firsts = [i for i, w in enumerate(word_ids[0]) if w is not None and (i == 0 or word_ids[0][i - 1] != w)]
    assert [items[0]["labels"][i] for i in firsts] == [1, 0]
    assert all(items[0]["labels"][i] == -100 for i in range(len(pieces)) if i not in firsts)


def test_ner_training_entity_f1_and_reload(tmp_path, tiny_ner):
    data = prepare_data(write_conll(tmp_path / "ner.conll", repeat=5), TOKEN_CLASSIFICATION, validation_fraction=0.2)
    result = train_model(data, str(tiny_ner), Hyperparameters(epochs=3, **FAST))
    assert result.metric_name == "entity_f1" and set(result.metrics) >= {"entity_f1", "token_accuracy"}
    assert 0.0 <= result.metrics["entity_f1"] <= 1.0 and len(result.history) == 3
    assert result.model.config.id2label[1] == "B-LOC" and result.model.config.num_labels == 9
    assert len(result.confusion) == 9 and sum(map(sum, result.confusion)) == sum(len(t) for t in data.validation.targets)
    assert result.losses[-1][1] < result.losses[0][1]
    folder = save_result(result, "ner", root=tmp_path / "lib")
    from services.core.model_info import inspect_model

    assert "token-classification" in inspect_model(folder).tasks


def test_base_models_that_cannot_be_fine_tuned(sentiment, tmp_path, tiny_encoder, xlnet_style_tokenizer):
    with pytest.raises(ModelError, match="no config.json"):
        train_model(sentiment, str(xlnet_style_tokenizer))
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text((tiny_encoder / "config.json").read_text())
    with pytest.raises(ModelError, match="no weights"):
        train_model(sentiment, str(no_weights))
    with pytest.raises(InputError, match="learning rate"):
        train_model(sentiment, str(tiny_encoder), Hyperparameters(learning_rate=0))
