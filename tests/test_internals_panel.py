"""The Internals panel driven through qtbot: logits → probabilities → id2label, temperature and
threshold, tensors, the attention heatmap (layer / head / average), Show code, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from gui.context import AppContext
from gui.internals.panel import InternalsPanel

WAIT = 60_000


@pytest.fixture
def panel(qtbot, settings):
    context = AppContext(settings)
    widget = InternalsPanel(context)
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    yield widget
    context.runner.shutdown()


def _run(qtbot, panel):
    with qtbot.waitSignal(panel.sig_result, timeout=WAIT) as blocker:
        panel.run_button.click()
    return blocker.args[0]


def test_classifier_logits_probabilities_and_label(panel, qtbot, tiny_classifier):
    panel.picker.open_folder(str(tiny_classifier))
    assert panel.current_mode() == "sequence-classification"
    assert panel.labels_row.isHidden()
    result = _run(qtbot, panel)
    table = panel.scores_table
    assert table.rowCount() == 2
    assert [table.item(r, 1).text() for r in range(2)] == ["negative", "positive"]
    probabilities = [float(table.item(r, 4).text()) for r in range(2)]
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    best = int(np.argmax(result.logits[0]))
    assert result.logit_columns[best] in panel.verdict.text() and f"argmax = {best}" in panel.verdict.text()
    assert table.item(best, 1).font().bold()
    # temperature flattens the probabilities without running the model again
    jobs = []
    panel.context.runner.job_added.connect(jobs.append)
    panel.temperature.setValue(10.0)
    flat = [float(table.item(r, 4).text()) for r in range(2)]
    assert abs(flat[0] - flat[1]) < abs(probabilities[0] - probabilities[1])
    panel.threshold.setValue(0.9)
    assert "uncertain" in panel.verdict.text()
    assert jobs == []
    # tensors: input_ids [1, n] int64 starting with [CLS] = 101, logits [1, 2]
    tensors = {panel.tensors_table.item(r, 1).text(): panel.tensors_table.item(r, 2).text()
               for r in range(panel.tensors_table.rowCount())}
    assert tensors["input_ids"] == f"[1, {len(result.tokens)}]" and tensors["logits"] == "[1, 2]"
    assert "attentions" in tensors


def test_show_code_matches_the_controls(panel, qtbot, tiny_classifier):
    panel.picker.open_folder(str(tiny_classifier))
    _run(qtbot, panel)
    panel.temperature.setValue(2.0)
    panel.code_button.click()
    assert panel.tabs.currentIndex() == 3
    code = panel.code()
    assert "AutoModelForSequenceClassification.from_pretrained" in code
    assert "temperature = 2.0" in code and "torch.inference_mode()" in code
    assert repr(str(tiny_classifier.resolve())) in code
    compile(code, "<generated>", "exec")


def test_attention_heatmap_layers_heads_and_average(panel, qtbot):
    panel.picker.set_current_spec("builtin")
    assert panel.current_mode() == "attention"
    assert not panel.temperature.isEnabled()
    result = _run(qtbot, panel)
    assert result.attentions.shape == (6, 12, 15, 15)
    assert "no task head" in panel.verdict.text() and panel.scores_table.rowCount() == 0
    view = panel.attention_view
    assert view.layer.maximum() == 5 and view.head.maximum() == 11
    heatmap = view.heatmap
    assert heatmap.tokens[0] == "[CLS]" and heatmap.matrix.shape == (15, 15)
    view.layer.setValue(3)
    view.head.setValue(7)
    np.testing.assert_allclose(heatmap.matrix, result.attentions[3, 7])
    view.average.setChecked(True)
    np.testing.assert_allclose(heatmap.matrix, result.attentions[3].mean(axis=0), rtol=1e-6)
    assert not view.head.isEnabled() and "average over heads" in view.caption.text()
    assert "attentions[3].mean(dim=0)" in panel.code()
    image = heatmap.grab().toImage()
    assert image.width() > 15 * heatmap.cell and image.height() > 15 * heatmap.cell


def test_zero_shot_through_nli(panel, qtbot, tiny_nli):
    panel.picker.open_folder(str(tiny_nli))
    assert panel.current_mode() == "zero-shot" and not panel.labels_row.isHidden()
    panel.labels_input.setText("sports, politics, cooking")
    result = _run(qtbot, panel)
    table = panel.scores_table
    assert table.rowCount() == 3 and [table.item(r, 0).text() for r in range(3)] == ["sports", "politics", "cooking"]
    assert result.candidate_labels[int(np.argmax(result.score_logits[0]))] in panel.verdict.text()
    assert panel.set_mode("sequence-classification")
    result = _run(qtbot, panel)
    assert table.rowCount() == 3 and result.logit_columns == ["contradiction", "neutral", "entailment"]


def test_token_classification(panel, qtbot, tiny_ner):
    panel.picker.open_folder(str(tiny_ner))
    panel.text_input.setPlainText("Maria lives in Berlin")
    result = _run(qtbot, panel)
    assert panel.scores_table.rowCount() == len(result.tokens) == 6
    assert panel.scores_table.item(1, 1).text() == "maria"
    assert "6 tokens" in panel.verdict.text()


def test_bad_input_messages(panel, qtbot, tiny_nli):
    jobs = []
    panel.context.runner.job_added.connect(jobs.append)
    panel.text_input.setPlainText("   ")
    panel.run_button.click()
    assert "empty" in panel.verdict.text()
    panel.picker.open_folder(str(tiny_nli))
    panel.text_input.setPlainText("A text")
    panel.labels_input.setText(" , ")
    panel.run_button.click()
    assert "candidate labels" in panel.verdict.text()
    assert jobs == []
    panel.template_input.setText("no placeholder")
    panel.labels_input.setText("a, b")
    job = panel.run()
    with qtbot.waitSignal(job.finished, timeout=WAIT):
        pass
    assert "{}" in panel.verdict.text() and panel.run_button.isEnabled()


def test_emoji_text_runs(panel, qtbot, tiny_classifier):
    panel.picker.open_folder(str(tiny_classifier))
    panel.text_input.setPlainText("I love it 😀☃")
    result = _run(qtbot, panel)
    assert "[UNK]" in result.tokens


def test_open_model_signal(panel, qtbot, tiny_classifier):
    with qtbot.waitSignal(panel.sig_result, timeout=WAIT) as blocker:
        panel.context.sig_open_model.emit(str(tiny_classifier), "InternalsDock")
    assert blocker.args[0].mode == "sequence-classification"
    assert panel.picker.current_spec() == str(tiny_classifier)
