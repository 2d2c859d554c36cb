"""The systemd units: what systemd itself says about them, and the directives we rely on."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.unitfile import last, parse_unit, words

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
RAILD_UNIT = SYSTEMD / "raild.service"
PIGPIOD_UNIT = SYSTEMD / "pigpiod.service"
PIGPIOD_DROPIN = SYSTEMD / "pigpiod.service.d" / "raild.conf"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze not installed (apt-get install systemd)",
)


def _fake_root(root: Path, *, with_pigpiod_unit: bool = True) -> Path:
    """A directory tree `systemd-analyze verify --root` accepts, holding our units unchanged.

    verify insists that ExecStart binaries exist and that every unit named in a
    dependency can be loaded, so the root gets executable stand-ins at the
    installed paths and a copy of this machine's own system units (targets such
    as sysinit.target), dereferenced because their absolute symlinks would point
    outside the root.
    """
    for exe in ("opt/raild/venv/bin/raild", "usr/bin/pigpiod"):
        path = root / exe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
    system = root / "usr/lib/systemd/system"
    system.mkdir(parents=True)
    for unit in SYSTEM_UNITS.iterdir():
        if unit.is_file():  # follows symlinks; skips the *.wants directories
            shutil.copyfile(unit, system / unit.name)
    etc = root / "etc/systemd/system"
    (etc / "pigpiod.service.d").mkdir(parents=True)
    shutil.copyfile(RAILD_UNIT, etc / "raild.service")
    if with_pigpiod_unit:
        shutil.copyfile(PIGPIOD_UNIT, etc / "pigpiod.service")
    shutil.copyfile(PIGPIOD_DROPIN, etc / "pigpiod.service.d" / "raild.conf")
    return root


def _verify(root: Path, *units: str) -> tuple[int, list[str]]:
    """Exit status and the complaints about our own units (not the host's)."""
    proc = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", *units],
        capture_output=True,
        text=True,
        timeout=60,
    )
    ours = re.compile(r"raild|pigpiod")
    return proc.returncode, [line for line in proc.stderr.splitlines() if ours.search(line)]


@needs_analyze
def test_both_units_and_the_dropin_verify_cleanly(tmp_path: Path) -> None:
    rc, complaints = _verify(_fake_root(tmp_path), "raild.service", "pigpiod.service")
    assert complaints == []
    assert rc == 0


@needs_analyze
def test_verify_catches_a_bad_directive_in_the_dropin(tmp_path: Path) -> None:
    # The check above must be able to fail: a typo in the drop-in is reported.
    root = _fake_root(tmp_path)
    dropin = root / "etc/systemd/system/pigpiod.service.d/raild.conf"
    dropin.write_text(dropin.read_text() + "ExecStrat=/usr/bin/pigpiod\n")
    _, complaints = _verify(root, "pigpiod.service")
    assert any("ExecStrat" in line for line in complaints), complaints


@needs_analyze
def test_raild_without_pigpiod_unit_fails_verify(tmp_path: Path) -> None:
    # BindsTo=pigpiod.service is real: without that unit raild cannot start.
    rc, complaints = _verify(_fake_root(tmp_path, with_pigpiod_unit=False), "raild.service")
    assert rc != 0
    assert any("pigpiod.service" in line for line in complaints), complaints


