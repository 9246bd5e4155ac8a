"""The main window as a user meets it: title, docks, menus, status bar, saved layout, clean quit."""

import threading

from PySide6.QtWidgets import QDockWidget

from gui import dialogs
from gui.app import create_window
from services.core.errors import ModelError


def test_title_docks_and_status_bar(main_window):
    assert main_window.windowTitle() == "Transformers Workbench"
    docks = main_window.findChildren(QDockWidget)
    assert docks and all(dock.objectName() for dock in docks)
    assert {"RunDock", "JobsDock", "LogDock"} <= {dock.objectName() for dock in docks}
    menus = [action.text().replace("&", "") for action in main_window.menuBar().actions()]
    assert menus[:2] == ["File", "View"] and "Settings" in menus
    assert main_window.device_combo.currentData() == "cpu"
    assert main_window.model_label.text() == "No model loaded"


def test_device_detection_runs_on_a_worker(qtbot, main_window):
    job = main_window.start_device_detection()
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    assert [d.name for d in main_window.context.devices][0] == "cpu"
    assert main_window.device_combo.findData("cpu") >= 0


def test_layout_is_saved_and_restored(qtbot, settings):
    window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    window.resize(700, 500)  # the offscreen screen is 800x600: stay inside it
    window.docks["LogDock"].raise_()
    window.docks["JobsDock"].setVisible(False)
    window.close()
    again = create_window(settings)
    qtbot.addWidget(again)
    again.show()
    assert (again.size().width(), again.size().height()) == (700, 500)
    assert not again.docks["JobsDock"].isVisible()
    again.close()


def test_job_error_becomes_dialog_and_log_entry(qtbot, main_window):
    log_view = main_window.panels["LogDock"].view

    def broken(progress, cancel):
        raise ModelError("Model folder '/nowhere' does not exist.")

    job = main_window.context.runner.submit("Load model", broken)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert dialogs.shown_errors == ["Model folder '/nowhere' does not exist."]
    qtbot.waitUntil(lambda: "Load model failed" in log_view.toPlainText(), timeout=2000)
    row = main_window.panels["JobsDock"].row_for(job)
    assert row.item.text(2).startswith("failed: Model folder")


def test_jobs_dock_cancel_button_cancels(qtbot, main_window):
    started = threading.Event()

    def forever(progress, cancel):
        started.set()
        n = 0
        while True:
            cancel.check()
            n += 1
            progress(n % 100, 100, "spinning")
            threading.Event().wait(0.002)

    job = main_window.context.runner.submit("Spin", forever)
    assert started.wait(5)
    row = main_window.panels["JobsDock"].row_for(job)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        row.cancel_button.click()
    assert row.item.text(2) == "cancelled"


def test_quit_cancels_running_jobs(qtbot, settings):
    window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    started = threading.Event()
    stopped = threading.Event()

    def forever(progress, cancel):
        started.set()
        try:
            while True:
                cancel.check()
                threading.Event().wait(0.005)
        finally:
            stopped.set()

    window.context.runner.submit("Endless", forever)
    assert started.wait(5)
    window.close()
    assert stopped.is_set()


def test_open_model_folder_rejects_non_model(qtbot, main_window, tmp_path):
    assert main_window.open_model_folder(str(tmp_path)) is False
    assert "no config.json" in dialogs.shown_errors[-1]


def test_open_model_folder_remembers_it(qtbot, main_window, tiny_classifier):
    assert main_window.open_model_folder(str(tiny_classifier))
    specs = [entry.spec for entry in main_window.context.catalogue.entries()]
    assert str(tiny_classifier) in specs


def test_opening_a_model_for_a_panel_brings_it_to_the_front(qtbot, main_window):
    main_window.docks["LibraryDock"].raise_()
    main_window.context.sig_open_model.emit("builtin", "TokenizerDock")
    qtbot.waitUntil(lambda: not main_window.panels["TokenizerDock"].visibleRegion().isEmpty(), timeout=5000)
    assert main_window.panels["LibraryDock"].visibleRegion().isEmpty()
