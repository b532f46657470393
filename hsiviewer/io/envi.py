"""ENVI rasters: a ``.hdr`` text header beside a raw BSQ/BIL/BIP data file.

The header is parsed and the data file opened with Spectral Python (:func:`spectral.envi.open`);
pixels are memory-mapped, so opening a large cube costs nothing until bands are read.
The helpers for wavelength units and ``{...}`` lists are shared with :mod:`hsiviewer.io.gdal`,
which meets the same ENVI-style metadata in GDAL tags.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np
import spectral.io.envi as spy_envi
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import CRSError

from hsiviewer.data.scene import ArraySource, Scene
from hsiviewer.errors import SceneReadError
from hsiviewer.io.envi_header import read_header_file

REQUIRED_KEYS = ("samples", "lines", "bands", "data type", "interleave", "byte order")
DATA_SUFFIXES = ("", ".bsq", ".bil", ".bip", ".img", ".dat", ".raw")
#: ENVI ``data type`` codes this reader accepts (complex types 6 and 9 are refused).
DATA_TYPES = {"1": "u1", "2": "i2", "3": "i4", "4": "f4", "5": "f8", "12": "u2", "13": "u4", "14": "i8", "15": "u8"}
_MICRO = ("um", "µm", "μm", "micrometer", "micrometers", "micrometre", "micrometres", "micron", "microns")
_NANO = ("nm", "nanometer", "nanometers", "nanometre", "nanometres")
_SCALED = (
    (("mm", "millimeter", "millimeters", "millimetre", "millimetres"), 1e6),
    (("cm", "centimeter", "centimeters", "centimetre", "centimetres"), 1e7),
    (("m", "meter", "meters", "metre", "metres"), 1e9),
)
_WAVENUMBER = (
    "wavenumber",
    "wavenumbers",
    "wave number",
    "wave numbers",
    "cm-1",
    "cm^-1",
    "1/cm",
    "cm⁻¹",
    "inverse centimeters",
    "inverse centimetres",
)
_NOT_LENGTH = ("ghz", "mhz", "khz", "hz", "unknown", "data value", "data values")


class NativeOrderSource(ArraySource):
    """An :class:`ArraySource` that hands out values in the machine's byte order.

    A big-endian ENVI file is memory-mapped as such (values are right, as ``>i2``); blocks are
    converted on read so callers (NumPy, torch, Qt) always see native ``int16`` and friends.
    """

    def __init__(self, array: Any) -> None:
        super().__init__(array)
        self.dtype = self.dtype.newbyteorder("=")

    def read_subregion(self, rows: slice, cols: slice, bands: Sequence[int] | None = None) -> np.ndarray:
        return super().read_subregion(rows, cols, bands).astype(self.dtype, copy=False)


def read_envi(path: Path, variable: Optional[str] = None) -> Scene:
    """Open an ENVI scene lazily.

    Parameters
    ----------
    path : Path
        The ``.hdr`` header or the data file beside it.
    variable : str, optional
        Ignored (ENVI files hold one cube); accepted so every reader has one signature.

    Returns
    -------
    Scene
        With wavelengths/FWHM in nm, bad bands, band names, default bands (0-based), nodata,
        CRS and transform as the header gives them.

    Raises
    ------
    SceneReadError
        When the header lacks a required key, the data file is missing or too small for the
        declared shape, or the data type is unknown.
    """
    header_path, data_path = locate_envi_files(Path(path))
    warnings: list[str] = []
    header = read_header(header_path, warnings)
    memmap = open_envi_memmap(header_path, data_path, header)
    n_bands = memmap.shape[2]
    units = header.get("wavelength units")
    crs, transform = georeference(header, header_path)
    metadata = {key: header[key] for key in ("description", "sensor type", "file type") if key in header}
    metadata.update(
        header_file=str(header_path),
        data_file=str(data_path),
        byte_order=int(header["byte order"]),
        header_offset=int(header.get("header offset", 0)),
    )
    scene = Scene(
        path=Path(path),
        source=NativeOrderSource(memmap),
        wavelengths=_band_vector(header, "wavelength", n_bands, warnings, units),
        fwhm=_band_vector(header, "fwhm", n_bands, warnings, units, like=header.get("wavelength")),
        bad_bands=_bad_bands(header, n_bands, warnings),
        band_names=_band_names(header, n_bands, warnings),
        default_bands=_default_bands(header, n_bands, warnings),
        crs=crs,
        transform=transform,
        nodata=number(header.get("data ignore value")),
        interleave=str(header["interleave"]).lower(),
        metadata=metadata,
    )
    if warnings:
        scene.metadata["warnings"] = warnings
    return scene


def locate_envi_files(path: Path) -> tuple[Path, Path]:
    """The (header, data file) pair for ``path``, which may be either of them."""
    if path.suffix.lower() == ".hdr":
        header = path
        stem = path.with_suffix("")
        for suffix in DATA_SUFFIXES + tuple(s.upper() for s in DATA_SUFFIXES[1:]):
            candidate = stem.with_name(stem.name + suffix)
            if candidate.is_file():
                return header, candidate
        raise SceneReadError(
            "no ENVI data file beside this header (looked for the same name without "
            f"extension or with {', '.join(DATA_SUFFIXES[1:])})",
            path,
        )
    for header in (path.with_suffix(".hdr"), path.with_name(path.name + ".hdr")):
        if header.is_file() and header != path:
            return header, path
    raise SceneReadError("no ENVI header (.hdr) beside this data file", path)


def read_header(header_path: Path, warnings: Optional[list] = None) -> dict:
    """Parse an ENVI header into a dict of strings and lists (keys lower-case).

    See :mod:`hsiviewer.io.envi_header`: a BOM and Latin-1 text are accepted, a repeated key
    keeps its last value; what was assumed is appended to ``warnings``.

    Raises
    ------
    SceneReadError
        When the file is not an ENVI header, lacks one of :data:`REQUIRED_KEYS`, or repeats a
        layout key with another value.
    """
    header = read_header_file(header_path, warnings if warnings is not None else [])
    missing = [key for key in REQUIRED_KEYS if key not in header]
    if missing:
        raise SceneReadError(f"the ENVI header lacks required key(s): {', '.join(missing)}", header_path)
    return header


def open_envi_memmap(header_path: Path, data_path: Path, header: dict) -> np.ndarray:
    """Memory-map the data file as a (rows, cols, bands) view in the file's dtype and byte order."""
    code = str(header["data type"]).strip()
    if code not in DATA_TYPES:
        raise SceneReadError(
            f"unknown or unsupported ENVI data type {code} (supported: {', '.join(sorted(DATA_TYPES, key=int))})",
            header_path,
        )
    try:
        rows, cols, bands = (int(header[k]) for k in ("lines", "samples", "bands"))
        offset = int(header.get("header offset", 0))
        byte_order = int(header["byte order"])
    except ValueError as exc:
        raise SceneReadError(
            f"the ENVI header has a non-integer size, offset or byte order ({exc})", header_path
        ) from exc
    _check_layout(header_path, header, byte_order)
    dtype = np.dtype(DATA_TYPES[code]).newbyteorder(">" if byte_order == 1 else "<")
    needed = offset + rows * cols * bands * dtype.itemsize
    size = os.path.getsize(data_path)
    if size < needed:
        raise SceneReadError(
            f"the data file is {size} bytes but the header declares {rows} lines x "
            f"{cols} samples x {bands} bands of {dtype.name} after a {offset}-byte "
            f"offset ({needed} bytes); is it truncated?",
            data_path,
        )
    if min(rows, cols, bands) < 1:
        raise SceneReadError(
            f"the ENVI header declares {rows} lines x {cols} samples x {bands} bands; "
            "an image needs at least one of each",
            header_path,
        )
    try:
        # Spectral's own open() would re-read the header with its stricter parser: hand it ours.
        spy_envi.check_compatibility(header)
        params = spy_envi.gen_params(header)
        params.filename = str(data_path)
        kind = {"bil": spy_envi.BilFile, "bip": spy_envi.BipFile}.get(
            str(header["interleave"]).lower(), spy_envi.BsqFile
        )
        image = kind(params, header)
    except spy_envi.EnviException as exc:
        raise SceneReadError(f"Spectral Python cannot open it ({exc})", header_path) from exc
    memmap = image.open_memmap(interleave="bip")  # a transposed view: no data are read here
    if memmap is None:  # Spectral returns None instead of raising when mmap fails
        raise SceneReadError("the data file cannot be memory-mapped", data_path)
    return memmap


