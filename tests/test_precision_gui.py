"""Where the user sees precision: Settings ▸ Precision offers what the device supports (and says why
not the rest), the Run panel and the status bar show what the agreement check found."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gui.settings import Key
from services.core import precision as P
from services.core.devices import available_devices

TIMEOUT = 90_000  # generous: shared machines; nothing here asserts a duration


@pytest.fixture
def detected(main_window):
    main_window._on_devices_detected(available_devices())
    return main_window


def actions_by_name(window) -> dict:
    return {a.text().split(" ")[0].lower(): a for a in window.dtype_menu.actions()}


def test_precision_menu_offers_what_the_cpu_supports(monkeypatch, detected):
    monkeypatch.setenv(P.CPU_BF16_ENV, "0")
    detected._on_devices_detected(available_devices())
    actions = actions_by_name(detected)
    assert list(actions) == ["auto", "float32", "bfloat16", "float16", "int8"]
    assert actions["auto"].isEnabled() and actions["float32"].isEnabled() and actions["int8"].isEnabled()
    assert not actions["bfloat16"].isEnabled() and "(not here)" in actions["bfloat16"].text()
    assert "turned off" in actions["bfloat16"].toolTip() and "GPUs only" in actions["float16"].toolTip()
    actions["int8"].trigger()
    context = detected.context
    assert context.precision == "int8" and context.dtype == "float32"  # Internals loads float32
    assert detected.dtype_label.text() == "Precision: int8"

    monkeypatch.setenv(P.CPU_BF16_ENV, "1")
    detected._on_devices_detected(available_devices())
    assert actions_by_name(detected)["bfloat16"].isEnabled()


def test_an_old_dtype_setting_still_reads(detected):
    detected.context.set_device("cpu", "not-a-precision")
    assert detected.context.precision == "float32"


def test_run_panel_shows_the_agreement_check(qtbot, monkeypatch, detected, tiny_classifier):
    monkeypatch.setenv(P.CPU_BF16_ENV, "1")
    window, panel = detected, detected.panels["RunDock"]
    window.context.set_device("cpu", "auto")
    assert window.open_model_folder(str(tiny_classifier))
    panel.input.setPlainText("The film was a delight from start to finish.")
    with qtbot.waitSignal(window.context.sig_precision_checked, timeout=TIMEOUT) as checked:
        with qtbot.waitSignal(panel.sig_run_finished, timeout=TIMEOUT) as finished:
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert finished.args[0] == "done"
    check = checked.args[0]
    assert check.requested == "auto" and check.sample == P.BUILTIN_SAMPLE_NOTE
    assert check.measurement("bfloat16") is not None  # measured against float32 on the built-in sample
    assert check.summary() in panel.status.text()
    assert window.dtype_label.text() == f"Precision: auto → {check.outcome()}"
    assert f"Checked on {check.texts} texts" in window.dtype_label.toolTip()


def test_int8_on_a_gpu_offers_the_cpu(qtbot, detected, tiny_classifier):
    """The setting says int8 while a GPU is chosen (e.g. settings from another machine): refused clearly."""
    from gui import dialogs

    window, panel = detected, detected.panels["RunDock"]
    window.context.settings.set(Key.DTYPE, "int8")
    window.context.settings.set(Key.DEVICE, "cuda:0")
    dialogs.auto_answers["cpu_fallback"] = False
    assert window.open_model_folder(str(tiny_classifier))
    panel.input.setPlainText("Fine.")
    with qtbot.waitSignal(panel.sig_run_finished, timeout=TIMEOUT) as finished:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert finished.args[0] == "failed"
    assert "int8 precision runs on the CPU only" in panel.status.text()
