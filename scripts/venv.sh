# Sourced by scripts/run.sh and scripts/test.sh (bash): makes the checkout's virtual environment .venv/
# and installs hsiviewer into it, editable, with the pinned CPU build of PyTorch first.
#
# Why a virtual environment: Debian, Ubuntu and Fedora's own python3 refuse `pip install` into the
# system interpreter (PEP 668, "externally-managed-environment"), and a desktop user's system Python
# should not change anyway. Nothing outside .venv/ is written.
#
# Why a stamp: pip takes seconds even when everything is installed, and a fresh environment minutes.
# The stamp holds a hash of pyproject.toml, the extra and the interpreter; while they are unchanged the
# install is skipped and the command starts at once. Edits to the sources need no reinstall (editable).
#
# PYTHON=/path/to/python3.x picks the interpreter (default: python3 on PATH).

HSI_VENV=.venv
HSI_STAMP_PREFIX="$HSI_VENV/.hsiviewer-installed"

hsi_die() { echo "hsiviewer setup: $*" >&2; exit 1; }

# The interpreter to build the environment from, checked for its version and for venv.
hsi_base_python() {
  local py="${PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 ||
    hsi_die "no '$py' found; install Python >= 3.10 (Debian/Ubuntu: sudo apt-get install python3 python3-venv)"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    hsi_die "hsiviewer needs Python >= 3.10, '$py' is $("$py" -c 'import platform; print(platform.python_version())'); set PYTHON=/path/to/python3.10-or-newer"
  # Debian and Ubuntu split venv's pip bootstrap (ensurepip) into python3-venv
  "$py" -c 'import venv, ensurepip' >/dev/null 2>&1 ||
    hsi_die "'$py -m venv' is not available; on Debian/Ubuntu: sudo apt-get install python3-venv"
  echo "$py"
}

# Fingerprint of what the installed environment depends on: pyproject.toml, the extra, the interpreter.
hsi_fingerprint() {
  "$HSI_VENV/bin/python" - "$1" <<'EOF'
import hashlib, sys
h = hashlib.sha256(open("pyproject.toml", "rb").read())
h.update(("\0" + sys.argv[1] + "\0" + sys.version + sys.base_prefix).encode())
print(h.hexdigest())
EOF
}

HSI_WHICH='import sys; print(sys.base_prefix, sys.version)'

# Create .venv when missing, broken (its interpreter removed, e.g. by a Python upgrade), or made from
# another interpreter than an explicit $PYTHON.
hsi_make_venv() {
  local py have
  if have=$("$HSI_VENV/bin/python" -c "$HSI_WHICH" 2>/dev/null); then
    [ -z "${PYTHON:-}" ] && return
    py=$(hsi_base_python)
    [ "$("$py" -c "$HSI_WHICH")" = "$have" ] && return
    echo "hsiviewer setup: $HSI_VENV was made with another Python than PYTHON=$PYTHON, making it anew"
  else
    py=$(hsi_base_python)
    [ -e "$HSI_VENV" ] && echo "hsiviewer setup: $HSI_VENV is broken, making it anew"
  fi
  rm -rf "$HSI_VENV"
  echo "hsiviewer setup: creating $HSI_VENV with $py ($("$py" -c 'import platform; print(platform.python_version())'))"
  # a half-made environment would pass the check above next time: remove it when this fails
  "$py" -m venv "$HSI_VENV" || { rm -rf "$HSI_VENV"; hsi_die "'$py -m venv $HSI_VENV' failed (see above)"; }
}

# hsi_ensure_venv EXTRA: .venv exists and holds hsiviewer (with [EXTRA] when not empty), up to date.
# A stamp for a wider extra counts too: after test.sh, run.sh does not reinstall.
hsi_ensure_venv() {
  local extra="$1" fp stamp
  hsi_make_venv
  for stamp in "$@"; do
    fp=$(hsi_fingerprint "$stamp")
    [ "$(cat "$HSI_STAMP_PREFIX-${stamp:-base}" 2>/dev/null)" = "$fp" ] && return 0
  done
  local pip=("$HSI_VENV/bin/python" -m pip install -q)
  local start=$SECONDS
  echo "hsiviewer setup: installing into $HSI_VENV (the first time takes a few minutes)"
  # the pinned CPU build first, so that pip does not fetch a CUDA build of several GB; a torch that is
  # already there (say a CUDA build the user installed into .venv) is kept
  if ! "$HSI_VENV/bin/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)'; then
    "${pip[@]}" "torch==2.13.0" || "${pip[@]}" "torch>=2.1,<3" || hsi_die "installing PyTorch failed (see above)"
  fi
  local target="."
  [ -n "$extra" ] && target=".[$extra]"
  "${pip[@]}" -e "$target" || hsi_die "installing hsiviewer into $HSI_VENV failed (see above)"
  hsi_fingerprint "$extra" >"$HSI_STAMP_PREFIX-${extra:-base}"
  echo "hsiviewer setup: done in $((SECONDS - start)) s"
}
