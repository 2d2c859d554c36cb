"""`raild check`: is this machine ready to run the rig? One line per finding, with its fix.

It looks at what the daemon depends on, in the order a user would fix them: the
config (already loaded and valid when we get here), pigpiod (reachable, and not
reachable from the network), the board, the driver pins, the camera, and the
state directory. Exit status 0 when nothing failed; warnings do not fail.

pigpiod is asked over its own socket protocol (HWVER, PIGPV, MODEG) through
`raild.hw.connect.PigpiodProbe` rather than the pigpio client, so a missing daemon
costs one refused connection and no notification thread, and the check never
changes a pin.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from raild.config import Config, find_config_path
from raild.hw.connect import PigpiodProbe
from raild.hw.pigpio_facts import CMD_HWVER, CMD_MODEG, CMD_PIGPV, MODE_NAMES

Level = Literal["ok", "warn", "fail"]
LOW_DISK_BYTES = 1 << 30
EXPOSURE_PROBE_TIMEOUT_S = 0.5
GVFS_PROCESSES = ("gvfs-gphoto2-volume-monitor", "gvfsd-gphoto2")
GVFS_FIX = (
    "sudo systemctl --global mask gvfs-gphoto2-volume-monitor.service, then log out "
    "and in (right now: gio mount -s gphoto2)"
)
BOOT_CONFIGS = (Path("/boot/firmware/config.txt"), Path("/boot/config.txt"))

# Board type field of new-style revision codes (bits 4-11).
_BOARD_TYPES = {
    0x00: "A",
    0x01: "B",
    0x02: "A+",
    0x03: "B+",
    0x04: "2B",
    0x06: "CM1",
    0x08: "3B",
    0x09: "Zero",
    0x0A: "CM3",
    0x0C: "Zero W",
    0x0D: "3B+",
    0x0E: "3A+",
    0x10: "CM3+",
    0x11: "4B",
    0x12: "Zero 2 W",
    0x13: "400",
    0x14: "CM4",
    0x15: "CM4S",
    0x17: "5",
    0x18: "CM5",
    0x19: "500",
    0x1A: "CM5 Lite",
}
_SOCS = {0: "BCM2835", 1: "BCM2836", 2: "BCM2837", 3: "BCM2711", 4: "BCM2712"}


@dataclass(frozen=True)
class Finding:
    level: Level
    area: str
    message: str
    fix: str = ""

    def line(self) -> str:
        tag = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[self.level]
        return f"{tag} {self.area}: {self.message}" + (f" -- fix: {self.fix}" if self.fix else "")


# ----- pigpiod -------------------------------------------------------------------


@dataclass
class PigpiodFacts:
    revision: int | None = None
    version: int | None = None
    modes: dict[int, int] | None = None


def _is_loopback(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def check_pigpiod(config: Config, facts: PigpiodFacts) -> list[Finding]:
    host, port = config.pigpio.host, config.pigpio.port
    where = f"{host}:{port}"
    try:
        probe = PigpiodProbe(host, port, min(config.pigpio.connect_timeout_s, 3.0))
    except OSError as exc:
        return [
            Finding(
                "fail",
                "pigpiod",
                f"not reachable at {where} ({exc.strerror or exc})",
                "sudo systemctl enable --now pigpiod (scripts/install.sh sets it up); "
                "or set [pigpio] host/port to where it listens",
            )
        ]
    try:
        facts.revision = probe.command(CMD_HWVER) & 0xFFFFFFFF
        facts.version = probe.command(CMD_PIGPV)
        facts.modes = {pin: probe.command(CMD_MODEG, pin) for pin in _driver_pins(config)}
    except OSError as exc:
        return [
            Finding(
                "fail",
                "pigpiod",
                f"{where} accepted the connection but does not answer like pigpiod ({exc})",
                f"check what listens on port {port}",
            )
        ]
    finally:
        probe.close()
    return [Finding("ok", "pigpiod", f"pigpio {facts.version} answering at {where}")]


def _local_addresses() -> list[str]:
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            text = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            addr = ipaddress.ip_address(text.split("%")[0])
            if not addr.is_loopback and not (addr.version == 6 and addr.is_link_local):
                found.append(str(addr))
    return found


def check_exposure(config: Config, addresses: Iterable[str] | None = None) -> list[Finding]:
    """pigpiod runs as root and takes commands from anyone who can connect to it."""
    host, port = config.pigpio.host, config.pigpio.port
    if not _is_loopback(host):
        return [
            Finding(
                "warn",
                "pigpiod",
                f"[pigpio] host is {host}, not this machine: that "
                "pigpiod must accept network connections, so anyone on the network can "
                "drive the motor",
                'run raild on the Pi itself with host = "127.0.0.1"',
            )
        ]
    exposed = []
    for addr in _local_addresses() if addresses is None else addresses:
        try:
            with socket.create_connection((addr, port), timeout=EXPOSURE_PROBE_TIMEOUT_S):
                exposed.append(addr)
        except OSError:
            continue
    if exposed:
        shown = ", ".join(f"[{a}]:{port}" if ":" in a else f"{a}:{port}" for a in exposed)
        return [
            Finding(
                "fail",
                "pigpiod",
                f"port {port} is also reachable from the network at {shown}; anyone there can drive the motor",
                "run pigpiod with -l (install systemd/pigpiod.service.d/raild.conf, then "
                "sudo systemctl daemon-reload && sudo systemctl restart pigpiod)",
            )
        ]
    return [Finding("ok", "pigpiod", "local only: not reachable on this machine's network addresses")]


# ----- board ----------------------------------------------------------------------


def describe_revision(revision: int) -> tuple[str, str | None]:
    """(board name, SoC) of a revision code; SoC None for old-style codes (Pi 1 family)."""
    revision &= 0xFFFFFF  # bits above 23 are warranty and over-voltage flags
    if not revision >> 23 & 1:
        return f"Raspberry Pi 1 family (old-style revision {revision:04x})", "BCM2835"
    board = _BOARD_TYPES.get(revision >> 4 & 0xFF, f"unknown type 0x{revision >> 4 & 0xFF:02x}")
    soc = _SOCS.get(revision >> 12 & 0xF, f"unknown SoC {revision >> 12 & 0xF}")
    return f"Raspberry Pi {board} (revision {revision:06x})", soc


def cpuinfo_revision(cpuinfo: Path) -> int | None:
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Revision":
                return int(value.strip(), 16)
    except (OSError, ValueError):
        return None
    return None


def check_board(revision: int | None, source: str, grbl: bool = False) -> list[Finding]:
    """`grbl`: the grbl board times the steps, so the Pi 5 family is fine (and any Linux host)."""
    if revision is None and grbl:
        return [Finding("ok", "board", "not a Raspberry Pi (or revision unknown); fine with the grbl drive")]
    if revision is None:
        return [
            Finding(
                "warn",
                "board",
                "revision unknown (pigpiod unreachable and no Revision in /proc/cpuinfo): not a Raspberry Pi?",
                "run raild check on the Pi",
            )
        ]
    name, soc = describe_revision(revision)
    if soc == "BCM2712" and grbl:
        return [Finding("ok", "board", f"{name}, {soc} (from {source}); the grbl board times the steps")]
    if soc == "BCM2712":
        return [
            Finding(
                "fail",
                "board",
                f"{name}, {soc}: pigpio does not support the Pi 5 family (its GPIO sits behind the RP1 chip)",
                'use a Pi Zero 2 W, 3 or 4, or a grbl board: [drive] backend = "grbl" (docs/hardware.md)',
            )
        ]
    if soc == "BCM2835":
        return [
            Finding(
                "warn",
                "board",
                f"{name}, {soc}: too slow for raild; supported boards are the Pi Zero 2 W to Pi 4",
                "move the rig to a Pi Zero 2 W, 3 or 4",
            )
        ]
    return [Finding("ok", "board", f"{name}, {soc} (from {source})")]


# ----- pins -----------------------------------------------------------------------


def _driver_pins(config: Config) -> dict[int, str]:
    pins = config.pins
    named = {
        name: getattr(pins, name) for name in ("step", "dir", "enable", "limit_min", "limit_max", "shutter", "focus")
    }
    found = {pin: f"pins.{name}" for name, pin in named.items() if pin}
    found.update({pin: f"buttons.{name}" for name, pin in config.buttons.fitted().items()})
    return found


def boot_config_path(explicit: Path | None = None) -> Path | None:
    return explicit or next((p for p in BOOT_CONFIGS if p.is_file()), None)


def enabled_interfaces(path: Path | None) -> dict[int, str]:
    """Header pins claimed by interfaces switched on in the firmware's config.txt."""
    if path is None:
        return {}
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    claimed: dict[int, str] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip().replace(" ", "")
        if line in ("dtparam=i2c_arm=on", "dtparam=i2c=on"):
            claimed.update({2: "I2C (dtparam=i2c_arm)", 3: "I2C (dtparam=i2c_arm)"})
        elif line == "dtparam=spi=on":
            claimed.update(dict.fromkeys((7, 8, 9, 10, 11), "SPI0 (dtparam=spi)"))
        elif line == "enable_uart=1":
            claimed.update({14: "UART (enable_uart=1)", 15: "UART (enable_uart=1)"})
        elif line == "dtparam=i2s=on":
            claimed.update(dict.fromkeys((18, 19, 20, 21), "I2S/PCM (dtparam=i2s)"))
        elif line.startswith("dtoverlay=w1-gpio"):
            pin = 4
            for part in line.split(",")[1:]:
                if part.startswith("gpiopin="):
                    pin = int(part.split("=", 1)[1]) if part.split("=", 1)[1].isdigit() else pin
            claimed[pin] = "1-Wire (dtoverlay=w1-gpio)"
    return claimed


