"""The spectral library of a session as evented view state: which spectra, which are shown, in what colour.

The library panel and the spectrum plot mirror a :class:`LibraryView`; the matching tool takes its
spectra as references. Spectra are kept as read (their own bands and scale) and resampled to the
scene on demand (:meth:`LibraryView.for_scene`), cached until the library or the scene changes.
"""

from __future__ import annotations

import numpy as np
from psygnal import Signal

from hsiviewer.spectral.library import SpectralLibrary, scene_scale

#: Colours of library curves (muted, told apart from the bright pin colours).
LIBRARY_COLORS = (
    (141, 211, 199),
    (190, 186, 218),
    (251, 128, 114),
    (128, 177, 211),
    (253, 180, 98),
    (179, 222, 105),
    (252, 205, 229),
    (217, 217, 217),
    (188, 128, 189),
    (204, 235, 197),
)


class LibraryView:
    """A :class:`SpectralLibrary` with a visibility flag per spectrum.

    Attributes
    ----------
    library : SpectralLibrary or None
    visible : list of bool
    """

    #: Emitted after any change (library replaced, spectrum added, renamed, removed, shown or hidden).
    changed = Signal()

    def __init__(self) -> None:
        self.library: SpectralLibrary | None = None
        self.visible: list[bool] = []
        self._cache: tuple[int, int, SpectralLibrary] | None = None
        self._version = 0

    def __len__(self) -> int:
        return 0 if self.library is None else len(self.library)

    @property
    def names(self) -> list[str]:
        """The spectrum names, in order."""
        return [] if self.library is None else list(self.library.names)

    def color(self, index: int) -> tuple[int, int, int]:
        """The curve colour of spectrum ``index``."""
        return LIBRARY_COLORS[index % len(LIBRARY_COLORS)]

    def _touch(self) -> None:
        self._version += 1
        self._cache = None
        self.changed.emit()

    def set_library(self, library: SpectralLibrary | None) -> None:
        """Replace the library (every spectrum shown)."""
        self.library = library
        self.visible = [True] * (0 if library is None else len(library))
        self._touch()

    def add_spectrum(self, name: str, spectrum: np.ndarray, scene) -> None:
        """Add a spectrum of ``scene`` (on its bands, in its units), starting a library on the scene's bands."""
        spectrum = np.asarray(spectrum, float)
        if self.library is None or len(self.library) == 0:
            self.library = SpectralLibrary(
                [], np.zeros((0, scene.n_bands)), scene.wavelengths, scene.fwhm, scene_scale(scene), True
            )
            self.visible = []
        elif not self._on_scene_bands(scene):
            spectrum = (
                SpectralLibrary([name], spectrum[None, :], scene.wavelengths, scene.fwhm, scene_scale(scene))
                .resampled(self.library.wavelengths, self.library.fwhm)
                .rescaled(self.library.scale)
                .spectra[0]
            )
        self.library.add(name, spectrum)
        self.visible.append(True)
        self._touch()

    def rename(self, index: int, name: str) -> None:
        """Call spectrum ``index`` ``name``."""
        assert self.library is not None
        self.library.rename(index, name)
        self._touch()

    def remove(self, index: int) -> None:
        """Delete spectrum ``index``."""
        assert self.library is not None
        self.library.remove(index)
        del self.visible[index]
        self._touch()

    def set_visible(self, index: int, visible: bool) -> None:
        """Show or hide spectrum ``index`` in the spectrum plot."""
        if self.visible[index] != bool(visible):
            self.visible[index] = bool(visible)
            self.changed.emit()

    def for_scene(self, scene) -> SpectralLibrary | None:
        """The library resampled to ``scene``'s bands and scale (cached); None when empty.

        Raises
        ------
        LibraryError
            When the library has no wavelengths and another band count than the scene.
        """
        if self.library is None or len(self.library) == 0 or scene is None:
            return None
        if self._cache is None or self._cache[:2] != (self._version, id(scene)):
            lib = self.library if self._on_scene_bands(scene) else self.library.for_scene(scene)
            scale = scene_scale(scene)
            lib = lib.rescaled(scale) if lib.scale != scale else lib
            self._cache = (self._version, id(scene), lib)
        return self._cache[2]

    def _on_scene_bands(self, scene) -> bool:
        lib = self.library
        assert lib is not None
        if lib.wavelengths is None or scene.wavelengths is None:
            return lib.n_bands == scene.n_bands and lib.wavelengths is None and scene.wavelengths is None
        return len(lib.wavelengths) == scene.n_bands and np.allclose(lib.wavelengths, scene.wavelengths)