def _check_layout(header_path: Path, header: dict, byte_order: int) -> None:
    """Refuse what Spectral Python would misread silently."""
    interleave = str(header["interleave"])
    if interleave not in ("bsq", "bil", "bip", "BSQ", "BIL", "BIP"):
        # Spectral treats anything but bil/BIL/bip/BIP (e.g. "Bil") as BSQ
        raise SceneReadError(f"unknown interleave '{interleave}' (expected bsq, bil or bip)", header_path)
    if byte_order not in (0, 1):
        raise SceneReadError(f"byte order must be 0 (little-endian) or 1 (big-endian), not {byte_order}", header_path)
    if "library" in str(header.get("file type", "")).lower():
        raise SceneReadError("is an ENVI spectral library, not an image", header_path)


# --- metadata --------------------------------------------------------------------------------------
def wavelengths_to_nm(
    values: Sequence[float] | np.ndarray,
    units: Optional[str],
    like: Optional[Sequence[float]] = None,
    warnings: Optional[list] = None,
) -> Optional[np.ndarray]:
    """Convert band centres or widths to nanometres.

    Parameters
    ----------
    values : sequence of float
    units : str or None
        ENVI's ``wavelength units``, any case: ``Nanometers``/``nm``, ``Micrometers``/``um``/``µm``,
        ``Millimeters``/``mm``, ``Centimeters``/``cm``, ``Meters``/``m`` (scaled), ``Wavenumber``
        (cm⁻¹; converted with 1e7 / value, band order kept, so the axis decreases). ``Index``,
        ``GHz``, ``MHz``, ``Unknown`` and anything unrecognised are not lengths: None is returned
        and a warning added. Absent units are guessed: values below 100 are taken as micrometres.
    like : sequence of float, optional
        The centres, in the same units, when converting widths (small in any unit, so no basis for
        a guess; and a width in cm⁻¹ becomes one in nm only relative to its centre).
    warnings : list, optional
        Receives a sentence for units that were not converted.

    Returns
    -------
    ndarray of float or None
        None when ``units`` says the values are not wavelengths.
    """
    arr = np.asarray(values, dtype=float)
    unit = " ".join((units or "").strip().lower().split())
    if unit in _NANO:
        return arr
    if unit in _MICRO:
        return _micro_to_nm(arr)
    for names, factor in _SCALED:
        if unit in names:
            return np.round(arr * factor, 6)
    if unit in _WAVENUMBER:
        return _wavenumber_to_nm(arr, like, units, warnings)
    if unit:
        what = (
            "band indices"
            if unit in ("index", "file index")
            else "not a length"
            if unit in _NOT_LENGTH
            else "not a unit hsiviewer knows"
        )
        _warn(warnings, f"wavelength units '{units}' are {what}; the bands are shown by number, without wavelengths")
        return None
    basis = np.asarray(like if like is not None else arr, dtype=float)
    return _micro_to_nm(arr) if basis.size and np.nanmax(basis) < 100 else arr


