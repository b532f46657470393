"""Trained models and their single-file format.

A model file is written with ``torch.save`` and read with ``torch.load(weights_only=True)``, so it
holds only tensors, strings, numbers, lists and dicts: loading one never runs code from the file.
It holds

* ``format`` / ``format_version`` — checked on load;
* ``meta`` — a JSON text: plugin name and version, framework, input kind, hyperparameters, class
  ids, names and colours, band count and wavelengths, seed, split method and parameters, metrics,
  history and the training configuration;
* ``preprocessor`` — the fitted preprocessing arrays as float64 tensors;
* ``split`` — the train / val / test pixel indices as int64 tensors;
* ``weights`` — the network's ``state_dict`` (framework ``"torch"``), or for framework
  ``"sklearn"`` the preprocessed training spectra ``X``, their targets ``y`` and the estimator's
  plain parameters: scikit-learn estimators are not pickled but refitted on load, which is
  deterministic because the seed is among the parameters (``random_state``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from hsiviewer.data.classes import ClassTable
from hsiviewer.engine.model_integrity import (
    DIGEST_KEY,
    check_archive,
    check_digest,
    check_preprocessor_shapes,
    check_state_shapes,
    payload_digest,
)
from hsiviewer.errors import ModelFileError, PluginError
from hsiviewer.io.atomic import atomic_path
from hsiviewer.io.plain_json import dumps
from hsiviewer.models.discovery import default_registry
from hsiviewer.processing.preprocess import Preprocessor
from hsiviewer.processing.splits import Split

FORMAT_TAG = "hsiviewer-model"
FORMAT_VERSION = 1


@dataclass
class TrainedModel:
    """A trained classifier with everything needed to apply it to a new scene.

    Attributes
    ----------
    spec_name, plugin_version, framework : str
        The architecture (registry name), its plugin version, ``"torch"`` or ``"sklearn"``.
    input_kind : str
        ``"cube"``, ``"patch"`` or ``"spectrum"``.
    hyper : dict
        All hyperparameters, ``patch_size`` and ``pca_components`` included.
    preprocessor : Preprocessor
    net : torch.nn.Module or fitted scikit-learn estimator
        Outputs (logits / predicted values) are class *indices*; ``class_ids`` maps them to label ids.
    class_ids : list of int
    classes : ClassTable
    n_bands : int
        Bands of the raw scenes the model accepts.
    wavelengths : list of float or None
    split : Split or None
    seed : int
    metrics, history, train_config
        Test report (plus ``leakage``, ``n_train``, ``n_test``, ``cancelled``), per-epoch dicts and
        the :class:`~hsiviewer.engine.training.TrainConfig` as a dict.
    source_path : Path or None
        The file it was loaded from.
    test_predictions : ndarray or None
        The label ids predicted for ``split.test``, in that order, by the training run's evaluation
        (not saved in the model file: a loaded model recomputes them with :func:`predict_scene`).
    fit_data : (X, y) or None
        For framework ``"sklearn"``: the preprocessed training spectra and their class indices, which
        the model file keeps so that the estimator can be refitted on load.
    dense : bool
        The plugin declares an exact fully convolutional path (``forward_dense``) for whole scenes; taken
        from the plugin's spec when the model is trained or loaded, so inference needs no registry.
    """

    spec_name: str
    plugin_version: str
    framework: str
    input_kind: str
    hyper: dict
    preprocessor: Preprocessor
    net: Any
    class_ids: list
    classes: ClassTable
    n_bands: int
    wavelengths: Optional[list] = None
    split: Optional[Split] = None
    seed: int = 0
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    train_config: dict = field(default_factory=dict)
    source_path: Optional[Path] = None
    fit_data: Optional[tuple] = None
    test_predictions: Optional[np.ndarray] = None
    dense: bool = False

    @property
    def patch_size(self) -> int:
        """The side S of the square patch the network takes (1 for spectrum models)."""
        return int(self.hyper.get("patch_size", 1))


def build_net(spec, in_bands: int, n_classes: int, hyper: dict):
    """Build the architecture of ``spec`` for ``in_bands`` channels and ``n_classes`` outputs.

    ``hyper`` is the full set (``patch_size`` and ``pca_components`` included); the spec checks it.
    """
    return spec.build(int(in_bands), int(n_classes), **dict(hyper))


def sklearn_params(estimator) -> dict:
    """The estimator's own parameters that are plain JSON values (what a model file keeps)."""
    return {
        k: v for k, v in estimator.get_params(deep=False).items() if v is None or isinstance(v, (bool, int, float, str))
    }


