"""The inspection side channel of a standalone virtual rig: JSON lines over TCP.

Each request is one JSON object on a line, `{"cmd": ...}` plus arguments; each
answer is one JSON object on a line with `"ok": true` and the data, or
`"ok": false` and an `"error"` saying what was wrong. Commands:

    status                        rig and rail summary
    position                      true_position_um, true_position_steps
    switches                      {"min": bool, "max": bool} (tripped)
    lost_steps                    lost_steps and lost_by_reason
    violations  [since]           violation records (from index `since`)
    triggers    [since]           shutter/focus/capture records (from index `since`)
    pulse_log   [last]            the last `last` step records (default 100)
    set_position  um              move the carriage by hand
    capture     [label]           record a capture instant
    reset_counters                clear lost steps, violations, triggers, pulse log
    disconnect                    drop every client connection (pigpio, or grbl over TCP)
    drive       gpio level        drive an input from outside: level 0 or 1, or null to let
                                  go of it (it then reads its pull); a button or a sensor;
                                  answers the level and emu_us, the emulated time of it
    level       gpio              the pin's level as the hardware shows it (an LED)
    button      name pressed      close or open a [buttons] switch as wired (active_low)
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
from typing import Any, Protocol, runtime_checkable

from raild.sim.buttons import VirtualButtons
from raild.sim.rail import Trigger, VirtualRail, as_dict


class InspectTarget(Protocol):
    """What the channel looks at: the pigpiod rig (`SimRig`) or the grbl emulator (`GrblSim`)."""

    @property
    def rail(self) -> VirtualRail: ...

    def status(self) -> dict[str, Any]: ...

    def record_capture(self, label: str) -> Trigger: ...

    def inject_disconnect(self) -> None: ...


@runtime_checkable
class PinTarget(InspectTarget, Protocol):
    """A rig with GPIO pins to drive and read (the pigpiod rig, not the grbl board)."""

    buttons: VirtualButtons

    def drive_input(self, gpio: int, level: int | None) -> int: ...

    def level(self, gpio: int) -> int: ...


def _pins(rig: InspectTarget) -> PinTarget:
    if not isinstance(rig, PinTarget):
        raise InspectError("this emulator has no GPIO pins to drive or read")
    return rig


MAX_LINE_BYTES = 64 * 1024


class InspectError(ValueError):
    pass


def _index(req: dict[str, Any], key: str, default: int) -> int:
    value = req.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InspectError(f"'{key}' must be a non-negative integer")
    return value


def _gpio(req: dict[str, Any]) -> int:
    gpio = req.get("gpio")
    if isinstance(gpio, bool) or not isinstance(gpio, int) or not 0 <= gpio <= 53:
        raise InspectError("'gpio' must be a GPIO number, 0-53")
    return gpio


def handle_request(rig: InspectTarget, req: Any) -> dict[str, Any]:
    if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
        raise InspectError('a request is a JSON object with a "cmd" string')
    cmd = req["cmd"]
    rail = rig.rail
    if cmd == "status":
        return rig.status()
    if cmd == "position":
        return {"true_position_um": rail.true_position_um, "true_position_steps": rail.true_position_steps}
    if cmd == "switches":
        return rail.switch_states()
    if cmd == "lost_steps":
        return {"lost_steps": rail.lost_steps, "lost_by_reason": rail.lost_steps_by_reason}
    if cmd in ("violations", "triggers"):
        since = _index(req, "since", 0)
        records = rail.violations if cmd == "violations" else rail.triggers
        return {cmd: [as_dict(r) for r in records[since:]], "count": len(records)}
    if cmd == "pulse_log":
        last = _index(req, "last", 100)
        return {"pulse_log": [as_dict(r) for r in rail.pulse_log_tail(last)]}
    if cmd == "set_position":
        um = req.get("um")
        if isinstance(um, bool) or not isinstance(um, int | float) or not math.isfinite(um):
            raise InspectError("'um' must be a finite number")
        rail.set_position_um(float(um))
        return {"true_position_um": rail.true_position_um}
    if cmd == "capture":
        label = req.get("label", "")
        if not isinstance(label, str):
            raise InspectError("'label' must be a string")
        return as_dict(rig.record_capture(label))
    if cmd == "reset_counters":
        rail.reset_counters()
        return {}
    if cmd == "disconnect":
        rig.inject_disconnect()
        return {}
    if cmd == "drive":
        gpio = _gpio(req)
        level = req.get("level", "missing")
        if not (level is None or (type(level) is int and level in (0, 1))):
            raise InspectError("'level' must be 0, 1 or null (let go: the pin reads its pull)")
        pins = _pins(rig)
        emu_us = pins.drive_input(gpio, level)
        return {"gpio": gpio, "level": pins.level(gpio), "emu_us": emu_us}
    if cmd == "level":
        gpio = _gpio(req)
        return {"gpio": gpio, "level": _pins(rig).level(gpio)}
    if cmd == "button":
        name, pressed = req.get("name"), req.get("pressed")
        if not isinstance(name, str) or not isinstance(pressed, bool):
            raise InspectError("'name' must be a [buttons] name and 'pressed' true or false")
        pins = _pins(rig)
        try:
            gpio = pins.buttons.set(name, pressed)
        except ValueError as exc:
            raise InspectError(str(exc)) from None
        return {"gpio": gpio, "level": pins.level(gpio)}
    raise InspectError(f"unknown cmd {cmd!r}")


async def _client(rig: InspectTarget, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # longer than the limit
                writer.write(b'{"ok": false, "error": "request line too long"}\n')
                break
            if not line:
                break
            if not line.strip():
                continue
            try:
                req = json.loads(line)
                data = await asyncio.to_thread(handle_request, rig, req)
                answer: dict[str, Any] = {"ok": True, **data}
            except (json.JSONDecodeError, UnicodeDecodeError):
                answer = {"ok": False, "error": "not a JSON object on one line"}
            except InspectError as exc:
                answer = {"ok": False, "error": str(exc)}
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def start_inspect_server(rig: InspectTarget, host: str, port: int) -> asyncio.Server:
    return await asyncio.start_server(lambda r, w: _client(rig, r, w), host, port, limit=MAX_LINE_BYTES)


def ask(host: str, port: int, cmd: str, timeout_s: float = 5.0, **args: Any) -> dict[str, Any]:
    """Client side of the channel: one request line, one answer line (`ok` not checked)."""
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer: dict[str, Any] = json.loads(data)
    return answer
