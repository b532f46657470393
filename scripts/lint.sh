#!/usr/bin/env bash
# Architecture contracts, lint, format and types: the checks CI runs after the tests.
# The tools come with the test extra (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then PATH="$PWD/.venv/bin:$PATH"; fi
echo "== lint-imports"; lint-imports
echo "== ruff check"; ruff check hsiviewer plugins tests bench scripts
echo "== ruff format --check"; ruff format --check hsiviewer plugins tests bench scripts
echo "== mypy (core)"; mypy
