"""Two clients sending conflicting commands at the same instant (two phones, or a phone
and a script): exactly one wins, the other is told 409 and nothing else changes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.faults.harness import AUTH, Daemon, merged, running_daemon, wait_for

pytestmark = [pytest.mark.timeout(120)]


def at_once(daemon: Daemon, calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[httpx.Response]:
    """Each call on its own connection and thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    replies: list[httpx.Response | None] = [None] * len(calls)
    clients = [httpx.Client(base_url=f"{daemon.base_url}/api/v1", headers=AUTH, timeout=15) for _ in calls]
    for c in clients:  # open the connections first, so the race is on the requests alone
        assert c.get("/health").status_code == 200

    def run(i: int) -> None:
        barrier.wait()
        replies[i] = calls[i](clients[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for c in clients:
        c.close()
    assert all(r is not None for r in replies)
    return [r for r in replies if r is not None]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("conflicts"), merged()) as d:
        d.home()
        yield d


@pytest.mark.parametrize("round_", range(3))
def test_two_stacks_at_once_one_wins(daemon: Daemon, round_: int) -> None:
    """Injected: two `POST /stacks` released together from two connections.
    Must hold: one 201 and one 409 (problem+json), only one stack exists for it and it
    runs to completion."""
    before = {s["id"] for s in daemon.api.get("/stacks").json()}
    body = {"start_um": 2500, "end_um": 2800, "frames": 4}
    replies = at_once(daemon, [lambda c: c.post("/stacks", json=body)] * 2)
    codes = sorted(r.status_code for r in replies)
    assert codes == [201, 409], [r.text for r in replies]
    loser = next(r for r in replies if r.status_code == 409)
    assert loser.headers["content-type"].startswith("application/problem+json")
    winner = next(r for r in replies if r.status_code == 201).json()["id"]
    after = {s["id"] for s in daemon.api.get("/stacks").json()}
    assert after - before == {winner}
    assert daemon.wait_stack(winner, "completed", "failed", "paused")["state"] == "completed"


@pytest.mark.parametrize("round_", range(3))
def test_two_moves_at_once_one_wins(daemon: Daemon, round_: int) -> None:
    """Injected: two `POST /motion/move` to different targets released together.
    Must hold: one 202 and one 409; the rail ends exactly at the winner's target."""
    start = daemon.status()["position_um"]
    targets = [start + 400.0, start - 400.0] if round_ % 2 == 0 else [start - 300.0, start + 300.0]
    replies = at_once(daemon, [lambda c, t=t: c.post("/motion/move", json={"to_um": t}) for t in targets])
    codes = [r.status_code for r in replies]
    assert sorted(codes) == [202, 409], [r.text for r in replies]
    won = targets[codes.index(202)]
    final = wait_for(lambda: (s := daemon.status())["state"] == "idle" and s, 30, "the move to end")
    assert final["position_um"] == pytest.approx(won, abs=0.5)


def test_second_stack_during_a_stack_is_refused(daemon: Daemon) -> None:
    """Injected: three `POST /stacks` at once while a stack runs.
    Must hold: each gets 409 naming the running stack; that stack completes with every frame."""
    stack_id = daemon.create_stack({"start_um": 2500, "end_um": 3000, "frames": 10})
    daemon.wait_frames(stack_id, 2)
    body = {"start_um": 2500, "end_um": 2600, "frames": 2}
    replies = at_once(daemon, [lambda c: c.post("/stacks", json=body)] * 3)
    assert [r.status_code for r in replies] == [409, 409, 409], [r.text for r in replies]
    assert all(stack_id in r.json()["detail"] for r in replies)
    done = daemon.wait_stack(stack_id, "completed", "failed", "paused")
    assert done["state"] == "completed" and done["frame"] == 10, done


def test_motion_commands_during_a_stack_are_refused(daemon: Daemon) -> None:
    """Injected: `POST /motion/move`, `/motion/home` and `/motion/zero` from a second client
    while a stack runs (1 s settle per frame, so the rail is mostly standing still).
    Must hold: each gets 409; the stack completes with every frame at its planned position."""
    stack_id = daemon.create_stack({"start_um": 2500, "end_um": 2800, "frames": 4, "settle_ms": 1000})
    daemon.wait_frames(stack_id, 1)
    codes = []
    for path, body in (("/motion/move", {"to_um": 5000.0}), ("/motion/home", None), ("/motion/zero", None)):
        reply = daemon.api.post(path, json=body)
        codes.append(reply.status_code)
        if reply.status_code < 300:
            break  # the rail is now somewhere the stack does not know
    done = daemon.wait_stack(stack_id, "completed", "failed", "paused")
    daemon.home()  # leave the module's rail usable whatever happened
    assert codes == [409, 409, 409], codes
    assert done["state"] == "completed" and done["frame"] == 4, done
