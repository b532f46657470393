#!/usr/bin/env bash
# Installs hsiviewer (CPU build of torch first) and opens the viewer on the bundled Indian Pines scene.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q "torch==2.13.0" || python3 -m pip install -q "torch>=2.1,<3"
python3 -m pip install -q -e .
exec hsiviewer gui "$@"
