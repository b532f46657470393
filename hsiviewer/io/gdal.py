"""GeoTIFF and every other raster GDAL reads, through rasterio, with lazy windowed reads.

Wavelengths are looked for where GDAL and other tools put them, most precise first: band tags
``wavelength`` / ``wavelength_units`` / ``fwhm`` (GDAL's ENVI driver, EnMAP-Box, rasterio users),
ENVI-style ``{...}`` lists in the dataset's ``ENVI`` or default metadata domain, and the
``IMAGERY`` domain's ``CENTRAL_WAVELENGTH_UM`` / ``FWHM_UM`` (GDAL >= 3.10, rounded to 3 decimals).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.windows import Window

from hsiviewer.data.scene import Scene
from hsiviewer.errors import SceneReadError
from hsiviewer.io.envi import parse_list, wavelengths_to_nm
from hsiviewer.io.slicing import forward_slice

_INTERLEAVE = {"pixel": "bip", "band": "bsq", "line": "bil"}


def open_dataset(path: Path) -> rasterio.DatasetReader:
    """Open ``path`` with rasterio, turning GDAL's refusal into a :class:`SceneReadError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except RasterioIOError as exc:
        raise SceneReadError(f"GDAL does not recognise this file as a raster ({exc})", path) from exc


class RasterioSource:
    """Lazy pixel access to a GDAL raster, safe to use from several threads.

    GDAL dataset handles must not be shared between threads, so each thread opens its own
    handle on first use and keeps it; :meth:`close` closes them all.

    Parameters
    ----------
    path : Path
        The raster file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._handles: list[rasterio.DatasetReader] = []
        self._lock = threading.Lock()
        src = self.dataset()
        self.shape = (src.height, src.width, src.count)
        self.dtype = np.dtype(np.result_type(*src.dtypes))
        #: The first band's overview factors, read with the header (the thread that opens a scene is
        #: not the window's: a handle of the window's own would cost it 5-10 ms to open).
        self.overview_factors: tuple[int, ...] = tuple(src.overviews(1)) if src.count else ()

    def dataset(self) -> rasterio.DatasetReader:
        """This thread's open dataset handle."""
        src = getattr(self._local, "dataset", None)
        if src is None or src.closed:
            src = open_dataset(self.path)
            self._local.dataset = src
            with self._lock:
                self._handles.append(src)
        return src

    def read_subregion(self, rows: slice, cols: slice, bands: Sequence[int] | None = None) -> np.ndarray:
        """Return the (r, c, b) block ``[rows, cols, bands]``; only the named bands are read."""
        row_sel, row_flip = forward_slice(rows, self.shape[0])
        col_sel, col_flip = forward_slice(cols, self.shape[1])
        n = self.shape[2]
        wanted = list(range(n)) if bands is None else [int(b) for b in bands]
        if any(not -n <= b < n for b in wanted):
            raise IndexError(f"band index out of range 0..{n - 1}: {wanted}")
        indexes = [b % n + 1 for b in wanted]  # GDAL counts bands from 1
        height, width = row_sel.stop - row_sel.start, col_sel.stop - col_sel.start
        if height == 0 or width == 0 or not indexes:
            return np.zeros(
                (len(range(height)[:: row_sel.step]), len(range(width)[:: col_sel.step]), len(indexes)), self.dtype
            )
        window = Window(col_sel.start, row_sel.start, width, height)
        block = self.dataset().read(indexes, window=window, out_dtype=self.dtype)
        block = np.moveaxis(block, 0, -1)[:: row_sel.step, :: col_sel.step]
        return np.ascontiguousarray(block[::row_flip, ::col_flip])

    def close(self) -> None:
        """Close every handle opened so far; call it when no read is in flight (a later read reopens)."""
        with self._lock:
            for src in self._handles:
                src.close()
            self._handles.clear()


def read_gdal(path: Path, variable: Optional[str] = None) -> Scene:
    """Open a GeoTIFF (or any GDAL raster) as a scene, lazily.

    Parameters
    ----------
    path : Path
    variable : str, optional
        Ignored (a raster holds one cube); accepted so every reader has one signature.

    Returns
    -------
    Scene
        CRS and transform (None without georeferencing), nodata, band descriptions as band
        names, and wavelengths / FWHM in nm when the file records them. The dtype is kept.

    Raises
    ------
    SceneReadError
        When GDAL cannot open the file.
    """
    path = Path(path)
    source = RasterioSource(path)
    src = source.dataset()
    meta = _dataset_tags(src)
    wavelengths, fwhm = spectral_vectors(src, meta)
    crs, transform = georeference(src)
    descriptions = list(src.descriptions)
    band_names = None
    if any(descriptions):
        band_names = [d or f"band {i + 1}" for i, d in enumerate(descriptions)]
    metadata: dict[str, Any] = {"driver": src.driver}
    if meta.get("description"):
        metadata["description"] = meta["description"].strip("{}").strip()
    if any(s != 1 for s in src.scales) or any(o != 0 for o in src.offsets):
        metadata["scales"], metadata["offsets"] = list(src.scales), list(src.offsets)
    interleaving = getattr(src.interleaving, "value", "") or ""
    return Scene(
        path=path,
        source=source,
        wavelengths=wavelengths,
        fwhm=fwhm,
        bad_bands=_bad_bands(meta, src.count),
        band_names=band_names,
        default_bands=_default_bands(meta, src.count),
        crs=crs,
        transform=transform,
        nodata=None if src.nodata is None else float(src.nodata),
        interleave=_INTERLEAVE.get(interleaving.lower(), "bsq"),
        metadata=metadata,
    )


