"""The training engine: split, preprocess, fit, evaluate on the test pixels, and package the model.

:func:`train_model` is the one entry point (CLI, GUI worker, notebook). The torch loop itself is in
:mod:`hsiviewer.engine.fit`. Every random choice follows ``config.seed`` (split, PCA pixel sample,
weight initialisation, shuffling), so on the CPU the same seed gives the same model and metrics.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch

from hsiviewer.data.classes import ClassTable
from hsiviewer.data.validity import finite_pixels, valid_pixels
from hsiviewer.engine.batches import PatchDataset
from hsiviewer.engine.bundle import TrainedModel, build_net, check_scene, sklearn_params
from hsiviewer.engine.device import resolve_device
from hsiviewer.engine.fit import fit_torch
from hsiviewer.engine.inference import dense_available
from hsiviewer.engine.streaming import BlockPredictor
from hsiviewer.errors import Cancelled, PluginError, TrainingError
from hsiviewer.models.discovery import default_registry
from hsiviewer.processing.evaluation import evaluate_test_pixels
from hsiviewer.processing.preprocess import Preprocessor
from hsiviewer.processing.scene_sample import fit_on_scene, transform_scene_padded
from hsiviewer.processing.splits import Split, disjoint_split, leakage, random_split, region_split
from hsiviewer.progress import CancelToken, EtaClock, ProgressCallback, ProgressEvent, report
from hsiviewer.regions.rasterize import label_scene


@dataclass
class TrainConfig:
    """How to train.

    Attributes
    ----------
    model : str
        Registry name of the architecture.
    epochs, batch_size, lr
        Adam with learning rate ``lr`` on shuffled mini-batches.
    train_fraction : float
        Share of each class's labelled pixels used for training.
    train_per_class : int, optional
        Training pixels per class instead (random split only).
    split : str
        ``"random"`` (stratified pixels), ``"disjoint"`` (spatial blocks with a guard band) or
        ``"regions"`` (whole training regions with a guard band; needs ``regions=`` in :func:`train_model`).
    val_fraction : float
        Share of the training pixels held out for validation; with it, the weights of the epoch with
        the best validation accuracy are kept, without it those of the last epoch.
    seed : int
    device : str
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    hyper : dict
        Overrides of the architecture's default hyperparameters (``patch_size``, ``pca_components``, ...).
    pca_fit : str
        Fit the preprocessing on the whole scene's valid pixels (``"scene"``) or the training pixels.
    amp : bool
        Mixed precision on CUDA (bfloat16 where supported, else float16 with gradient scaling).
    lr_schedule : str
        ``"cosine"`` (the rate decays from ``lr`` to 0 over the epochs; the default, 98.98 % OA against
        98.35 % on Indian Pines, see bench/README.md) or ``"constant"`` (the HybridSN study's).
    """

    model: str
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    train_fraction: float = 0.1
    train_per_class: Optional[int] = None
    split: str = "random"
    val_fraction: float = 0.0
    seed: int = 0
    device: str = "auto"
    hyper: dict = field(default_factory=dict)
    pca_fit: str = "scene"
    amp: bool = True
    lr_schedule: str = "cosine"

    def to_dict(self) -> dict:
        """Plain values, as saved in the model file."""
        return dataclasses.asdict(self)


@dataclass
class PreparedData:
    """A scene made ready for training: split, preprocessed, padded, with targets."""

    split: Split
    preprocessor: Preprocessor
    cube: np.ndarray  # (rows, cols, k) float32, nodata pixels 0
    padded: np.ndarray  # the cube zero-padded by patch_size // 2
    class_ids: np.ndarray  # output index -> label id
    labels: np.ndarray  # (rows, cols), 0 also where a pixel holds NaN or inf
    patch_size: int
    nonfinite: dict = field(default_factory=lambda: {"pixels": 0, "labelled": 0})

    def dataset(self, pixels: np.ndarray) -> PatchDataset:
        """The patches centred on flat pixel indices ``pixels``, with their target indices."""
        rows, cols = np.divmod(np.asarray(pixels, np.int64), self.labels.shape[1])
        return PatchDataset(self.padded, rows, cols, self.targets(pixels), self.patch_size)

    def targets(self, pixels: np.ndarray) -> np.ndarray:
        """Output indices of the labels at ``pixels`` (-1 for a class the model has no output for)."""
        lut = np.full(int(self.labels.max()) + 1, -1, np.int64)
        lut[self.class_ids] = np.arange(len(self.class_ids))
        return lut[self.labels.ravel()[pixels]]

    def spectra(self, pixels: np.ndarray) -> np.ndarray:
        """The preprocessed spectra (N, k) of flat pixel indices ``pixels``."""
        # Indexed by (row, col): ``cube`` is a view into the padded cube, and reshaping it would copy it.
        rows, cols = np.divmod(np.asarray(pixels, np.int64), self.labels.shape[1])
        return np.asarray(self.cube[rows, cols])


def train_model(
    scene,
    config: TrainConfig,
    registry=None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    regions=None,
    mask: Optional[np.ndarray] = None,
) -> TrainedModel:
    """Train ``config.model`` on the labelled pixels of ``scene`` and evaluate it on the test pixels.

    Parameters
    ----------
    scene : Scene
        With ``labels`` (0 = unlabelled).
    config : TrainConfig
    registry : Registry, optional
        Default :func:`hsiviewer.models.plugins.default_registry`.
    progress : callable, optional
        Receives ProgressEvents: stage ``"batch"`` every batch (metrics epoch, batch, loss), ``"epoch"``
        every epoch (epoch, loss, train_acc, val_acc, seconds), ``"evaluate"`` while testing.
    cancel : CancelToken, optional
        Checked before every batch. Training then stops with the weights of the last finished epoch
        (the best one by validation accuracy when there is validation; the current weights before
        the first epoch ends), is still evaluated, and ``metrics["cancelled"]`` is True.
    regions : RegionSet or RegionFile, optional
        Training regions (:mod:`hsiviewer.regions`): their rasterised classes replace the scene's
        labels, and ``config.split = "regions"`` keeps each region whole on one side.
    mask : ndarray (rows, cols) of bool, optional
        Only labelled pixels inside the mask are split into training, validation and test pixels;
        those outside are treated as unlabelled, and the preprocessing is fitted on the pixels inside
        (see :mod:`hsiviewer.spectral.mask`).

    Returns
    -------
    TrainedModel
        ``metrics`` holds the test report (:func:`hsiviewer.processing.metrics.classification_report`) plus
        ``leakage``, ``n_train``, ``n_val``, ``n_test``, ``cancelled``, ``device``, ``train_seconds``.

    Raises
    ------
    TrainingError
        No labels, too few classes or pixels, bad settings or hyperparameters.
    """
    start = time.perf_counter()
    spec, hyper = _resolve_spec(config, registry)
    region_ids = None
    if regions is not None:
        scene, raster = label_scene(scene, regions)
        region_ids = raster.region_ids
    _check_config(config, scene, region_ids is not None)
    device = resolve_device(config.device) if spec.framework == "torch" else torch.device("cpu")
    data = prepare_data(scene, config, hyper, region_ids, mask)
    net, history, cancelled, fit_data, extra = _fit(spec, hyper, config, data, device, progress, cancel)
    if spec.framework == "torch":
        net = net.to("cpu").eval()  # a model handed out (and saved) lives on the CPU
    classes = scene.classes or ClassTable.from_labels(data.labels)
    model = TrainedModel(
        spec_name=spec.name,
        plugin_version=spec.version,
        framework=spec.framework,
        input_kind=getattr(spec.input_kind, "value", str(spec.input_kind)),
        hyper=hyper,
        preprocessor=data.preprocessor,
        net=net,
        class_ids=[int(i) for i in data.class_ids],
        classes=classes,
        n_bands=int(scene.n_bands),
        wavelengths=None if scene.wavelengths is None else [float(w) for w in scene.wavelengths],
        split=data.split,
        seed=int(config.seed),
        history=history,
        train_config=config.to_dict(),
        fit_data=fit_data,
        dense=bool(spec.dense),
    )
    model.test_predictions = predict_test_pixels(
        model, scene, str(device), progress, cancel.abort_view() if cancel is not None else None
    )
    evaluation = evaluate_test_pixels(data.split, data.labels, model.test_predictions, classes)
    model.metrics = evaluation.report if evaluation is not None else {}
    model.metrics.update(
        extra,
        leakage=leakage(data.split, data.labels.shape, data.patch_size),
        n_train=int(len(data.split.train)),
        n_val=int(len(data.split.val)),
        n_test=int(len(data.split.test)),
        cancelled=bool(cancelled),
        device=str(device),
        nonfinite_pixels=data.nonfinite["pixels"],
        nonfinite_labelled=data.nonfinite["labelled"],
        train_seconds=round(time.perf_counter() - start, 3),
    )
    if data.split.method == "regions":
        model.metrics["regions"] = {k: data.split.params[k] for k in ("per_class", "guard_dropped", "untested_classes")}
    return model


def _resolve_spec(config: TrainConfig, registry):
    registry = registry if registry is not None else default_registry()
    spec = registry.get(config.model)
    try:
        hyper = spec.resolve(config.hyper or {})
    except PluginError as exc:
        raise TrainingError(exc.problem) from exc
    if hyper["patch_size"] % 2 == 0:
        raise TrainingError(f"patch_size must be odd so that a patch has a centre pixel, got {hyper['patch_size']}")
    return spec, hyper


def check_config(config: TrainConfig) -> None:
    """Refuse settings that cannot work, before any data are read.

    Raises
    ------
    TrainingError
        Naming the setting and the value.
    """

    def finite(value) -> bool:
        return isinstance(value, (int, float, np.integer, np.floating)) and bool(np.isfinite(value))

    def whole(value) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    if not (whole(config.epochs) and config.epochs >= 1):
        raise TrainingError(f"epochs must be a whole number of at least 1, got {config.epochs!r}")
    if not (whole(config.batch_size) and config.batch_size >= 1):
        raise TrainingError(f"batch size must be a whole number of at least 1, got {config.batch_size!r}")
    if not (finite(config.lr) and config.lr > 0):
        raise TrainingError(f"the learning rate must be a positive number, got {config.lr!r}")
    if not (finite(config.train_fraction) and 0 < config.train_fraction < 1):
        raise TrainingError(f"the training fraction must lie between 0 and 1, got {config.train_fraction!r}")
    if config.train_per_class is not None and not (whole(config.train_per_class) and config.train_per_class >= 1):
        raise TrainingError(f"training pixels per class must be at least 1, got {config.train_per_class!r}")
    if not (finite(config.val_fraction) and 0 <= config.val_fraction < 1):
        raise TrainingError(f"the validation fraction must lie in [0, 1), got {config.val_fraction!r}")
    if not (whole(config.seed) and 0 <= config.seed < 2**32):
        raise TrainingError(f"the seed must be a whole number from 0 to 2**32 - 1, got {config.seed!r}")
    if config.split not in ("random", "disjoint", "regions"):
        raise TrainingError(f"unknown split '{config.split}' (use random, disjoint or regions)")
    if config.split in ("disjoint", "regions") and config.train_per_class is not None:
        raise TrainingError(f"a {config.split} split takes a training fraction, not a count per class")
    if config.lr_schedule not in ("constant", "cosine"):
        raise TrainingError(f"unknown learning-rate schedule '{config.lr_schedule}' (use constant or cosine)")
    if config.pca_fit not in ("scene", "train"):
        raise TrainingError(f"pca_fit must be 'scene' or 'train', got '{config.pca_fit}'")


#: The largest class id a class map holds (uint16 GeoTIFF, hsiviewer.io.export).
MAX_CLASS_ID = 65535


def check_labels(labels: np.ndarray, path=None) -> None:
    """Refuse ground truth that training could only fail on after the work: no labels, ids out of range.

    Raises
    ------
    TrainingError
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        raise TrainingError("the ground truth is empty", path)
    low, high = int(labels.min()), int(labels.max())
    if low < 0:
        raise TrainingError(f"the ground truth holds negative class ids (minimum {low})", path)
    if high > MAX_CLASS_ID:
        raise TrainingError(
            f"the ground truth holds class id {high}; a class map holds ids up to "
            f"{MAX_CLASS_ID}, so renumber the classes",
            path,
        )
    if high == 0:
        raise TrainingError("the ground truth has no labelled pixels (every value is 0)", path)


def _check_config(config: TrainConfig, scene, has_regions: bool = False) -> None:
    if scene.labels is None:
        raise TrainingError("has no ground truth to train on; give a label raster", scene.path)
    if config.split == "regions" and not has_regions:
        raise TrainingError(
            "the regions split needs training regions (a regions file, or regions drawn in the app)", scene.path
        )
    check_config(config)
    check_labels(scene.labels, scene.path)


def make_split(
    labels: np.ndarray, config: TrainConfig, patch_size: int, region_ids: Optional[np.ndarray] = None
) -> Split:
    """The split ``config`` asks for (``TrainingError`` for impossible settings)."""
    try:
        if config.split == "regions":
            if region_ids is None:
                raise ValueError("the regions split needs training regions (region ids), and none were given")
            return region_split(
                labels,
                region_ids,
                config.train_fraction,
                patch_size=patch_size,
                val_fraction=config.val_fraction,
                seed=config.seed,
            )
        if config.split == "disjoint":
            return disjoint_split(
                labels, config.train_fraction, patch_size=patch_size, val_fraction=config.val_fraction, seed=config.seed
            )
        return random_split(
            labels,
            config.train_fraction,
            per_class=config.train_per_class,
            val_fraction=config.val_fraction,
            seed=config.seed,
        )
    except ValueError as exc:
        raise TrainingError(f"cannot split the labelled pixels: {exc}") from exc


def prepare_data(
    scene, config: TrainConfig, hyper: dict, region_ids: Optional[np.ndarray] = None, mask: Optional[np.ndarray] = None
) -> PreparedData:
    """Split the labels, fit the preprocessing and pad the preprocessed cube.

    With ``mask`` only the labelled pixels inside it are split, and the preprocessing is fitted on the
    pixels inside it. Pixels with a NaN or infinite band are nodata (:mod:`hsiviewer.data.validity`): they are left out
    of the split, of the preprocessing fit and of the patches (set to 0 like the padding), and
    counted in :attr:`PreparedData.nonfinite`.
    """
    labels = np.asarray(scene.labels)
    if labels.shape != scene.shape[:2]:
        raise TrainingError(f"labels are {labels.shape} but the scene is {scene.shape[:2]}", scene.path)
    if mask is not None:  # only labelled pixels inside the mask are split; outside = unlabelled
        if np.shape(mask) != labels.shape:
            raise TrainingError(f"the mask is {np.shape(mask)} but the scene is {labels.shape}", scene.path)
        labels = np.where(np.asarray(mask, bool), labels, 0).astype(labels.dtype)
    n_comp = hyper["pca_components"]
    if n_comp is not None and n_comp > scene.n_bands:
        raise TrainingError(f"pca_components is {n_comp} but the scene has only {scene.n_bands} bands")
    finite, valid = _pixel_masks(scene)
    nonfinite = {"pixels": int(np.count_nonzero(~finite)), "labelled": int(np.count_nonzero(~finite & (labels > 0)))}
    if nonfinite["labelled"]:
        if nonfinite["labelled"] == int(np.count_nonzero(labels > 0)):
            raise TrainingError(
                f"all {nonfinite['labelled']} labelled pixels hold NaN or infinite values; "
                "there is nothing to train on",
                scene.path,
            )
        labels = np.where(finite, labels, 0).astype(labels.dtype, copy=False)
    split = make_split(labels, config, int(hyper["patch_size"]), region_ids)
    class_ids = np.unique(labels.ravel()[split.train])
    if len(class_ids) < 2:
        raise TrainingError("needs training pixels of at least two classes", scene.path)
    if len(split.test) == 0:
        raise TrainingError("the split leaves no test pixels; use a smaller training share", scene.path)
    # Pixels outside the mask (clouds, water) would bend the components towards what is not classified.
    fit_mask = valid if mask is None else valid & np.asarray(mask, bool)
    if config.pca_fit == "train":
        fit_mask = np.zeros(labels.shape, bool)
        fit_mask.ravel()[split.train] = True
    # The raw cube is never held whole: the fit reads its sample of pixels from the file, the
    # transform a block of rows at a time.
    pre = fit_on_scene(scene, fit_mask, n_components=n_comp, seed=config.seed)
    # Nodata pixels set to 0, as in inference: they look like the zero padding outside the scene.
    # Preprocessed straight into the padded cube (held once); a large one is a file (patches read
    # through the page cache) rather than the process's memory.
    r = int(hyper["patch_size"]) // 2
    padded = transform_scene_padded(scene, pre, valid, r, memmap_bytes=MEMMAP_CUBE_BYTES)
    cube = padded[r : r + scene.n_rows, r : r + scene.n_cols]
    return PreparedData(split, pre, cube, padded, class_ids, labels, int(hyper["patch_size"]), nonfinite)


def _pixel_masks(scene) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) bool masks of the pixels finite in every band, and of the valid ones (finite and not
    nodata), read a block of rows at a time so that the raw cube is never held whole."""
    finite = np.ones(scene.shape[:2], bool)
    valid = np.ones(scene.shape[:2], bool)
    step = max(1, READ_BLOCK_VALUES // max(1, scene.n_cols * scene.n_bands))
    for a in range(0, scene.n_rows, step):
        block = scene.read_subregion(slice(a, a + step), slice(None))
        finite[a : a + step] = finite_pixels(block)
        valid[a : a + step] = valid_pixels(block, scene.nodata)
    return finite, valid


#: Values read at once when the pixel masks are computed (about 16 MB of float64).
READ_BLOCK_VALUES = 2_000_000


def _fit(spec, hyper, config, data, device, progress, cancel):
    """(net, history, cancelled, fit_data, extra metrics) for either framework."""
    if spec.framework == "sklearn":
        return _fit_sklearn(spec, hyper, config, data, progress, cancel)
    net, history, cancelled, extra = fit_torch(spec, hyper, config, data, device, progress, cancel)
    return net, history, cancelled, None, extra


def _fit_sklearn(spec, hyper, config, data, progress, cancel):
    """Fit the estimator on the preprocessed centre spectra. It is one step, so cancel is only noted."""
    start = time.perf_counter()
    est = build_net(spec, data.preprocessor.n_outputs, len(data.class_ids), hyper)
    if "random_state" in est.get_params(deep=False) and est.get_params(deep=False)["random_state"] is None:
        est.set_params(random_state=int(config.seed))
    x, y = data.spectra(data.split.train), data.targets(data.split.train)
    est.fit(x, y)
    val = data.split.val
    val_acc = float(np.mean(est.predict(data.spectra(val)) == data.targets(val))) if len(val) else None
    record = {
        "epoch": 1,
        "loss": None,
        "train_acc": float(np.mean(est.predict(x) == y)),
        "val_acc": val_acc,
        "seconds": round(time.perf_counter() - start, 3),
    }
    report(progress, ProgressEvent("epoch", 1, 1, f"fitted {spec.name}", 0.0, dict(record)))
    cancelled = cancel is not None and cancel.cancelled
    return est, [record], cancelled, (x, y), {"estimator_params": sklearn_params(est)}


def predict_test_pixels(
    model: TrainedModel,
    scene,
    device: str,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> np.ndarray:
    """Label ids predicted for ``model.split.test`` (in that order), exactly as
    :func:`~hsiviewer.engine.inference.predict_scene` gives them.

    The evaluation goes through the same code as a whole-scene prediction (eval mode, full float32),
    so the reported metrics are those of the maps the user will export. It streams as ``hsiviewer
    predict`` does (:class:`~hsiviewer.engine.streaming.BlockPredictor`): one block of rows and its
    patch halo is read and preprocessed at a time, and blocks without a test pixel are skipped, so
    memory does not grow with the scene and test pixels gathered in a few fields cost only their
    blocks. The dense path is taken when the plugin has one and the test pixels are not too sparse
    for it to pay. ``cancel`` stops it with :class:`~hsiviewer.errors.Cancelled` (training passes its
    token's :meth:`abort_view`: a plain cancel keeps the evaluation of the model kept, an abort
    drops it).
    """
    if model.split is None:
        raise TrainingError("the model records no train/test split, so it has no test pixels to predict")
    check_scene(model, scene)
    test = np.asarray(model.split.test, np.int64)
    cols = scene.n_cols
    mask = np.zeros(scene.n_rows * cols, bool)
    mask[test] = True
    sparse = len(test) * DENSE_WORTH_IT < mask.size
    mask = mask.reshape(scene.n_rows, cols)
    method = "patch" if model.framework == "torch" and (sparse or not dense_available(model)) else "auto"
    runner = BlockPredictor(model, method, device, batch_size=512, confidence=False)
    order = np.argsort(test, kind="stable")
    ordered = test[order]
    blocks = []
    for a, b in runner.blocks(scene):
        lo, hi = np.searchsorted(ordered, [a * cols, b * cols])
        if hi > lo:
            blocks.append((a, b, lo, hi))
    predicted = np.zeros(len(test), np.int64)
    clock = EtaClock(len(blocks))

    def stop() -> bool:  # asked between tiles: a block of a big scene may take a while
        return cancel is not None and cancel.cancelled

    for done, (a, b, lo, hi) in enumerate(blocks):
        if stop():
            raise Cancelled("evaluation aborted")
        try:
            classes, _ = runner.predict_block(scene, a, b, mask=mask, cancel=stop)
        except Cancelled:
            raise Cancelled("evaluation aborted") from None
        predicted[order[lo:hi]] = classes.ravel()[ordered[lo:hi] - a * cols]
        message = f"classifying the test pixels: rows {a}-{b - 1} of {scene.n_rows}"
        report(progress, ProgressEvent("evaluate", done + 1, len(blocks), message, clock.eta(done + 1)))
    if model.framework == "torch":
        model.net = model.net.to("cpu").eval()
    return predicted


#: The dense path classifies every pixel of the scene; per patch only the test pixels. Per pixel the
#: dense path is 20-50x cheaper (bench/bench_predict.py), so it pays once 1 pixel in this many is tested.
DENSE_WORTH_IT = 20
#: A padded preprocessed cube larger than this (bytes) is kept in a temporary file, not in memory.
MEMMAP_CUBE_BYTES = 2 << 30
