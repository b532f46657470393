"""Band math by wavelength: ``(R860 - R650) / (R860 + R650)``, evaluated safely, tile by tile.

Names
-----
``R<nm>``
    The good band nearest ``nm`` nanometres (``R860``; ``R860_5`` for 860.5 nm). Refused, naming the
    nearest band, when none lies within its FWHM of the wavelength (or ``tolerance`` nm when given;
    without FWHM, the median band spacing).
``B<n>``
    Band number ``n``, counted from 1 as the display panel does.

Operators and functions
-----------------------
``+ - * / **``, comparisons ``< <= > >= == !=``, ``&`` ``|`` ``~`` and ``and`` ``or`` ``not`` (element
by element), numbers, and the functions ``where(cond, a, b)``, ``log``, ``sqrt``, ``abs``, ``min(a, b, ...)``,
``max(a, b, ...)``. Nothing else: the text is parsed with :mod:`ast` and every node is checked against
this list before anything is evaluated, and evaluation walks the checked tree with NumPy (no
``eval``). Division by zero, ``log`` of a negative number and the like give NaN, which is nodata.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hsiviewer.errors import HsiError
from hsiviewer.progress import (
    CancelToken,
    EtaClock,
    ProgressCallback,
    ProgressEvent,
    check,
    report,
)
from hsiviewer.spectral.tiles import read_ahead, row_tiles

TILE_PIXELS = 262_144

#: Index presets: name -> (expression, full name and source). Formulas follow the Awesome Spectral
#: Indices catalogue (github.com/awesome-spectral-indices), with its band letters written as centre
#: wavelengths (N = 860, R = 650, G = 560, RE1 = 720, S1 = 1640, S2 = 2200 nm).
PRESETS: dict[str, tuple[str, str]] = {
    "NDVI": ("(R860 - R650) / (R860 + R650)", "Normalized Difference Vegetation Index (Rouse et al. 1974)"),
    "NDWI": ("(R560 - R860) / (R560 + R860)", "Normalized Difference Water Index (McFeeters 1996)"),
    "NDRE": ("(R790 - R720) / (R790 + R720)", "Normalized Difference Red Edge (Barnes et al. 2000)"),
    "PRI": ("(R531 - R570) / (R531 + R570)", "Photochemical Reflectance Index (Gamon et al. 1992)"),
    "CAI": ("0.5 * (R2000 + R2200) - R2100", "Cellulose Absorption Index (Nagler et al. 2003), scene units"),
    "GNDVI": ("(R860 - R560) / (R860 + R560)", "Green Normalized Difference Vegetation Index (Gitelson et al. 1996)"),
    "NDMI": ("(R860 - R1640) / (R860 + R1640)", "Normalized Difference Moisture Index (Gao 1996)"),
    "NBR": ("(R860 - R2200) / (R860 + R2200)", "Normalized Burn Ratio (Key and Benson 2006)"),
    "MSI": ("R1600 / R820", "Moisture Stress Index (Hunt and Rock 1989)"),
    "CIRE": ("R790 / R720 - 1", "Chlorophyll Index Red Edge (Gitelson et al. 2003)"),
}

_BINARY: dict[type, Callable] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.BitAnd: np.logical_and,
    ast.BitOr: np.logical_or,
}
_UNARY: dict[type, Callable] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: np.logical_not,
    ast.Invert: np.logical_not,
}
_COMPARE: dict[type, Callable] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS: dict[str, tuple[Callable, int, int | None]] = {  # name -> (function, min args, max args)
    "where": (np.where, 3, 3),
    "log": (np.log, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "abs": (np.abs, 1, 1),
    "min": (lambda *a: np.minimum.reduce(np.broadcast_arrays(*a)), 1, None),
    "max": (lambda *a: np.maximum.reduce(np.broadcast_arrays(*a)), 1, None),
}
_NAME = re.compile(r"^(?:R(\d+)(?:_(\d+))?|B(\d+))$")
_ALLOWED = ", ".join(_FUNCTIONS)


class BandMathError(HsiError):
    """An expression cannot be parsed, names something unknown, or asks for a band the scene lacks."""


@dataclass
class BandExpression:
    """A checked expression bound to one scene's bands.

    Attributes
    ----------
    text : str
        The expression as typed.
    bands : dict[str, int]
        Each band name used (``"R860"``, ``"B3"``) -> 0-based band index.
    """

    text: str
    tree: ast.Expression
    bands: dict[str, int] = field(default_factory=dict)

    @property
    def band_indices(self) -> list[int]:
        """The distinct bands to read, sorted."""
        return sorted(set(self.bands.values()))

    def describe(self, scene) -> str:
        """Which band each name took, e.g. ``"R860 = band 51 (861.4 nm)"``."""
        return "; ".join(f"{name} = {scene.band_label(i)}" for name, i in self.bands.items())

    def evaluate(self, arrays: dict[int, np.ndarray]) -> np.ndarray:
        """The expression on band arrays ``{band index: array}``: float32, NaN where not finite."""
        with np.errstate(all="ignore"):
            value = np.asarray(_Evaluator(self.bands, arrays).visit(self.tree.body), np.float32)
        out = np.array(value, np.float32, copy=True)
        out[~np.isfinite(out)] = np.nan
        return out


def parse_expression(text: str, scene, tolerance: float | None = None) -> BandExpression:
    """Parse ``text`` and bind its band names to ``scene``'s bands.

    Parameters
    ----------
    text : str
    scene : Scene
        Only its wavelengths, FWHM, bad bands and band count are used.
    tolerance : float, optional
        Largest distance in nm between an ``R<nm>`` and its band (default: the band's FWHM).

    Raises
    ------
    BandMathError
        A syntax error (with its column), a name or construct outside the list above, or a wavelength
        or band the scene does not have (naming the nearest band or the range it covers).
    """
    text = (text or "").strip()
    if not text:
        raise BandMathError("the expression is empty; type one such as (R860 - R650) / (R860 + R650)")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        column = exc.offset or 0
        raise BandMathError(
            f"syntax error at column {column}: {exc.msg}\n  {text}\n  {' ' * max(0, column - 1)}^"
        ) from None
    expression = BandExpression(text, tree)
    for node in ast.walk(tree):
        _check_node(node, text)
        if isinstance(node, ast.Name) and node.id not in _FUNCTIONS:
            expression.bands[node.id] = resolve_band(node.id, scene, tolerance, node.col_offset + 1)
    if not expression.bands:
        raise BandMathError("the expression uses no band; name one as R<nm> (e.g. R860) or B<n> (e.g. B12)")
    return expression


def _check_node(node: ast.AST, text: str) -> None:
    column = getattr(node, "col_offset", 0) + 1
    if (
        isinstance(node, (ast.Expression, ast.Load, ast.And, ast.Or))
        or type(node) in _BINARY
        or type(node) in _UNARY
        or type(node) in _COMPARE
    ):
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise BandMathError(f"the operator at column {column} is not allowed (use + - * / ** & |)")
        return
    if isinstance(node, ast.Compare) and any(type(op) not in _COMPARE for op in node.ops):
        raise BandMathError(f"the comparison at column {column} is not allowed (use < <= > >= == !=)")
    if isinstance(node, (ast.UnaryOp, ast.Compare, ast.BoolOp)):
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise BandMathError(f"only numbers are allowed as constants, not {node.value!r} (column {column})")
        return
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in _FUNCTIONS or node.keywords:
            shown = name or ast.get_source_segment(text, node.func) or "?"
            raise BandMathError(f"unknown function '{shown}' at column {column}; allowed: {_ALLOWED}")
        _, low, high = _FUNCTIONS[name]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            wanted = str(low) if low == high else f"at least {low}"
            raise BandMathError(f"{name}() at column {column} takes {wanted} argument(s), got {len(node.args)}")
        return
    if isinstance(node, ast.Name):
        if node.id not in _FUNCTIONS and not _NAME.match(node.id):
            raise BandMathError(
                f"unknown name '{node.id}' at column {column}; use R<nm> (e.g. R860), B<n> "
                f"(e.g. B12) or the functions {_ALLOWED}"
            )
        return
    segment = ast.get_source_segment(text, node) or type(node).__name__
    raise BandMathError(f"'{segment}' at column {column} is not allowed in band math")


def resolve_band(name: str, scene, tolerance: float | None = None, column: int = 0) -> int:
    """The 0-based band index of ``R<nm>`` or ``B<n>`` in ``scene`` (see the module notes).

    Raises
    ------
    BandMathError
    """
    match = _NAME.match(name)
    if match is None:
        raise BandMathError(f"unknown name '{name}'")
    if match.group(3) is not None:
        number = int(match.group(3))
        if not 1 <= number <= scene.n_bands:
            raise BandMathError(f"{name}: the scene has bands 1-{scene.n_bands}")
        return number - 1
    nm = float(f"{match.group(1)}.{match.group(2) or 0}")
    if scene.wavelengths is None:
        raise BandMathError(f"{name}: the scene has no wavelengths; name bands by number instead (B1-B{scene.n_bands})")
    wl = np.asarray(scene.wavelengths, float)
    good = ~np.asarray(scene.bad_bands, bool)
    if not good.any():
        raise BandMathError(f"{name}: every band of the scene is flagged bad")
    low, high = float(wl[good].min()), float(wl[good].max())
    distance = np.where(good, np.abs(wl - nm), np.inf)
    index = int(np.argmin(distance))
    allowed = _allowed_distance(scene, index, tolerance)
    if distance[index] <= allowed:
        return index
    if nm < low - allowed or nm > high + allowed:
        raise BandMathError(f"{name}: the scene covers {low:.0f}-{high:.0f} nm")
    raise BandMathError(
        f"{name}: no band lies within {allowed:.1f} nm of {nm:g} nm; the nearest is "
        f"{scene.band_label(index)}, {distance[index]:.1f} nm away (a bad-band gap?)"
    )


def _allowed_distance(scene, index: int, tolerance: float | None) -> float:
    if tolerance is not None:
        return float(tolerance)
    if scene.fwhm is not None and np.isfinite(scene.fwhm[index]) and scene.fwhm[index] > 0:
        return float(scene.fwhm[index])
    steps = np.diff(np.sort(np.asarray(scene.wavelengths, float)))
    steps = steps[steps > 0]
    return float(np.median(steps)) if steps.size else 0.0


class _Evaluator(ast.NodeVisitor):
    """Walks a checked tree; only the node types :func:`_check_node` let through have a method."""

    def __init__(self, bands: dict[str, int], arrays: dict[int, np.ndarray]) -> None:
        self.bands, self.arrays = bands, arrays

    def visit_BinOp(self, node):
        return _BINARY[type(node.op)](self.visit(node.left), self.visit(node.right))

    def visit_UnaryOp(self, node):
        return _UNARY[type(node.op)](self.visit(node.operand))

    def visit_BoolOp(self, node):
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        values = [self.visit(v) for v in node.values]
        out = values[0]
        for value in values[1:]:
            out = combine(out, value)
        return out

    def visit_Compare(self, node):
        left, out = self.visit(node.left), True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.visit(right_node)
            out = np.logical_and(out, _COMPARE[type(op)](left, right))
            left = right
        return out

    def visit_Call(self, node):
        return _FUNCTIONS[node.func.id][0](*(self.visit(a) for a in node.args))

    def visit_Name(self, node):
        return self.arrays[self.bands[node.id]]

    def visit_Constant(self, node):
        return np.float32(node.value)

    def generic_visit(self, node):
        raise BandMathError(f"'{type(node).__name__}' is not allowed in band math")


def evaluate(
    scene,
    expression: str | BandExpression,
    tolerance: float | None = None,
    tile_pixels: int = TILE_PIXELS,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Evaluate a band-math expression over the whole scene, reading only its bands, tile by tile.

    Parameters
    ----------
    scene : Scene
    expression : str or BandExpression
    tolerance : float, optional
        See :func:`parse_expression`.
    tile_pixels : int
        About how many pixels are read at once.
    progress, cancel
        A ``"bandmath"`` event after each tile; cancel raises :class:`~hsiviewer.errors.Cancelled`.

    Returns
    -------
    ndarray (rows, cols) of float32
        NaN where a band used is nodata or the result is not finite (division by zero, ...).
    """
    expr = expression if isinstance(expression, BandExpression) else parse_expression(expression, scene, tolerance)
    bands = expr.band_indices
    out = np.empty(scene.shape[:2], np.float32)
    tiles = row_tiles(scene.n_rows, scene.n_cols, tile_pixels)
    clock = EtaClock(len(tiles))
    for done, (a, b, block) in enumerate(read_ahead(scene, tiles, bands)):
        check(cancel)
        arrays = {band: block[:, :, k].astype(np.float32) for k, band in enumerate(bands)}
        value = expr.evaluate(arrays)
        if scene.nodata is not None:
            nodata = np.isnan(block) if np.isnan(scene.nodata) else block == scene.nodata
            value[np.any(nodata, axis=2)] = np.nan
        out[a:b] = value
        report(
            progress,
            ProgressEvent("bandmath", done + 1, len(tiles), f"rows {a}-{b - 1} of {scene.n_rows}", clock.eta(done + 1)),
        )
    return out


def preset_expression(name: str) -> str:
    """The expression of preset ``name`` (case-insensitive).

    Raises
    ------
    BandMathError
        For an unknown preset, listing the known ones.
    """
    key = name.strip().upper()
    if key not in PRESETS:
        raise BandMathError(f"unknown index preset '{name}'; known: {', '.join(PRESETS)}")
    return PRESETS[key][0]
