"""Run every benchmark in bench/ in turn and print what each reports (`make bench`).

A benchmark is a `bench/*.py` script with a `__main__` block; helper modules (a leading
underscore, or no `__main__` block) are skipped. Each runs in its own interpreter with
its default, bounded settings, one after the other so they do not skew each other's
figures. Exit status: 0 when every benchmark finished cleanly, 1 otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TIMEOUT_S = 900  # a benchmark that runs longer than this is stuck, not slow


def benchmarks() -> list[Path]:
    found = []
    for path in sorted(BENCH.glob("*.py")):
        if path.name.startswith("_") or path.name == Path(__file__).name:
            continue
        if "__main__" not in path.read_text(errors="replace"):
            continue  # a helper module
        found.append(path)
    return found


def main() -> int:
    results: list[tuple[str, str, float]] = []
    for path in benchmarks():
        print(f"\n=== {path.relative_to(ROOT)} ===", flush=True)
        started = time.monotonic()
        # Its own process group, so a stuck benchmark is stopped with every process it started.
        proc = subprocess.Popen([sys.executable, str(path)], cwd=ROOT, start_new_session=True)
        try:
            code = proc.wait(TIMEOUT_S)
            outcome = "ok" if code == 0 else f"exit {code}"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            outcome = f"stopped after {TIMEOUT_S} s"
        results.append((path.name, outcome, time.monotonic() - started))
    print("\n=== summary ===")
    for name, outcome, seconds in results:
        print(f"{name:24} {outcome:24} {seconds:6.0f} s")
    return 0 if all(outcome == "ok" for _, outcome, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