def georeference(src: rasterio.DatasetReader) -> tuple[Any, Optional[Affine]]:
    """(CRS or None, transform or None); an identity transform without a CRS means "not georeferenced"."""
    crs = src.crs if src.crs else None
    transform = src.transform
    if crs is None and transform == Affine.identity():
        transform = None
    return crs, transform


def _dataset_tags(src: rasterio.DatasetReader) -> dict[str, str]:
    """Default-domain and ENVI-domain dataset tags, keys lower-case with spaces as underscores."""
    tags = {k.lower().replace(" ", "_"): v for k, v in src.tags().items()}
    if "ENVI" in src.tag_namespaces():
        tags.update({k.lower().replace(" ", "_"): v for k, v in src.tags(ns="ENVI").items()})
    return tags


def spectral_vectors(
    src: rasterio.DatasetReader, meta: dict[str, str]
) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """Band centres and widths in nm from band tags, ENVI-style lists or the IMAGERY domain.

    Each comes from the first place that has it: GDAL's ENVI driver, for one, puts centres in
    band tags but widths only in the ENVI list.
    """
    found = [finder(src, meta) for finder in (_from_band_tags, _from_envi_lists, _from_imagery)]
    centres = next((c for c, _ in found if c is not None), None)
    widths = next((w for _, w in found if w is not None), None)
    return (centres, widths) if centres is not None else (None, None)


def _from_band_tags(src, meta) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    tags = [{k.lower(): v for k, v in src.tags(i).items()} for i in range(1, src.count + 1)]
    if not all("wavelength" in t for t in tags):
        return None, None
    units = next((t["wavelength_units"] for t in tags if t.get("wavelength_units")), None)
    centres = _floats([t["wavelength"] for t in tags])
    if centres is None:
        return None, None
    widths = _floats([t["fwhm"] for t in tags]) if all("fwhm" in t for t in tags) else None
    return (
        wavelengths_to_nm(centres, units),
        None if widths is None else wavelengths_to_nm(widths, units, like=centres),
    )


def _from_envi_lists(src, meta) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    centres = _floats(parse_list(meta["wavelength"])) if "wavelength" in meta else None
    if centres is None or len(centres) != src.count:
        return None, None
    units = meta.get("wavelength_units")
    widths = _floats(parse_list(meta["fwhm"])) if "fwhm" in meta else None
    if widths is not None and len(widths) != src.count:
        widths = None
    return (
        wavelengths_to_nm(centres, units),
        None if widths is None else wavelengths_to_nm(widths, units, like=centres),
    )


def _from_imagery(src, meta) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    tags = [src.tags(i, ns="IMAGERY") if "IMAGERY" in src.tag_namespaces(i) else {} for i in range(1, src.count + 1)]
    if not all("CENTRAL_WAVELENGTH_UM" in t for t in tags):
        return None, None
    centres = _floats([t["CENTRAL_WAVELENGTH_UM"] for t in tags])
    widths = _floats([t["FWHM_UM"] for t in tags]) if all("FWHM_UM" in t for t in tags) else None
    return (
        None if centres is None else wavelengths_to_nm(centres, "um"),
        None if widths is None else wavelengths_to_nm(widths, "um"),
    )


def _floats(values: Sequence[str]) -> Optional[list[float]]:
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return None


def _bad_bands(meta: dict[str, str], n_bands: int) -> Optional[np.ndarray]:
    flags = _floats(parse_list(meta["bbl"])) if "bbl" in meta else None
    return None if flags is None or len(flags) != n_bands else np.asarray(flags) == 0


def _default_bands(meta: dict[str, str], n_bands: int) -> Optional[tuple[int, int, int]]:
    bands = _floats(parse_list(meta["default_bands"])) if "default_bands" in meta else None
    if not bands:
        return None
    picked = [int(b) - 1 for b in bands] * (3 if len(bands) == 1 else 1)
    if len(picked) != 3 or not all(0 <= b < n_bands for b in picked):
        return None
    r, g, b = picked
    return (r, g, b)
