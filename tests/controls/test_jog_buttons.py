"""Hold-to-jog logic on its own: which jog runs as buttons go down and up."""

from __future__ import annotations

from raild.controls.jog import JogButtons


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def estop(self) -> None:
        self.calls.append(("estop",))

    def stop(self) -> None:
        self.calls.append(("stop",))

    def start_pause_resume(self) -> None:
        self.calls.append(("start",))

    def jog_start(self, direction: str) -> None:
        self.calls.append(("jog", direction))

    def jog_stop(self) -> None:
        self.calls.append(("jog_stop",))

    def jog_step(self, direction: str) -> None:
        self.calls.append(("step", direction))


def test_hold_renews_release_stops_and_the_newest_button_drives() -> None:
    actions, pressed = Recorder(), []
    jog = JogButtons(actions, pressed.append)
    jog._pressed("jog_plus", "+")
    jog._renew("+")
    jog._pressed("jog_minus", "-")
    jog._renew("+")  # no longer the newest: not renewed
    jog._renew("-")
    jog._released("-")  # "+" is still held: it drives again
    jog._renew("+")
    jog._released("+")
    assert actions.calls == [
        ("jog", "+"),
        ("jog", "+"),
        ("jog", "-"),
        ("jog", "-"),
        ("jog", "+"),
        ("jog", "+"),
        ("jog_stop",),
    ]
    assert pressed == ["jog_plus", "jog_minus"]