# --- saving -------------------------------------------------------------------------------------
def save_model(model: TrainedModel, path: str | Path) -> None:
    """Write ``model`` to one file, atomically.

    For framework ``"sklearn"`` the model must carry its training data in ``model.fit_data``, which
    :func:`hsiviewer.engine.training.train_model` sets.
    """
    payload = {
        "format": FORMAT_TAG,
        "format_version": FORMAT_VERSION,
        "meta": json.dumps(_meta(model)),
        "preprocessor": {
            k: torch.from_numpy(np.asarray(v, np.float64))
            for k, v in model.preprocessor.state().items()
            if isinstance(v, np.ndarray)
        },
        "split": _split_tensors(model.split),
        "weights": _weights(model),
    }
    payload[DIGEST_KEY] = payload_digest(payload)  # checked on load: see hsiviewer.engine.model_integrity
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def _meta(model: TrainedModel) -> dict:
    pre = {k: v for k, v in model.preprocessor.state().items() if not isinstance(v, np.ndarray)}
    split = (
        None
        if model.split is None
        else {"method": model.split.method, "seed": int(model.split.seed), "params": model.split.params}
    )
    meta = {
        "spec_name": model.spec_name,
        "plugin_version": str(model.plugin_version),
        "framework": model.framework,
        "input_kind": str(getattr(model.input_kind, "value", model.input_kind)),
        "hyper": model.hyper,
        "class_ids": [int(i) for i in model.class_ids],
        "classes": model.classes.to_dict(),
        "n_bands": int(model.n_bands),
        "wavelengths": None if model.wavelengths is None else [float(w) for w in model.wavelengths],
        "split": split,
        "seed": int(model.seed),
        "metrics": model.metrics,
        "history": model.history,
        "train_config": model.train_config,
        "preprocessor": pre,
    }
    return json.loads(dumps(meta))  # numpy numbers -> plain ones


def _split_tensors(split: Optional[Split]) -> dict:
    if split is None:
        return {}
    return {k: torch.from_numpy(np.asarray(getattr(split, k), np.int64)) for k in ("train", "val", "test")}


def _weights(model: TrainedModel) -> dict:
    if model.framework == "sklearn":
        data = model.fit_data
        if data is None:
            raise ModelFileError(
                "this scikit-learn model carries no training data to save "
                "(train it with hsiviewer.engine.training.train_model)"
            )
        x, y = data
        return {
            "X": torch.from_numpy(np.asarray(x, np.float32)),
            "y": torch.from_numpy(np.asarray(y, np.int64)),
            "params": json.dumps(sklearn_params(model.net)),
        }
    return {k: v.detach().cpu().clone() for k, v in model.net.state_dict().items()}


