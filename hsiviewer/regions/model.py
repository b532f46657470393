"""Training regions: a class list and hand-drawn or imported regions, with undo and redo.

Geometries of a :class:`RegionSet` are in the *pixel space* of the scene they belong to: x is the
column, y the row, and pixel (row, col) covers ``[col, col + 1] x [row, row + 1]`` (so its centre is
at ``(col + 0.5, row + 0.5)``). Drawing tools work in that space directly; :mod:`hsiviewer.regions.vector`
converts to and from the scene's map coordinates when reading and writing files.

Every edit is one step of the undo history. The set is evented (psygnal): :attr:`RegionSet.changed`
carries what changed and the pixel-space bounding box it touched, so a view redraws only that box.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Optional

from psygnal import Signal
from shapely.geometry.base import BaseGeometry

from hsiviewer.data.classes import ClassTable, Color, default_color

#: A bounding box (xmin, ymin, xmax, ymax) in pixel space, or None for "everything".
Box = Optional[tuple[float, float, float, float]]


@dataclass(frozen=True)
class RegionClass:
    """A class of the regions: a stable id (1, 2, ...), a name, a colour and whether it is shown."""

    class_id: int
    name: str
    color: Color
    visible: bool = True


@dataclass(frozen=True)
class Region:
    """One training region: a (multi)polygon or point in pixel space, its class and a stable id."""

    region_id: int
    class_id: int
    geometry: BaseGeometry

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in pixel space."""
        return tuple(self.geometry.bounds)


@dataclass(frozen=True)
class _State:
    classes: dict  # class_id -> RegionClass (insertion order kept)
    regions: dict  # region_id -> Region; the order is the drawing order (later wins when rasterised)
    next_region: int
    next_class: int


