"""Slice arithmetic shared by the lazy readers (GDAL windows and HDF5 reads want forward slices)."""

from __future__ import annotations


def forward_slice(sel: slice, size: int) -> tuple[slice, int]:
    """A forward slice covering the same items as ``sel``, and the step (1 or -1) that restores its order.

    Parameters
    ----------
    sel : slice
        Any slice, negative steps and open ends included.
    size : int
        Length of the axis it applies to.

    Returns
    -------
    forward : slice
        With concrete ``start <= stop`` and a positive step.
    flip : int
        ``1``, or ``-1`` when the block read with ``forward`` must be reversed (``block[::flip]``).
    """
    start, stop, step = sel.indices(size)
    if step > 0:
        return slice(start, max(start, stop), step), 1
    picked = range(start, stop, step)
    if not picked:
        return slice(0, 0, 1), 1
    return slice(picked[-1], picked[0] + 1, -step), -1
