"""`./dev.sh` on a first run says what it is doing (a silent two-minute install looks
like a hang), and a later run is quiet.

The interpreter is a stand-in (`PYTHON`) that answers dev.sh's checks with this Python
but, asked for `-m venv DIR`, lays out a venv whose `python` and `raild` only record
how they were called: the script's own logic runs for real, the minutes of pip do not.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Records each call, then stands in for the venv's python (pip: nothing to do) or raild.
RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "$DEV_SH_CALLS"
"""


def _interpreter(path: Path, real: str, version: str | None) -> Path:
    """A `python3` for dev.sh: `-m venv DIR` makes a recording venv, `--version` and
    `-c` checks go to `real` (or, with `version`, pretend to be that older Python)."""
    old = (
        f'case "$1" in --version) echo "Python {version}"; exit 0;; -c) exit 1;; esac\n' if version is not None else ""
    )
    path.write_text(
        "#!/bin/sh\n"
        'echo "python3 $*" >> "$DEV_SH_CALLS"\n'
        f"{old}"
        'if [ "$1" = -m ] && [ "$2" = venv ]; then\n'
        '    mkdir -p "$3/bin"\n'
        '    for tool in python raild; do cp "$DEV_SH_RECORDER" "$3/bin/$tool"; chmod +x "$3/bin/$tool"; done\n'
        "    exit 0\n"
        "fi\n"
        f'exec {shlex.quote(real)} "$@"\n'
    )
    path.chmod(0o755)
    return path


def _dev_sh(
    tmp_path: Path, *args: str, version: str | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    recorder = tmp_path / "recorder"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {
        **os.environ,
        "RAILD_VENV": str(tmp_path / "venv"),
        "PYTHON": str(_interpreter(tmp_path / "python3", sys.executable, version)),
        "DEV_SH_CALLS": str(calls),
        "DEV_SH_RECORDER": str(recorder),
    }
    done = subprocess.run(
        [str(REPO / "dev.sh"), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    made = calls.read_text().splitlines()
    calls.write_text("")
    return done, made


@pytest.mark.skipif(not (REPO / "dev.sh").exists(), reason="no dev.sh")
def test_first_run_says_what_it_does_and_a_second_run_is_quiet(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    first, calls = _dev_sh(tmp_path, "sim", "--port", "1")
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == [
        f"dev.sh: creating the virtual environment in {venv}",
        f"dev.sh: installing raild and its dev dependencies into {venv} (first run: a minute or two)",
        "dev.sh: installed",
    ]
    assert f"python3 -m venv {venv}" in calls
    # pip runs in the new venv, and only after the user was told; then raild starts.
    assert calls[-3:] == [
        "python -m pip install -q --upgrade pip",
        "python -m pip install -q -e .[dev]",
        "raild serve --sim --port 1",
    ]
    assert (venv / ".raild-installed-dev").exists()

    second, calls = _dev_sh(tmp_path, "sim", "--port", "1")
    assert second.returncode == 0, second.stderr
    assert second.stderr == ""  # installed already: nothing to say, nothing installed
    assert not any("pip" in c or "venv" in c for c in calls), calls
    assert calls[-1] == "raild serve --sim --port 1"


@pytest.mark.skipif(not (REPO / "dev.sh").exists(), reason="no dev.sh")
def test_an_existing_venv_is_reused_and_the_install_still_announced(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _dev_sh(tmp_path, "sim")
    (venv / ".raild-installed-dev").unlink()  # e.g. pyproject.toml changed since
    again, calls = _dev_sh(tmp_path, "sim")
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines() == [
        f"dev.sh: installing raild and its dev dependencies into {venv} (first run: a minute or two)",
        "dev.sh: installed",
    ]
    assert not any(c.startswith("python3 -m venv") for c in calls), calls


@pytest.mark.skipif(not (REPO / "dev.sh").exists(), reason="no dev.sh")
def test_too_old_a_python_is_named_before_anything_is_installed(tmp_path: Path) -> None:
    old, calls = _dev_sh(tmp_path, "sim", version="3.9.2")
    assert old.returncode == 1
    assert old.stderr.strip() == "dev.sh: raild needs Python 3.11 or newer; Python 3.9.2 found"
    assert not (tmp_path / "venv").exists()
    assert not any("venv" in c or "pip" in c for c in calls), calls
