"""The inspection channel's `drive`, `level` and `button` commands (API.md), and the
virtual panel's wiring, on the in-process rig."""

from __future__ import annotations

import itertools

import pytest

from raild.config import Config
from raild.sim.buttons import quadrature
from raild.sim.inspect import InspectError, handle_request
from raild.sim.testing import pigpio_client, running_rig

PANEL = {"estop": 17, "led": 25, "encoder_a": 19, "encoder_b": 26}


def test_drive_forces_a_level_and_null_lets_the_pull_decide() -> None:
    import pigpio

    with running_rig(Config().with_overrides(buttons=PANEL)) as rig, pigpio_client(rig) as pi:
        pi.set_mode(17, pigpio.INPUT)
        pi.set_pull_up_down(17, pigpio.PUD_UP)
        assert handle_request(rig, {"cmd": "level", "gpio": 17}) == {"gpio": 17, "level": 1}
        pressed = handle_request(rig, {"cmd": "drive", "gpio": 17, "level": 0})
        assert (pressed["gpio"], pressed["level"]) == (17, 0)
        assert pi.read(17) == 0
        released = handle_request(rig, {"cmd": "drive", "gpio": 17, "level": None})
        assert released["level"] == 1  # back to its pull
        assert released["emu_us"] >= pressed["emu_us"] > 0  # the emulated time of each change
        pi.set_pull_up_down(17, pigpio.PUD_DOWN)
        assert handle_request(rig, {"cmd": "level", "gpio": 17})["level"] == 0
        assert handle_request(rig, {"cmd": "drive", "gpio": 17, "level": 1})["level"] == 1
        handle_request(rig, {"cmd": "drive", "gpio": 17, "level": None})
        # An output shows its latch: what an LED on it would show.
        pi.write(25, 1)
        assert handle_request(rig, {"cmd": "level", "gpio": 25})["level"] == 1


def test_button_wiring_follows_active_low() -> None:
    with running_rig(Config().with_overrides(buttons=PANEL)) as rig:
        assert handle_request(rig, {"cmd": "button", "name": "estop", "pressed": True}) == {"gpio": 17, "level": 0}
        released = handle_request(rig, {"cmd": "button", "name": "estop", "pressed": False})
        assert released["gpio"] == 17  # open again: reads whatever pull is set
    high = Config().with_overrides(buttons={**PANEL, "active_low": False})
    with running_rig(high) as rig:
        assert handle_request(rig, {"cmd": "button", "name": "estop", "pressed": True})["level"] == 1


@pytest.mark.parametrize(
    "req",
    [
        {"cmd": "drive", "gpio": 17},
        {"cmd": "drive", "gpio": 17, "level": 2},
        {"cmd": "drive", "gpio": 17, "level": True},
        {"cmd": "drive", "gpio": 17, "level": 1.0},
        {"cmd": "drive", "gpio": 54, "level": 0},
        {"cmd": "drive", "gpio": "17", "level": 0},
        {"cmd": "level"},
        {"cmd": "button", "name": "stop", "pressed": True},  # not fitted on this rig
        {"cmd": "button", "name": "led", "pressed": True},
        {"cmd": "button", "name": "estop", "pressed": 1},
    ],
)
def test_bad_drive_requests_get_a_clear_error(req: dict) -> None:
    with running_rig(Config().with_overrides(buttons=PANEL)) as rig:
        with pytest.raises(InspectError):
            handle_request(rig, req)


def test_one_detent_is_four_contact_changes_ending_open() -> None:
    cw, ccw = quadrature("+"), quadrature("-")
    assert cw == [(1, 0), (1, 1), (0, 1), (0, 0)]
    assert ccw == [(0, 1), (1, 1), (1, 0), (0, 0)]
    for seq in (cw, ccw):  # a Gray code: one contact changes at a time
        states = [(0, 0), *seq]
        changes = [sum(a != b for a, b in zip(s, t, strict=True)) for s, t in itertools.pairwise(states)]
        assert changes == [1, 1, 1, 1]