def check_pins(config: Config, modes: dict[int, int] | None, boot_config: Path | None = None) -> list[Finding]:
    findings = []
    boot_config = boot_config_path(boot_config)
    claimed = enabled_interfaces(boot_config)
    for pin, name in sorted(_driver_pins(config).items()):
        if pin in claimed:
            findings.append(
                Finding(
                    "fail",
                    "pins",
                    f"GPIO {pin} ({name}) is also used by {claimed[pin]}",
                    f"move {name} to a free pin, or switch that interface off in config.txt",
                )
            )
        elif modes is not None and modes.get(pin, 0) > 1:
            mode = MODE_NAMES.get(modes[pin], str(modes[pin]))
            findings.append(
                Finding(
                    "fail",
                    "pins",
                    f"GPIO {pin} ({name}) is switched to {mode}: a peripheral owns it",
                    f"move {name} to a free pin, or find the overlay that claims it (raspi-gpio get / pinctrl)",
                )
            )
    if not findings:
        sources = ([str(boot_config)] if boot_config else []) + (["pigpiod's pin modes"] if modes is not None else [])
        checked = " and ".join(sources) or "nothing to compare with: no config.txt, no pigpiod"
        findings.append(Finding("ok", "pins", f"{len(_driver_pins(config))} driver pins, none clashing ({checked})"))
    return findings


