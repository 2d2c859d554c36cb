"""gpiozero devices on PiGPIOFactory, talking to the emulator over TCP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from gpiozero import LED, Button
from gpiozero.pins.pigpio import PiGPIOFactory

from raild.config import Config
from raild.sim import SimRig
from raild.sim.testing import running_rig
from tests.sim.conftest import wait_until


@pytest.fixture
def factory(rig: SimRig) -> Iterator[PiGPIOFactory]:
    f = PiGPIOFactory(host=rig.host, port=rig.port)
    try:
        yield f
    finally:
        f.close()


def test_board_info_decodes_as_a_pi_4(factory: PiGPIOFactory) -> None:
    info = factory.board_info
    assert info.model == "4B"
    assert info.memory == 4096
    assert info.revision == "c03112"


def test_led_drives_the_pin(factory: PiGPIOFactory, rig: SimRig) -> None:
    led = LED(17, pin_factory=factory)
    try:
        assert rig.level(17) == 0
        led.on()
        assert rig.level(17) == 1 and led.is_lit
        led.off()
        assert rig.level(17) == 0
    finally:
        led.close()


def test_button_callbacks(factory: PiGPIOFactory, rig: SimRig) -> None:
    # GPIO 7 is pulled up from power-on, so the client's cached level (BR1 at connect) is right.
    pressed = threading.Event()
    released = threading.Event()
    button = Button(7, pull_up=True, pin_factory=factory)
    try:
        assert not button.is_pressed  # pulled up, nothing pressing it
        button.when_pressed = pressed.set
        button.when_released = released.set
        rig.drive_input(7, 0)  # pressed: closes to ground
        assert pressed.wait(2.0)
        assert button.is_pressed
        rig.drive_input(7, None)  # let go: the pull-up brings it back
        assert released.wait(2.0)
        assert not button.is_pressed
    finally:
        button.close()


def test_first_edge_after_an_unwatched_change_is_missed_as_on_a_pi(factory: PiGPIOFactory, rig: SimRig) -> None:
    """pigpio.py tracks levels from BR1 at connect plus the reports it gets; GPIO 22 is pulled
    down at power-on, the Button's pull-up raises it while nobody watches, so the client's
    cached level is stale and the first press goes unnoticed, exactly as with a real pigpiod."""
    presses: list[int] = []
    releases: list[int] = []
    button = Button(22, pull_up=True, pin_factory=factory)
    try:
        button.when_pressed = lambda: presses.append(1)
        button.when_released = lambda: releases.append(1)
        rig.drive_input(22, 0)
        time.sleep(0.05)
        assert presses == []
        rig.drive_input(22, None)  # reported, but gpiozero never saw a press, so no release either
        time.sleep(0.05)
        assert releases == []
        rig.drive_input(22, 0)
        assert wait_until(lambda: presses == [1], 2.0)
    finally:
        button.close()


def test_button_bounce_time_filters_glitches() -> None:
    with running_rig(time_scale=1) as rig:
        factory = PiGPIOFactory(host=rig.host, port=rig.port)
        presses: list[float] = []
        button = Button(7, pull_up=True, bounce_time=0.2, pin_factory=factory)
        try:
            button.when_pressed = lambda: presses.append(time.monotonic())
            # A 5 ms glitch: shorter than the 200 ms bounce time, so not reported.
            rig.drive_input(7, 0)
            time.sleep(0.005)
            rig.drive_input(7, None)
            time.sleep(0.3)
            assert presses == []
            # A real press, held.
            rig.drive_input(7, 0)
            assert wait_until(lambda: len(presses) == 1, 2.0)
            time.sleep(0.1)
            assert len(presses) == 1
        finally:
            button.close()
            factory.close()


def test_a_limit_switch_as_a_gpiozero_button() -> None:
    # With an external pull resistor (limit_pull = "off") the switch drives both levels,
    # so a floating gpiozero input reads it correctly.
    data = Config().model_dump()
    data["pins"]["limit_pull"] = "off"
    with running_rig(Config.model_validate(data)) as rig:
        factory = PiGPIOFactory(host=rig.host, port=rig.port)
        tripped = threading.Event()
        switch = Button(rig.config.pins.limit_min, pull_up=None, active_state=True, pin_factory=factory)
        try:
            switch.when_pressed = tripped.set
            assert not switch.is_pressed
            rig.rail.set_position_um(-2.0)
            assert tripped.wait(2.0)
            assert switch.is_pressed
        finally:
            switch.close()
            factory.close()
