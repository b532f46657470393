"""``python -m hsiviewer`` is the ``hsiviewer`` command."""

import sys

from hsiviewer.cli import main

sys.exit(main())
