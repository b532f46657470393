#!/usr/bin/env bash
# Runs the GUI training tests many times in a row, each run with a time limit, to show that the
# training worker does not hang. A run still going at its limit is a hang: the native stacks of all
# its threads (gdb, and py-spy when it is installed) are saved before the run is stopped, so the
# hang can be diagnosed from who holds which lock. A test stuck for pytest's faulthandler_timeout
# (pyproject.toml) also leaves every thread's Python stack in that run's log.
#
# Usage: scripts/soak_gui_training.sh [RUNS [LIMIT_S [PYTEST ARGS...]]]
#   RUNS     how many runs (default 50)
#   LIMIT_S  seconds one run may take (default 600: a loaded 2-core machine needs 3-4 minutes for the suite)
#   the pytest arguments default to tests/gui/test_training_panel.py; pass "tests" for the whole suite
# SOAK_DIR names the folder for the logs and stacks (default: a new temporary folder).
# Exit status: 0 when every run passed, 1 when a run failed, 2 when a run hung.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
limit=${2:-600}
shift $(( $# < 2 ? $# : 2 ))
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(tests/gui/test_training_panel.py)
out=${SOAK_DIR:-$(mktemp -d /tmp/soak.XXXXXX)}
mkdir -p "$out"
export QT_QPA_PLATFORM=offscreen

dump_stacks() {  # pid file: every thread's native stack, then the Python view of the same threads
  local pid=$1 file=$2
  {
    echo "== gdb: thread apply all bt (pid $pid, $(date -u +%FT%TZ)) =="
    timeout 120 gdb -p "$pid" -batch -nx -iex "set auto-load safe-path /" -ex "set pagination off" -ex "thread apply all bt" 2>&1
    if command -v py-spy >/dev/null; then
      echo "== py-spy dump --native =="
      timeout 120 py-spy dump --native --pid "$pid" 2>&1
    fi
  } >"$file"
}

passed=0 failed=0 hung=0
durations=()
echo "soak: $runs runs of 'pytest -q ${args[*]}', ${limit} s each; logs in $out"
for i in $(seq 1 "$runs"); do
  log="$out/run-$i.log"
  start=$(date +%s.%N)
  python3 -m pytest -q -p no:cacheprovider "${args[@]}" >"$log" 2>&1 &
  pid=$!
  status=""
  while kill -0 "$pid" 2>/dev/null; do
    if awk -v now="$(date +%s.%N)" -v t0="$start" -v lim="$limit" 'BEGIN {exit !(now - t0 > lim)}'; then
      dump_stacks "$pid" "$out/stacks-$i.txt"
      kill -KILL "$pid" 2>/dev/null
      status=hung
      break
    fi
    sleep 1
  done
  wait "$pid"
  rc=$?
  seconds=$(awk -v now="$(date +%s.%N)" -v t0="$start" 'BEGIN {printf "%.1f", now - t0}')
  durations+=("$seconds")
  if [ "$status" = hung ]; then
    hung=$((hung + 1))
  elif [ "$rc" -eq 0 ]; then
    status=passed; passed=$((passed + 1))
  else
    status="failed (exit $rc)"; failed=$((failed + 1))
  fi
  grep -q "Timeout ([0-9:]*)!" "$log" && status="$status, a test was stuck past faulthandler_timeout"
  printf 'run %d/%d: %s in %.1f s: %s\n' "$i" "$runs" "$status" "$seconds" "$(tail -n 1 "$log")"
done
stats=$(printf '%s\n' "${durations[@]}" | sort -g | awk '{d[NR]=$1} END {printf "min %.1f s, median %.1f s, max %.1f s", d[1], d[int((NR+1)/2)], d[NR]}')
echo "soak: $runs runs: $passed passed, $failed failed, $hung hung; $stats; logs in $out"
[ "$hung" -gt 0 ] && exit 2
[ "$failed" -gt 0 ] && exit 1
exit 0
