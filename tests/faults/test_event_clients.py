"""Fifty phones on the event stream during a stack, some of them vanishing mid-stream
(reset, closed, or frozen without reading). The daemon runs as `raild serve --sim`
builds it, on a real socket, in a thread of this process so its event bus can be seen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.faults.harness import TOKEN, wait_for
from tests.faults.inproc import home, served_daemon
from tests.faults.sse import SseCrowd

pytestmark = [pytest.mark.timeout(120)]
CLIENTS = 50
FRAMES = 12


def test_fifty_clients_some_vanishing(tmp_path: Path) -> None:
    """Injected: 50 event-stream clients; after the stack's 3rd frame 10 vanish with a TCP
    reset, 5 close normally and 5 stop reading while staying connected.
    Must hold: the 30 others each get the first status snapshot and a `job` frame event
    for every one of the 12 frames, in order; the stack completes; the bus subscriptions
    of the 15 that left are released; status keeps answering meanwhile."""
    with served_daemon(tmp_path) as served, served.client() as api:
        home(api)
        base_subs = served.call(lambda: served.daemon.events.subscriber_count)
        crowd = SseCrowd("127.0.0.1", served.port, TOKEN, CLIENTS)
        try:
            crowd.wait(lambda: all(c.of("status") for c in crowd.clients), 20, "every first snapshot")
            assert all(c.status_line.endswith("200 OK") for c in crowd.clients)
            assert served.call(lambda: served.daemon.events.subscriber_count) == base_subs + CLIENTS

            reply = api.post("/stacks", json={"start_um": 2500, "end_um": 3600, "frames": FRAMES})
            assert reply.status_code == 201, reply.text
            stack_id = reply.json()["id"]
            wait_for(lambda: api.get(f"/stacks/{stack_id}").json()["frame"] >= 3, 30, "3 frames")
            reset, closed, frozen = crowd.clients[:10], crowd.clients[10:15], crowd.clients[15:20]
            for c in reset:
                crowd.vanish(c, reset=True)
            for c in closed:
                crowd.vanish(c, reset=False)
            for c in frozen:
                crowd.stall(c)
            staying = crowd.clients[20:]

            latencies_ms = []
            while api.get(f"/stacks/{stack_id}").json()["state"] in ("queued", "running"):
                t0 = time.perf_counter()
                assert api.get("/status").status_code == 200
                latencies_ms.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.05)
            assert api.get(f"/stacks/{stack_id}").json()["state"] == "completed"
            assert latencies_ms, "status was never polled during the stack"

            def frames_seen(c: object) -> list[int]:
                return [d["index"] for d in c.of("job") if d.get("kind") == "job:frame" and d["id"] == stack_id]

            crowd.wait(
                lambda: all(frames_seen(c) == list(range(1, FRAMES + 1)) for c in staying),
                20,
                "every frame event at every remaining client",
            )
            assert all(any(d.get("state") == "completed" for d in c.of("job")) for c in staying)
            # The 15 that left are unsubscribed once the server notices (a write to a dead
            # socket, or the disconnect itself); the frozen 5 stay until their buffers fill.
            wait_for(
                lambda: served.call(lambda: served.daemon.events.subscriber_count) <= base_subs + CLIENTS - 15,
                20,
                "the subscriptions of departed clients to go",
            )
        finally:
            crowd.close()
        wait_for(
            lambda: served.call(lambda: served.daemon.events.subscriber_count) == base_subs,
            30,
            "every subscription to be released after all clients left",
        )
