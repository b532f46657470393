"""A spectral library: named reference spectra with their wavelengths, and resampling to a scene.

Wavelengths are kept in nanometres whatever the file said (micrometres are converted on reading).
The reflectance *scale* is the value that stands for 100 % reflectance: 1 (0-1), 100 (percent) or
10000 (0-10000, the usual integer scaling of imagery). It is detected from the values when the file
does not say, and can be set.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hsiviewer.errors import HsiError

#: The scales a library or a scene can have: the value meaning 100 % reflectance.
SCALES = (1.0, 100.0, 10000.0)


class LibraryError(HsiError):
    """A spectral library cannot be read, written or applied to a scene."""


def detect_scale(values: np.ndarray, percent_hint: bool = False) -> float:
    """Guess the value that stands for 100 % reflectance from the data.

    Parameters
    ----------
    values : ndarray
        Any spectra; NaNs are ignored.
    percent_hint : bool
        The file said its values are percent (ECOSTRESS): 100 then wins over 10000 for values up to 100.

    Returns
    -------
    float
        1, 100 or 10000: reflectance rarely exceeds 1.5 (bright snow, specular glint), so a
        99th percentile at or under 1.5 means 0-1; under 150 with a percent hint means percent.
    """
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 1.0
    high = float(np.percentile(np.abs(finite), 99))
    if high <= 1.5:
        return 1.0
    if percent_hint and high <= 150:
        return 100.0
    return 10000.0


def to_nanometres(wavelengths: Sequence[float] | np.ndarray, unit: str | None = None) -> np.ndarray:
    """Wavelengths in nm: converted from micrometres when ``unit`` says so or when all are below 30.

    No passive optical sensor images below 30 nm, and no one writes 2500 nm as 2500 um, so the
    values themselves tell micrometres from nanometres when the unit is missing.
    """
    wl = np.asarray(wavelengths, float)
    unit = (unit or "").strip().lower()
    if unit.startswith(("micro", "um", "µm", "μm")):
        return wl * 1000.0
    if unit.startswith(("nano", "nm")):
        return wl
    if unit.startswith("milli") or unit == "mm":
        return wl * 1e6
    if wl.size and np.nanmax(wl) < 30:
        return wl * 1000.0
    return wl


@dataclass
class SpectralLibrary:
    """Named reference spectra.

    Attributes
    ----------
    names : list of str
    spectra : ndarray (n, bands) of float64
        NaN where a value is missing (a bad band, a deleted channel).
    wavelengths : ndarray (bands,) or None
        Band centres in nm; None when the file gave none (the spectra then must have the scene's bands).
    fwhm : ndarray (bands,) or None
        Band widths in nm.
    scale : float
        The value that stands for 100 % reflectance (1, 100 or 10000).
    scale_detected : bool
        True when :attr:`scale` was guessed from the values rather than read or set.
    path : Path or None
        The file it was read from.
    """

    names: list[str]
    spectra: np.ndarray
    wavelengths: np.ndarray | None = None
    fwhm: np.ndarray | None = None
    scale: float = 1.0
    scale_detected: bool = False
    path: Path | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = [str(n) for n in self.names]
        self.spectra = np.atleast_2d(np.asarray(self.spectra, np.float64))
        if self.spectra.size == 0:
            self.spectra = self.spectra.reshape(0, 0 if self.wavelengths is None else len(self.wavelengths))
        if len(self.names) != self.spectra.shape[0]:
            raise LibraryError(f"{len(self.names)} names for {self.spectra.shape[0]} spectra", self.path)
        for attr in ("wavelengths", "fwhm"):
            value = getattr(self, attr)
            if value is not None:
                value = np.asarray(value, np.float64)
                if value.shape != (self.n_bands,):
                    raise LibraryError(f"{value.size} {attr} values for spectra of {self.n_bands} bands", self.path)
                setattr(self, attr, value)

    # --- shape --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.names)

    @property
    def n_bands(self) -> int:
        """Values per spectrum."""
        return int(self.spectra.shape[1])

    def describe_scale(self) -> str:
        """The scale in words, e.g. ``"reflectance 0-10000 (detected)"``."""
        text = {1.0: "reflectance 0-1", 100.0: "reflectance in percent"}.get(
            self.scale, f"reflectance 0-{self.scale:g}"
        )
        return text + (" (detected)" if self.scale_detected else "")

    # --- editing --------------------------------------------------------------------------
    def add(self, name: str, spectrum: np.ndarray) -> None:
        """Append ``spectrum`` (on this library's bands and scale) as ``name``."""
        spectrum = np.asarray(spectrum, np.float64).ravel()
        expected = len(self.wavelengths) if self.wavelengths is not None else (self.n_bands if len(self) else None)
        if expected is not None and spectrum.size != expected:
            raise LibraryError(
                f"'{name}' has {spectrum.size} values but the library's spectra have {expected}", self.path
            )
        self.spectra = np.vstack([self.spectra.reshape(-1, spectrum.size), spectrum[None, :]])
        self.names.append(str(name))

    def rename(self, index: int, name: str) -> None:
        """Call spectrum ``index`` ``name``."""
        self.names[index] = str(name)

    def remove(self, index: int) -> None:
        """Delete spectrum ``index``."""
        del self.names[index]
        self.spectra = np.delete(self.spectra, index, axis=0)

    def subset(self, indices: Sequence[int]) -> SpectralLibrary:
        """A library of the spectra ``indices`` only (same bands and scale)."""
        indices = list(indices)
        return SpectralLibrary(
            [self.names[i] for i in indices],
            self.spectra[indices],
            self.wavelengths,
            self.fwhm,
            self.scale,
            self.scale_detected,
            self.path,
            dict(self.metadata),
        )

    def rescaled(self, scale: float) -> SpectralLibrary:
        """The same spectra expressed on ``scale`` (e.g. 10000 to compare with a 0-10000 scene)."""
        factor = float(scale) / self.scale
        return SpectralLibrary(
            list(self.names),
            self.spectra * factor,
            self.wavelengths,
            self.fwhm,
            float(scale),
            False,
            self.path,
            dict(self.metadata),
        )

    # --- resampling -------------------------------------------------------------------------
    def resampled(
        self,
        wavelengths: np.ndarray | None,
        fwhm: np.ndarray | None = None,
        bad_bands: np.ndarray | None = None,
        n_bands: int | None = None,
    ) -> SpectralLibrary:
        """The spectra on other bands (a scene's), with Spectral Python's Gaussian band response.

        Parameters
        ----------
        wavelengths : ndarray or None
            Target band centres in nm. None: the target has no wavelengths, so the library must have
            exactly ``n_bands`` values per spectrum and is taken band for band.
        fwhm : ndarray, optional
            Target band widths (the scene's); without them SPy assumes half the distance to the
            neighbouring bands.
        bad_bands : ndarray of bool, optional
            Target bands flagged bad: NaN in the result, so they stay gaps.
        n_bands : int, optional
            Target band count, for the check without wavelengths.

        Returns
        -------
        SpectralLibrary
            On the target's bands; NaN where no library band overlaps a target band (outside the
            library's range) or where the overlapping library values are all missing.

        Raises
        ------
        LibraryError
            When either side lacks wavelengths and the band counts differ.
        """
        target_n = len(wavelengths) if wavelengths is not None else n_bands
        if wavelengths is None or self.wavelengths is None:
            if target_n is not None and target_n != self.n_bands:
                if self.wavelengths is None:
                    problem = f"the library has no wavelengths and {self.n_bands} bands but the scene has {target_n}"
                else:
                    problem = f"the scene has no wavelengths and {target_n} bands but the library has {self.n_bands}"
                raise LibraryError(problem + "; bands can only be matched by wavelength", self.path)
            out = self.spectra.copy()
        else:
            out = resample_spectra(
                self.spectra,
                self.wavelengths,
                self.fwhm,
                np.asarray(wavelengths, float),
                None if fwhm is None else np.asarray(fwhm, float),
            )
        if bad_bands is not None and np.any(bad_bands):
            out[:, np.asarray(bad_bands, bool)] = np.nan
        return SpectralLibrary(
            list(self.names),
            out,
            None if wavelengths is None else np.asarray(wavelengths, float),
            None if fwhm is None else np.asarray(fwhm, float),
            self.scale,
            self.scale_detected,
            self.path,
            dict(self.metadata),
        )

    def for_scene(self, scene, scale: float | None = None) -> SpectralLibrary:
        """Resampled to ``scene``'s bands (its FWHM and bad bands) and, with ``scale``, rescaled."""
        lib = self.resampled(scene.wavelengths, scene.fwhm, scene.bad_bands, scene.n_bands)
        return lib.rescaled(scale) if scale is not None and scale != lib.scale else lib


def resample_spectra(
    spectra: np.ndarray,
    centers: np.ndarray,
    fwhm: np.ndarray | None,
    target_centers: np.ndarray,
    target_fwhm: np.ndarray | None,
) -> np.ndarray:
    """Resample (n, b1) spectra to other bands with :class:`spectral.BandResampler`'s matrix.

    The matrix is SPy's (each target band integrates the source bands overlapping its FWHM under a
    Gaussian response, weights summing to 1). Missing source values (NaN) are left out of each
    target band and the remaining weights renormalised, so a spectrum with a deleted channel does
    not lose every target band the channel touches; with no NaN the result is SPy's own.
    """
    from spectral import BandResampler

    order = np.argsort(centers)  # SPy walks the bands in increasing order
    centers, spectra = np.asarray(centers, float)[order], np.asarray(spectra, float)[:, order]
    fwhm = None if fwhm is None else np.asarray(fwhm, float)[order]
    logger = logging.getLogger("spectral")
    level = logger.level
    logger.setLevel(logging.WARNING)  # SPy logs one INFO line per target band it cannot cover
    try:
        matrix = BandResampler(centers, target_centers, fwhm, target_fwhm).matrix  # (b2, b1)
    finally:
        logger.setLevel(level)
    no_overlap = np.isnan(matrix[:, 0])
    matrix = np.nan_to_num(matrix, nan=0.0)
    valid = np.isfinite(spectra)
    weights = valid.astype(float) @ matrix.T  # (n, b2): weight of the values present
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (np.where(valid, spectra, 0.0) @ matrix.T) / weights
    out[:, no_overlap] = np.nan
    out[weights <= 1e-12] = np.nan
    return out


def scene_scale(scene, rows: int = 16) -> float:
    """The reflectance scale of ``scene`` (1, 100 or 10000), guessed from ``rows`` rows spread over it."""
    picks = np.unique(np.linspace(0, scene.n_rows - 1, min(rows, scene.n_rows)).astype(int))
    sample = np.concatenate(
        [scene.read_subregion(slice(r, r + 1), slice(None)).reshape(-1, scene.n_bands) for r in picks]
    ).astype(float)
    if scene.nodata is not None:
        sample[sample == scene.nodata] = np.nan
    sample[:, np.asarray(scene.bad_bands, bool)] = np.nan
    return detect_scale(sample)
