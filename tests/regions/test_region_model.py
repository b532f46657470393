"""The region set: classes, regions, events with bounding boxes, undo and redo."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, box

from hsiviewer.regions.model import RegionSet


def test_every_edit_undoes_and_redoes():
    regions = RegionSet()
    events = []
    regions.changed.connect(lambda kind, b: events.append((kind, b)))
    a = regions.add_class("water")
    b = regions.add_class("grass", (1, 2, 3))
    r1 = regions.add_region(box(0, 0, 2, 2), a.class_id)
    r2 = regions.add_region(box(5, 5, 8, 9), b.class_id)
    assert events[-1] == ("regions", (5.0, 5.0, 8.0, 9.0))
    regions.set_geometry(r1.region_id, box(1, 1, 3, 3))  # a move
    assert events[-1] == ("regions", (0.0, 0.0, 3.0, 3.0))  # the old and the new place are redrawn
    regions.rename_class(a.class_id, "lake")
    regions.recolor_class(b.class_id, (9, 9, 9))
    regions.erase(box(6, 0, 20, 20))
    assert regions.region(r2.region_id).geometry.bounds == (5.0, 5.0, 6.0, 9.0)
    regions.merge_classes(b.class_id, a.class_id)
    snapshots = []
    while True:
        snapshots.append(
            (
                [(r.region_id, r.class_id, r.geometry.wkt) for r in regions.regions],
                [(c.class_id, c.name, c.color) for c in regions.classes],
            )
        )
        if not regions.undo():
            break
    assert snapshots[-1] == ([], [])
    assert len(snapshots) == 10  # 9 edits, then the empty start
    for expected in reversed(snapshots[:-1]):
        assert regions.redo()
        assert (
            [(r.region_id, r.class_id, r.geometry.wkt) for r in regions.regions],
            [(c.class_id, c.name, c.color) for c in regions.classes],
        ) == expected
    assert not regions.redo()


def test_a_new_edit_drops_the_redo_history_and_ids_stay_stable():
    regions = RegionSet()
    regions.add_class("a")
    first = regions.add_region(box(0, 0, 1, 1), 1)
    regions.add_region(box(2, 2, 3, 3), 1)
    regions.undo()
    third = regions.add_region(Point(5, 5), 1)
    assert not regions.can_redo
    assert third.region_id == 2 and first.region_id == 1
    regions.delete_regions([first.region_id])
    assert [r.region_id for r in regions.regions] == [2]
    regions.undo()
    assert [r.region_id for r in regions.regions] == [1, 2]


def test_dirty_follows_saves_and_undo_but_not_visibility():
    regions = RegionSet()
    assert not regions.dirty
    regions.add_class("a")
    regions.add_region(box(0, 0, 1, 1), 1)
    assert regions.dirty
    regions.mark_saved()
    regions.set_class_visible(1, False)
    assert not regions.dirty and not regions.get_class(1).visible
    regions.add_region(box(2, 2, 3, 3), 1)
    assert regions.dirty
    regions.undo()
    assert not regions.dirty


def test_refusals():
    regions = RegionSet()
    regions.add_class("a")
    with pytest.raises(ValueError, match="already a class called 'a'"):
        regions.add_class("a")
    with pytest.raises(ValueError, match="no class with id 7"):
        regions.add_region(box(0, 0, 1, 1), 7)
    with pytest.raises(ValueError, match="non-empty"):
        regions.add_region(box(0, 0, 1, 1).difference(box(0, 0, 1, 1)), 1)
    regions.add_region(box(0, 0, 2, 2), 1)
    assert [r.region_id for r in regions.regions_at(1, 1)] == [1] and regions.regions_at(3, 3) == []
    regions.delete_class(1)
    assert len(regions) == 0 and regions.classes == []
