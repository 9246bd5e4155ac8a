"""The Tokenizer panel driven through qtbot: token table, hover linking, steps, batch grid, custom
tokens with resized embeddings, compare, and bad input (empty, 100,000 characters, emoji, folders)."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

import gui.dialogs
from gui.context import AppContext
from gui.tokenizer.panel import SEED_TEXT, TokenizerPanel

WAIT = 60_000


@pytest.fixture
def panel(qtbot, settings):
    context = AppContext(settings)
    widget = TokenizerPanel(context)
    qtbot.addWidget(widget)
    widget.resize(1000, 800)
    with qtbot.waitSignal(widget.sig_encoded, timeout=WAIT):
        widget.show()  # the first show loads the built-in tokenizer and tokenizes the seed text
    yield widget
    context.runner.shutdown()


def _retokenize(qtbot, panel, text=None, pair=None):
    with qtbot.waitSignal(panel.sig_encoded, timeout=WAIT) as blocker:
        if pair is not None:
            panel.pair_input.setText(pair)
        if text is not None:
            panel.text_input.setPlainText(text)
        if text is None and pair is None:
            panel.tokenize()
    return blocker.args[0]


def _move_mouse(widget, point: QPoint) -> None:
    event = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(point), QPointF(widget.mapToGlobal(point)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)  # a viewport's events reach its view's mouseMoveEvent


def test_seed_sentence_in_the_table(panel):
    model = panel.table.token_model
    assert model.rowCount() == 15
    assert model.index(0, 1).data() == "[CLS]" and model.index(0, 2).data() == 101
    assert model.index(14, 1).data() == "[SEP]" and model.index(14, 2).data() == 102
    assert model.index(5, 1).data() == "excited" and model.index(5, 5).data() == "7–14"
    assert model.index(0, 6).data() == "classification summary"
    assert "summarises the whole input" in model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 1).data(Qt.ItemDataRole.BackgroundRole) is not None  # special tokens are coloured
    assert model.index(5, 1).data(Qt.ItemDataRole.BackgroundRole) is None
    assert "15 tokens" in panel.status.text() and "0</b> unknown" in panel.status.text()
    assert "WordPiece" in panel.info_label.text() and "30,522" in panel.info_label.text()


def test_hovering_a_row_highlights_its_span_and_vice_versa(panel, qtbot):
    view = panel.table
    rect = view.visualRect(view.token_model.index(5, 1))
    _move_mouse(view.viewport(), rect.center())
    assert panel.text_input.highlighted_span() == (7, 14)  # "excited"
    # and hovering the word "learning" in the input selects its row
    start = SEED_TEXT.index("learning")
    cursor = panel.text_input.textCursor()
    cursor.setPosition(start + 2)
    point = panel.text_input.cursorRect(cursor).center()
    _move_mouse(panel.text_input.viewport(), point)
    selected = view.selectionModel().selectedRows()
    assert [index.row() for index in selected] == [8]
    assert panel.token_at_char(start) == 8 and panel.token_at_char(SEED_TEXT.index(" ")) is None


def test_pair_segment_and_hover_into_the_pair(panel, qtbot):
    encoding = _retokenize(qtbot, panel, pair="It is fun.")
    types = [row.token_type_id for row in encoding.rows]
    assert types.count(1) == 5 and types[-1] == 1
    fun = next(row for row in encoding.rows if row.token == "fun")
    panel._on_row_hovered(fun.position)
    assert panel.pair_input.selectedText() == "fun"
    assert panel.table.token_model.index(fun.position, 5).data() == "B 6–9"


def test_steps_tab_shows_the_three_steps_and_the_lossy_round_trip(panel):
    view = panel.steps_view
    assert view.tokens_box.toPlainText().startswith("['i', \"'\", 'm', 'so'")
    assert view.ids_box.toPlainText().startswith("[1045, 1005, 1049")
    assert view.full_ids_box.toPlainText().startswith("[101, 1045")
    assert view.decoded_special_box.toPlainText().startswith("[CLS] i ' m so excited")
    assert "Lossy" in view.verdict.text() and "lower-casing" in view.verdict.text()


def test_emoji_and_unknown_characters(panel, qtbot):
    encoding = _retokenize(qtbot, panel, "Café 😀 ok ☃")
    assert encoding.unknown_count == 2
    assert "<b>2</b> unknown" in panel.status.text() and "😀" in panel.status.text()
    row = next(r for r in encoding.rows if r.unknown)
    assert panel.table.token_model.index(row.position, 6).data() == "unknown"
    panel._on_row_hovered(encoding.rows[-2].position)  # ☃ sits after an emoji: UTF-16 positions differ
    assert panel.text_input.highlighted_span() == (10, 11)
    selections = panel.text_input.extraSelections()
    cursor = selections[0].cursor
    assert cursor.selectedText() == "☃" and cursor.selectionStart() == 11  # Qt counts the emoji twice
    assert "accents" in panel.steps_view.verdict.text()


def test_empty_text_gives_a_message_not_a_job(panel, qtbot):
    panel.text_input.setPlainText("   ")
    panel.tokenize()
    assert "empty" in panel.last_error
    assert panel.table.token_model.rowCount() == 0
    assert not panel.context.runner.active_jobs()


def test_100000_characters_keep_the_window_responsive(panel, qtbot):
    """The GUI thread never stalls while 100,000 characters are tokenized and the table fills.

    The window opens once the keystroke itself was handled (setPlainText lays out the text) and
    closes when the Tokenize job has finished (its result slot, which fills the table, included),
    so it covers the debounce, the slot that submits the job, the work and the result. Its longest
    gap between timer ticks is the stall; ticks are not counted (ticks during the debounce cannot
    hide a stall later).
    """
    from tests.stall import BOUND_S, StallMeter

    meter = StallMeter()
    jobs = []

    def watch(job):
        if job.title == "Tokenize":
            jobs.append(job)
            job.finished.connect(meter.stop)

    panel.context.runner.job_added.connect(watch)
    text = ("A long document goes through the tokenizer on a worker thread. " * 1700)[:100_000]
    with qtbot.waitSignal(panel.sig_encoded, timeout=WAIT) as blocker:
        panel.text_input.setPlainText(text)
        meter.start()
    qtbot.waitUntil(lambda: meter.stopped, timeout=WAIT)
    assert len(jobs) == 1 and jobs[0].state == "done"
    encoding = blocker.args[0]
    assert len(encoding.text) == 100_000 and panel.table.token_model.rowCount() == len(encoding.rows) > 15_000
    assert "model_max_length" in panel.status.text()
    assert meter.longest_gap < BOUND_S, f"the GUI thread stalled {meter.longest_gap:.2f} s ({meter.ticks} ticks)"


def test_batch_tab_grid(panel, qtbot):
    view = panel.batch_view
    panel.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.result is not None, timeout=WAIT)
    with qtbot.waitSignal(panel.context.runner.job_added, timeout=WAIT) as blocker:
        view.lines_edit.setPlainText("Short.\nA longer line with more tokens.")
    job = blocker.args[0]
    qtbot.waitUntil(lambda: not job.is_active, timeout=WAIT)
    qtbot.waitUntil(lambda: view.result is not None and len(view.result.lines) == 2, timeout=WAIT)
    grid, mask = view.ids_grid, view.mask_grid
    assert grid.rowCount() == 2 and grid.item(0, 0).text() == "101"
    width = grid.columnCount()
    assert grid.item(0, width - 1).text() == "0" and mask.item(0, width - 1).text() == "0"
    assert "[2, " in view.shapes_label.text() and "torch.int64" in view.shapes_label.text()
    # truncation with a small max_length makes overflowing rows
    view.truncation.setCurrentText("longest_first")
    view.use_max_length.setChecked(True)
    view.max_length.setValue(6)
    qtbot.waitUntil(lambda: view.result is not None and view.result.overflow_count > 0, timeout=WAIT)
    assert view.ids_grid.columnCount() == 6
    assert any("piece" in view.ids_grid.verticalHeaderItem(r).text() for r in range(view.ids_grid.rowCount()))
    # a bad option shows a message instead of a grid
    view.truncation.setCurrentText("only_second")
    qtbot.waitUntil(lambda: "only_second" in view.notes_label.text(), timeout=WAIT)
    assert view.ids_grid.rowCount() == 0


def test_custom_tokens_and_save_with_resized_embeddings(qtbot, settings, tiny_classifier, tmp_path):
    context = AppContext(settings)
    panel = TokenizerPanel(context)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sig_loaded, timeout=WAIT):
        panel.source.open_folder(str(tiny_classifier))
    with qtbot.waitSignal(panel.context.runner.job_added) as blocker:
        panel.try_custom_tokens()
    qtbot.waitUntil(lambda: not blocker.args[0].is_active, timeout=WAIT)
    custom = panel.custom_view.custom
    assert custom.tokens_after[0] == "<source_lang>" and "30,522 to 30,524" in panel.custom_view.result_label.text()
    target = tmp_path / "saved"
    job = panel.save_custom_tokens(folder=str(target))
    with qtbot.waitSignal(job.finished, timeout=WAIT):
        pass
    assert "30,522 → 30,524 rows" in panel.custom_view.saved_label.text()
    from transformers import AutoModelForSequenceClassification

    assert AutoModelForSequenceClassification.from_pretrained(target).get_input_embeddings().num_embeddings == 30524
    context.runner.shutdown()


def test_compare_view_with_the_xlnet_style_tokenizer(panel, qtbot, xlnet_style_tokenizer):
    view = panel.compare_view
    panel.tabs.setCurrentWidget(view)
    view.add_spec(str(xlnet_style_tokenizer), "xlnet-style")
    qtbot.waitUntil(lambda: view.comparison is not None, timeout=WAIT)
    assert view.alignment.rowCount() == 2 and view.alignment.columnCount() == len(view.comparison.columns)
    assert view.alignment.verticalHeaderItem(0).text().startswith("all-MiniLM")
    summary = {view.summary.verticalHeaderItem(r).text(): (view.summary.item(r, 0).text(), view.summary.item(r, 1).text())
               for r in range(view.summary.rowCount())}
    assert summary["special tokens go"] == ("start and end", "end")
    assert summary["special tokens at the end"] == ("[SEP]", "<sep> <cls>")
    assert summary["padding side"] == ("right", "left")
    assert summary["lower-cases"] == ("yes", "no")
    assert "split a word differently" in view.message.text()
    excited_column = next(i for i in range(view.alignment.columnCount())
                          if view.alignment.item(0, i) is not None and view.alignment.item(0, i).text() == "excited")
    assert view.alignment.columnSpan(0, excited_column) > 1  # WordPiece keeps the word the other one splits


def test_tokenizer_only_folder_and_model_folder_without_tokenizer(panel, qtbot, tiny_classifier, tmp_path,
                                                                  xlnet_style_tokenizer):
    with qtbot.waitSignal(panel.sig_encoded, timeout=WAIT) as blocker:
        panel.source.open_folder(str(xlnet_style_tokenizer))
    assert blocker.args[0].tokens[-2:] == ["<sep>", "<cls>"]
    assert "tokenizer only" in panel.info_label.text() and "pads on the left" in panel.info_label.text()
    folder = tmp_path / "no-tokenizer"
    shutil.copytree(tiny_classifier, folder)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    job = panel.load_source(str(folder))
    with qtbot.waitSignal(job.finished, timeout=WAIT):
        pass
    assert panel.handle is None and panel.table.token_model.rowCount() == 0
    assert any("without a tokenizer" in text for text in gui.dialogs.shown_errors)
    assert "without a tokenizer" in panel.info_label.text()


def test_open_model_from_the_library_signal(panel, qtbot, tiny_ner):
    with qtbot.waitSignal(panel.sig_loaded, timeout=WAIT) as blocker:
        panel.context.sig_open_model.emit(str(tiny_ner), "TokenizerDock")
    assert blocker.args[0].path == tiny_ner
    submitted = []
    panel.context.runner.job_added.connect(submitted.append)
    panel.context.sig_open_model.emit("builtin", "RunDock")  # meant for another panel: ignored
    assert submitted == [] and panel.handle.path == tiny_ner
