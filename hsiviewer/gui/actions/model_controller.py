"""Runs the training panel's work: training and prediction jobs, model files, exports, layers.

The controller owns a :class:`~hsiviewer.viewer.session.ModelSession` and connects it to the main
window through the window's public API only (class layers, docks, the pixel inspector, error
dialogs). One job runs at a time; while it runs, Train and Predict are locked and say why.

The learning engine (torch, scikit-learn, the plugins) is not imported with this module: it loads in
one background thread (:mod:`hsiviewer.engine.preload`) when the training panel is first shown or a
model action is used. Meanwhile the panel says "Loading PyTorch…" and an action asked for waits for the
load and then runs; the engine modules are imported here only after the load, where importing them is
a look-up in ``sys.modules``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog

from hsiviewer.engine.preload import Engine, after_engine, engine_future, start_engine_load
from hsiviewer.errors import ExportError
from hsiviewer.gui.actions import prediction_layers as layers
from hsiviewer.gui.threads import qt_gc
from hsiviewer.gui.threads.qt_workers import QtJob
from hsiviewer.gui.widgets.results_panel import ResultsPanel
from hsiviewer.gui.widgets.training_panel import TrainingPanel
from hsiviewer.viewer.session import ModelSession

if TYPE_CHECKING:
    from hsiviewer.engine.bundle import TrainedModel
    from hsiviewer.engine.jobs import TrainingOutcome

#: How often the GUI thread looks whether the background load is done (a look at a Future, no waiting).
ENGINE_POLL_MS = 100

MODEL_FILTER = "hsiviewer model (*.pt);;All files (*)"
TIFF_FILTER = "GeoTIFF (*.tif *.tiff)"


def _with_suffix(path: str, suffix: str) -> Path:
    path = Path(path)
    return path if path.suffix else path.with_suffix(suffix)


class ModelController(QObject):
    """Glue between the training and results panels, the session, the jobs and the main window.

    Parameters
    ----------
    window : MainWindow
        Provides ``scene``, ``scene_changed``, ``add_class_layer``, ``layers``, ``set_inspector_extra``,
        ``error_dialog`` and ``statusBar()``.
    registry : Registry or None
        None: the default registry, which the engine load brings.
    store : SettingsStore

    Signals
    -------
    engine_loaded()
        The engine is there (:attr:`engine`); the panel is filled and unlocked.
    """

    engine_loaded = Signal()

    def __init__(self, window, registry, store) -> None:
        super().__init__(window)
        self.window, self.registry, self.store = window, registry, store
        self.engine: Optional[Engine] = None
        self.engine_error: Optional[str] = None
        self._pending: list[Callable[[], object]] = []
        self._engine_timer = QTimer(self)
        self._engine_timer.setInterval(ENGINE_POLL_MS)
        self._engine_timer.timeout.connect(self._poll_engine)
        self.session = ModelSession()
        self.panel = TrainingPanel()
        self.results = ResultsPanel()
        self.job: Optional[QtJob] = None
        self._job_scene = None
        self.panel.train_requested.connect(self.train)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.predict_requested.connect(self.predict)
        self.results.cell_selected.connect(self.highlight_cell)
        self.session.busy_changed.connect(self._on_busy)
        self.session.model_changed.connect(self._show_results)
        self.session.evaluation_changed.connect(self._show_results)
        self.session.set_scene(window.scene)
        window.set_inspector_extra(self.session.describe_pixel)
        future = engine_future()
        if future is not None and future.done():  # loaded for an earlier window: fill the panel at once
            self._poll_engine()

    # --- the engine ---------------------------------------------------------------------
    @property
    def engine_ready(self) -> bool:
        """True once the engine is loaded and the panel filled."""
        return self.engine is not None

    def load_engine(self, delay_ms: int = 0) -> None:
        """Start loading the engine in the background (once per process); the panel fills when it is done.

        Parameters
        ----------
        delay_ms : int
            Start the load this much later (the panel says "Loading PyTorch…" at once): lets a panel that
            has just appeared paint before the load competes with it for the interpreter lock.
        """
        if self.engine is not None or self.engine_error is not None or self._engine_timer.isActive():
            return
        self.panel.show_loading()
        self._message("Loading PyTorch and the model plugins…", 0)
        if delay_ms > 0:
            QTimer.singleShot(delay_ms, self, self.load_engine)
            return
        # No garbage collection on the loading thread (it would destroy GUI-thread Qt objects there): the
        # GUI thread collects until the load is done; the load itself pauses the collector while importing.
        qt_gc.collect_on_gui_thread_while(lambda: engine_future() is None or not engine_future().done())
        start_engine_load()
        self._engine_timer.start()

    def _poll_engine(self) -> None:
        future = engine_future()
        if future is None or not future.done():
            return
        self._engine_timer.stop()
        error = future.exception()
        if error is not None:
            self._engine_failed(f"{type(error).__name__}: {error}")
        else:
            self._engine_loaded(future.result())

    def _engine_loaded(self, engine: Engine) -> None:
        self.engine = engine
        if self.registry is None:
            self.registry = engine.registry
        self.panel.set_engine(self.registry, list(engine.devices))
        self.panel.apply_settings(self.store.training_settings())
        self.panel.set_busy(self.session.busy, has_model=self.session.model is not None)
        for error in getattr(self.registry, "errors", []):
            self.panel.log_line(f"plugin {error.source} was skipped: {error.message}")
        self._message(f"PyTorch and {len(self.registry)} model plugins loaded ({engine.seconds:.1f} s)")
        self.engine_loaded.emit()
        pending, self._pending = self._pending, []
        for action in pending:
            action()

    def _engine_failed(self, message: str) -> None:
        self.engine_error = message
        self.panel.show_engine_error(message)
        self._message(f"Training is unavailable: {message}")
        if self._pending:
            self._pending = []
            self._error("Cannot load the learning engine", f"PyTorch or a model plugin could not be loaded:\n{message}")

    def _with_engine(self, what: str, action: Callable[[], object]) -> bool:
        """True when the engine is loaded; else start the load, say so, run ``action`` once it is done, and
        return False (the caller returns: it will be called again)."""
        if self.engine is not None:
            return True
        if self.engine_error is not None:
            self._error(f"Cannot {what}", f"The learning engine could not be loaded: {self.engine_error}")
            return False
        self._pending.append(action)
        self.load_engine()
        text = f"Loading PyTorch… ({what} starts when it is ready)"
        self.panel.status.setText(text)
        self._message(text, 0)
        return False

    # --- helpers ------------------------------------------------------------------------
    def _error(self, title: str, message: str) -> None:
        self.window.error_dialog(title, message)

    def _message(self, text: str, msecs: int = 8000) -> None:
        self.window.statusBar().showMessage(text, msecs)

    def _guard(self, what: str, func: Callable, *args):
        """Run ``func`` and return its result, or show "Cannot <what>" and return None."""
        return self.window.run_guarded(what, func, *args)

    def _refuse_if_busy(self) -> bool:
        if not self.session.busy:
            return False
        text = f"{self.session.busy} is still running: wait for it to end or press Cancel."
        self.panel.finish(text)
        self._message(text)
        return True

    def _needs(self, what: str, model: bool = True) -> bool:
        """Show a dialog and return False when no scene (or no model) is there for ``what``."""
        if self.window.scene is None:
            self._error(f"Cannot {what}", "Open a scene first (File ▸ Open scene…).")
            return False
        if model and self.session.model is None:
            self._error(f"Cannot {what}", "There is no model: train one or open a model file (Model ▸ Open model…).")
            return False
        return True

    # --- jobs ---------------------------------------------------------------------------
    def _start(self, job: QtJob, on_finished: Callable) -> None:
        self.job = job
        self._job_scene = self.window.scene
        job.progress.connect(self.panel.show_progress)
        job.finished.connect(on_finished)
        job.failed.connect(lambda message, trace: self._on_failed(job.name, message, trace))
        job.ended.connect(self._on_ended)
        self.session.set_busy(job.name)
        job.start()

    def _on_failed(self, name: str, message: str, trace: str) -> None:
        self.panel.finish(f"{name} failed: {message}")
        tail = "\n".join(trace.strip().splitlines()[-6:])
        self._error(f"{name} failed", message + (f"\n\n{tail}" if tail else ""))

    def _on_ended(self) -> None:
        self.job = None
        self.session.set_busy("")

    def _on_busy(self, name: str) -> None:
        self.panel.set_busy(name, has_model=self.session.model is not None)

    def cancel(self) -> None:
        """Ask the running job to stop at its next batch or tile."""
        if self.job is not None:
            self.job.cancel()
            self.panel.finish(f"Cancelling {self.job.name.lower()}…")

    def shutdown(self, msecs: int = 30000) -> None:
        """Abort the running job (no evaluation after training) and wait for its thread (window closing)."""
        self._engine_timer.stop()
        self._pending = []
        if self.job is not None:
            self.job.token.abort()
            self.job.wait(msecs)

    # --- training -----------------------------------------------------------------------
    def train(self) -> None:
        """Train the panel's architecture on the current scene's ground truth, in a worker."""
        if not self._with_engine("training", self.train):
            return
        if self._refuse_if_busy() or not self._needs("train", model=False):
            return
        from hsiviewer.engine.jobs import train_and_evaluate

        config = self._guard("start training", self.panel.config)
        if config is None:
            return
        regions = self._training_regions(config)
        if regions is False:
            return
        self.store.save_training_settings(self.panel.settings())
        self.panel.start_run(config)
        mask = getattr(self.window, "analysis_mask", None)  # Tools ▸ Mask… (None: every pixel)
        job = QtJob(
            after_engine(
                partial(train_and_evaluate, self.window.scene, config, self.registry, regions=regions, mask=mask)
            ),
            f"Training {config.model}",
            parent=self,
        )
        self._start(job, self._on_trained)

    def _training_regions(self, config):
        """The drawn regions when the panel's label source is regions (a copy); None for ground truth.

        False (after a dialog) when the settings cannot work: no regions drawn, or the regions split
        asked for with the ground truth.
        """
        tools = getattr(self.window, "region_tools", None)
        if self.panel.label_source.currentData() != "regions":
            if config.split == "regions":
                self._error(
                    "Cannot start training", "The whole-regions split needs drawn regions: set Labels to Drawn regions."
                )
                return False
            return None
        if tools is None or not len(tools.regions):
            self._error(
                "Cannot start training",
                "There are no drawn regions: draw some with the Regions tool "
                "bar or open a regions file (File ▸ Open regions…).",
            )
            return False
        return tools.snapshot()

    def _on_trained(self, outcome: Optional[TrainingOutcome]) -> None:
        if outcome is None:
            self.panel.finish("Training was cancelled before a model existed.")
            return
        model = outcome.model
        self.session.set_model(model)
        if self.window.scene is self._job_scene:
            self.session.set_evaluation(outcome.evaluation)
            self._add_split_layer(model)
        m = model.metrics
        done = "Cancelled; kept the best model so far" if m.get("cancelled") else "Trained"
        text = (
            f"{done}: {model.spec_name}, OA {100 * m.get('oa', 0):.2f} %, AA {100 * m.get('aa', 0):.2f} %, "
            f"kappa {m.get('kappa', 0):.4f} on {m.get('n_test', '?')} test pixels"
        )
        self.panel.finish(text)
        self.panel.log_line(text)
        self._message(text)

    def _add_split_layer(self, model: TrainedModel) -> None:
        scene = self.window.scene
        if model.split is not None and scene.labels is not None and model.split.fits(scene.labels):
            layer = self.window.add_class_layer(
                layers.split_layer_name(model.spec_name),
                model.split.role_map((scene.n_rows, scene.n_cols)),
                layers.SPLIT_CLASSES,
            )
            layer.set_visible(False)  # the prediction is what the user looks at first; the split is one click away

    def _show_results(self, _changed=None) -> None:
        model, evaluation = self.session.model, self.session.evaluation
        if model is None:
            self.results.clear()
        elif evaluation is not None:
            self.results.show_results(evaluation.report, model, clickable=True)
        elif "confusion" in model.metrics:
            self.results.show_results(model.metrics, model, clickable=False)

    def highlight_cell(self, true_id: int, predicted_id: int) -> Optional[np.ndarray]:
        """Show the test pixels of class ``true_id`` predicted as ``predicted_id`` as a layer on top."""
        evaluation, model = self.session.evaluation, self.session.model
        if evaluation is None or model is None or self.window.scene is None:
            return None
        mask = evaluation.pixel_mask(true_id, predicted_id)
        old = self.window.layers.get(layers.HIGHLIGHT_LAYER)
        if old is not None:  # re-added so that it is drawn above the prediction
            self.window.layers.remove(old)
        names = model.classes.name(true_id), model.classes.name(predicted_id)
        layer = self.window.add_class_layer(
            layers.HIGHLIGHT_LAYER, mask.astype(np.uint8), layers.highlight_classes(*names)
        )
        layer.set_opacity(1.0)
        self._message(f"{int(mask.sum())} test pixels of {names[0]} predicted as {names[1]}")
        return mask

    # --- prediction ---------------------------------------------------------------------
    def predict(self) -> None:
        """Classify the whole current scene with the current model, in a worker."""
        if not self._with_engine("prediction", self.predict):
            return
        if self._refuse_if_busy() or not self._needs("predict"):
            return
        from hsiviewer.engine.bundle import check_scene
        from hsiviewer.engine.inference import predict_scene

        model, scene = self.session.model, self.window.scene
        if self._guard("apply the model to this scene", lambda: check_scene(model, scene) or True) is None:
            return
        device = self.panel.device.currentData() if model.framework == "torch" else "cpu"
        mask = getattr(self.window, "analysis_mask", None)  # pixels outside get class 0
        job = QtJob(
            after_engine(partial(predict_scene, model, scene, device=device, mask=mask)),
            f"Predicting with {model.spec_name}",
            parent=self,
        )
        job.progress.connect(partial(self._show_finished_rows, model, scene))
        self._start(job, partial(self._on_predicted, model, scene))

    def _show_finished_rows(self, model: TrainedModel, scene, event) -> None:
        """Fill the prediction layer with the rows finished so far, while the prediction runs."""
        rows = event.metrics.get("finished") if event.stage == "predict" else None
        if rows is None or scene is not self.window.scene:
            return
        partial_map = np.zeros(scene.shape[:2], rows.class_map.dtype)
        partial_map[: rows.stop] = rows.class_map  # rows already finished never change again
        self.window.add_class_layer(layers.prediction_layer_name(model.spec_name), partial_map, model.classes)

    def _on_predicted(self, model: TrainedModel, scene, prediction) -> None:
        if prediction is None or scene is not self.window.scene or model is not self.session.model:
            self.panel.finish("The prediction was discarded: the scene or the model changed meanwhile.")
            return
        self.session.set_prediction(prediction)
        name = model.spec_name
        self.window.add_class_layer(layers.prediction_layer_name(name), prediction.class_map, model.classes)
        if prediction.confidence is not None:
            conf = self.window.add_class_layer(
                layers.confidence_layer_name(name),
                layers.confidence_bins(prediction.confidence),
                layers.confidence_classes(),
            )
            conf.set_visible(False)
        if self.session.evaluation is None:
            from hsiviewer.processing.evaluation import evaluate_test_pixels

            self.session.set_evaluation(
                evaluate_test_pixels(model.split, scene.labels, prediction.class_map, model.classes)
            )
        pixels = scene.n_rows * scene.n_cols
        text = (
            f"Prediction cancelled: the rows finished so far are shown ({int(prediction.completed.sum())} of "
            f"{pixels} pixels)"
            if prediction.cancelled
            else f"Predicted {pixels} pixels in {prediction.seconds:.1f} s ({prediction.method}, {prediction.device})"
        )
        self.panel.finish(text)
        self.panel.log_line(text)
        self._message(text)

    # --- model files --------------------------------------------------------------------
    def save_model(self, path: str | Path | None = None) -> Optional[Path]:
        """Write the current model to ``path`` (asked for when None)."""
        if not self._needs("save the model"):
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self.window, "Save model", f"{self.session.model.spec_name}.pt", MODEL_FILTER
            )
            if not chosen:
                return None
            path = _with_suffix(chosen, ".pt")
        from hsiviewer.engine.bundle import save_model

        path, model = Path(path), self.session.model
        if self._guard("save the model", lambda: save_model(model, path) or path) is None:
            return None
        self.store.add_recent_file(path, "models")
        self._message(f"Model saved to {path}")
        return path

    def open_model(self, path: str | Path | None = None) -> Optional[TrainedModel]:
        """Read a model file (asked for when None) and make it the current model.

        Before the engine is loaded the file is read once it is (and None is returned now).
        """
        if self._refuse_if_busy():
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open model", "", MODEL_FILTER)
            if not path:
                return None
        if not self._with_engine("opening the model", partial(self.open_model, path)):
            return None
        from hsiviewer.engine.bundle import load_model

        model = self._guard("open the model", load_model, path, self.registry)
        if model is None:
            return None
        self.session.set_model(model)
        self.panel.curves.show_history(model.history)
        self.panel.set_busy("", has_model=True)
        self.store.add_recent_file(path, "models")
        scene = self.window.scene
        fits = scene is None or scene.n_bands == model.n_bands
        self.panel.finish(
            f"Opened {Path(path).name}: {model.spec_name}, {model.n_bands} bands, "
            f"{len(model.class_ids)} classes"
            + ("" if fits else f" — the current scene has {scene.n_bands} bands, so it cannot be applied to it")
        )
        return model

    # --- exports ------------------------------------------------------------------------
    def _prediction_for_export(self):
        pred = self.session.prediction
        if pred is None:
            raise ExportError("there is no prediction to export: press Predict first")
        if pred.cancelled:
            raise ExportError("the prediction was cancelled and is incomplete: predict again before exporting")
        return pred

    def export_prediction(self, path: str | Path | None = None) -> Optional[Path]:
        """Write the predicted class map as a GeoTIFF (as ``hsiviewer predict --out`` does)."""
        return self._guard("export the predicted map", self._export, path, "class map")

    def export_confidence(self, path: str | Path | None = None) -> Optional[Path]:
        """Write the confidence map as a float32 GeoTIFF (as ``hsiviewer predict --confidence`` does)."""
        return self._guard("export the confidence map", self._export, path, "confidence")

    def _export(self, path, what: str) -> Optional[Path]:
        pred = self._prediction_for_export()
        model, scene = self.session.model, self.window.scene
        if what == "confidence" and pred.confidence is None:
            raise ExportError("this prediction has no confidence map")
        if path is None:
            kind = "confidence" if what == "confidence" else "classes"
            suggested = f"{Path(scene.name).stem}_{model.spec_name}_{kind}.tif"
            chosen, _ = QFileDialog.getSaveFileName(self.window, f"Export {what}", suggested, TIFF_FILTER)
            if not chosen:
                return None
            path = _with_suffix(chosen, ".tif")
        from hsiviewer.io.export import write_class_map, write_confidence_map  # rasterio: on first export

        if what == "confidence":
            written = write_confidence_map(path, pred.confidence, like=scene)
        else:
            written = write_class_map(path, pred.class_map, model.classes, like=scene)
        self._message(f"Wrote the {what} to {written}")
        return written
