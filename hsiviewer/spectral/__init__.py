"""Spectral analysis: libraries of reference spectra, matching, continuum removal, band math, masks.

Qt-free, like the rest of the core. Each concept has its own module:

=================  ==========================================================================
module             what
=================  ==========================================================================
``library``        :class:`SpectralLibrary`, resampling to a scene's bands
``library_io``     readers (ENVI ``.sli``, CSV, USGS splib07 ASCII, ECOSTRESS) and writers
``matching``       SAM and SID of every scene pixel against references, tiled
``continuum``      continuum removal (upper convex hull) and first derivative, by wavelength
``bandmath``       expressions by wavelength (``R860``) and band number (``B12``), index presets
``mask``           thresholds of continuous layers, combined into masks; mask rasters
``tiles``          row tiles of a scene, read one tile ahead
=================  ==========================================================================

Float results (an index, a score) are written by :func:`hsiviewer.io.export.write_float_map`.
"""
