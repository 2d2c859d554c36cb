"""Homing a rail and waiting for its state, in process (`Rail`) or over the API (httpx).

On a loaded machine a homing may fail on timing (the motion layer's concern, tested
there), so callers may allow a retry: a failed attempt is reset and tried again.
"""

from __future__ import annotations

import subprocess
from typing import Any, Protocol

import httpx

from tests.support.waiting import wait_for


class Homeable(Protocol):
    async def home(self) -> Any: ...
    async def reset(self) -> Any: ...


async def home_rail(rail: Homeable, tries: int = 3) -> None:
    """Home an in-process rail; a failed attempt is reset and retried up to `tries` times."""
    from raild.motion.errors import MotionError

    for attempt in range(tries):
        try:
            await rail.home()
            return
        except MotionError:
            if attempt == tries - 1:
                raise
            await rail.reset()


def home(
    client: httpx.Client, tries: int = 1, timeout_s: float = 60, proc: subprocess.Popen[Any] | None = None
) -> dict[str, Any]:
    """Home through the API (`client` based at /api/v1) and wait until the rail is homed and
    idle; returns that status. A homing ending in a fault is reset and retried."""
    status: dict[str, Any] = {}
    for _ in range(tries):
        reply = client.post("/motion/home")
        assert reply.status_code == 202, reply.text
        status = wait_for(
            lambda: (
                (s := client.get("/status").json())["state"] in ("idle", "fault")
                and (s["homed"] or s["state"] == "fault")
                and s
            ),
            timeout_s,
            "homing",
            proc,
        )
        if status["homed"] and status["state"] == "idle":
            return status
        assert client.post("/motion/reset").status_code == 200
    raise AssertionError(f"homing failed: {status.get('fault')}")


def resume_if_the_host_fell_behind(client: httpx.Client, proc: subprocess.Popen[Any] | None = None) -> bool:
    """A loaded test machine can freeze the daemon long enough for the pigpio step stream to
    run dry; the drive then gives the position up and the stack is interrupted with the
    HOST_BEHIND reason (that outcome is tested in tests/stacks/test_host_behind.py). A test
    about something else recovers as a user does: home, then resume. Whether it did."""
    from raild.stacks.runner import HOST_BEHIND

    for job in client.get("/stacks").json():
        if job["state"] == "interrupted" and job.get("error") == HOST_BEHIND:
            home(client, proc=proc)
            reply = client.post(f"/stacks/{job['id']}/resume")
            assert reply.status_code == 200, reply.text
            return True
    return False


def wait_doc(
    client: httpx.Client, path: str, key: str, values: tuple[str, ...], timeout_s: float = 30
) -> dict[str, Any]:
    """GET `path` until its `key` is one of `values`; returns that document. On the
    deadline the assertion shows the last document seen."""
    seen: list[dict[str, Any]] = [{}]

    def reached() -> dict[str, Any] | None:
        seen[0] = client.get(path).json()
        return seen[0] if seen[0].get(key) in values else None

    try:
        return wait_for(reached, timeout_s, f"{path} {key} in {values}", every_s=0.1)
    except AssertionError as timeout:
        raise AssertionError(seen[0]) from timeout
