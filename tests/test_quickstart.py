"""The curl quick start in docs/api.md runs as written against `raild serve --sim`."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


def _quick_start() -> str:
    text = (REPO / "docs" / "api.md").read_text()
    section = text.split("## Quick start with curl", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "docs/api.md has no sh block under 'Quick start with curl'"
    return match.group(1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl (apt-get install curl)")
def test_the_documented_curl_quick_start_works(tmp_path: Path, port: int) -> None:
    # Only the port and the state dir change, so parallel runs never collide.
    script = _quick_start().replace("8000", str(port)).replace("/tmp/raild", str(tmp_path / "state"))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # the `raild` of this install
    env.pop("RAILD_API_TOKEN", None)
    env.pop("RAILD_CONFIG", None)
    proc = subprocess.Popen(
        ["bash", "-euc", script + "\nkill %1\nwait %1 || true\n"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the quick start hung\nstdout:\n{out.decode()[-2000:]}\nstderr:\n{err.decode()[-3000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the daemon it started in the background
    assert proc.returncode == 0, f"stdout:\n{out.decode()[-2000:]}\nstderr:\n{err.decode()[-3000:]}"
    with zipfile.ZipFile(tmp_path / "stack.zip") as archive:
        frames = [n for n in archive.namelist() if n.lower().endswith((".jpg", ".jpeg"))]
    assert len(frames) == 13  # 2000 → 2600 µm in 50 µm steps
