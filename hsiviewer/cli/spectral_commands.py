"""Spectral commands: ``library convert``, ``match`` and ``index``, and the mask options of train/predict.

Heavy imports (rasterio, Spectral Python) happen inside the handlers, so ``hsiviewer --help`` stays quick.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``library``, ``match`` and ``index`` to the ``hsiviewer`` sub-parsers."""
    _add_library(sub)
    _add_match(sub)
    _add_index(sub)


# --- parsers ------------------------------------------------------------------------------------
def _add_library(sub) -> None:
    p = sub.add_parser("library", help="spectral libraries: convert between formats, resample to a scene")
    lib_sub = p.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    c = lib_sub.add_parser(
        "convert", help="read a library (ENVI .sli, CSV, USGS splib07 ASCII, ECOSTRESS) and write it as .sli or .csv"
    )
    c.add_argument("input", help="the library to read")
    c.add_argument("output", help="the library to write (.sli or .csv)")
    c.add_argument(
        "--like", metavar="SCENE", help="resample the spectra to this scene's bands (its FWHM; bad bands become gaps)"
    )
    c.add_argument("--variable", help="for .mat / .npz scenes: the variable holding the cube")
    c.add_argument("--wavelengths", help="USGS ASCII: the wavelength file (default: found in the same folder)")
    c.add_argument(
        "--scale",
        type=float,
        choices=(1.0, 100.0, 10000.0),
        help="the value that means 100%% reflectance in the input (default: detected)",
    )
    c.add_argument(
        "--rescale",
        type=float,
        choices=(1.0, 100.0, 10000.0),
        help="write the spectra on this scale (e.g. 10000 to match a 0-10000 scene)",
    )
    c.set_defaults(handler=run_library_convert)


def _add_match(sub) -> None:
    p = sub.add_parser("match", help="map a scene against a spectral library (SAM or SID)")
    p.add_argument("scene")
    p.add_argument("--variable", help="for .mat / .npz scenes: the variable holding the cube")
    p.add_argument("--library", required=True, help="reference spectra (any format `library convert` reads)")
    p.add_argument("--out", required=True, help="class map GeoTIFF to write (best match, 0 = unclassified)")
    p.add_argument("--score", help="also write the best score (angle in radians, or SID) as float32 GeoTIFF")
    p.add_argument("--method", choices=("sam", "sid"), default="sam")
    p.add_argument("--threshold", type=float, help="largest score still classified (SAM: radians, e.g. 0.1)")
    p.set_defaults(handler=run_match)


def _add_index(sub) -> None:
    from hsiviewer.spectral.bandmath import PRESETS

    p = sub.add_parser(
        "index",
        help="band math by wavelength: an expression or an index preset",
        description="R<nm> is the band nearest a wavelength, B<n> band number n (from 1). "
        "Operators + - * / ** < > <= >= == != & |, functions where log sqrt "
        "abs min max. Presets: " + "; ".join(f"{k} = {v[0]}" for k, v in PRESETS.items()),
    )
    p.add_argument("scene", nargs="?")
    p.add_argument("--variable", help="for .mat / .npz scenes: the variable holding the cube")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--expr", help="e.g. '(R860 - R650) / (R860 + R650)'")
    what.add_argument("--preset", help="an index name, e.g. NDVI (see --list-presets)")
    what.add_argument("--list-presets", action="store_true", help="print the presets and their formulas")
    p.add_argument(
        "--tolerance", type=float, help="largest distance in nm from R<nm> to its band (default: the band's FWHM)"
    )
    p.add_argument("--out", help="float32 GeoTIFF to write (NaN = nodata)")
    p.set_defaults(handler=run_index)


