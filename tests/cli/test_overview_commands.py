"""``hsiviewer overviews``: builds the pyramid the viewer would build, and clears the cache."""

import numpy as np
from _synth_files import write_envi

from hsiviewer.cli import main
from hsiviewer.viewer import pyramid as pyramid_module


def test_overviews_builds_then_clears(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HSIVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    data = np.random.default_rng(1).integers(0, 999, (700, 600, 3)).astype(np.int16)
    header, _ = write_envi(tmp_path, data, interleave="bip", data_suffix=".bip")
    assert main(["overviews", str(header)]) == 0
    assert "is read fast enough without a pyramid" in capsys.readouterr().out
    monkeypatch.setattr(pyramid_module, "MIN_BYTES", 1)
    assert main(["overviews", str(header)]) == 0
    out = capsys.readouterr().out
    assert "levels [2]" in out  # 700 x 600: level 2 is 175 x 150, already the coarsest
    (folder,) = (tmp_path / "cache").iterdir()
    level2 = np.load(folder / "level2.npy")
    np.testing.assert_array_equal(level2, np.moveaxis(data[::4, ::4], 2, 0))
    assert main(["overviews", str(header), "--clear-cache"]) == 0
    assert "MiB freed" in capsys.readouterr().out and not any((tmp_path / "cache").iterdir())
    assert main(["overviews"]) == 2  # a scene or --clear-cache
