"""scripts/run.sh and scripts/test.sh set-up (scripts/venv.sh): what they refuse, and when they reinstall.

The full install is minutes of work; scripts/check_fresh_install.sh runs it on a fresh clone. These tests
run the scripts in a copy of the checkout's scripts and pyproject.toml, so the checkout's .venv is safe.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON39 = Path("/root/.pyenv/versions/3.9.18/bin/python3")


@pytest.fixture
def checkout(tmp_path):
    """A folder with the scripts and pyproject.toml of this checkout."""
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def run_script(checkout: Path, script: str, python: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(checkout), "PYTHON": python}
    return subprocess.run(
        ["bash", str(checkout / "scripts" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not PYTHON39.exists(), reason="no Python 3.9 on this machine")
@pytest.mark.parametrize("script", ["run.sh", "test.sh"])
def test_a_python_older_than_3_10_is_refused_in_one_line(checkout, script):
    run = run_script(checkout, script, str(PYTHON39), "--version")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"hsiviewer setup: hsiviewer needs Python >= 3.10, '{PYTHON39}' is 3.9.18; "
        "set PYTHON=/path/to/python3.10-or-newer"
    ]
    assert not (checkout / ".venv").exists()


def test_a_python_without_venv_is_named_with_the_fix(checkout, tmp_path):
    # Debian without python3-venv: `import ensurepip` fails. A real interpreter whose ensurepip is shadowed
    # by a module that raises, as Debian's stub does.
    shadow = tmp_path / "shadow"
    (shadow / "ensurepip").mkdir(parents=True)
    (shadow / "ensurepip" / "__init__.py").write_text("raise ImportError('ensurepip is not available')\n")
    python = tmp_path / "python3"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={shadow} exec {sys.executable} "$@"\n')
    python.chmod(0o755)
    run = run_script(checkout, "run.sh", str(python), "--version")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"hsiviewer setup: '{python} -m venv' is not available; on Debian/Ubuntu: sudo apt-get install python3-venv"
    ]
    assert not (checkout / ".venv").exists()


def test_a_missing_interpreter_is_named(checkout):
    run = run_script(checkout, "test.sh", "python3.99")
    assert run.returncode == 1
    assert run.stderr.startswith("hsiviewer setup: no 'python3.99' found; install Python >= 3.10")


def fingerprint(checkout: Path, extra: str) -> str:
    return subprocess.run(
        ["bash", "-c", f'source scripts/venv.sh && hsi_fingerprint "{extra}"'],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_the_install_stamp_changes_with_pyproject_and_the_extra(checkout):
    # a bare environment is enough to compute the stamp (no pip, nothing installed)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(checkout / ".venv")], check=True)
    base, test = fingerprint(checkout, ""), fingerprint(checkout, "test")
    assert len(base) == 64 and base != test
    assert fingerprint(checkout, "") == base  # stable while nothing changes
    with open(checkout / "pyproject.toml", "a") as f:
        f.write("\n# a new dependency, say\n")
    assert fingerprint(checkout, "") != base


@pytest.mark.skipif(not (ROOT / ".git").exists() or shutil.which("git") is None, reason="not a git checkout")
def test_the_virtual_environment_is_ignored_by_git():
    run = subprocess.run(["git", "check-ignore", "-q", ".venv/bin/python"], cwd=ROOT, check=False)
    assert run.returncode == 0
