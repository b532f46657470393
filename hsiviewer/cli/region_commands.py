"""Region commands: ``rasterize`` (training regions to the label GeoTIFF of a scene)."""

from __future__ import annotations

import argparse
import sys


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the region commands to the ``hsiviewer`` sub-parsers."""
    p = sub.add_parser(
        "rasterize", help="burn training regions (.gpkg, .shp, .geojson) into a label GeoTIFF on a scene's grid"
    )
    p.add_argument("regions", help="vector file of training regions")
    p.add_argument("--like", required=True, metavar="SCENE", help="the scene whose grid to use")
    p.add_argument("--out", required=True, metavar="LABELS.tif", help="label GeoTIFF to write (as export-map does)")
    p.add_argument("--class-field", help="the attribute holding the class (default: class_name, class, ...)")
    p.add_argument(
        "--all-touched",
        action="store_true",
        help="label every pixel a region touches (default: pixels whose centre is inside)",
    )
    p.add_argument(
        "--skip-empty",
        action="store_true",
        help="go on when some regions lie outside the scene or cover no pixel (they are listed)",
    )
    p.add_argument("--region-ids", metavar="IDS.tif", help="also write the region-id raster here")
    p.set_defaults(handler=run_rasterize)


def run_rasterize(args: argparse.Namespace) -> int:
    """Rasterise the regions and write the label GeoTIFF with colour table and class names."""
    from hsiviewer import open_scene
    from hsiviewer.cli.common import check_writable
    from hsiviewer.io.export import write_class_map
    from hsiviewer.regions.rasterize import label_scene
    from hsiviewer.regions.vector import read_regions

    for target in (args.out, args.region_ids):
        check_writable(target)
    region_file = read_regions(args.regions, args.class_field)
    scene = open_scene(args.like)
    labelled, raster = label_scene(scene, region_file, all_touched=args.all_touched, strict=not args.skip_empty)
    for note in region_file.notes + raster.problems():
        print(f"note: {note}", file=sys.stderr)
    write_class_map(args.out, raster.labels, labelled.classes, like=scene)
    if args.region_ids:
        _write_region_ids(args.region_ids, raster.region_ids, scene)
    counts = raster.pixel_counts()
    names = labelled.classes.names
    print(
        f"{len(region_file.region_ids)} regions, {sum(counts.values())} labelled pixels written to {args.out} "
        f"(class field '{region_file.class_field}', {'all touched' if args.all_touched else 'pixel centres'})"
    )
    for cid, n in counts.items():
        print(f"{cid:>5}  {names.get(cid, '')[:30]:<30} {n:>8} pixels")
    return 0


def _write_region_ids(path, region_ids, scene) -> None:
    import numpy as np

    from hsiviewer.io.atomic import atomic_path
    from hsiviewer.io.export import _open_for_writing, _profile

    profile = _profile(path, region_ids.shape, np.int32, nodata=0, like=scene, crs=None, transform=None)
    with atomic_path(path) as tmp, _open_for_writing(tmp, profile) as dst:
        dst.write(region_ids.astype(np.int32), 1)
        dst.set_band_description(1, "region id")
