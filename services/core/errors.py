"""Errors whose message is written for the user: one clear line, no traceback needed."""


class WorkbenchError(Exception):
    """Base class: ``str(error)`` is a complete sentence a user can act on."""

    def __init__(self, message: str, *, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ModelError(WorkbenchError):
    """A model folder cannot be used: missing, broken, unsupported or unsafe."""


class InputError(WorkbenchError):
    """The user's input (text, file, option) cannot be processed."""


class DeviceError(WorkbenchError):
    """The chosen device failed (out of memory, unavailable). ``fallback`` names a device to offer."""

    def __init__(self, message: str, *, hint: str = "", fallback: str = "cpu"):
        super().__init__(message, hint=hint)
        self.fallback = fallback


class Cancelled(Exception):
    """Raised inside a job when its cancel token was triggered; not an error.

    ``partial`` carries what was done before the cancel, if the caller can use it (the job
    runner delivers it as the job's partial result)."""

    def __init__(self, *args, partial=None):
        super().__init__(*args)
        self.partial = partial
