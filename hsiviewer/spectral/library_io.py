"""Spectral libraries on disk: ENVI ``.sli``, CSV, USGS splib07 ASCII and ECOSTRESS text.

=========================  =======================================================================
format                     layout
=========================  =======================================================================
ENVI (``.sli`` + ``.hdr``)  through Spectral Python (``spectra names``, ``wavelength``, ``fwhm``)
CSV, one spectrum a column  a wavelength column (``wavelength``, ``wavelength_nm``, ``wl``, ...) or a
                           ``band`` column, then one column per spectrum named in the header (this is
                           what the spectrum panel's *Export CSV* writes); an optional ``fwhm`` column
CSV, one spectrum a row     a header of wavelengths after a first name cell, then ``name, v1, v2, ...``
USGS splib07 ASCII          a title line then one value a line (``-1.23e34`` = deleted channel); the
                           wavelengths are the ``*Wavelengths*`` file of the same channel count in the
                           same folder (or ``wavelengths=``); a ``*Bandpass*`` file gives the FWHM
ECOSTRESS / ASTER text      ``Key: value`` header lines (``Name``, ``X Units``, ``Y Units``), then
                           ``wavelength value`` pairs
=========================  =======================================================================
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from hsiviewer.errors import ExportError, HsiError
from hsiviewer.io.atomic import atomic_path
from hsiviewer.spectral.library import (
    LibraryError,
    SpectralLibrary,
    detect_scale,
    to_nanometres,
)

#: USGS marks deleted channels with this value.
USGS_DELETED = -1.23e34
_WAVELENGTH_HEADER = re.compile(r"^(wave|wl\b|wl_|lambda|nm\b|um\b|µm|micron)", re.IGNORECASE)


def read_library(
    path: str | Path, wavelengths: str | Path | None = None, scale: float | None = None
) -> SpectralLibrary:
    """Read a spectral library in any of the formats above (chosen by suffix and content).

    Parameters
    ----------
    path : str or Path
    wavelengths : str or Path, optional
        For USGS ASCII: the wavelength file (found in the same folder when not given).
    scale : float, optional
        The value meaning 100 % reflectance (1, 100, 10000); detected from the values when not given.

    Returns
    -------
    SpectralLibrary
        Wavelengths in nm, :attr:`~SpectralLibrary.scale` set and ``scale_detected`` saying whether guessed.

    Raises
    ------
    LibraryError
        When the file is missing or not a library in a known format; the message names the file.
    """
    path = Path(path)
    if not path.exists():
        raise LibraryError("no such file", path)
    if path.is_dir():
        raise LibraryError("is a folder, not a spectral library", path)
    try:
        lib = _read_any(path, wavelengths)
    except HsiError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, KeyError, IndexError) as exc:
        raise LibraryError(f"cannot be read as a spectral library ({type(exc).__name__}: {exc})", path) from exc
    lib.path = path
    if scale is not None:
        lib.scale, lib.scale_detected = float(scale), False
    if len(lib) == 0:
        raise LibraryError("holds no spectra", path)
    # Bands stay in the file's order: overlapping detectors (AVIRIS) are not monotonic, and a library
    # collected from such a scene must keep its band-for-band match with it.
    return lib


def _read_any(path: Path, wavelengths) -> SpectralLibrary:
    suffix = path.suffix.lower()
    if suffix in (".sli", ".hdr"):
        return read_envi_library(path)
    if suffix == ".csv":
        return read_csv_library(path)
    head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    if re.search(r"^\s*name\s*:", head, re.IGNORECASE | re.MULTILINE):
        return read_ecostress(path)
    if re.match(r"\s*splib|.*record\s*=", head.splitlines()[0] if head else "", re.IGNORECASE):
        return read_usgs_ascii(path, wavelengths)
    if "," in head.splitlines()[0]:
        return read_csv_library(path)
    raise LibraryError(
        "is not a spectral library of a known format (ENVI .sli, CSV, USGS splib07 ASCII, ECOSTRESS text)", path
    )


# --- ENVI -----------------------------------------------------------------------------------
def _envi_pair(path: Path) -> tuple[Path, Path]:
    header: Path | None
    data: Path | None
    if path.suffix.lower() == ".hdr":
        header = path
        data = next(
            (
                p
                for p in (path.with_suffix(".sli"), path.with_suffix(".SLI"), path.with_suffix(""))
                if p.exists() and p != header
            ),
            None,
        )
    else:
        data = path
        header = next((p for p in (path.with_suffix(".hdr"), path.with_name(path.name + ".hdr")) if p.exists()), None)
    if header is None or data is None:
        raise LibraryError("has no matching " + ("data file (.sli)" if header else "header (.hdr)"), path)
    return header, data


def read_envi_library(path: str | Path) -> SpectralLibrary:
    """Read an ENVI spectral library (``.sli`` + ``.hdr``) with Spectral Python."""
    from spectral.io import envi

    header, data = _envi_pair(Path(path))
    try:
        sli = envi.open(str(header), str(data))
    except envi.EnviException as exc:
        raise LibraryError(f"is not an ENVI spectral library ({exc})", path) from exc
    if not isinstance(sli, envi.SpectralLibrary):
        raise LibraryError("is an ENVI image, not a spectral library (file type = ENVI Spectral Library)", path)
    spectra = np.asarray(sli.spectra, np.float64)
    meta = dict(sli.metadata)
    names = (
        getattr(sli, "names", None)
        or meta.get("spectra names")
        or [f"spectrum {i + 1}" for i in range(spectra.shape[0])]
    )
    unit = meta.get("wavelength units") or getattr(sli.bands, "band_unit", None)
    centers = sli.bands.centers
    wl = None if not centers else to_nanometres(centers, unit)
    fwhm = sli.bands.bandwidths
    fwhm = (
        None
        if not fwhm
        else to_nanometres(fwhm, unit)
        if unit
        else (np.asarray(fwhm, float) * (1000.0 if centers and max(centers) < 30 else 1.0))
    )
    factor = meta.get("reflectance scale factor")
    scale = float(factor) if factor not in (None, "") else detect_scale(spectra)
    return SpectralLibrary(
        list(names),
        spectra,
        wl,
        fwhm,
        scale,
        factor in (None, ""),
        Path(path),
        {"description": meta.get("description", "")},
    )


def write_envi_library(lib: SpectralLibrary, path: str | Path, description: str = "") -> Path:
    """Write ``lib`` as ENVI ``<stem>.sli`` + ``<stem>.hdr`` (float32, wavelengths in nm), atomically.

    Spectral Python writes both files into a temporary folder beside the target; they are then
    renamed into place, so a failed write leaves any earlier library untouched.
    """
    from spectral.io import envi

    path = Path(path)
    target = path.with_suffix(".sli")
    if not target.parent.is_dir():
        raise ExportError(f"the folder {target.parent} does not exist", target)
    # ENVI lists are comma-separated: SPy writes a comma inside a name as "-".
    header = {
        "spectra names": list(lib.names),
        "wavelength units": "Nanometers",
        "reflectance scale factor": float(lib.scale),
    }
    if lib.wavelengths is not None:
        header["wavelength"] = [float(w) for w in lib.wavelengths]
    if lib.fwhm is not None:
        header["fwhm"] = [float(w) for w in lib.fwhm]
    try:
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target.stem}.", dir=target.parent))
    except OSError as exc:
        raise ExportError(f"cannot write here ({exc.strerror})", target) from exc
    try:
        envi.SpectralLibrary(lib.spectra.astype(np.float32), header, {}).save(
            str(tmp_dir / target.stem), description or f"hsiviewer spectral library, {len(lib)} spectra"
        )
        os.replace(tmp_dir / (target.stem + ".hdr"), target.with_suffix(".hdr"))
        os.replace(tmp_dir / (target.stem + ".sli"), target)
    except OSError as exc:
        raise ExportError(f"cannot be written ({exc.strerror or exc})", target) from exc
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return target


# --- CSV ------------------------------------------------------------------------------------
def _number(text: str) -> float | None:
    text = text.strip()
    if text == "" or text.lower() in ("nan", "na"):
        return np.nan
    try:
        return float(text)
    except ValueError:
        return None


def _unit_of(header: str) -> str | None:
    low = header.lower()
    if re.search(r"(\bum\b|_um\b|µm|μm|micro)", low):
        return "micrometers"
    if re.search(r"(\bnm\b|_nm\b|nano)", low):
        return "nanometers"
    return None


def read_csv_library(path: str | Path) -> SpectralLibrary:
    """Read a CSV library, one spectrum per column or per row (see the module table)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise LibraryError("needs a header row and at least one row of values", path)
    header = [cell.strip() for cell in rows[0]]
    numbers_in_header = [_number(c) for c in header[1:]]
    if len(header) > 2 and all(v is not None and np.isfinite(v) for v in numbers_in_header):
        return _csv_by_row(path, header, rows[1:])
    return _csv_by_column(path, header, rows[1:])