def _wavenumber_to_nm(arr: np.ndarray, like, units, warnings) -> Optional[np.ndarray]:
    """cm⁻¹ -> nm: a centre ν becomes 1e7 / ν; a width Δν about ν becomes 1e7 Δν / ν²."""
    centres = arr if like is None else np.asarray(like, dtype=float)
    if not np.all(np.isfinite(centres) & (centres > 0)):
        _warn(
            warnings,
            f"wavelength units '{units}' need positive wavenumbers; the bands are shown by number, without wavelengths",
        )
        return None
    if like is None:
        return 1e7 / arr
    return 1e7 * np.abs(arr) / centres**2


def _micro_to_nm(arr: np.ndarray) -> np.ndarray:
    # Rounding drops the binary noise of the product (0.46 * 1000 = 460.00000000000006).
    return np.round(arr * 1000.0, 6)


def _warn(warnings: Optional[list], text: str) -> None:
    if warnings is not None:
        warnings.append(text)


def parse_list(value: Any) -> list[str]:
    """An ENVI ``{a, b, c}`` value (a string or Spectral's list) as a list of stripped strings."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = str(value).strip().strip("{}").split(",")
    items = [str(v).strip() for v in items]
    while items and items[-1] == "":  # ENVI writers often leave a trailing comma
        items.pop()
    return items


def number(value: Any) -> Optional[float]:
    """A header value as a float (None when absent or not a number)."""
    if value is None:
        return None
    try:
        return float(parse_list(value)[0]) if isinstance(value, list) else float(value)
    except (ValueError, IndexError):
        return None


def _band_vector(
    header: dict, key: str, n_bands: int, warnings: list, units: Optional[str], like: Any = None
) -> Optional[np.ndarray]:
    if key not in header:
        return None
    try:
        values = [float(v) for v in parse_list(header[key])]
        like_values = None if like is None else [float(v) for v in parse_list(like)]
    except ValueError:
        warnings.append(f"'{key}' holds non-numbers; ignored")
        return None
    if len(values) != n_bands:
        warnings.append(f"'{key}' has {len(values)} values for {n_bands} bands; ignored")
        return None
    # the units' warning is said once, for the centres
    return wavelengths_to_nm(values, units, like_values, warnings if key == "wavelength" else None)


def _bad_bands(header: dict, n_bands: int, warnings: list) -> Optional[np.ndarray]:
    flags = _band_vector(header, "bbl", n_bands, warnings, "nm")
    return None if flags is None else flags == 0


def _band_names(header: dict, n_bands: int, warnings: list) -> Optional[list[str]]:
    if "band names" not in header:
        return None
    names = parse_list(header["band names"])
    if len(names) != n_bands:
        warnings.append(f"'band names' has {len(names)} names for {n_bands} bands; ignored")
        return None
    return names


def _default_bands(header: dict, n_bands: int, warnings: list) -> Optional[tuple[int, int, int]]:
    if "default bands" not in header:
        return None
    try:
        bands = [int(float(b)) - 1 for b in parse_list(header["default bands"])]
    except ValueError:
        bands = []
    if len(bands) == 1:  # a grey-scale default: the same band three times
        bands = bands * 3
    if len(bands) != 3 or not all(0 <= b < n_bands for b in bands):
        warnings.append(
            f"'default bands' {header['default bands']} does not name 1 or 3 bands in 1..{n_bands}; ignored"
        )
        return None
    r, g, b = bands
    return (r, g, b)


# --- georeferencing ---------------------------------------------------------------------------------
def georeference(header: dict, header_path: Path) -> tuple[Optional[CRS], Optional[Affine]]:
    """The CRS and the pixel-corner transform from ``map info`` / ``coordinate system string``."""
    info = parse_list(header["map info"]) if "map info" in header else []
    transform = _map_info_transform(info, header_path) if info else None
    crs = None
    if "coordinate system string" in header:
        crs = _crs_from_wkt(",".join(parse_list(header["coordinate system string"])))
    if crs is None and info:
        crs = _crs_from_map_info(info)
    return crs, transform


def _map_info_transform(info: list[str], header_path: Path) -> Affine:
    try:
        ref_x, ref_y, easting, northing, px, py = (float(v) for v in info[1:7])
    except ValueError as exc:
        raise SceneReadError(f"'map info' is not understood ({exc})", header_path) from exc
    extras = dict(part.split("=", 1) for part in info[7:] if "=" in part)
    extras = {k.strip().lower(): v.strip() for k, v in extras.items()}
    rotation = float(extras.get("rotation", 0.0))
    # ENVI's reference pixel is 1-based and names the pixel's upper-left corner. ``rotation`` turns
    # the grid counter-clockwise on the map (GDAL's ENVI driver agrees), about the reference pixel.
    return (
        Affine.translation(easting, northing)
        @ Affine.rotation(rotation)
        @ Affine.scale(px, -py)
        @ Affine.translation(-(ref_x - 1.0), -(ref_y - 1.0))
    )


def _crs_from_wkt(wkt: str) -> Optional[CRS]:
    try:
        crs = CRS.from_wkt(wkt)
    except CRSError:
        return None
    code = crs.to_epsg()  # ESRI WKT (e.g. "UTM_Zone_33N") often matches an EPSG code exactly
    return CRS.from_epsg(code) if code else crs


def _crs_from_map_info(info: list[str]) -> Optional[CRS]:
    projection = info[0].strip().lower()
    datum = next((v for v in info[7:] if "=" not in v and v.replace("-", "").lower().startswith("wgs")), "")
    if datum.replace("-", "").lower() != "wgs84":
        return None
    if projection == "utm" and len(info) >= 9:
        try:
            zone = int(float(info[7]))
        except ValueError:
            return None
        south = info[8].strip().lower().startswith("s")
        return CRS.from_epsg((32700 if south else 32600) + zone) if 1 <= zone <= 60 else None
    if projection.startswith("geographic"):
        return CRS.from_epsg(4326)
    return None
