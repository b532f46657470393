#!/usr/bin/env bash
# Installs hsiviewer with its test extra (PyTorch 2.13.0 first) and runs the test suite offscreen.
# A test stuck for faulthandler_timeout (pyproject.toml) prints every thread's stack into the log.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q "torch==2.13.0" || python3 -m pip install -q "torch>=2.1,<3"
python3 -m pip install -q -e ".[test]"
export QT_QPA_PLATFORM=offscreen
python3 -m pytest -q "$@"
