#!/usr/bin/env bash
# Checks the README's two commands as a new Linux user meets them: a fresh clone of this repository's
# committed HEAD in a temporary folder, run with PATH=/usr/bin:/bin so that python3 is the distribution's
# interpreter (on Debian/Ubuntu it refuses `pip install` into itself, PEP 668).
#
#   1. scripts/run.sh --version          makes .venv/ and installs (minutes), prints the version
#   2. scripts/run.sh --version          again: must not install anything, and start in seconds
#   3. scripts/run.sh --screenshot PNG   the viewer on the demo scene, rendered offscreen
#   4. scripts/test.sh [ARGS]            installs the test extra, runs the tests (ARGS from $CHECK_TEST_ARGS)
#   5. scripts/run.sh --version          after test.sh: still no install
#
# Takes several minutes (PyTorch, PySide6 and the rest are installed into a new environment), so it is
# not part of the test suite. Usage: bash scripts/check_fresh_install.sh [WORKDIR]; WORKDIR (default: a
# new temporary folder) is left in place for a look and removed by hand.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/hsiviewer-fresh.XXXXXX)}
mkdir -p "$work"
git clone -q "$repo" "$work/hsiviewer"
# the tests look for ../shared/data beside the checkout; without it those tests are skipped
[ -d "$repo/../shared" ] && ln -sfn "$(cd "$repo/../shared" && pwd)" "$work/shared"
cd "$work/hsiviewer"
export PATH=/usr/bin:/bin
unset PYTHON VIRTUAL_ENV PYTHONPATH
echo "== $(git log --oneline -1); python3 is $(command -v python3), $(python3 --version)"
if python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
  echo "   this python3 is externally managed (PEP 668): it refuses pip installs into itself"
else
  echo "   note: this python3 is not externally managed, so the PEP 668 case is not exercised"
fi

failed=0
# step NAME MUST_NOT_INSTALL COMMAND...: runs, times, and keeps the output in $work/NAME.log
step() {
  local name=$1 quiet=$2; shift 2
  local start rc=0
  start=$(date +%s%N)
  "$@" >"$work/$name.log" 2>&1 || rc=$?
  local took verdict=ok
  took=$((($(date +%s%N) - start) / 1000000))  # ms
  [ "$rc" -ne 0 ] && verdict="FAILED (exit $rc)"
  if [ "$quiet" = yes ] && grep -q "installing into" "$work/$name.log"; then verdict="FAILED (reinstalled)"; fi
  [ "$verdict" = ok ] || failed=1
  printf '== %-30s %4d.%01d s  %s\n' "$name" $((took / 1000)) $((took % 1000 / 100)) "$verdict"
  { grep -E "hsiviewer setup:|^hsiviewer [0-9]|passed|failed|error" "$work/$name.log" || true; } |
    tail -5 | sed 's/^/   /'
}

step "run.sh --version (fresh)" no bash scripts/run.sh --version
step "run.sh --version (again)" yes bash scripts/run.sh --version
step "run.sh --screenshot" yes bash scripts/run.sh --screenshot "$work/screenshot.png"
[ -s "$work/screenshot.png" ] || { echo "   no screenshot written"; failed=1; }
# shellcheck disable=SC2086  # CHECK_TEST_ARGS is a list of pytest arguments
step "test.sh ${CHECK_TEST_ARGS:-}" no bash scripts/test.sh ${CHECK_TEST_ARGS:-}
step "run.sh --version (after test)" yes bash scripts/run.sh --version
echo "== logs and screenshot in $work"
[ "$failed" -eq 0 ] && echo "== fresh install check passed" || echo "== fresh install check FAILED"
exit "$failed"