def _values(path: Path, rows: list[list[str]], width: int) -> np.ndarray:
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row[:width]):
            value = _number(cell)
            if value is None:
                raise LibraryError(f"line {i + 2}, column {j + 1}: '{cell}' is not a number", path)
            out[i, j] = value
    return out


def _csv_by_row(path: Path, header: list[str], rows: list[list[str]]) -> SpectralLibrary:
    wl = to_nanometres([float(c) for c in header[1:]], _unit_of(header[0]))
    names = [row[0].strip() or f"spectrum {i + 1}" for i, row in enumerate(rows)]
    spectra = _values(path, [row[1:] for row in rows], len(wl))
    return SpectralLibrary(names, spectra, wl, None, detect_scale(spectra), True, path)


def _csv_by_column(path: Path, header: list[str], rows: list[list[str]]) -> SpectralLibrary:
    first = header[0].lower()
    values = _values(path, rows, len(header))
    fwhm_col = next((j for j, h in enumerate(header) if h.lower().startswith(("fwhm", "bandwidth"))), None)
    spectra_cols = [j for j in range(1, len(header)) if j != fwhm_col]
    if first.startswith("band"):
        wl = None
    elif _WAVELENGTH_HEADER.match(first) or first == "":
        wl = to_nanometres(values[:, 0], _unit_of(header[0]))
    else:
        raise LibraryError(
            f"its first column '{header[0]}' is neither wavelengths (wavelength, wavelength_nm, "
            f"wl, ...) nor band numbers (band), and its header is not a row of wavelengths",
            path,
        )
    if not spectra_cols:
        raise LibraryError("has a wavelength column but no spectrum columns", path)
    fwhm = None
    if fwhm_col is not None and wl is not None:
        fwhm = to_nanometres(
            values[:, fwhm_col], _unit_of(header[0]) or ("micrometers" if np.nanmax(values[:, 0]) < 30 else None)
        )
    spectra = values[:, spectra_cols].T
    names = [header[j] or f"spectrum {j}" for j in spectra_cols]
    return SpectralLibrary(names, spectra, wl, fwhm, detect_scale(spectra), True, path)


