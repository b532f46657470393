"""``python -m hsiviewer`` is the ``hsiviewer`` command."""
import sys

from .cli import main

sys.exit(main())