# --- loading ------------------------------------------------------------------------------------
def load_model(path: str | Path, registry=None) -> TrainedModel:
    """Read a model file written by :func:`save_model`.

    Parameters
    ----------
    path : str or Path
    registry : Registry, optional
        Where to find the architecture (default: :func:`hsiviewer.models.plugins.default_registry`).

    Raises
    ------
    ModelFileError
        When the file is missing, not a model file, corrupt, of a newer format, or needs a plugin that
        is not installed.
    """
    path = Path(path)
    payload = _read_payload(path)
    try:
        meta = json.loads(payload["meta"])
        pre = Preprocessor.from_state({**meta["preprocessor"], **payload["preprocessor"]})
        split = _split_from(meta.get("split"), payload.get("split") or {})
        classes = ClassTable.from_dict(meta["classes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"is a damaged model file ({type(exc).__name__}: {exc})", path) from exc
    check_preprocessor_shapes(pre, int(meta["n_bands"]), path)
    spec = _find_spec(meta["spec_name"], registry, path)
    weights = payload.get("weights") or {}
    net = _restore_net(spec, meta, pre, weights, path)
    fit_data = (weights["X"].numpy(), weights["y"].numpy()) if meta["framework"] == "sklearn" else None
    return TrainedModel(
        spec_name=meta["spec_name"],
        plugin_version=meta["plugin_version"],
        framework=meta["framework"],
        input_kind=meta["input_kind"],
        hyper=meta["hyper"],
        preprocessor=pre,
        net=net,
        class_ids=list(meta["class_ids"]),
        classes=classes,
        n_bands=int(meta["n_bands"]),
        wavelengths=meta.get("wavelengths"),
        split=split,
        seed=int(meta.get("seed", 0)),
        metrics=meta.get("metrics") or {},
        history=meta.get("history") or [],
        train_config=meta.get("train_config") or {},
        source_path=path,
        fit_data=fit_data,
        dense=bool(spec.dense),
    )


def read_split(path: str | Path) -> Optional[Split]:
    """The train/test split saved in a model file, without rebuilding the model (None if it has none)."""
    path = Path(path)
    payload = _read_payload(path)
    try:
        meta = json.loads(payload["meta"])
        return _split_from(meta.get("split"), payload.get("split") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"is a damaged model file ({type(exc).__name__}: {exc})", path) from exc


def _read_payload(path: Path) -> dict:
    if not path.exists():
        raise ModelFileError("no such file", path)
    if not path.is_file():
        raise ModelFileError("is not a regular file (a folder, FIFO or device); a model file is expected", path)
    check_archive(path)  # torch.load does not verify the archive's checksums
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a file that is not one of its archives
        raise ModelFileError(f"is not an hsiviewer model file or is damaged ({type(exc).__name__})", path) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_TAG:
        raise ModelFileError("is not an hsiviewer model file", path)
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"uses model file format {version}; this hsiviewer reads up to {FORMAT_VERSION} (update hsiviewer)", path
        )
    check_digest(payload, path)
    return payload


def _split_from(info: Optional[dict], arrays: dict) -> Optional[Split]:
    if info is None:
        return None
    return Split(
        train=arrays["train"].numpy(),
        test=arrays["test"].numpy(),
        val=arrays["val"].numpy(),
        method=info["method"],
        seed=int(info["seed"]),
        params=dict(info.get("params") or {}),
    )


def _find_spec(name: str, registry, path: Path):
    registry = registry if registry is not None else default_registry()
    try:
        return registry.get(name)
    except PluginError as exc:
        raise ModelFileError(f"needs the model plugin '{name}', which is not installed ({exc.problem})", path) from exc


def _restore_net(spec, meta: dict, pre: Preprocessor, weights: dict, path: Path):
    n_classes = len(meta["class_ids"])
    try:
        net = build_net(spec, pre.n_outputs, n_classes, meta["hyper"])
    except Exception as exc:  # the builder refuses the saved hyperparameters
        raise ModelFileError(
            f"cannot rebuild model '{meta['spec_name']}' (plugin version "
            f"{meta['plugin_version']}, installed {spec.version}): {type(exc).__name__}: {exc}",
            path,
        ) from exc
    if meta["framework"] == "sklearn":
        _check_fit_data(weights, pre.n_outputs, n_classes, path)
    else:
        check_state_shapes(net.state_dict(), weights, meta["spec_name"], path)
    try:
        if meta["framework"] == "sklearn":
            net.set_params(**json.loads(weights["params"]))
            return net.fit(weights["X"].numpy(), weights["y"].numpy())
        net.load_state_dict(weights, strict=True)
    except Exception as exc:  # builder or state dict from another plugin version: say which plugin
        raise ModelFileError(
            f"cannot rebuild model '{meta['spec_name']}' (plugin version "
            f"{meta['plugin_version']}, installed {spec.version}): {type(exc).__name__}: {exc}",
            path,
        ) from exc
    return net.eval()


def _check_fit_data(weights: dict, n_features: int, n_classes: int, path: Path) -> None:
    """The training spectra of a scikit-learn model must fit its preprocessing and classes."""
    try:
        x, y = weights["X"], weights["y"]
    except KeyError as exc:
        raise ModelFileError(f"its scikit-learn training data lack '{exc.args[0]}'", path) from exc
    if x.ndim != 2 or x.shape[1] != n_features or y.shape != (x.shape[0],):
        raise ModelFileError(
            f"its training spectra are {tuple(x.shape)} with {tuple(y.shape)} targets; "
            f"expected (N, {n_features}) and (N,)",
            path,
        )
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ModelFileError(f"its training targets lie outside the {n_classes} classes", path)


def check_scene(model: TrainedModel, scene) -> None:
    """Raise :class:`ModelFileError` when ``scene`` does not have the band count ``model`` was trained on."""
    if int(scene.n_bands) != int(model.n_bands):
        raise ModelFileError(f"model expects {model.n_bands} bands, scene has {scene.n_bands}", model.source_path)
