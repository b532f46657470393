"""The core must stay usable without Qt: importing it loads no PySide6, shiboken6 or pyqtgraph."""

import subprocess
import sys
from pathlib import Path

import hsiviewer

CORE_MODULES = sorted(
    "hsiviewer." + ".".join(p.relative_to(Path(hsiviewer.__file__).parent).with_suffix("").parts)
    for p in Path(hsiviewer.__file__).parent.rglob("*.py")
    if "gui" not in p.relative_to(Path(hsiviewer.__file__).parent).parts and p.name != "__main__.py"
)


def test_core_imports_no_qt():
    code = (
        "import sys\n"
        + "".join(f"import {m.removesuffix('.__init__')}\n" for m in CORE_MODULES)
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph')]\n"
        + "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