# ----- camera ---------------------------------------------------------------------


def gvfs_processes(proc: Path = Path("/proc")) -> list[tuple[int, str]]:
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
        except OSError:
            continue
        name = os.path.basename(argv0)
        if name in GVFS_PROCESSES:
            found.append((int(entry.name), name))
    return sorted(found)


def _autodetect() -> list[tuple[str, str]]:
    import gphoto2 as gp

    cameras = gp.Camera.autodetect()
    return [(cameras.get_name(i), cameras.get_value(i)) for i in range(cameras.count())]


def usb_node(address: str, dev: Path = Path("/dev/bus/usb")) -> Path | None:
    """The device node of a gphoto2 port like "usb:001,004" (None for other ports)."""
    if not address.startswith("usb:") or "," not in address:
        return None
    bus, _, device = address[4:].partition(",")
    if not (bus.isdigit() and device.isdigit()):
        return None
    return dev / f"{int(bus):03d}" / f"{int(device):03d}"


def _can_open(node: Path) -> bool:
    return os.access(node, os.R_OK | os.W_OK)


def check_camera(
    config: Config,
    proc: Path = Path("/proc"),
    dev: Path = Path("/dev/bus/usb"),
    can_open: Callable[[Path], bool] = _can_open,
) -> list[Finding]:
    backend = config.camera.backend
    if backend == "sim":
        return [Finding("ok", "camera", 'simulated camera (camera.backend = "sim")')]
    if backend == "gpio" and config.camera.shutter_output == "grbl_coolant":
        where = "the grbl board's coolant output (M8/M9)"
        return [Finding("ok", "camera", f"wired shutter on {where}; frames are not confirmed by the camera")]
    if backend == "gpio":
        return [
            Finding(
                "ok", "camera", f"wired shutter on GPIO {config.pins.shutter}; frames are not confirmed by the camera"
            )
        ]
    findings = []
    try:
        cameras = _autodetect()
    except ImportError:
        return [
            Finding(
                "fail",
                "camera",
                "the gphoto2 Python bindings are not installed",
                "re-run scripts/install.sh (on a 32-bit system it builds them against libgphoto2)",
            )
        ]
    except Exception as exc:  # libgphoto2 errors carry their own text
        cameras = []
        findings.append(Finding("fail", "camera", f"autodetect failed: {exc}", "unplug and replug the camera"))
    holders = gvfs_processes(proc)
    if holders:
        who = ", ".join(f"{name} (pid {pid})" for pid, name in holders)
        findings.append(
            Finding(
                "fail",
                "camera",
                f"gvfs is running and claims cameras: {who}; "
                "libgphoto2 then fails with -53 (could not claim the USB device)",
                GVFS_FIX,
            )
        )
    for name, addr in cameras:
        # Autodetect reads descriptors from sysfs; opening the node needs permission.
        node = usb_node(addr, dev)
        if node is not None and node.exists() and not can_open(node):
            findings.append(
                Finding(
                    "fail",
                    "camera",
                    f"{name} is at {node}, which this user cannot open read-write",
                    "install the udev rule "
                    "(scripts/install.sh does), check that this user is in "
                    "plugdev, then replug the camera",
                )
            )
    if cameras:
        shown = ", ".join(f"{name} at {addr}" for name, addr in cameras)
        findings.append(Finding("ok", "camera", f"detected {shown}"))
    elif not findings:
        findings.append(
            Finding(
                "fail",
                "camera",
                "no camera detected over USB",
                "connect it by USB, switch it on and set its USB mode to PTP/PC "
                '(or set camera.backend = "gpio" for a wired shutter)',
            )
        )
    return findings


