"""Question answering, summarisation and translation in the window, driven like a user: the Run panel
(answer highlighted in the context, top-k list; summaries/translations streamed; Cancel; Show code),
Internals (start/end logits per token and how the span was chosen), Analyse (a question over a folder)
and the Hub dialog's course list. Each view is rendered to a PNG under $WORKBENCH_SHOTS (if set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui.run.text_task_views import HIGHLIGHT, highlighted_html

TIMEOUT = 120_000  # generous: CI machines are shared; nothing here asserts a duration
CONTEXT = ("Maria Lopez joined Acme Corporation in Berlin last spring. Before that she spent six years at a small "
           "robotics start-up in Lyon, where she led the vision team.")


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models run fastest on one thread and do not fight other processes for the cores."""


def shoot(widget, name: str) -> None:
    folder = os.environ.get("WORKBENCH_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / f"{name}.png"))


def click_run(qtbot, panel) -> str:
    with qtbot.waitSignal(panel.sig_run_finished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


@pytest.fixture
def run_panel(main_window):
    main_window.resize(1300, 900)
    return main_window.panels["RunDock"]


def test_highlighting_escapes_and_marks_the_answer():
    import re

    page = highlighted_html("a <b> & c", 2, 5, [(0, 1), (3, 9)])
    assert "&lt;b&gt;" in page and "<b>" not in page.replace("&lt;b&gt;", "")
    assert page.count("<span") == 2  # (3, 9) overlaps the answer and is left out
    marked = re.findall(r"<span style='([^']*)'[^>]*>(.*?)</span>", page)
    assert marked == [("background:#e3edf9", "a"), (HIGHLIGHT, "&lt;b&gt;")]


# -- Run panel ----------------------------------------------------------------------------------------
def test_question_answering_highlights_the_answer_and_lists_top_k(qtbot, main_window, run_panel, tiny_bert_qa):
    panel = run_panel
    assert main_window.open_model_folder(str(tiny_bert_qa))
    assert panel.task() == "question-answering"  # the model's head picks the task
    assert panel.input_label.text().startswith("Context")
    panel.input.setPlainText(CONTEXT)
    pages = panel.options.text_tasks
    pages.question.setText("Where did Maria Lopez work before?")
    pages.qa_top_k.setValue(4)
    assert click_run(qtbot, panel) == "done"
    view = panel.views["question-answering"]
    result = panel.last_results[0]
    assert view.headline.text() == result["answer"] == CONTEXT[result["start"]:result["end"]]
    assert view.highlighted_text() == result["answer"]
    assert view.table.rowCount() == 4
    assert [view.table.item(r, 0).text() for r in range(4)] == [a["answer"] for a in result["answers"]]
    marked = view.context_view.toHtml()
    assert "#ffe08a" in marked  # the highlight colour is in the document
    shoot(main_window, "run-question-answering")
    view.table.selectRow(2)  # another answer highlighted on click
    assert view.context_view.toHtml() != marked
    code = panel.current_code()
    assert "AutoModelForQuestionAnswering" in code and "Where did Maria Lopez work before?" in code


def test_question_answering_refuses_an_empty_question(qtbot, main_window, run_panel, tiny_bert_qa):
    import gui.dialogs

    panel = run_panel
    assert main_window.open_model_folder(str(tiny_bert_qa))
    panel.input.setPlainText(CONTEXT)
    panel.options.text_tasks.question.setText("   ")
    assert click_run(qtbot, panel) == "failed"
    assert "question is empty" in panel.status.text()
    assert gui.dialogs.shown_errors and "question is empty" in str(gui.dialogs.shown_errors[-1])


def test_summary_streams_into_the_view(qtbot, main_window, run_panel, tiny_bart):
    panel = run_panel
    assert main_window.open_model_folder(str(tiny_bart))
    assert panel.task() == "summarization"
    box = panel.options.text_tasks.summary
    box.model_settings.setChecked(False)
    box.beams.setValue(1)
    box.min_new.setValue(12)
    box.max_new.setValue(12)
    assert click_run(qtbot, panel) == "done"
    view = panel.views["summarization"]
    result = panel.last_results[0]
    assert view.updates >= 2  # streamed while generating (the job runner throttles progress events)
    assert view.text() == result["summary_text"]
    assert "12 new tokens" in view.info.text() and "greedy" in view.info.text()
    shoot(main_window, "run-summarization")
    assert "AutoModelForSeq2SeqLM" in panel.current_code()


def test_translation_languages_from_the_model_and_cancel(qtbot, main_window, run_panel, tiny_nllb):
    panel = run_panel
    assert main_window.open_model_folder(str(tiny_nllb))
    assert panel.task() == "translation"
    pages = panel.options.text_tasks
    assert [pages.target.itemText(i) for i in range(pages.target.count())] == ["eng_Latn", "fra_Latn", "deu_Latn"]
    pages.source.setCurrentText("eng_Latn")
    pages.target.setCurrentText("fra_Latn")
    pages.translation.model_settings.setChecked(False)
    pages.translation.beams.setValue(1)
    pages.translation.max_new.setValue(10)
    assert click_run(qtbot, panel) == "done"
    view = panel.views["translation"]
    assert view.text() == panel.last_results[0]["translation_text"]
    assert "eng_Latn → fra_Latn" in view.info.text()
    shoot(main_window, "run-translation")
    # Cancel while it generates: the view keeps what came so far and says so
    pages.translation.min_new.setValue(100)
    pages.translation.max_new.setValue(100)
    view = panel.views["translation"]
    with qtbot.waitSignal(panel.sig_run_finished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.updates >= 3, timeout=TIMEOUT)
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == "cancelled"
    assert "Cancelled" in view.info.text() and view.updates < 100


def test_unknown_language_is_refused(qtbot, main_window, run_panel, tiny_marian):
    panel = run_panel
    assert main_window.open_model_folder(str(tiny_marian))
    pages = panel.options.text_tasks
    assert pages.source.currentText() == "en" and pages.target.currentText() == "fr"  # from opus-mt-en-fr
    pages.target.setCurrentText("de")
    assert click_run(qtbot, panel) == "failed"
    assert "Unknown target language 'de'" in panel.status.text()


# -- Internals ---------------------------------------------------------------------------------------
def test_internals_plots_start_and_end_logits_and_explains_the_span(qtbot, main_window, tiny_bert_qa):
    panel = main_window.panels["InternalsDock"]
    main_window.resize(1300, 1000)
    panel.picker.open_folder(str(tiny_bert_qa))
    assert panel.current_mode() == "question-answering"  # a QA head: its own view first
    assert panel.question_input.isVisibleTo(panel)
    panel.text_input.setPlainText(CONTEXT * 4)  # longer than one 128-token window
    panel.question_input.setText("Where did she lead the vision team?")
    with qtbot.waitSignal(panel.sig_result, timeout=TIMEOUT) as blocker:
        panel.run()
    detail = blocker.args[0]
    view = panel.qa_view
    assert panel.tabs.currentWidget() is view
    assert view.window_combo.count() == len(detail["windows_detail"]) > 1
    window = detail["windows_detail"][view.window_combo.currentIndex()]
    assert view.window_combo.currentIndex() == detail["best_window"]
    best = window["spans"][0]
    assert view.table.item(0, 0).text() == best["text"]
    text = view.explain.text()
    assert f"{sum(window['context'])} of its {len(window['tokens'])} tokens belong to the context" in text
    assert f"{best['score']:.5f}" in text and f"at most {detail['settings']['max_answer_len']} tokens" in text
    assert (detail["answer"] or "(no answer)") in panel.verdict.text()
    items = view.plot.getPlotItem().items
    assert sum(type(item).__name__ == "BarGraphItem" for item in items) == 2  # start and end logits
    assert "AutoModelForQuestionAnswering" in panel.code()
    main_window.docks["InternalsDock"].raise_()
    shoot(panel, "internals-question-answering")
    view.window_combo.setCurrentIndex(0)
    assert view.table.item(0, 0).text() == detail["windows_detail"][0]["spans"][0]["text"]
    # other modes hide the question again
    panel.set_mode("attention")
    assert not panel.question_input.isVisibleTo(panel)


# -- Analyse -----------------------------------------------------------------------------------------
@pytest.fixture
def analyse_panel(qtbot, settings):
    from gui.analyse.panel import AnalysePanel
    from gui.context import AppContext

    context = AppContext(settings)
    widget = AnalysePanel(context)
    qtbot.addWidget(widget)
    widget.resize(1300, 850)
    widget.show()
    yield widget
    context.runner.shutdown()


def analyse_and_wait(qtbot, panel):
    import gui.dialogs

    job = panel.start_analysis()
    assert job is not None, gui.dialogs.shown_errors
    with qtbot.waitSignals([job.finished, panel.sig_results_shown], timeout=TIMEOUT):
        pass
    assert job.state == "done", job.error_value
    return job


def test_analyse_asks_every_document_a_question(qtbot, analyse_panel, tmp_path, tiny_roberta_qa):
    import gui.dialogs
    from gui.analyse.results_model import COLUMNS

    panel = analyse_panel
    folder = tmp_path / "docs"
    folder.mkdir()
    texts = {"maria.txt": CONTEXT, "hotel.txt": "The hotel room was clean, quiet and close to the station.",
             "book.txt": "I could not put the book down; the ending surprised me.",
             "long.txt": " ".join(["Paris and Rome are lovely in the autumn, said the guide."] * 20)}
    for name, text in texts.items():
        (folder / name).write_text(text)
    panel.inputs.files.add_paths([folder])
    panel.inputs.mode.setCurrentIndex(panel.inputs.mode.findData("file"))
    panel.task.setCurrentIndex(panel.task.findData("question-answering"))
    assert panel.text_tasks.question.isVisibleTo(panel) and not panel.text_tasks.languages.isVisibleTo(panel)
    panel.picker.open_folder(str(tiny_roberta_qa))
    assert panel.start_analysis() is None  # no question: refused at once
    assert "needs a question" in str(gui.dialogs.shown_errors[-1])
    panel.text_tasks.question.setText("Where is it lovely?")
    analyse_and_wait(qtbot, panel)
    model = panel.model
    assert model.rowCount() == 4
    scores = [float(model.data(model.index(r, COLUMNS.index("Score")))) for r in range(4)]
    assert scores == sorted(scores, reverse=True)  # best answers first
    for row in range(4):
        record = model.record(row)
        assert record["answer"] == record["text"][record["start"]:record["end"]]
        assert model.data(model.index(row, COLUMNS.index("Label"))) == record["answer"]
    panel.results.table.selectRow(0)
    panel.results.show_row(0)
    shown = panel.results.detail.toHtml()
    record = model.record(0)
    assert "Where is it lovely?" in shown and "ANSWER" in shown
    assert record["answer"].split()[0] in panel.results.detail.toPlainText()
    shoot(panel, "analyse-question-answering")


def test_analyse_summaries_in_chunks_and_translations(qtbot, analyse_panel, tmp_path, tiny_bart, tiny_marian):
    panel = analyse_panel
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.txt").write_text(" ".join(["The city council met on Tuesday to discuss the new cycle lanes."] * 30))
    (folder / "short.txt").write_text("Battery life is great but the screen scratches easily.")
    panel.inputs.files.add_paths([folder])
    panel.inputs.mode.setCurrentIndex(panel.inputs.mode.findData("file"))
    panel.task.setCurrentIndex(panel.task.findData("summarization"))
    panel.picker.open_folder(str(tiny_bart))
    panel.chunk.setChecked(True)
    analyse_and_wait(qtbot, panel)
    records = {panel.model.record(r)["file"].rsplit("/", 1)[-1]: panel.model.record(r) for r in range(2)}
    assert records["long.txt"]["chunks"] > 1 and "chunked" in records["long.txt"]["flags"]
    row = next(r for r in range(2) if panel.model.record(r)["file"].endswith("long.txt"))
    panel.results.show_row(row)
    assert "chunks, joined" in panel.results.detail.toHtml()
    shoot(panel, "analyse-summarization")
    panel.task.setCurrentIndex(panel.task.findData("translation"))
    panel.picker.open_folder(str(tiny_marian))
    assert panel.text_tasks.languages.isVisibleTo(panel)
    assert panel.text_tasks.target.currentText() == "fr"
    panel.chunk.setChecked(False)
    analyse_and_wait(qtbot, panel)
    assert all("translation_text" in panel.model.record(r) for r in range(2))


# -- Library / Hub -----------------------------------------------------------------------------------
def test_hub_course_list_offers_a_checkpoint_for_each_task(qtbot, main_window):
    from services.library.hub import recommended_models

    by_task = {}
    for model in recommended_models():
        by_task.setdefault(model.task, []).append(model.repo_id)
    assert by_task["question-answering"] == ["distilbert-base-cased-distilled-squad", "deepset/roberta-base-squad2"]
    assert by_task["summarization"] == ["t5-small", "sshleifer/distilbart-cnn-12-6"]
    assert by_task["translation"] == ["Helsinki-NLP/opus-mt-en-fr"]
    library = main_window.panels["LibraryDock"]
    dialog = library.open_hub()
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert rows["deepset/roberta-base-squad2"] == "QA" and rows["t5-small"] == "summarise"
    assert rows["Helsinki-NLP/opus-mt-en-fr"] == "translate"
    dialog.resize(1000, 520)
    shoot(dialog, "hub-course-list")
    dialog.close()


def test_library_lists_the_tasks_of_qa_and_seq2seq_models(tiny_bert_qa, tiny_t5, tiny_marian):
    from services.library.scan import describe_folder

    assert "question-answering" in describe_folder(tiny_bert_qa, "folder").tasks
    assert describe_folder(tiny_t5, "folder").tasks == ["summarization", "translation"]
    assert describe_folder(tiny_marian, "folder").tasks == ["summarization", "translation"]
