#!/usr/bin/env bash
# Runs the test suite offscreen in the checkout's virtual environment .venv/, made and filled on the first
# run (hsiviewer with its test extra, the CPU build of PyTorch first) and reused after that.
# A test stuck for faulthandler_timeout (pyproject.toml) prints every thread's stack into the log.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
hsi_ensure_venv test
export QT_QPA_PLATFORM=offscreen
exec "$HSI_VENV/bin/python" -m pytest -q "$@"
