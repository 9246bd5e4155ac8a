"""Which devices (CPU, CUDA, Apple MPS) and dtypes this machine offers, and clear device errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.core.errors import DeviceError

DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # what torch calls it: "cpu", "cuda:0", "mps"
    label: str  # what the user sees
    dtypes: tuple[str, ...] = field(default=("float32",))  # dtypes a model can be loaded in
    # (precision, supported, why) for float32, bfloat16, float16, int8 (services.core.precision); the
    # Settings ▸ Precision menu offers the supported ones (and Auto) and says why the others are not
    precisions: tuple[tuple[str, bool, str], ...] = ()

    def supports(self, precision: str) -> bool:
        return precision == "auto" or any(name == precision and ok for name, ok, _why in self.precisions) \
            or (not self.precisions and precision == "float32")


def available_devices() -> list[DeviceInfo]:
    """Detect devices (imports torch: call it on a worker, not while painting the window)."""
    import torch

    from services.core.precision import precision_support

    def precisions(name: str) -> tuple[tuple[str, bool, str], ...]:
        return tuple((p, s.supported, s.reason) for p, s in precision_support(name).items())

    devices = [DeviceInfo("cpu", "CPU", ("float32", "bfloat16"), precisions("cpu"))]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            dtypes = ("float32", "float16") + (("bfloat16",) if torch.cuda.is_bf16_supported() else ())
            devices.append(DeviceInfo(f"cuda:{index}", f"CUDA {index}: {torch.cuda.get_device_name(index)}", dtypes,
                                      precisions(f"cuda:{index}")))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(DeviceInfo("mps", "Apple GPU (MPS)", ("float32", "float16"), precisions("mps")))
    return devices


def default_device() -> str:
    """The best device present: the first CUDA device, else MPS, else the CPU."""
    devices = available_devices()
    for prefix in ("cuda", "mps"):
        for device in devices:
            if device.name.startswith(prefix):
                return device.name
    return "cpu"


def torch_dtype(name: str):
    """Map a dtype name to ``torch.dtype``; a clear error for anything else."""
    import torch

    if name not in DTYPES:
        raise DeviceError(f"Unknown dtype '{name}'.", hint=f"Choose one of: {', '.join(DTYPES)}.")
    return getattr(torch, name)


def check_device(name: str, dtype: str = "float32") -> None:
    """Raise :class:`DeviceError` if ``name`` is not usable here or does not support ``dtype``."""
    known = {device.name: device for device in available_devices()}
    if name == "cuda" and "cuda:0" in known:
        name = "cuda:0"
    if name not in known:
        present = ", ".join(known)
        raise DeviceError(f"Device '{name}' is not available on this machine.", hint=f"Available: {present}.")
    if dtype not in known[name].dtypes:
        raise DeviceError(
            f"{known[name].label} does not support {dtype}.",
            hint=f"Supported: {', '.join(known[name].dtypes)}.",
        )


def is_out_of_memory(error: BaseException) -> bool:
    """True for the allocator errors torch raises when a device runs out of memory."""
    import torch

    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
    )


def out_of_memory_error(device: str, action: str = "run the model") -> DeviceError:
    return DeviceError(
        f"The device {device} ran out of memory while trying to {action}.",
        hint="Try a smaller batch or maximum length, a smaller dtype, or switch to the CPU.",
        fallback="cpu",
    )
