"""Reading model folders: tasks inferred from configs, and a clear error for each broken folder."""

import json

import pytest

from services.core.errors import ModelError
from services.core.model_info import inspect_model
from services.core.models import load_model


def test_builtin_model_is_an_embedding_model():
    info = inspect_model("builtin")
    assert info.builtin and info.model_type == "bert"
    assert info.tasks == ["zero-shot-classification", "sentence-similarity"]
    assert info.weight_format == "safetensors"


@pytest.mark.parametrize("fixture, task", [
    ("tiny_classifier", "text-classification"), ("tiny_ner", "token-classification"),
    ("tiny_mlm", "fill-mask"), ("tiny_gpt2", "text-generation"), ("tiny_nli", "zero-shot-classification"),
])
def test_tasks_inferred_from_config(request, fixture, task):
    assert task in inspect_model(request.getfixturevalue(fixture)).tasks


def test_nli_model_recognised(tiny_nli, tiny_classifier):
    assert inspect_model(tiny_nli).is_nli
    assert not inspect_model(tiny_classifier).is_nli


def test_missing_folder(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        inspect_model(tmp_path / "nope")


def test_folder_without_config(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        inspect_model(tmp_path)


def test_corrupt_config(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="corrupt"):
        inspect_model(tmp_path)


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_missing_weights(tmp_path, tiny_classifier):
    folder = _copy(tiny_classifier, tmp_path / "m")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no weights"):
        load_model(folder, "text-classification")


def test_truncated_weights(tmp_path, tiny_classifier):
    folder = _copy(tiny_classifier, tmp_path / "m")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelError, match="weights .* could not be loaded"):
        load_model(folder, "text-classification")


def test_unknown_architecture(tmp_path, tiny_classifier):
    folder = _copy(tiny_classifier, tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "frobnicator"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="unknown architecture"):
        load_model(folder, "text-classification")


def test_remote_code_refused(tmp_path, tiny_classifier):
    folder = _copy(tiny_classifier, tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="trust_remote_code"):
        load_model(folder, "text-classification")


def test_missing_tokenizer(tmp_path, tiny_classifier):
    folder = _copy(tiny_classifier, tmp_path / "m")
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(ModelError, match="no tokenizer"):
        load_model(folder, "text-classification")


def test_task_the_model_cannot_do(tiny_gpt2):
    with pytest.raises(ModelError, match="cannot do named-entity recognition"):
        load_model(tiny_gpt2, "token-classification")


def test_loads_tiny_classifier(tiny_classifier):
    loaded = load_model(tiny_classifier, "text-classification")
    assert loaded.model.config.id2label == {0: "negative", 1: "positive"}
    assert loaded.max_length == 128