# ----- storage --------------------------------------------------------------------


def check_state_dir(path: Path) -> list[Finding]:
    if not path.exists():
        return [
            Finding(
                "fail",
                "state dir",
                f"{path} does not exist",
                f"under systemd StateDirectory= creates it; by hand: sudo install -d -o raild -g raild -m 0750 {path}",
            )
        ]
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".raild-check-") as probe:
            probe.write(b"raild check\n")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return [
            Finding(
                "fail",
                "state dir",
                f"{path} is not writable ({exc.strerror or exc})",
                f"sudo chown -R raild:raild {path}, or pass a writable --state-dir",
            )
        ]
    return [Finding("ok", "state dir", f"{path} is writable")]


def check_disk(path: Path, free_bytes: int | None = None) -> list[Finding]:
    if free_bytes is None:
        try:
            free_bytes = shutil.disk_usage(path).free
        except OSError:
            return []  # the state dir finding already says what is wrong
    gib = free_bytes / (1 << 30)
    if free_bytes < LOW_DISK_BYTES:
        return [
            Finding(
                "warn",
                "disk",
                f"{gib:.2f} GiB free for frames in {path}",
                "download and delete old stacks, or use a larger SD card",
            )
        ]
    return [Finding("ok", "disk", f"{gib:.1f} GiB free in {path}")]


# ----- all together ----------------------------------------------------------------


def collect(
    config: Config,
    config_source: str | None,
    *,
    cpuinfo: Path = Path("/proc/cpuinfo"),
    boot_config: Path | None = None,
    proc: Path = Path("/proc"),
    addresses: Iterable[str] | None = None,
) -> list[Finding]:
    findings = [Finding("ok", "config", f"valid ({config_source or 'built-in defaults'})")]
    if config.drive.backend == "grbl":
        return findings + _collect_grbl(config, cpuinfo, proc)
    facts = PigpiodFacts()
    pigpiod = check_pigpiod(config, facts)
    findings += pigpiod
    findings += check_exposure(config, addresses)
    if facts.revision is not None:
        findings += check_board(facts.revision, "pigpiod")
    else:
        findings += check_board(cpuinfo_revision(cpuinfo), "/proc/cpuinfo")
    findings += check_pins(config, facts.modes, boot_config)
    findings += check_camera(config, proc)
    state_dir = Path(config.daemon.state_dir).expanduser()
    findings += check_state_dir(state_dir)
    findings += check_disk(state_dir)
    return findings


def _collect_grbl(config: Config, cpuinfo: Path, proc: Path) -> list[Finding]:
    """The grbl drive: no pigpiod; the board, its serial port and its $ settings instead."""
    from raild.drives.grbl.check import grbl_findings

    findings = grbl_findings(config)
    board = check_board(cpuinfo_revision(cpuinfo), "/proc/cpuinfo", grbl=True)
    findings += board
    findings += check_camera(config, proc)
    state_dir = Path(config.daemon.state_dir).expanduser()
    findings += check_state_dir(state_dir)
    findings += check_disk(state_dir)
    return findings


def run_check(config: Config, args: argparse.Namespace) -> int:
    findings = collect(config, find_config_path(getattr(args, "config", None)))
    for finding in findings:
        print(finding.line())
    failed = sum(f.level == "fail" for f in findings)
    warned = sum(f.level == "warn" for f in findings)
    if failed:
        print(f"raild check: {failed} problem(s), {warned} warning(s)")
        return 1
    print("raild check: ready" + (f" ({warned} warning(s))" if warned else ""))
    return 0