def write_csv_library(lib: SpectralLibrary, path: str | Path) -> Path:
    """Write ``lib`` as CSV, one spectrum per column after ``wavelength_nm`` (``band`` without wavelengths)."""
    path = Path(path)

    def cell(value: float) -> str:
        return "" if not np.isfinite(value) else repr(float(value)).removesuffix(".0")

    x = lib.wavelengths if lib.wavelengths is not None else np.arange(1, lib.n_bands + 1)
    first = "wavelength_nm" if lib.wavelengths is not None else "band"
    try:
        with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([first, *lib.names])
            for i, xi in enumerate(x):
                writer.writerow([cell(xi), *(cell(v) for v in lib.spectra[:, i])])
    except OSError as exc:
        raise ExportError(f"cannot be written ({exc.strerror or exc})", path) from exc
    return path


def write_library(lib: SpectralLibrary, path: str | Path) -> Path:
    """Write ``lib`` by suffix: ``.sli``/``.hdr`` -> ENVI, ``.csv`` -> CSV.

    Raises
    ------
    ExportError
        For another suffix or when the file cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".sli", ".hdr"):
        return write_envi_library(lib, path)
    if suffix == ".csv":
        return write_csv_library(lib, path)
    raise ExportError("a spectral library is written as .sli (ENVI) or .csv; choose one of these suffixes", path)


# --- USGS splib07 ---------------------------------------------------------------------------
def _usgs_column(path: Path) -> tuple[str, np.ndarray]:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines:
        raise LibraryError("is empty", path)
    values = []
    for number, line in enumerate(lines[1:], start=2):
        if line.strip():
            value = _number(line.split()[0])
            if value is None:
                raise LibraryError(f"line {number}: '{line.strip()}' is not a number", path)
            values.append(value)
    out = np.asarray(values, float)
    out[out <= USGS_DELETED / 10] = np.nan
    return lines[0].strip(), out


def _usgs_sibling(path: Path, kind: str, n: int) -> Path | None:
    # Several files may have the same channel count (ASD standard and high resolution bandpasses):
    # prefer the one whose instrument code (ASDFR, AVIRIS, BECK, ...) is in the spectrum's file name.
    def rank(candidate: Path) -> tuple[int, str]:
        codes = [t for t in re.split(r"[_.]", candidate.stem) if t.isupper() and len(t) >= 3]
        return (0 if any(code in path.name for code in codes) else 1, candidate.name)

    for candidate in sorted(path.parent.glob(f"*{kind}*"), key=rank):
        if candidate == path or not candidate.is_file():
            continue
        with contextlib.suppress(LibraryError, OSError):
            if len(_usgs_column(candidate)[1]) == n:
                return candidate
    return None


def read_usgs_ascii(path: str | Path, wavelengths: str | Path | None = None) -> SpectralLibrary:
    """Read one USGS splib07 ASCII spectrum with its wavelength (and bandpass) file."""
    path = Path(path)
    title, values = _usgs_column(path)
    wl_path = Path(wavelengths) if wavelengths is not None else _usgs_sibling(path, "Wavelength", len(values))
    if wl_path is None:
        raise LibraryError(
            f"is a USGS spectrum of {len(values)} channels but no '*Wavelengths*' file of "
            f"{len(values)} channels is in its folder; give one with --wavelengths",
            path,
        )
    _, wl = _usgs_column(wl_path)
    if len(wl) != len(values):
        raise LibraryError(f"has {len(values)} channels but the wavelength file has {len(wl)}", wl_path)
    band_path = _usgs_sibling(path, "Bandpass", len(values))
    fwhm = None if band_path is None else to_nanometres(_usgs_column(band_path)[1], "micrometers")
    # The title is "splib07a Record=6214: Alunite GDS82 Na82  W1R1Ba AREF": the name follows the record.
    name = title.split(":", 1)[1].strip() if ":" in title else title or path.stem
    keep = np.isfinite(wl)
    return SpectralLibrary(
        [re.sub(r"\s{2,}", " ", name)],
        values[None, keep],
        to_nanometres(wl[keep], "micrometers"),
        None if fwhm is None else fwhm[keep],
        detect_scale(values),
        True,
        path,
        {"title": title},
    )


# --- ECOSTRESS ------------------------------------------------------------------------------
def read_ecostress(path: str | Path) -> SpectralLibrary:
    """Read one ECOSTRESS (or ASTER) library spectrum: ``Key: value`` lines, then wavelength/value pairs."""
    path = Path(path)
    meta: dict[str, str] = {}
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if len(parts) >= 2 and _number(parts[0]) is not None and _number(parts[1]) is not None:
            pairs.append((float(parts[0]), float(parts[1])))
        elif ":" in line and not pairs:
            key, _, value = line.partition(":")
            meta[key.strip().lower()] = value.strip()
        elif line.strip() and pairs:
            raise LibraryError(f"line {number}: '{line.strip()}' is not a wavelength and a value", path)
    if not pairs:
        raise LibraryError("has an ECOSTRESS header but no wavelength/value lines", path)
    data = np.asarray(pairs, float)
    x_units, y_units = meta.get("x units", ""), meta.get("y units", "")
    if "wavenumber" in x_units.lower():
        raise LibraryError("holds a spectrum by wavenumber (cm-1); only wavelength spectra are supported", path)
    unit = "micrometers" if "micro" in x_units.lower() else "nanometers" if "nano" in x_units.lower() else None
    order = np.argsort(data[:, 0])
    values = data[order, 1]
    percent = "percent" in y_units.lower() or "%" in y_units
    scale = 100.0 if percent else detect_scale(values)
    return SpectralLibrary(
        [meta.get("name") or path.stem],
        values[None, :],
        to_nanometres(data[order, 0], unit),
        None,
        scale,
        not percent,
        path,
        meta,
    )
