"""`Controls`: the physical control panel, built on the rig's gpiozero factory.

Buttons, jog buttons, the encoder and the status LED each live in their own
module; this one builds what `[buttons]` fits, publishes `controls:press` for
every press (and detent) so the phone sees it, and drives the LED from the
daemon's events. gpiozero's constructors and the LED's writes are blocking
pigpio calls, so they run on a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from raild.config import ButtonsConfig
from raild.controls.actions import ControlActions, Direction
from raild.controls.buttons import ESTOP_FILTER_MS, press_button
from raild.controls.encoder import make_encoder
from raild.controls.jog import JogButtons
from raild.controls.led import StatusLed, led_pattern
from raild.events import EventBus

log = logging.getLogger("raild.controls")


class Controls:
    def __init__(
        self,
        config: ButtonsConfig,
        factory: Any,
        actions: ControlActions,
        events: EventBus,
        status: Callable[[], Mapping[str, Any]],
    ) -> None:
        self.config = config
        self._factory = factory
        self._actions = actions
        self._events = events
        self._status = status
        self._devices: list[Any] = []
        self._led: StatusLed | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._estop_held = False  # the e-stop button is down (gpiozero's thread writes it)

    @property
    def fitted(self) -> dict[str, int]:
        return self.config.fitted()

    @property
    def estop_held(self) -> bool:
        """The e-stop button is down (a reset is latched again until it is released)."""
        return self._estop_held

    async def start(self) -> None:
        await asyncio.to_thread(self._build)
        if self._led is not None or self.config.estop:
            self._watch_task = asyncio.create_task(self._watch(), name="controls-watch")
        log.info("physical controls: %s", ", ".join(f"{k}={v}" for k, v in self.fitted.items()) or "none")

    def _build(self) -> None:
        cfg, factory = self.config, self._factory
        try:
            # The e-stop first: from this line on it works, whatever fails after.
            if cfg.estop:
                estop = press_button(factory, cfg.estop, cfg, self._estop, min(cfg.bounce_ms, ESTOP_FILTER_MS))
                estop.when_released = self._estop_released
                self._devices.append(estop)
                if estop.is_pressed:  # held down while we started: no edge will come
                    self._estop()
            if cfg.stop:
                self._devices.append(press_button(factory, cfg.stop, cfg, self._act("stop", self._actions.stop)))
            if cfg.start:
                start = self._act("start", self._actions.start_pause_resume)
                self._devices.append(press_button(factory, cfg.start, cfg, start))
            if cfg.jog_plus or cfg.jog_minus:
                jog = JogButtons(self._actions, self._press)
                if cfg.jog_plus:
                    self._devices.append(jog.add(factory, cfg.jog_plus, cfg, "jog_plus", "+"))
                if cfg.jog_minus:
                    self._devices.append(jog.add(factory, cfg.jog_minus, cfg, "jog_minus", "-"))
            if cfg.encoder_a and cfg.encoder_b:
                self._devices.append(make_encoder(factory, cfg.encoder_a, cfg.encoder_b, self._actions, self._press))
            if cfg.led:
                self._led = StatusLed(factory, cfg.led)
        except Exception:
            self._close_devices()
            raise

    # ----- gpiozero's callback thread -----
    def _estop(self) -> None:
        self._actions.estop()  # before anything else, and without the event loop
        if not self._estop_held:  # a bouncing contact presses once
            self._estop_held = True
            self._press("estop")

    def _estop_released(self) -> None:
        self._estop_held = False

    def _act(self, name: str, action: Callable[[], None]) -> Callable[[], None]:
        def pressed() -> None:
            self._press(name)  # first, so the press is seen before what it led to
            action()

        return pressed

    def _press(self, name: str, direction: Direction | None = None) -> None:
        data: dict[str, Any] = {"button": name}
        if direction is not None:
            data["direction"] = direction
        self._events.publish_threadsafe("controls:press", data)

    # ----- on the loop: the LED, and an e-stop still held -----
    async def _watch(self) -> None:
        led = self._led
        with self._events.subscribe() as sub:
            while True:
                status = self._status()
                if self._estop_held and status.get("state") not in ("estop", "fault"):
                    # Reset while the button is still down: like a latching e-stop switch,
                    # it holds the latch until it is released.
                    self._actions.estop()
                    message = "the e-stop button is still pressed; release it, then reset"
                    self._events.publish("controls:refused", {"action": "reset", "message": message})
                    status = self._status()
                pattern = led_pattern(status)
                if led is not None and pattern != led.pattern:
                    try:
                        await asyncio.to_thread(led.show, pattern)
                    except Exception as exc:  # the connection went; the daemon rebuilds us
                        log.warning("status LED not updated: %s", exc)
                        led = None
                await sub.get()

    async def close(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
            self._watch_task = None
        await asyncio.to_thread(self._close_devices)

    def _close_devices(self) -> None:
        devices, self._devices = self._devices, []
        if self._led is not None:
            devices.append(self._led)
            self._led = None
        for device in devices:
            try:
                device.close()
            except Exception:  # pigpiod has gone: nothing to release there
                _forget_pins(device)


def _forget_pins(device: Any) -> None:
    """Let go of a device whose close failed on a dead connection, so gpiozero does not
    try again (and fail noisily) when the object is collected."""
    parts = [device, *getattr(device, "all", ()), getattr(device, "led", None)]
    for part in parts:
        if getattr(part, "_pin", None) is not None:
            with contextlib.suppress(Exception):
                part._pin = None