class RegionSet:
    """The classes and regions of one scene, with an undo history.

    Signals
    -------
    changed(kind, box)
        ``kind`` is ``"regions"`` (geometries or their classes changed inside ``box``), ``"classes"``
        (names, colours, visibility; ``box`` None) or ``"reset"`` (everything; ``box`` None).
    """

    changed = Signal(str, object)

    def __init__(self) -> None:
        self._state = _State({}, {}, 1, 1)
        self._undo: list[_State] = []
        self._redo: list[_State] = []
        self._saved_state: Optional[_State] = self._state

    # --- reading ------------------------------------------------------------------------------------
    @property
    def classes(self) -> list[RegionClass]:
        """The classes, in the order they were added."""
        return list(self._state.classes.values())

    @property
    def regions(self) -> list[Region]:
        """The regions in drawing order (a later region wins where regions overlap)."""
        return list(self._state.regions.values())

    def region(self, region_id: int) -> Region:
        """The region with id ``region_id`` (KeyError when there is none)."""
        return self._state.regions[int(region_id)]

    def get_class(self, class_id: int) -> RegionClass:
        """The class with id ``class_id`` (KeyError when there is none)."""
        return self._state.classes[int(class_id)]

    def __len__(self) -> int:
        return len(self._state.regions)

    def class_table(self) -> ClassTable:
        """The classes as a :class:`~hsiviewer.data.classes.ClassTable` (for label rasters and models)."""
        names = {c.class_id: c.name for c in self.classes}
        colors = {c.class_id: c.color for c in self.classes}
        return ClassTable.from_ids(names, names, colors)

    @property
    def dirty(self) -> bool:
        """True when there are edits since the last :meth:`mark_saved` (or since creation)."""
        saved = self._saved_state
        # visibility is a view setting, not data: hiding a class does not make the file stale
        return (
            saved is None or saved.regions is not self._state.regions or _class_data(saved) != _class_data(self._state)
        )

    def mark_saved(self) -> None:
        """Remember the current state as the one on disk."""
        self._saved_state = self._state

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    # --- classes ----------------------------------------------------------------------------------
    def add_class(self, name: str, color: Optional[Color] = None, class_id: Optional[int] = None) -> RegionClass:
        """Add a class; the id is the next free one unless given. Returns the new class."""
        state = self._state
        cid = int(class_id) if class_id is not None else state.next_class
        if cid < 1 or cid > 65535:
            raise ValueError(f"a class id must be between 1 and 65535, got {cid}")
        if cid in state.classes:
            raise ValueError(f"there is already a class with id {cid}")
        if any(c.name == name for c in state.classes.values()):
            raise ValueError(f"there is already a class called '{name}'")
        r, g, b = (int(v) for v in (color or default_color(cid))[:3])
        new = RegionClass(cid, str(name), (r, g, b))
        classes = dict(state.classes)
        classes[cid] = new
        self._commit(replace(state, classes=classes, next_class=max(state.next_class, cid + 1)), "classes", None)
        return new

    def rename_class(self, class_id: int, name: str) -> None:
        """Give class ``class_id`` a new name."""
        if any(c.name == name and c.class_id != class_id for c in self.classes):
            raise ValueError(f"there is already a class called '{name}'")
        self._edit_class(class_id, name=str(name))

    def recolor_class(self, class_id: int, color: Color) -> None:
        """Give class ``class_id`` a new colour (r, g, b)."""
        self._edit_class(class_id, color=tuple(int(v) for v in color)[:3])

    def set_class_visible(self, class_id: int, visible: bool) -> None:
        """Show or hide the regions of a class on the map (not an undoable edit of the data)."""
        cls = self.get_class(class_id)
        if cls.visible != bool(visible):
            classes = dict(self._state.classes)
            classes[cls.class_id] = replace(cls, visible=bool(visible))
            # visibility is a view setting: it changes the state without an undo step
            self._state = replace(self._state, classes=classes)
            self.changed.emit("classes", None)

    def merge_classes(self, source_id: int, target_id: int) -> None:
        """Move every region of class ``source_id`` to ``target_id`` and delete ``source_id``."""
        self.get_class(target_id)
        self.get_class(source_id)
        if source_id == target_id:
            return
        state = self._state
        regions = {
            rid: (replace(r, class_id=target_id) if r.class_id == source_id else r) for rid, r in state.regions.items()
        }
        classes = {cid: c for cid, c in state.classes.items() if cid != source_id}
        self._commit(replace(state, classes=classes, regions=regions), "reset", None)

    def delete_class(self, class_id: int) -> None:
        """Delete class ``class_id`` and its regions."""
        self.get_class(class_id)
        state = self._state
        regions = {rid: r for rid, r in state.regions.items() if r.class_id != class_id}
        classes = {cid: c for cid, c in state.classes.items() if cid != class_id}
        self._commit(replace(state, classes=classes, regions=regions), "reset", None)

    def _edit_class(self, class_id: int, **changes) -> None:
        cls = self.get_class(class_id)
        classes = dict(self._state.classes)
        classes[cls.class_id] = replace(cls, **changes)
        self._commit(replace(self._state, classes=classes), "classes", None)

    # --- regions ----------------------------------------------------------------------------------
    def add_region(self, geometry: BaseGeometry, class_id: int, region_id: Optional[int] = None) -> Region:
        """Add a region of class ``class_id`` on top of the others. Returns it (with its new id)."""
        return self.add_regions([(geometry, class_id, region_id)])[0]

    def add_regions(self, items: Iterable[tuple[BaseGeometry, int, Optional[int]]]) -> list[Region]:
        """Add several regions as one undo step: ``(geometry, class_id, region_id or None)`` each."""
        state = self._state
        regions = dict(state.regions)
        next_id = state.next_region
        added = []
        for geometry, class_id, region_id in items:
            if int(class_id) not in state.classes:
                raise ValueError(f"there is no class with id {class_id}; add it first")
            if geometry is None or geometry.is_empty:
                raise ValueError("a region needs a non-empty geometry")
            rid = int(region_id) if region_id is not None else next_id
            if rid in regions:
                raise ValueError(f"there is already a region with id {rid}")
            next_id = max(next_id, rid + 1)
            regions[rid] = Region(rid, int(class_id), geometry)
            added.append(regions[rid])
        if added:
            self._commit(replace(state, regions=regions, next_region=next_id), "regions", _union_box(added))
        return added

    def set_geometry(self, region_id: int, geometry: BaseGeometry) -> None:
        """Replace the geometry of a region (a move or a reshape); an empty geometry deletes it."""
        old = self.region(region_id)
        regions = dict(self._state.regions)
        if geometry is None or geometry.is_empty:
            del regions[old.region_id]
            box = _union_box([old])
        else:
            regions[old.region_id] = replace(old, geometry=geometry)
            box = _union_box([old, regions[old.region_id]])
        self._commit(replace(self._state, regions=regions), "regions", box)

    def set_region_class(self, region_id: int, class_id: int) -> None:
        """Move a region to another class."""
        old = self.region(region_id)
        self.get_class(class_id)
        regions = dict(self._state.regions)
        regions[old.region_id] = replace(old, class_id=int(class_id))
        self._commit(replace(self._state, regions=regions), "regions", _union_box([old]))

    def delete_regions(self, region_ids: Iterable[int]) -> None:
        """Delete regions (one undo step)."""
        ids = {int(i) for i in region_ids}
        gone = [r for rid, r in self._state.regions.items() if rid in ids]
        if gone:
            regions = {rid: r for rid, r in self._state.regions.items() if rid not in ids}
            self._commit(replace(self._state, regions=regions), "regions", _union_box(gone))

    def erase(self, shape: BaseGeometry) -> list[int]:
        """Cut ``shape`` out of every region it touches (one undo step); returns the ids changed.

        A region left empty is deleted.
        """
        state = self._state
        regions = dict(state.regions)
        touched = []
        for rid, region in state.regions.items():
            if region.geometry.intersects(shape):
                rest = region.geometry.difference(shape)
                touched.append(region)
                if rest.is_empty or (rest.area == 0 and region.geometry.area > 0):
                    del regions[rid]
                else:
                    regions[rid] = replace(region, geometry=rest)
        if touched:
            self._commit(replace(state, regions=regions), "regions", _union_box(touched))
        return [r.region_id for r in touched]

    def regions_at(self, x: float, y: float) -> list[Region]:
        """The regions containing pixel-space point (x, y), topmost first."""
        from shapely.geometry import Point

        point = Point(x, y)
        return [r for r in reversed(self.regions) if r.geometry.covers(point)]

    def load(self, classes: Iterable[RegionClass], regions: Iterable[Region]) -> None:
        """Replace everything (an opened file); clears the history and marks the set saved."""
        class_map = {c.class_id: c for c in classes}
        region_map = {r.region_id: r for r in regions}
        for r in region_map.values():
            if r.class_id not in class_map:
                raise ValueError(f"region {r.region_id} has class {r.class_id}, which is not in the class list")
        self._state = _State(class_map, region_map, max(region_map, default=0) + 1, max(class_map, default=0) + 1)
        self._undo.clear()
        self._redo.clear()
        self._saved_state = self._state
        self.changed.emit("reset", None)

    # --- history ----------------------------------------------------------------------------------
    def undo(self) -> bool:
        """Undo the last edit; False when there is none."""
        if not self._undo:
            return False
        self._redo.append(self._state)
        self._swap(self._undo.pop())
        return True

    def redo(self) -> bool:
        """Redo the last undone edit; False when there is none."""
        if not self._redo:
            return False
        self._undo.append(self._state)
        self._swap(self._redo.pop())
        return True

    def _swap(self, new: _State) -> None:
        old = self._state
        self._state = new
        if old.classes != new.classes and {k: v.class_id for k, v in old.classes.items()} != {
            k: v.class_id for k, v in new.classes.items()
        }:
            self.changed.emit("reset", None)
            return
        changed = [r for rid, r in old.regions.items() if new.regions.get(rid) is not r]
        changed += [r for rid, r in new.regions.items() if old.regions.get(rid) is not r]
        if old.classes != new.classes:
            self.changed.emit("classes", None)
        if changed or list(old.regions) != list(new.regions):
            self.changed.emit("regions", _union_box(changed) if changed else None)

    def _commit(self, new: _State, kind: str, box: Box) -> None:
        self._undo.append(self._state)
        self._redo.clear()
        self._state = new
        self.changed.emit(kind, box)


def _class_data(state: _State) -> list:
    return [(c.class_id, c.name, c.color) for c in state.classes.values()]


def _union_box(regions: Iterable[Region]) -> Box:
    boxes = [r.bounds for r in regions]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