def add_mask_options(p: argparse.ArgumentParser) -> None:
    """``--mask`` / ``--mask-expr`` for ``train`` and ``predict``."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--mask",
        metavar="MASK.tif",
        help="only pixels where this raster is non-zero take part (training samples them, prediction classifies them)",
    )
    group.add_argument(
        "--mask-expr",
        metavar="EXPR",
        help="band math: only pixels where it is true take part, e.g. '(R860 - R650) / (R860 + R650) > 0.3'",
    )


def mask_from_args(args: argparse.Namespace, scene):
    """The (rows, cols) bool mask the options ask for, or None."""
    from hsiviewer.spectral.mask import (
        MaskError,
        describe,
        mask_from_expression,
        read_mask,
    )

    if getattr(args, "mask", None):
        mask = read_mask(args.mask, scene.shape[:2])
    elif getattr(args, "mask_expr", None):
        mask = mask_from_expression(scene, args.mask_expr)
    else:
        return None
    if not mask.any():
        raise MaskError("the mask leaves no pixel inside; nothing would be used")
    print(f"mask: {describe(mask)}")
    return mask


# --- handlers -----------------------------------------------------------------------------------
def run_library_convert(args: argparse.Namespace) -> int:
    """Read a library, optionally resample and rescale it, and write it."""
    from hsiviewer import open_scene
    from hsiviewer.cli.common import check_writable
    from hsiviewer.spectral.library_io import read_library, write_library

    check_writable(args.output)
    lib = read_library(args.input, wavelengths=args.wavelengths, scale=args.scale)
    print(f"read {len(lib)} spectra of {lib.n_bands} bands" + _range(lib.wavelengths) + f", {lib.describe_scale()}")
    if args.like:
        scene = open_scene(args.like, variable=args.variable)
        lib = lib.for_scene(scene)
        gaps = int(np.sum(np.all(np.isnan(lib.spectra), axis=0)))
        print(
            f"resampled to the {scene.n_bands} bands of {scene.name}"
            + (f" ({gaps} gaps: bad bands or outside the library's range)" if gaps else "")
        )
    if args.rescale is not None and args.rescale != lib.scale:
        lib = lib.rescaled(args.rescale)
        print(f"rescaled to {lib.describe_scale()}")
    path = write_library(lib, args.output)
    print(f"wrote {path}")
    return 0


def run_match(args: argparse.Namespace) -> int:
    """Match a scene against a library; write the class map and the score."""
    from hsiviewer import open_scene
    from hsiviewer.cli.common import cancel_on_sigint, check_writable
    from hsiviewer.cli.progress_bar import ProgressBar
    from hsiviewer.io.export import write_class_map, write_float_map
    from hsiviewer.progress import CancelToken
    from hsiviewer.spectral.library_io import read_library
    from hsiviewer.spectral.matching import match_scene

    for target in (args.out, args.score):
        check_writable(target)
    scene = open_scene(args.scene, variable=args.variable)
    lib = read_library(args.library)
    token, bar = CancelToken(), ProgressBar()
    try:
        with cancel_on_sigint(token):
            result = match_scene(scene, lib, method=args.method, threshold=args.threshold, progress=bar, cancel=token)
    finally:
        bar.close()
    if result.cancelled:
        print("matching stopped by Ctrl-C; nothing was written", file=sys.stderr)
        return 130
    class_map = result.class_map
    write_class_map(args.out, class_map, result.classes(), like=scene)
    if args.score:
        write_float_map(args.score, result.score, result.score_name, like=scene, what="score map")
    print(
        f"{args.method.upper()} against {len(lib)} references on {int(result.bands_used.sum())} bands in "
        f"{result.seconds:.2f} s; class map written to {args.out}" + (f", score to {args.score}" if args.score else "")
    )
    ids, counts = np.unique(class_map, return_counts=True)
    table = dict(zip(ids.tolist(), counts.tolist()))
    for i, name in enumerate(result.names, start=1):
        print(f"{i:>4}  {name[:40]:<40} {table.get(i, 0):>10,} px")
    print(f"{0:>4}  {'unclassified':<40} {table.get(0, 0):>10,} px")
    return 0


def run_index(args: argparse.Namespace) -> int:
    """Evaluate an expression or a preset over a scene and write it as a float32 GeoTIFF."""
    from hsiviewer.spectral.bandmath import (
        PRESETS,
        BandMathError,
        parse_expression,
        preset_expression,
    )

    if args.list_presets:
        for name, (formula, title) in PRESETS.items():
            print(f"{name:<6} {formula:<34} {title}")
        return 0
    if not args.scene or not args.out or not (args.expr or args.preset):
        raise BandMathError("give a scene, --expr EXPR or --preset NAME, and --out OUT.tif")
    from hsiviewer import open_scene
    from hsiviewer.cli.common import check_writable
    from hsiviewer.cli.progress_bar import ProgressBar
    from hsiviewer.io.export import write_float_map
    from hsiviewer.spectral.bandmath import evaluate

    check_writable(args.out)
    text = args.expr or preset_expression(args.preset)
    scene = open_scene(args.scene, variable=args.variable)
    expr = parse_expression(text, scene, args.tolerance)
    bar = ProgressBar()
    try:
        values = evaluate(scene, expr, progress=bar)
    finally:
        bar.close()
    description = args.preset.upper() if args.preset else text
    write_float_map(args.out, values, description, like=scene, what="index")
    finite = values[np.isfinite(values)]
    stats = f"min {finite.min():.4g}, mean {finite.mean():.4g}, max {finite.max():.4g}" if finite.size else "no value"
    print(f"{text}  ({expr.describe(scene)})")
    print(f"written to {args.out}: {stats}; {values.size - finite.size:,} nodata pixels")
    return 0


def _range(wavelengths) -> str:
    if wavelengths is None:
        return " (no wavelengths)"
    return f", {np.nanmin(wavelengths):.0f}-{np.nanmax(wavelengths):.0f} nm"
