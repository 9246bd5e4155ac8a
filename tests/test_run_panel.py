"""The Run panel driven like a user: type, click Run, wait for the result, read the widgets."""

from __future__ import annotations

import json

import pytest

from gui.jobs.runner import JobState
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

import gui.dialogs
from gui.run.panel import RunPanel
from gui.settings import Key
from tests.test_cli_predict import BAD_KINDS, make_bad_model

TIMEOUT = 90_000  # generous: CI machines are shared; nothing here asserts a duration


@pytest.fixture(scope="module", autouse=True)
def heavy_modules_imported():
    """Import torch/transformers before any window exists, as the app's start-up job does.

    (transformers' lazy module is not safe to import from two threads at once, and other panels
    start io-lane jobs that import it while this panel's model-lane job may be importing it too.)
    """
    from services.core.warmup import import_heavy_modules

    import_heavy_modules()


@pytest.fixture
def panel(main_window) -> RunPanel:
    return main_window.panels["RunDock"]


@pytest.fixture(scope="module")
def long_gpt2(tmp_path_factory):
    """A tiny GPT-2 with room for 2,000 tokens and no end-of-text token: it generates until stopped."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from tests.tiny_models import train_byte_bpe_tokenizer

    folder = tmp_path_factory.mktemp("long-gpt2")
    torch.manual_seed(11)
    tokenizer = train_byte_bpe_tokenizer()
    tokenizer.model_max_length = 2048
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=2048, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=None, eos_token_id=None)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def type_text(qtbot, edit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def click_run(qtbot, panel) -> str:
    """Click Run and wait for the run to end; returns "done", "failed" or "cancelled"."""
    with qtbot.waitSignal(panel.sig_run_finished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def open_model(main_window, folder) -> None:
    assert main_window.open_model_folder(str(folder))


# -- each task ---------------------------------------------------------------------------------------
def test_sentiment_bars_for_every_class(qtbot, main_window, panel, tiny_classifier):
    open_model(main_window, tiny_classifier)
    assert panel.task() == "text-classification"  # the panel switched to a task the model can do
    type_text(qtbot, panel.input, "The film was a delight from start to finish.")
    with qtbot.waitSignal(main_window.context.sig_model_loaded, timeout=TIMEOUT):
        assert click_run(qtbot, panel) == "done"
    view = panel.views["text-classification"]
    result = panel.last_results[0]
    assert [label for label, _ in view.bars.rows()] == list(result["scores"])
    assert {label for label, _ in view.bars.rows()} == {"negative", "positive"}
    assert [bar.value() for bar in view.bars.bars()] == [round(s * 1000) for s in result["scores"].values()]
    assert view.headline.text().startswith(result["label"])
    assert "classifier" in main_window.model_label.text()
    assert panel.notice.isHidden()

    panel.options.class_top_k.setValue(1)
    assert click_run(qtbot, panel) == "done"
    assert len(view.bars.rows()) == 1


def test_long_text_says_it_was_truncated(qtbot, main_window, panel, tiny_classifier):
    open_model(main_window, tiny_classifier)
    panel.input.setPlainText("word " * 300)
    assert click_run(qtbot, panel) == "done"
    assert panel.last_results[0]["truncated"] is True
    assert panel.notice.isVisible() and "truncated" in panel.notice.text() and "128 tokens" in panel.notice.text()


def test_entities_highlighted_inline_and_listed(qtbot, main_window, panel, tiny_ner):
    open_model(main_window, tiny_ner)
    assert panel.task() == "token-classification"
    text = "Maria Lopez joined Acme Corporation in Berlin last spring."
    type_text(qtbot, panel.input, text)
    for strategy in ("simple", "none"):
        panel.options.aggregation.setCurrentText(strategy)
        assert click_run(qtbot, panel) == "done"
        view = panel.views["token-classification"]
        entities = panel.last_results[0]["entities"]
        assert entities and len(view.table_rows()) == len(entities)
        assert len(view.spans) == len(entities)
        for (start, end, group, score), entity in zip(view.spans, entities):
            assert view.text_view.toPlainText()[start:end] == text[entity["start"]:entity["end"]]
            tooltip = view.tooltip_at(start)
            assert group in tooltip and f"{score:.4f}" in tooltip
        key = "entity_group" if strategy == "simple" else "entity"
        assert [row[0] for row in view.table_rows()] == [e[key] for e in entities]


def test_zero_shot_on_the_builtin_model_says_embedding_similarity(qtbot, panel):
    panel.set_task("zero-shot-classification")
    panel.picker.set_current_spec("builtin")
    type_text(qtbot, panel.options.labels, "cooking, sports, politics")
    type_text(qtbot, panel.input, "The team won the match in extra time.")
    assert click_run(qtbot, panel) == "done"
    view = panel.views["zero-shot-classification"]
    assert view.method == "embedding" and "embedding similarity" in view.method_label.text()
    assert view.bars.rows()[0][0] == "sports"
    assert "softmax" in view.method_label.text()

    qtbot.mouseClick(panel.options.multi_label, Qt.MouseButton.LeftButton)
    assert panel.options.multi_label.isChecked()
    assert click_run(qtbot, panel) == "done"
    assert "multi-label" in view.method_label.text()
    assert panel.last_results[0]["multi_label"] is True


def test_zero_shot_on_an_nli_model_says_nli_pipeline(qtbot, main_window, panel, tiny_nli):
    open_model(main_window, tiny_nli)
    panel.set_task("zero-shot-classification")
    assert panel.picker.set_current_spec(str(tiny_nli))
    type_text(qtbot, panel.options.template, "This review is about {}.")
    assert click_run(qtbot, panel) == "done"
    view = panel.views["zero-shot-classification"]
    assert view.method == "nli" and "NLI pipeline" in view.method_label.text()
    assert "This review is about {}." in view.method_label.text()
    assert len(view.bars.rows()) == 4  # the default labels


def test_fill_mask_top_k_and_a_missing_mask(qtbot, main_window, panel, tiny_mlm):
    open_model(main_window, tiny_mlm)
    panel.set_task("fill-mask")
    assert panel.picker.set_current_spec(str(tiny_mlm))
    panel.options.mask_top_k.setValue(3)
    type_text(qtbot, panel.input, "Paris is the capital of France.")
    assert click_run(qtbot, panel) == "failed"
    assert any("no [MASK] token" in error for error in gui.dialogs.shown_errors)
    type_text(qtbot, panel.input, "Paris is the [MASK] of France.")
    assert click_run(qtbot, panel) == "done"
    view = panel.views["fill-mask"]
    assert view.tokens() == [c["token_str"] for c in panel.last_results[0]["candidates"]]
    assert len(view.tokens()) == 3


def test_similarity_of_two_sentences_and_one_embedding(qtbot, panel):
    panel.set_task("sentence-similarity")
    panel.picker.set_current_spec("builtin")
    assert panel.input_b.isVisible()
    type_text(qtbot, panel.input, "How do I reset my password?")
    type_text(qtbot, panel.input_b, "I forgot my password and need to change it.")
    assert click_run(qtbot, panel) == "done"
    view = panel.views["sentence-similarity"]
    close = view.cosine
    assert "(384,)" in view.shape_label.text() and f"{close:.4f}" in view.headline.text()
    type_text(qtbot, panel.input_b, "The soup needs more salt.")
    assert click_run(qtbot, panel) == "done"
    assert view.cosine < close - 0.2  # the real model: paraphrase far above an unrelated sentence
    panel.input_b.clear()
    assert click_run(qtbot, panel) == "done"
    assert view.cosine is None and "embedding shape (384,)" in view.headline.text()


def test_generation_streams_token_by_token(qtbot, main_window, panel, tiny_gpt2):
    open_model(main_window, tiny_gpt2)
    assert panel.task() == "text-generation"
    panel.options.sample.setChecked(False)
    panel.options.max_new_tokens.setValue(60)
    type_text(qtbot, panel.input, "Once upon a time")
    streamed = []
    view = panel.views["text-generation"]
    original = view.stream
    view.stream = lambda text: (streamed.append(text), original(text))
    assert click_run(qtbot, panel) == "done"
    result = panel.last_results[0]
    assert streamed and all(text.startswith("Once upon a time") for text in streamed)
    assert streamed[-1] == result["generated_text"] == view.generated()


def test_cancel_mid_generation_then_run_again(qtbot, main_window, panel, long_gpt2):
    open_model(main_window, long_gpt2)
    panel.options.sample.setChecked(False)
    panel.options.max_new_tokens.setValue(1900)
    type_text(qtbot, panel.input, "Once upon a time")
    view = panel.views["text-generation"]
    with qtbot.waitSignal(panel.sig_run_finished, timeout=TIMEOUT) as finished:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.updates >= 2, timeout=TIMEOUT)
        assert panel.cancel_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["cancelled"]
    partial = view.generated()
    assert partial.startswith("Once upon a time") and len(partial) > len("Once upon a time")
    assert "Cancelled" in view.info.text() and not panel.cancel_button.isEnabled()
    assert gui.dialogs.shown_errors == []  # a cancel is not an error

    panel.options.max_new_tokens.setValue(5)
    assert click_run(qtbot, panel) == "done"
    assert panel.last_results[0]["new_tokens"] == 5


# -- responsiveness, code, settings, signals ---------------------------------------------------------------
def test_event_loop_keeps_ticking_while_a_model_loads(qtbot, panel):
    """The GUI thread never stalls while the built-in model really loads (from disk, not cached).

    The stall is the longest gap between ticks of a 10 ms timer, measured from the Run request
    (``panel.run()``, so work done in that slot before the job is submitted counts) until the load
    job has finished: its started and result slots (whoever connected them first) lie inside. No
    gate and no tick count: a GUI thread frozen for a second anywhere in that window fails the
    test, however fast the load is.
    """
    from services.core.models import default_host
    from tests.stall import BOUND_S, StallMeter

    default_host.forget()  # make sure the built-in model really loads now
    panel.set_task("sentence-similarity")
    panel.picker.set_current_spec("builtin")
    meter = StallMeter()
    meter.start()
    job = panel.run()
    assert job.title.startswith("Loading")
    job.finished.connect(meter.stop)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT):
        pass
    assert job.state == JobState.DONE and default_host.loaded_paths()  # it really loaded
    assert meter.longest_gap < BOUND_S, f"the GUI thread stalled {meter.longest_gap:.2f} s ({meter.ticks} ticks)"
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=TIMEOUT)


def test_ctrl_enter_runs_and_show_code_copies(qtbot, main_window, panel, tiny_classifier):
    open_model(main_window, tiny_classifier)
    type_text(qtbot, panel.input, "Great film")
    with qtbot.waitSignal(panel.sig_result, timeout=TIMEOUT) as blocker:
        qtbot.keyClick(panel.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args[0] == "text-classification"
    assert panel.input.toPlainText() == "Great film"  # Ctrl+Enter ran; it did not add a line break
    qtbot.mouseClick(panel.code_button, Qt.MouseButton.LeftButton)
    dialog = panel.code_dialog
    assert dialog is not None and dialog.isVisible()
    code = dialog.code()
    assert 'pipeline("text-classification"' in code and str(tiny_classifier.resolve()) in code
    assert "'Great film'" in code
    compile(code, "<shown code>", "exec")
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == code
    dialog.close()


def test_last_task_and_text_are_remembered(qtbot, main_window, panel, settings):
    panel.set_task("zero-shot-classification")
    panel.picker.set_current_spec("builtin")
    type_text(qtbot, panel.input, "Remember me.")
    type_text(qtbot, panel.options.labels, "alpha, beta")
    assert click_run(qtbot, panel) == "done"
    assert settings.get(Key.RUN_TASK) == "zero-shot-classification"
    again = RunPanel(main_window.context)
    qtbot.addWidget(again)
    assert again.task() == "zero-shot-classification"
    assert again.input.toPlainText() == "Remember me."
    assert again.options.labels.text() == "alpha, beta"


def test_open_model_signal_selects_the_model(qtbot, main_window, panel, tiny_mlm):
    context = main_window.context
    context.remember_model(str(tiny_mlm))
    panel.set_task("sentence-similarity")
    context.sig_open_model.emit(str(tiny_mlm), "LibraryDock")  # for another panel: ignored
    assert panel.picker.current_spec() == "builtin"
    context.sig_open_model.emit(str(tiny_mlm), "RunDock")
    assert panel.task() == "fill-mask"  # the task its head was built for
    assert panel.picker.current_spec() == str(tiny_mlm)


# -- bad input: a clear message, and the panel keeps working ------------------------------------------------
def _recovers(qtbot, main_window, panel, tiny_classifier) -> None:
    open_model(main_window, tiny_classifier)
    panel.set_task("text-classification")
    assert panel.picker.set_current_spec(str(tiny_classifier))
    panel.input.setPlainText("It works again.")
    assert click_run(qtbot, panel) == "done"
    assert panel.views["text-classification"].bars.rows()


@pytest.mark.parametrize("kind", list(BAD_KINDS))
def test_bad_model_folder(qtbot, main_window, panel, tiny_classifier, tmp_path, kind):
    import re

    folder = make_bad_model(kind, tmp_path / kind, tiny_classifier)
    if not main_window.open_model_folder(str(folder)):  # the folder cannot even be read
        assert re.search(BAD_KINDS[kind], gui.dialogs.shown_errors[-1])
    else:  # it is listed; loading it fails with the reason
        assert panel.picker.current_spec() == str(folder.resolve()) or panel.picker.current_spec() == str(folder)
        panel.input.setPlainText("Some text.")
        assert click_run(qtbot, panel) == "failed"
        assert re.search(BAD_KINDS[kind], gui.dialogs.shown_errors[-1]), gui.dialogs.shown_errors
        assert panel.status.text().startswith("Failed")
    _recovers(qtbot, main_window, panel, tiny_classifier)


def test_empty_text(qtbot, main_window, panel, tiny_classifier):
    open_model(main_window, tiny_classifier)
    panel.input.clear()
    assert click_run(qtbot, panel) == "failed"
    assert "The text is empty" in gui.dialogs.shown_errors[-1]
    _recovers(qtbot, main_window, panel, tiny_classifier)


def test_a_model_that_cannot_do_any_run_task(qtbot, main_window, panel, tiny_classifier, tmp_path):
    folder = tmp_path / "whisper-like"  # speech to text: no task of the Run panel (T5 now summarises/translates)
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "whisper", "is_encoder_decoder": True,
                                                    "architectures": ["WhisperForConditionalGeneration"]}))
    main_window.open_model_folder(str(folder))
    assert "cannot do any task the Run panel offers" in gui.dialogs.shown_errors[-1]
    _recovers(qtbot, main_window, panel, tiny_classifier)


def test_a_model_that_cannot_do_the_chosen_task_switches_task(qtbot, main_window, panel, tiny_gpt2):
    panel.set_task("fill-mask")
    messages = []
    main_window.context.sig_status.connect(messages.append)
    open_model(main_window, tiny_gpt2)
    assert panel.task() == "text-generation"
    assert any("cannot do fill-mask" in message for message in messages)


def test_no_model_for_the_task(qtbot, panel):
    panel.set_task("text-classification")  # nothing here can do it: only the built-in model is known
    assert panel.picker.current_spec() is None
    assert panel.notice.isVisible() and "No model on this machine" in panel.notice.text()
    # nothing to run and no code to show, and the buttons say why (no modal dialog)
    assert not panel.run_button.isEnabled() and "No model can do text classification" in panel.run_button.toolTip()
    assert not panel.code_button.isEnabled() and "see the note above" in panel.code_button.toolTip()
    errors = len(gui.dialogs.shown_errors)
    assert panel.run() is None and len(gui.dialogs.shown_errors) == errors  # Ctrl+Enter: no dialog either
    assert "No model for text classification" in panel.status.text()
    panel.set_task("zero-shot-classification")  # the built-in model can: Run and Show code come back
    assert panel.run_button.isEnabled() and panel.code_button.isEnabled()
