"""Test set-up: offscreen Qt, no network, per-test settings/library folders, tiny model fixtures."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from tests import tiny_models, tiny_qa_seq2seq  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def heavy_modules_imported():
    """Import torch/transformers once up front, as the app's start-up job does, so that short
    signal timeouts in tests measure the work under test rather than the first import."""
    from services.core.warmup import import_heavy_modules

    import_heavy_modules()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own app-data folder (settings, library), never the user's."""
    home = tmp_path / "workbench-home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.delenv("WORKBENCH_LIBRARY", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    import gui.dialogs

    monkeypatch.setattr(gui.dialogs, "DIALOGS_ENABLED", False)
    gui.dialogs.shown_errors.clear()
    gui.dialogs.auto_answers.clear()
    return home


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny-models")


def _cached(tiny_dir, name, builder):
    folder = tiny_dir / name
    if not (folder / "config.json").exists() and not (folder / "tokenizer_config.json").exists():
        builder(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_classifier(tiny_dir):
    return _cached(tiny_dir, "classifier", tiny_models.build_classifier)


@pytest.fixture(scope="session")
def tiny_nli(tiny_dir):
    return _cached(tiny_dir, "nli", tiny_models.build_nli)


@pytest.fixture(scope="session")
def tiny_ner(tiny_dir):
    return _cached(tiny_dir, "ner", tiny_models.build_token_classifier)


@pytest.fixture(scope="session")
def tiny_mlm(tiny_dir):
    return _cached(tiny_dir, "mlm", tiny_models.build_masked_lm)


@pytest.fixture(scope="session")
def tiny_encoder(tiny_dir):
    return _cached(tiny_dir, "encoder", tiny_models.build_encoder)


@pytest.fixture(scope="session")
def tiny_gpt2(tiny_dir):
    return _cached(tiny_dir, "gpt2", tiny_models.build_gpt2)


@pytest.fixture(scope="session")
def xlnet_style_tokenizer(tiny_dir):
    return _cached(tiny_dir, "xlnet-style-tokenizer", tiny_models.build_xlnet_style_tokenizer)


# question answering and seq2seq (tests/tiny_qa_seq2seq.py)
@pytest.fixture(scope="session")
def tiny_bert_qa(tiny_dir):
    return _cached(tiny_dir, "bert-qa", tiny_qa_seq2seq.build_bert_qa)


@pytest.fixture(scope="session")
def tiny_distilbert_qa(tiny_dir):
    return _cached(tiny_dir, "distilbert-qa", tiny_qa_seq2seq.build_distilbert_qa)


@pytest.fixture(scope="session")
def tiny_roberta_qa(tiny_dir):
    return _cached(tiny_dir, "roberta-qa", tiny_qa_seq2seq.build_roberta_qa)


@pytest.fixture(scope="session")
def tiny_bart(tiny_dir):
    return _cached(tiny_dir, "bart", tiny_qa_seq2seq.build_bart)


@pytest.fixture(scope="session")
def tiny_t5(tiny_dir):
    return _cached(tiny_dir, "t5", tiny_qa_seq2seq.build_t5)


@pytest.fixture(scope="session")
def tiny_marian(tiny_dir):
    return _cached(tiny_dir, "opus-mt-en-fr", tiny_qa_seq2seq.build_marian)


@pytest.fixture(scope="session")
def tiny_nllb(tiny_dir):
    return _cached(tiny_dir, "nllb", tiny_qa_seq2seq.build_nllb)


@pytest.fixture
def one_torch_thread():
    """Tiny models train fastest on one thread, and do not fight other processes for the cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def settings(isolated_home):
    from gui.settings import Settings

    return Settings(isolated_home / "settings.ini")


@pytest.fixture
def main_window(qtbot, settings):
    """The real main window (offscreen), closed cleanly after the test."""
    from gui.app import create_window

    window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.context.runner.shutdown()
