"""The Train panel's hyperparameters: sensible defaults, a short explanation for each, head-only, device."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QSpinBox,
                               QVBoxLayout, QWidget)

from services.training.config import HELP, Hyperparameters, default_learning_rate, is_default_learning_rate

LEARNING_RATES = ["1e-5", "2e-5", "3e-5", "5e-5", "1e-4", "3e-4", "1e-3", "5e-3"]


def rate_text(value: float) -> str:
    """A learning rate written like the list's entries: 5e-5, 1e-4, 2.5e-5."""
    mantissa, exponent = f"{value:.6e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def choose_app_device(context, name: str) -> None:
    """Make ``name`` the app's device, keeping the precision if that device supports it (else float32)."""
    info = next((d for d in context.devices or [] if d.name == name), None)
    precision = context.precision if info is None or info.supports(context.precision) else "float32"
    context.set_device(name, precision)


class TrainParamsBox(QGroupBox):
    def __init__(self, context, parent: QWidget | None = None):
        super().__init__("Hyperparameters", parent)
        self.context = context
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100)
        self.learning_rate = QComboBox()
        self.learning_rate.setEditable(True)
        self.learning_rate.addItems(LEARNING_RATES)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1024)
        self.max_length = QSpinBox()
        self.max_length.setRange(8, 8192)
        self.max_length.setSuffix(" tokens")
        self.warmup = QSpinBox()
        self.warmup.setRange(0, 50)
        self.warmup.setSuffix(" % of steps")
        self.weight_decay = QDoubleSpinBox()
        self.weight_decay.setRange(0.0, 1.0)
        self.weight_decay.setDecimals(3)
        self.weight_decay.setSingleStep(0.01)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.min_steps = QSpinBox()
        self.min_steps.setRange(0, 100_000)
        self.min_steps.setSingleStep(50)
        self.min_steps.setSpecialValueText("off (exactly the epochs)")
        self.min_steps.setSuffix(" updates")
        self.patience = QSpinBox()
        self.patience.setRange(0, 20)
        self.patience.setSpecialValueText("off")
        self.patience.setSuffix(" epochs")
        self.head_only = QCheckBox("Head only (encoder frozen: fast)")
        self.freeze_embeddings = QCheckBox("Keep word embeddings fixed")
        self.head_only.toggled.connect(lambda on: self.freeze_embeddings.setEnabled(not on))
        self.device = QComboBox()
        self.help = QLabel(HELP["epochs"])
        self.help.setWordWrap(True)
        self.help.setStyleSheet("color: palette(mid);")
        self.help.setMinimumHeight(34)

        form = QFormLayout()
        rows = [("Epochs", self.epochs, "epochs"), ("At least", self.min_steps, "min_steps"),
                ("Learning rate", self.learning_rate, "learning_rate"),
                ("Batch size", self.batch_size, "batch_size"), ("Max length", self.max_length, "max_length"),
                ("Warm-up", self.warmup, "warmup_ratio"), ("Weight decay", self.weight_decay, "weight_decay"),
                ("Seed", self.seed, "seed"), ("Early stopping", self.patience, "patience"),
                ("", self.freeze_embeddings, "freeze_embeddings"), ("", self.head_only, "head_only"),
                ("Device", self.device, None)]
        self._help_for: dict[QObject, str] = {}
        for text, widget, key in rows:
            tip = HELP[key] if key else "Where training runs; a GPU is much faster when present."
            label = QLabel(text)
            for item in (label, widget):
                item.setToolTip(tip)
            self._help_for[widget] = tip
            widget.installEventFilter(self)
            form.addRow(label, widget)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.help)
        self.set_hyperparameters(Hyperparameters())
        self.refresh_devices()
        # One device for the whole app: this chooser shows the app's device (Settings ▸ Device, the status
        # bar, an out-of-memory → CPU switch) and choosing one here changes the app's.
        context.sig_devices_detected.connect(lambda _devices: self.refresh_devices())
        context.sig_device_changed.connect(lambda _device, _precision: self.refresh_devices())
        self.device.activated.connect(lambda _index: self._choose_device(self.device.currentData()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.Enter) and watched in self._help_for:
            self.help.setText(self._help_for[watched])
        return False

    def refresh_devices(self) -> None:
        """List the app's devices and select the app's device."""
        self.device.blockSignals(True)
        self.device.clear()
        devices = self.context.devices or []
        if not devices:
            self.device.addItem("CPU", "cpu")
        for device in devices:
            self.device.addItem(device.label, device.name)
        index = self.device.findData(self.context.device)
        self.device.setCurrentIndex(max(index, 0))
        self.device.blockSignals(False)

    def _choose_device(self, name: str | None) -> None:
        if not name or name == self.context.device:
            return
        choose_app_device(self.context, name)

    def set_task(self, task: str) -> None:
        """Show ``task``'s default learning rate, unless the user typed one of their own."""
        try:
            kept = is_default_learning_rate(float(self.learning_rate.currentText()))
        except ValueError:
            kept = False
        if kept:
            self.learning_rate.setCurrentText(rate_text(default_learning_rate(task)))

    def set_hyperparameters(self, hp: Hyperparameters) -> None:
        self.epochs.setValue(hp.epochs)
        self.learning_rate.setCurrentText(rate_text(hp.learning_rate))
        self.batch_size.setValue(hp.batch_size)
        self.max_length.setValue(hp.max_length)
        self.warmup.setValue(round(hp.warmup_ratio * 100))
        self.weight_decay.setValue(hp.weight_decay)
        self.seed.setValue(hp.seed)
        self.patience.setValue(hp.patience)
        self.min_steps.setValue(hp.min_steps)
        self.head_only.setChecked(hp.head_only)
        self.freeze_embeddings.setChecked(hp.freeze_embeddings)

    def hyperparameters(self) -> Hyperparameters:
        """The settings shown; a clear InputError for a learning rate that is not a number."""
        from services.core.errors import InputError

        text = self.learning_rate.currentText().strip()
        try:
            learning_rate = float(text)
        except ValueError:
            raise InputError(f"The learning rate '{text}' is not a number.", hint="Write it like 5e-5 or 0.00005.") from None
        hp = Hyperparameters(epochs=self.epochs.value(), learning_rate=learning_rate, batch_size=self.batch_size.value(),
                             max_length=self.max_length.value(), warmup_ratio=self.warmup.value() / 100,
                             weight_decay=self.weight_decay.value(), seed=self.seed.value(),
                             head_only=self.head_only.isChecked(), freeze_embeddings=self.freeze_embeddings.isChecked(),
                             patience=self.patience.value(),
                             min_steps=self.min_steps.value())
        hp.check()
        return hp

    def device_name(self) -> str:
        return str(self.device.currentData() or "cpu")
