"""Devices: detection, clear errors for unusable choices, and the offer to fall back to the CPU."""

import pytest

from gui import dialogs
from services.core.devices import available_devices, check_device, default_device, out_of_memory_error, torch_dtype
from services.core.errors import DeviceError
from services.core.models import load_model


def test_cpu_always_listed():
    devices = available_devices()
    assert devices[0].name == "cpu" and "float32" in devices[0].dtypes
    assert default_device() in [d.name for d in devices]


def test_unavailable_device_is_a_clear_error():
    with pytest.raises(DeviceError, match="not available on this machine"):
        check_device("cuda:7")


def test_unsupported_dtype_is_a_clear_error():
    with pytest.raises(DeviceError, match="does not support float16"):
        check_device("cpu", "float16")
    with pytest.raises(DeviceError, match="Unknown dtype"):
        torch_dtype("float8")


def test_load_on_missing_device_fails_before_loading(tiny_classifier):
    with pytest.raises(DeviceError):
        load_model(tiny_classifier, "text-classification", device="cuda:3")


def test_bfloat16_on_cpu(tiny_classifier):
    import torch

    loaded = load_model(tiny_classifier, "text-classification", device="cpu", dtype="bfloat16")
    assert next(loaded.model.parameters()).dtype == torch.bfloat16


def test_out_of_memory_offers_cpu_and_switches(qtbot, main_window):
    main_window.context.set_device("cuda:0", "float16")  # as if the user had picked a GPU
    dialogs.auto_answers["cpu_fallback"] = True

    def runs_out_of_memory(progress, cancel):
        raise out_of_memory_error("cuda:0", "run the model")

    job = main_window.context.runner.submit("Run", runs_out_of_memory)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert "ran out of memory" in dialogs.shown_errors[-1]
    assert "switch to the CPU" in dialogs.shown_errors[-1]
    assert main_window.context.device == "cpu"
    assert main_window.context.dtype == "float32"
