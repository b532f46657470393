"""Spectral preprocessing: PCA (whitened, as in the HybridSN study) or per-band standardisation.

The fitted state is a handful of plain arrays (:meth:`Preprocessor.state`), saved with a model and
restored with :meth:`Preprocessor.from_state`; :meth:`Preprocessor.transform` computes the
projection itself from that state, so a restored preprocessor gives bit-identical output without
scikit-learn objects being stored.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.decomposition import PCA

#: Most pixels a fit looks at; more are subsampled with the seed (PCA of 200 bands needs far fewer).
MAX_FIT_PIXELS = 100_000
#: Values (pixels x bands) converted to float64 at once by :meth:`Preprocessor.transform`.
CHUNK_VALUES = 2_000_000


class Preprocessor:
    """Maps a raw (rows, cols, bands) cube to a float32 (rows, cols, k) model input.

    With ``n_components`` it is a PCA to k components (whitened by default, so each component has
    unit variance on the fitting pixels); without, every band is standardised (zero mean, unit
    variance). Build one with :meth:`fit` or :meth:`from_state`.
    """

    def __init__(self) -> None:
        self.kind: Optional[str] = None  # "pca" or "standard"
        self.mean: Optional[np.ndarray] = None  # (bands,)
        self.scale: Optional[np.ndarray] = None  # (bands,) for "standard"
        self.components: Optional[np.ndarray] = None  # (k, bands) for "pca"
        self.explained_variance: Optional[np.ndarray] = None  # (k,)
        self.explained_variance_ratio: Optional[np.ndarray] = None  # (k,)
        self.whiten = False
        self.n_bands = 0

    # --- fitting ------------------------------------------------------------------------------
    def fit(
        self,
        cube: np.ndarray,
        mask: Optional[np.ndarray] = None,
        n_components: Optional[int] = None,
        whiten: bool = True,
        seed: int = 0,
        max_pixels: int = MAX_FIT_PIXELS,
    ) -> Preprocessor:
        """Fit on the pixels of ``cube`` where ``mask`` is True (all pixels without a mask).

        Parameters
        ----------
        cube : array (rows, cols, bands)
        mask : bool array (rows, cols), optional
            The pixels to fit on (valid pixels, or the training pixels).
        n_components : int, optional
            PCA components; None standardises each band instead.
        whiten : bool
            Scale PCA components to unit variance.
        seed : int
            Picks the pixels when there are more than ``max_pixels``, and seeds the PCA solver.
        max_pixels : int

        Returns
        -------
        self
        """
        return self.fit_spectra(self._sample(cube, mask, seed, max_pixels), n_components, whiten, seed)

    def fit_spectra(
        self, x: np.ndarray, n_components: Optional[int] = None, whiten: bool = True, seed: int = 0
    ) -> Preprocessor:
        """Fit on spectra already picked: ``x`` (pixels, bands), e.g. a sample read from a file.

        :meth:`fit` is this on the pixels :func:`sample_indices` picks from a cube in memory; giving
        the same pixels from the scene's file gives the same preprocessor.
        """
        x = np.asarray(x, np.float64)
        self.n_bands = int(x.shape[1])
        if n_components is None:
            self.kind, self.whiten = "standard", False
            self.mean = x.mean(axis=0)
            std = x.std(axis=0)
            self.scale = np.where(std > 0, std, 1.0)  # a constant band stays 0 instead of dividing by 0
            return self
        n_components = int(n_components)
        if not 1 <= n_components <= min(x.shape):
            raise ValueError(
                f"PCA to {n_components} components needs at least that many bands and "
                f"pixels; the data have {x.shape[1]} bands and {x.shape[0]} pixels"
            )
        pca = PCA(n_components=n_components, whiten=whiten, random_state=seed).fit(x)
        self.kind, self.whiten = "pca", bool(whiten)
        self.mean = pca.mean_.astype(np.float64)
        self.components = pca.components_.astype(np.float64)
        self.explained_variance = pca.explained_variance_.astype(np.float64)
        self.explained_variance_ratio = pca.explained_variance_ratio_.astype(np.float64)
        return self

    @staticmethod
    def _sample(cube, mask, seed: int, max_pixels: int) -> np.ndarray:
        cube = np.asarray(cube)
        if cube.ndim != 3:
            raise ValueError(f"expected a (rows, cols, bands) cube, got shape {cube.shape}")
        where = sample_indices(np.ones(cube.shape[:2], bool) if mask is None else mask, seed, max_pixels)
        x = cube.reshape(-1, cube.shape[2])[where].astype(np.float64)
        finite = np.isfinite(x).all(axis=1)  # NaN/inf pixels are nodata (hsiviewer.data.validity)
        if not finite.all():
            x = x[finite]
            if len(x) == 0:
                raise ValueError("every pixel to fit the preprocessing on holds NaN or infinite values")
        return x

    # --- applying -----------------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        """k: the number of output channels."""
        self._check_fitted()
        return int(_fitted(self.components).shape[0]) if self.kind == "pca" else self.n_bands

    def transform(self, cube: np.ndarray) -> np.ndarray:
        """Apply to any (rows, cols, bands) block; float32 (rows, cols, k).

        Rows are converted to float64 a chunk at a time, so a large scene is never held twice in
        double precision.
        """
        self._check_fitted()
        if cube.ndim != 3 or cube.shape[2] != self.n_bands:
            raise ValueError(f"expected (rows, cols, {self.n_bands}) data, got shape {cube.shape}")
        rows, cols, _ = cube.shape
        out = np.empty((rows, cols, self.n_outputs), np.float32)
        step = max(1, CHUNK_VALUES // max(1, cols * self.n_bands))
        for a in range(0, rows, step):
            x = np.asarray(cube[a : a + step], np.float64).reshape(-1, self.n_bands)
            out[a : a + step] = self._apply(x).reshape(-1, cols, self.n_outputs)
        return out

    def _apply(self, x: np.ndarray) -> np.ndarray:
        x = x - _fitted(self.mean)
        if self.kind == "standard":
            return x / _fitted(self.scale)
        y = x @ _fitted(self.components).T
        if self.whiten:
            y /= np.sqrt(_fitted(self.explained_variance))
        return y

    # --- state --------------------------------------------------------------------------------
    def state(self) -> dict:
        """The fitted state: numpy arrays and plain values only."""
        self._check_fitted()
        state = {
            "kind": self.kind,
            "n_bands": int(self.n_bands),
            "whiten": bool(self.whiten),
            "mean": _fitted(self.mean).copy(),
        }
        if self.kind == "standard":
            state["scale"] = _fitted(self.scale).copy()
        else:
            state.update(
                components=_fitted(self.components).copy(),
                explained_variance=_fitted(self.explained_variance).copy(),
                explained_variance_ratio=_fitted(self.explained_variance_ratio).copy(),
            )
        return state

    @classmethod
    def from_state(cls, state: dict) -> Preprocessor:
        """Rebuild from :meth:`state` (arrays may also be lists or torch tensors)."""
        pre = cls()
        pre.kind = str(state["kind"])
        if pre.kind not in ("pca", "standard"):
            raise ValueError(f"unknown preprocessing kind '{pre.kind}'")
        pre.n_bands = int(state["n_bands"])
        pre.whiten = bool(state.get("whiten", False))
        pre.mean = _array(state["mean"])
        if pre.kind == "standard":
            pre.scale = _array(state["scale"])
        else:
            pre.components = _array(state["components"])
            pre.explained_variance = _array(state["explained_variance"])
            pre.explained_variance_ratio = _array(state.get("explained_variance_ratio", np.zeros(len(pre.components))))
        return pre

    def _check_fitted(self) -> None:
        if self.kind is None:
            raise RuntimeError("the preprocessor is not fitted; call fit() or from_state() first")

    def __repr__(self) -> str:
        if self.kind is None:
            return "Preprocessor(unfitted)"
        if self.kind == "standard":
            return f"Preprocessor(standardise {self.n_bands} bands)"
        kept = float(np.sum(_fitted(self.explained_variance_ratio)))
        return f"Preprocessor(PCA {self.n_bands} -> {self.n_outputs}, whiten={self.whiten}, {kept:.1%} of the variance)"


def _fitted(array: Optional[np.ndarray]) -> np.ndarray:
    """``array``, one of the fitted arrays, which fit() and from_state() set together with ``kind``."""
    if array is None:
        raise RuntimeError("the preprocessor is not fitted; call fit() or from_state() first")
    return array


def sample_indices(mask: np.ndarray, seed: int = 0, max_pixels: int = MAX_FIT_PIXELS) -> np.ndarray:
    """Sorted flat indices of the pixels a fit looks at: those of ``mask``, at most ``max_pixels`` (seeded)."""
    where = np.flatnonzero(np.asarray(mask).ravel())
    if len(where) == 0:
        raise ValueError("no pixels to fit the preprocessing on")
    if len(where) > max_pixels:
        where = np.sort(np.random.default_rng(seed).choice(where, max_pixels, replace=False))
    return where


def _array(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor from a model file
        value = value.detach().cpu().numpy()
    return np.asarray(value, np.float64)
