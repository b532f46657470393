"""The training panel: pick an architecture and its settings, train, watch the curves, predict.

Everything shown comes from the plugin registry: the architecture list, the one-line description
and the hyperparameter form (:class:`~hsiviewer.gui.widgets.hyper_form.HyperForm`). The panel is a view: it
turns its fields into a :class:`~hsiviewer.engine.training.TrainConfig` and emits requests; the
:class:`~hsiviewer.gui.actions.model_controller.ModelController` runs the jobs and feeds progress back.
:func:`install` adds the panel, the results and the Model menu to a main window.

The registry and the devices come from the learning engine, which loads in the background
(:mod:`hsiviewer.engine.preload`): until :meth:`TrainingPanel.set_engine` is called the panel says
"Loading PyTorch…" and its fields and buttons are disabled. This module imports no torch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hsiviewer.errors import TrainingError
from hsiviewer.gui.widgets.hyper_form import HyperForm
from hsiviewer.gui.widgets.training_curves import TrainingCurves
from hsiviewer.progress import ProgressEvent

if TYPE_CHECKING:  # torch: imported by the engine load, not by the panel
    from hsiviewer.engine.training import TrainConfig

SPLITS = (
    ("Random pixels (stratified)", "random"),
    ("Spatially disjoint blocks", "disjoint"),
    ("Whole regions (drawn regions)", "regions"),
)
LABEL_SOURCES = (("Ground truth", "ground_truth"), ("Drawn regions", "regions"))
AMOUNTS = (("Share of each class", "fraction"), ("Pixels per class", "per_class"))
SCHEDULES = (("Cosine decay to 0", "cosine"), ("Constant", "constant"))
PROGRESS_STEPS = 1000
LOG_LINES = 2000
LOADING_TEXT = "Loading PyTorch and the model plugins…"


def detected_devices() -> list[tuple[str, str]]:
    """(label, torch device name) of the devices found here: CUDA GPUs, Apple MPS, then the CPU.

    Imports torch: call it where the engine is loaded (the panel gets its devices from the engine load).
    """
    from hsiviewer.engine.device import available_devices

    return available_devices()


def format_eta(seconds: Optional[float]) -> str:
    """``"1:05"`` or ``"1:02:03"`` for a number of seconds; ``"–"`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _spin(low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin


def _double(low: float, high: float, value: float, decimals: int, step: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setSingleStep(step)
    spin.setValue(value)
    return spin


def _combo(entries) -> QComboBox:
    combo = QComboBox()
    for label, data in entries:
        combo.addItem(label, data)
    return combo


def _select(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


class TrainingPanel(QWidget):
    """Architecture, hyperparameters, split and training settings; Train / Cancel / Predict; progress.

    Parameters
    ----------
    registry : Registry, optional
        Where the architectures come from (:func:`hsiviewer.models.default_registry`). Without it the
        panel shows "Loading PyTorch…" until :meth:`set_engine` gives it one.
    devices : list of (label, device name), optional
        The devices to offer (default with a registry: :func:`detected_devices`).

    Signals
    -------
    train_requested(), cancel_requested(), predict_requested()
        The user pressed Train, Cancel or Predict.
    """

    train_requested = Signal()
    cancel_requested = Signal()
    predict_requested = Signal()

    def __init__(
        self, registry=None, parent: Optional[QWidget] = None, devices: Optional[list[tuple[str, str]]] = None
    ) -> None:
        super().__init__(parent)
        self.registry = None
        self._build_fields()
        self._build_layout()
        self.architecture.currentIndexChanged.connect(self._on_architecture)
        self.split_method.currentIndexChanged.connect(self._sync_amount)
        self.amount_kind.currentIndexChanged.connect(self._sync_amount)
        self.train_button.clicked.connect(self.train_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.predict_button.clicked.connect(self.predict_requested)
        self._sync_amount()
        self.predict_button.setEnabled(False)
        if registry is None:
            self.show_loading()
        else:
            self.set_engine(registry, detected_devices() if devices is None else devices)

    # --- the engine ---------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """True once the panel has its registry and devices (:meth:`set_engine`)."""
        return self.registry is not None

    def show_loading(self, text: str = LOADING_TEXT) -> None:
        """Say that the engine is loading; the fields and Train stay disabled until :meth:`set_engine`."""
        self.description.setText(text)
        self.status.setText(text)
        self.progress.setRange(0, 0)  # a moving bar: something is happening, the window is alive
        self._lock(True, "The learning engine is still loading")

    def show_engine_error(self, message: str) -> None:
        """Say why the engine could not load; training stays unavailable, the viewer works on."""
        text = f"Training is unavailable: {message}"
        self.progress.setRange(0, PROGRESS_STEPS)
        self.description.setText(text)
        self.status.setText(text)
        self.log_line(text)
        self._lock(True, text)

    def set_engine(self, registry, devices: list[tuple[str, str]]) -> None:
        """Fill the architecture list and the devices, and unlock the fields."""
        self.registry = registry
        self.progress.setRange(0, PROGRESS_STEPS)
        self.architecture.blockSignals(True)
        self.architecture.clear()
        for name in registry.names():
            self.architecture.addItem(name, name)
        self.architecture.blockSignals(False)
        self.device.clear()
        for label, name in devices:
            self.device.addItem(label, name)
        self._on_architecture()
        self.status.setText("Ready")
        self.set_busy("")

    # --- construction -------------------------------------------------------------------
    def _build_fields(self) -> None:
        self.architecture = QComboBox()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: palette(mid); font-style: italic")
        self.hyper_form = HyperForm()
        self.label_source = _combo(LABEL_SOURCES)
        self.split_method = _combo(SPLITS)
        self.amount_kind = _combo(AMOUNTS)
        self.train_fraction = _double(0.001, 0.99, 0.1, 3, 0.01)
        self.train_per_class = _spin(1, 1_000_000, 50)
        self.val_fraction = _double(0.0, 0.9, 0.0, 2, 0.05)
        self.seed = _spin(0, 2**31 - 1, 0)
        self.epochs = _spin(1, 100_000, 20)
        self.batch_size = _spin(1, 65_536, 128)
        self.lr = QLineEdit("0.001")
        validator = QDoubleValidator(1e-12, 10.0, 12, self.lr)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        self.lr.setValidator(validator)
        self.lr_schedule = _combo(SCHEDULES)
        self.device = QComboBox()
        self.train_button = QPushButton("Train")
        self.cancel_button = QPushButton("Cancel")
        self.predict_button = QPushButton("Predict scene")
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setTextVisible(True)
        self.progress_text = QLabel()  # beside the bar: text inside it is half hidden by the chunk
        self.progress_text.setMinimumWidth(230)
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        self.curves = TrainingCurves()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setPlaceholderText("Per-epoch metrics appear here.")
        self.log.setMinimumHeight(48)

    def _build_layout(self) -> None:
        model_box = QGroupBox("Model")
        model_form = QFormLayout(model_box)
        model_form.addRow("Architecture", self.architecture)
        model_form.addRow(self.description)
        model_form.addRow(self.hyper_form)
        run_box = QGroupBox("Data and training")
        run_form = QFormLayout(run_box)
        run_form.addRow("Labels", self.label_source)
        run_form.addRow("Split", self.split_method)
        run_form.addRow("Training pixels", self.amount_kind)
        run_form.addRow("Share", self.train_fraction)
        run_form.addRow("Per class", self.train_per_class)
        run_form.addRow("Validation share", self.val_fraction)
        run_form.addRow("Seed", self.seed)
        run_form.addRow("Epochs", self.epochs)
        run_form.addRow("Batch size", self.batch_size)
        run_form.addRow("Learning rate", self.lr)
        run_form.addRow("Rate schedule", self.lr_schedule)
        run_form.addRow("Device", self.device)
        self._run_form = run_form
        settings = QWidget()
        column = QVBoxLayout(settings)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(model_box)
        column.addWidget(run_box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.cancel_button, self.predict_button):
            buttons.addWidget(button)
        left = QVBoxLayout()
        left.addWidget(scroll, 1)
        left.addLayout(buttons)
        right = QVBoxLayout()
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.progress_text)
        right.addLayout(bar)
        right.addWidget(self.status)
        right.addWidget(self.curves, 3)
        right.addWidget(self.log, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 0)
        layout.addLayout(right, 1)

    # --- fields -------------------------------------------------------------------------
    def spec(self):
        """The :class:`ModelSpec` of the chosen architecture."""
        return self.registry.get(self.architecture.currentData())

    def _on_architecture(self) -> None:
        if self.registry is None:
            return
        if self.architecture.count() == 0:
            self.description.setText("No model plugins are installed.")
            return
        spec = self.spec()
        self.description.setText(f"{spec.description} — {spec.framework}, input {spec.input_kind.value}")
        self.hyper_form.set_spec(spec)

    def _sync_amount(self) -> None:
        disjoint = self.split_method.currentData() in ("disjoint", "regions")
        if disjoint:  # a disjoint split takes whole blocks: only a share makes sense
            _select(self.amount_kind, "fraction")
        self.amount_kind.setEnabled(not disjoint)
        per_class = self.amount_kind.currentData() == "per_class"
        self._run_form.setRowVisible(self.train_fraction, not per_class)
        self._run_form.setRowVisible(self.train_per_class, per_class)

    def learning_rate(self) -> float:
        """The learning rate typed in.

        Raises
        ------
        TrainingError
            When the field does not hold a positive number.
        """
        text = self.lr.text().strip()
        try:
            value = float(text)
        except ValueError:
            raise TrainingError(f"the learning rate must be a positive number, got '{text}'") from None
        if not (math.isfinite(value) and value > 0):
            raise TrainingError(f"the learning rate must be a positive number, got '{text}'")
        return value

    def config(self) -> TrainConfig:
        """The :class:`TrainConfig` of the fields (``TrainingError`` for an invalid learning rate).

        Call it once the engine is loaded (:attr:`ready`): it imports the training module.
        """
        from hsiviewer.engine.training import TrainConfig

        per_class = self.amount_kind.currentData() == "per_class" and self.split_method.currentData() == "random"
        return TrainConfig(
            model=self.architecture.currentData(),
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.learning_rate(),
            train_fraction=self.train_fraction.value(),
            train_per_class=self.train_per_class.value() if per_class else None,
            split=self.split_method.currentData(),
            val_fraction=self.val_fraction.value(),
            seed=self.seed.value(),
            device=self.device.currentData(),
            hyper=self.hyper_form.values(),
            lr_schedule=self.lr_schedule.currentData(),
        )

    def settings(self) -> dict:
        """The fields as plain values (what is remembered between runs)."""
        return {
            "model": self.architecture.currentData(),
            "hyper": self.hyper_form.values(),
            "split": self.split_method.currentData(),
            "amount": self.amount_kind.currentData(),
            "label_source": self.label_source.currentData(),
            "train_fraction": self.train_fraction.value(),
            "train_per_class": self.train_per_class.value(),
            "val_fraction": self.val_fraction.value(),
            "seed": self.seed.value(),
            "epochs": self.epochs.value(),
            "batch_size": self.batch_size.value(),
            "lr": self.lr.text(),
            "lr_schedule": self.lr_schedule.currentData(),
            "device": self.device.currentData(),
        }

    def apply_settings(self, settings: dict) -> None:
        """Fill the fields from :meth:`settings` output; unknown or unfit entries are skipped."""
        if self.registry is not None and settings.get("model") in self.registry.names():
            _select(self.architecture, settings["model"])
            self.hyper_form.set_spec(self.spec(), settings.get("hyper") or {})
        _select(self.split_method, settings.get("split"))
        _select(self.label_source, settings.get("label_source"))
        _select(self.amount_kind, settings.get("amount"))
        _select(self.device, settings.get("device"))
        _select(self.lr_schedule, settings.get("lr_schedule"))
        for name in ("train_fraction", "train_per_class", "val_fraction", "seed", "epochs", "batch_size"):
            value = settings.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                widget = getattr(self, name)
                widget.setValue(value if isinstance(widget, QDoubleSpinBox) else int(value))
        if (
            isinstance(settings.get("lr"), str)
            and self.lr.validator().validate(settings["lr"], 0)[0] == QDoubleValidator.State.Acceptable
        ):
            self.lr.setText(settings["lr"])
        self._sync_amount()

    # --- run state ----------------------------------------------------------------------
    def set_busy(self, job_name: str, has_model: Optional[bool] = None) -> None:
        """Lock the settings and the Train / Predict buttons while ``job_name`` runs ("" = idle)."""
        if self.registry is None:  # still loading: stays locked (set_engine unlocks)
            return
        busy = bool(job_name)
        self._lock(busy, f"{job_name} is running; wait for it to end or cancel it" if busy else "")
        if not busy:
            self._sync_amount()
        if has_model is not None or busy:
            self.predict_button.setEnabled(not busy and bool(has_model))
        self.cancel_button.setEnabled(busy)
        if busy:
            self.status.setText(f"{job_name}… (one job at a time: Train and Predict are locked until it ends)")

    def _lock(self, locked: bool, why: str) -> None:
        for widget in (
            self.train_button,
            self.architecture,
            self.hyper_form,
            self.split_method,
            self.label_source,
            self.amount_kind,
            self.train_fraction,
            self.train_per_class,
            self.val_fraction,
            self.seed,
            self.epochs,
            self.batch_size,
            self.lr,
            self.lr_schedule,
            self.device,
        ):
            widget.setEnabled(not locked)
        if self.registry is None:
            self.predict_button.setEnabled(False)
            self.cancel_button.setEnabled(False)
        self.train_button.setToolTip(why)

    def start_run(self, config: TrainConfig) -> None:
        """Clear the curves and progress for a new training run."""
        self.curves.clear_curves(config.epochs)
        self.progress.setValue(0)
        self.progress_text.clear()
        self.log_line(
            f"— training {config.model}: {config.epochs} epochs, batch {config.batch_size}, "
            f"lr {config.lr:g} ({config.lr_schedule}), {config.split} split, seed {config.seed}, device {config.device}"
        )

    def log_line(self, text: str) -> None:
        """Append a line to the log."""
        self.log.appendPlainText(text)

    def show_progress(self, event: ProgressEvent) -> None:
        """Move the progress bar, show the ETA, and for an epoch add its points and a log line."""
        self.progress.setValue(int(round(event.fraction * PROGRESS_STEPS)))
        eta = f" · ETA {format_eta(event.eta_s)}" if event.eta_s is not None else ""
        if event.stage == "batch":
            text = event.message
        elif event.stage == "epoch":
            text = f"epoch {event.done}/{event.total} done"
            self.curves.add_epoch(event.metrics)
            self.log_line(event.message)
        elif event.stage == "evaluate":
            text = "testing"
        else:
            text = f"{event.stage}: {event.message}"
        self.progress_text.setText(text + eta)

    def finish(self, text: str) -> None:
        """Show ``text`` as the outcome of the job that ended."""
        self.status.setText(text)
