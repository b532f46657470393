#!/usr/bin/env bash
# Opens the viewer on the bundled Indian Pines scene (or on SCENE [--labels GT]).
# The first run makes the checkout's virtual environment .venv/ and installs hsiviewer into it (the CPU
# build of PyTorch first); later runs reuse it and start at once. Nothing outside .venv/ is changed.
# `scripts/run.sh --version` and `--help` go to the hsiviewer command itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
hsi_ensure_venv "" test
case "${1:-}" in
  --version | --help | -h) exec "$HSI_VENV/bin/hsiviewer" "$@" ;;
esac
exec "$HSI_VENV/bin/hsiviewer" gui "$@"