@needs_analyze
def test_security_exposure_is_low() -> None:
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(RAILD_UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for raild\.service: ([0-9.]+)", proc.stdout)
    assert match, proc.stdout + proc.stderr
    # docs/install.md records the score; keep the two in step.
    score = float(match.group(1))
    assert score <= 2.0
    assert f"exposure {score:.1f}" in (REPO / "docs/install.md").read_text()


def test_raild_unit_lifecycle_directives() -> None:
    unit = parse_unit(RAILD_UNIT)
    assert last(unit, "Service", "Type") == "notify"
    assert last(unit, "Service", "NotifyAccess") == "main"
    assert last(unit, "Service", "WatchdogSec") not in (None, "0", "infinity")
    assert last(unit, "Service", "Restart") == "on-failure"
    assert words(unit, "Service", "RestartPreventExitStatus") == ["78"]
    assert "pigpiod.service" in words(unit, "Unit", "After")
    assert "pigpiod.service" in words(unit, "Unit", "BindsTo")
    # network-online.target is pulled in and ordered, never only one of the two.
    assert ("network-online.target" in words(unit, "Unit", "Wants")) == (
        "network-online.target" in words(unit, "Unit", "After")
    )
    assert last(unit, "Service", "TimeoutStopSec") is not None
    assert last(unit, "Install", "WantedBy") == "multi-user.target"


def test_raild_unit_has_files_for_its_connection_limit() -> None:
    """Room for [api] limit_concurrency connections plus everything else it opens."""
    from raild.config import Config

    unit = parse_unit(RAILD_UNIT)
    limit = last(unit, "Service", "LimitNOFILE")
    assert limit is not None and limit.isdigit()
    assert int(limit) >= 4 * Config().api.limit_concurrency


def test_raild_unit_commands_match_the_installed_layout() -> None:
    unit = parse_unit(RAILD_UNIT)
    assert last(unit, "Service", "ExecStart") == (
        "/opt/raild/venv/bin/raild serve --config /etc/raild/raild.toml --state-dir /var/lib/raild"
    )
    # "-": a safe-stop that finds pigpiod gone must not mark raild failed.
    assert last(unit, "Service", "ExecStopPost") == (
        "-/opt/raild/venv/bin/raild safe-stop --config /etc/raild/raild.toml"
    )
    assert last(unit, "Service", "User") == "raild"
    assert words(unit, "Service", "SupplementaryGroups") == ["plugdev"]
    assert last(unit, "Service", "StateDirectory") == "raild"
    assert last(unit, "Service", "ConfigurationDirectory") == "raild"


def test_raild_unit_hardening_keeps_the_usb_camera_reachable() -> None:
    unit = parse_unit(RAILD_UNIT)
    service = unit["Service"]
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "DevicePolicy": "closed",
    }.items():
        assert last(unit, "Service", key) == value, key
    assert service["CapabilityBoundingSet"] == [""]  # empty: no capabilities at all
    assert "char-usb_device rw" in service["DeviceAllow"]
    # PrivateDevices would hide /dev/bus/usb from libgphoto2.
    assert last(unit, "Service", "PrivateDevices") in (None, "no")
    families = set(words(unit, "Service", "RestrictAddressFamilies"))
    assert {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"} <= families
    assert "@system-service" in words(unit, "Service", "SystemCallFilter")


def test_pigpiod_dropin_is_localhost_only_and_foreground() -> None:
    dropin = parse_unit(PIGPIOD_DROPIN)
    starts = dropin["Service"]["ExecStart"]
    # The empty assignment must come first so the packaged ExecStart is replaced.
    assert PIGPIOD_DROPIN.read_text().index("ExecStart=\n") < PIGPIOD_DROPIN.read_text().index("ExecStart=/")
    assert len(starts) == 1
    argv = starts[0].split()
    assert argv[0] == "/usr/bin/pigpiod"
    assert "-l" in argv and "-g" in argv and "-n" not in argv
    # -g runs in the foreground, which only Type=simple tracks correctly.
    assert last(dropin, "Service", "Type") == "simple"


def test_dropin_sorts_after_raspi_configs_remote_gpio_dropin() -> None:
    # raspi-config's "Remote GPIO" writes public.conf without -l; ours must apply later.
    assert sorted(["public.conf", PIGPIOD_DROPIN.name])[-1] == PIGPIOD_DROPIN.name


def test_standalone_pigpiod_unit_is_local_only() -> None:
    unit = parse_unit(PIGPIOD_UNIT)
    assert last(unit, "Service", "Type") == "simple"
    argv = (last(unit, "Service", "ExecStart") or "").split()
    assert argv[:1] == ["/usr/bin/pigpiod"] and "-l" in argv and "-g" in argv
    assert last(unit, "Install", "WantedBy") == "multi-user.target"


def test_camera_udev_rule_gives_cameras_to_plugdev() -> None:
    rule = (SYSTEMD / "udev" / "70-raild-camera.rules").read_text()
    lines = [line for line in rule.splitlines() if line and not line.startswith("#")]
    grants = [line for line in lines if 'GROUP="plugdev"' in line]
    # Cameras libgphoto2 knows, and any PTP still-image interface.
    assert any('ENV{ID_GPHOTO2}=="1"' in line for line in grants)
    assert any('ENV{ID_USB_INTERFACES}=="*:060101:*"' in line for line in grants)
    assert all('MODE="0664"' in line for line in grants)  # libusb must write to claim it
    # Every GOTO has its LABEL, or udev would skip the rest of the file.
    gotos = {part.split('"')[1] for line in lines for part in line.split(", ") if "GOTO=" in part}
    labels = {line.split('"')[1] for line in lines if line.startswith("LABEL=")}
    assert gotos == labels == {"raild_camera_end"}
    # Ordered after libgphoto2's 60-*.rules, which set ID_GPHOTO2.
    assert (SYSTEMD / "udev" / "70-raild-camera.rules").name > "60-libgphoto2-6.rules"


def _udevadm_complaints(rules: dict[str, str], tmp_path: Path) -> list[str]:
    """What `udevadm test` says about rule files, loaded in a private mount namespace
    (a tmpfs over /etc/udev/rules.d seen by that one process only)."""
    if shutil.which("udevadm") is None or shutil.which("unshare") is None:
        pytest.skip("needs udevadm and unshare")
    staged = tmp_path / "rules"
    staged.mkdir()
    for name, text in rules.items():
        (staged / name).write_text(text)
    script = (
        f"mount -t tmpfs tmpfs /etc/udev/rules.d && cp {staged}/* /etc/udev/rules.d/ "
        "&& udevadm test --action=add /sys/class/net/lo"
    )
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    output = proc.stdout + proc.stderr
    if "unshare:" in output or "mount:" in output:
        pytest.skip(f"cannot mount a private rules directory here: {output.strip()[:200]}")
    return [
        line
        for line in output.splitlines()
        if "/etc/udev/rules.d/" in line and not line.startswith("Reading rules file")
    ]


def test_camera_udev_rule_parses(tmp_path: Path) -> None:
    rule = (SYSTEMD / "udev" / "70-raild-camera.rules").read_text()
    complaints = _udevadm_complaints(
        {"70-raild-camera.rules": rule, "71-typo.rules": 'SUBSYSTEM=="usb", GRUOP="plugdev"\n'}, tmp_path
    )
    # The typo file proves udevadm reports bad rules here; ours must draw nothing.
    assert any("71-typo.rules" in line for line in complaints), complaints
    assert not any("70-raild-camera.rules" in line for line in complaints), complaints
