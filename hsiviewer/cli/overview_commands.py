"""``hsiviewer overviews``: build a scene's pyramid ahead of time, or clear the pyramid cache.

The viewer builds a pyramid in the background the first time it opens a big scene without
overviews of its own (see :mod:`hsiviewer.viewer.pyramid`); this command does it before, so the
first open is as quick as any other.
"""

from __future__ import annotations

import argparse

from hsiviewer.errors import SceneReadError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``overviews`` command to the ``hsiviewer`` sub-parsers."""
    p = sub.add_parser("overviews", help="build the viewer's pyramid of a scene now, or clear the cache")
    p.add_argument("scene", nargs="?", help="the scene (omit with --clear-cache to clear every pyramid)")
    p.add_argument(
        "--clear-cache",
        action="store_true",
        help="remove the scene's pyramid (or, without a scene, every pyramid) instead",
    )
    p.add_argument("--variable", help="for .mat / .npz scenes: the name of the variable holding the cube")
    p.set_defaults(handler=run_overviews)


def run_overviews(args: argparse.Namespace) -> int:
    """Build or clear; prints what was done and where."""
    from hsiviewer import open_scene
    from hsiviewer.viewer.levels import gdal_overview_levels
    from hsiviewer.viewer.pyramid import PyramidCache, needs_pyramid, scene_bytes

    cache = PyramidCache()
    if args.scene is None:
        if not args.clear_cache:
            raise SceneReadError("name a scene (or give --clear-cache alone to clear every pyramid)", "")
        freed = cache.clear()
        print(f"cleared {cache.root}: {freed / 2**20:.1f} MiB freed")
        return 0
    scene = open_scene(args.scene, variable=args.variable)
    if args.clear_cache:
        freed = cache.clear(scene)
        print(f"removed the pyramid of {scene.name}: {freed / 2**20:.1f} MiB freed")
        return 0
    own = gdal_overview_levels(scene)
    if own:
        print(f"{scene.name} has overviews of its own (levels {sorted(own)}): nothing to build")
        return 0
    if not needs_pyramid(scene):
        print(f"{scene.name} ({scene_bytes(scene) / 2**20:.0f} MiB) is read fast enough without a pyramid")
        return 0
    return _build(cache, scene)


def _build(cache, scene) -> int:
    from hsiviewer.cli.progress_bar import ProgressBar

    bar = ProgressBar()
    try:  # Ctrl-C: the cache removes the half-built pyramid
        pyramid = cache.build(scene, progress=bar)
    finally:
        bar.close()
    print(f"pyramid of {scene.name}: levels {pyramid.levels}, {pyramid.nbytes() / 2**20:.1f} MiB in {pyramid.folder}")
    return 0
