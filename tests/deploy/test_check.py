"""`raild check` against the pigpiod emulator over TCP, with problems injected."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pigpio
import pytest
from PIL import Image

from raild.check import (
    LOW_DISK_BYTES,
    _local_addresses,
    check_board,
    check_camera,
    check_disk,
    collect,
    describe_revision,
    usb_node,
)
from raild.config import Config
from raild.sim import SimRig
from raild.sim.testing import running_rig
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def rig() -> Iterator[SimRig]:
    with running_rig() as started:
        yield started


@pytest.fixture
def exposed_rig() -> Iterator[SimRig]:
    """An emulator listening on every address, like pigpiod started without -l."""
    rig = SimRig(Config())
    rig.start_blocking("0.0.0.0", 0)
    yield rig
    rig.stop_blocking()


def _write_config(tmp_path: Path, port: int, *, backend: str = "sim", host: str = "127.0.0.1") -> Path:
    path = tmp_path / "raild.toml"
    path.write_text(
        f'[pigpio]\nhost = "{host}"\nport = {port}\nconnect_timeout_s = 1.0\n[camera]\nbackend = "{backend}"\n'
    )
    return path


def _raild_check(
    config: Path, state_dir: Path, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [
        *(prefix or []),
        sys.executable,
        "-m",
        "raild",
        "check",
        "--config",
        str(config),
        "--state-dir",
        str(state_dir),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}, cwd=REPO)


def _lines(proc: subprocess.CompletedProcess[str], level: str) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith(level)]


def _closed_port() -> int:
    return free_port()  # closed again on return: nothing listens there


def test_all_well_against_the_emulator(rig: SimRig, tmp_path: Path) -> None:
    proc = _raild_check(_write_config(tmp_path, rig.port), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _lines(proc, "FAIL") == []
    out = proc.stdout
    assert f"pigpio 79 answering at 127.0.0.1:{rig.port}" in out
    assert "local only" in out
    assert "Raspberry Pi 4B" in out and "(from pigpiod)" in out
    assert f"{tmp_path} is writable" in out
    assert out.rstrip().splitlines()[-1].startswith("raild check: ready")


def test_invalid_config_is_reported_before_anything_else(tmp_path: Path) -> None:
    bad = tmp_path / "raild.toml"
    bad.write_text("[pins]\nstep = 99\n")
    proc = _raild_check(bad, tmp_path)
    assert proc.returncode == 78
    assert "pin 99 is not usable" in proc.stderr
    assert proc.stdout == ""  # nothing is probed with a config that cannot be trusted


def test_unreachable_pigpiod_fails_with_the_fix(tmp_path: Path) -> None:
    proc = _raild_check(_write_config(tmp_path, _closed_port()), tmp_path)
    assert proc.returncode == 1
    fails = _lines(proc, "FAIL")
    assert len(fails) == 1, proc.stdout
    assert "pigpiod: not reachable at 127.0.0.1:" in fails[0]
    assert "fix: sudo systemctl enable --now pigpiod" in fails[0]
    assert "1 problem(s)" in proc.stdout


def test_pigpiod_reachable_from_the_network_fails(exposed_rig: SimRig, tmp_path: Path) -> None:
    if not _local_addresses():
        pytest.skip("this machine has no non-loopback address to probe from")
    proc = _raild_check(_write_config(tmp_path, exposed_rig.port), tmp_path)
    assert proc.returncode == 1
    (line,) = [f for f in _lines(proc, "FAIL") if "reachable from the network" in f]
    assert f":{exposed_rig.port}" in line and "pigpiod with -l" in line


def test_remote_pigpio_host_is_a_warning(exposed_rig: SimRig, tmp_path: Path) -> None:
    addresses = _local_addresses()
    v4 = [a for a in addresses if ":" not in a]
    if not v4:
        pytest.skip("this machine has no non-loopback IPv4 address")
    proc = _raild_check(_write_config(tmp_path, exposed_rig.port, host=v4[0]), tmp_path)
    assert proc.returncode == 0, proc.stdout
    (warn,) = _lines(proc, "WARN")
    assert f"host is {v4[0]}, not this machine" in warn


def test_read_only_state_dir_fails(rig: SimRig, tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a read-only filesystem privately")
    state = tmp_path / "state"
    state.mkdir()
    config = _write_config(tmp_path, rig.port)
    # A private mount namespace: the read-only tmpfs is seen by this one process only.
    mount = f'mount -t tmpfs -o ro,size=1m tmpfs {state} && exec "$@"'
    proc = _raild_check(config, state, prefix=["unshare", "-m", "sh", "-c", mount, "sh"])
    if "mount:" in proc.stderr or "unshare:" in proc.stderr:
        pytest.skip(f"cannot mount a private filesystem here: {proc.stderr.strip()}")
    assert proc.returncode == 1
    (line,) = _lines(proc, "FAIL")
    assert f"state dir: {state} is not writable (Read-only file system)" in line
    assert "fix:" in line


def test_missing_state_dir_fails(rig: SimRig, tmp_path: Path) -> None:
    proc = _raild_check(_write_config(tmp_path, rig.port), tmp_path / "nowhere")
    assert proc.returncode == 1
    (line,) = _lines(proc, "FAIL")
    assert "does not exist" in line and "install -d -o raild" in line


def test_pin_switched_to_a_peripheral_fails(rig: SimRig, tmp_path: Path) -> None:
    # Something else (an overlay, another program) put the STEP pin in ALT0.
    pi = pigpio.pi("127.0.0.1", rig.port)
    try:
        assert pi.connected
        pi.set_mode(20, pigpio.ALT0)
    finally:
        pi.stop()
    findings = collect(
        Config.model_validate({"pigpio": {"port": rig.port}, "daemon": {"state_dir": str(tmp_path)}}), None
    )
    fails = [f for f in findings if f.level == "fail"]
    assert [f.area for f in fails] == ["pins"]
    assert "GPIO 20 (pins.step) is switched to ALT0" in fails[0].message


def test_pin_claimed_by_an_interface_in_config_txt_fails(rig: SimRig, tmp_path: Path) -> None:
    boot = tmp_path / "config.txt"
    boot.write_text("# comment\n#dtparam=spi=on\ndtparam=i2s=on\ndtoverlay=w1-gpio,gpiopin=23\n")
    findings = collect(
        Config.model_validate({"pigpio": {"port": rig.port}, "daemon": {"state_dir": str(tmp_path)}}),
        None,
        boot_config=boot,
    )
    messages = [f.message for f in findings if f.level == "fail"]
    assert messages == [
        "GPIO 20 (pins.step) is also used by I2S/PCM (dtparam=i2s)",
        "GPIO 21 (pins.dir) is also used by I2S/PCM (dtparam=i2s)",
        "GPIO 23 (pins.shutter) is also used by 1-Wire (dtoverlay=w1-gpio)",
    ]


@pytest.mark.parametrize(
    ("revision", "level", "says"),
    [
        (0xC03114, "ok", "Raspberry Pi 4B"),
        (0x902120, "ok", "Raspberry Pi Zero 2 W"),
        (0xA02082, "ok", "Raspberry Pi 3B"),
        (0xC04170, "fail", "Pi 5 family"),
        (0xD04190, "fail", "Pi 5 family"),  # Pi 500
        (0x0010, "warn", "Raspberry Pi 1 family"),
        (0x9000C1, "warn", "Zero W"),
    ],
)
def test_board_revisions(revision: int, level: str, says: str) -> None:
    (finding,) = check_board(revision, "test")
    assert finding.level == level
    assert says in finding.message


def test_warranty_bits_do_not_change_the_board() -> None:
    assert describe_revision(0x2C03114) == describe_revision(0xC03114)


def test_pi5_found_in_cpuinfo_when_pigpiod_cannot_start(tmp_path: Path) -> None:
    # On a Pi 5 pigpiod refuses to run, so the board comes from /proc/cpuinfo.
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nRevision\t: c04170\nModel\t: Raspberry Pi 5\n")
    config = Config.model_validate({"pigpio": {"port": _closed_port()}, "daemon": {"state_dir": str(tmp_path)}})
    board = [f for f in collect(config, None, cpuinfo=cpuinfo) if f.area == "board"]
    assert board[0].level == "fail"
    assert "Pi 5 family" in board[0].message


def test_usb_camera_found_by_gphoto2_autodetect(rig: SimRig, tmp_path: Path) -> None:
    # libgphoto2's virtual USB camera, served from a directory of JPEGs.
    vcam = tmp_path / "vcam"
    vcam.mkdir()
    Image.new("RGB", (64, 48), "gray").save(vcam / "frame.jpg")
    config = _write_config(tmp_path, rig.port, backend="gphoto2")
    proc = _raild_check(config, tmp_path, env={"VCAMERADIR": str(vcam)})
    assert "camera: detected Nikon DSC D750 at usb:" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout


def test_no_camera_fails_with_the_fix(rig: SimRig, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VCAMERADIR"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "raild",
            "check",
            "--config",
            str(_write_config(tmp_path, rig.port, backend="gphoto2")),
            "--state-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )
    assert proc.returncode == 1
    (line,) = _lines(proc, "FAIL")
    assert "no camera detected" in line and "PTP" in line


def test_gvfs_holding_cameras_is_found(tmp_path: Path) -> None:
    # A real process that looks like gvfs's gphoto2 monitor to anyone reading /proc.
    sleep = shutil.which("sleep")
    assert sleep
    impostor = tmp_path / "gvfs-gphoto2-volume-monitor"
    impostor.symlink_to(sleep)
    proc = subprocess.Popen([str(impostor), "30"])
    try:
        findings = check_camera(Config.model_validate({"camera": {"backend": "gphoto2"}}))
    finally:
        proc.kill()
        proc.wait()
    (gvfs,) = [f for f in findings if "gvfs" in f.message]
    assert gvfs.level == "fail"
    assert f"gvfs-gphoto2-volume-monitor (pid {proc.pid})" in gvfs.message
    assert "systemctl --global mask gvfs-gphoto2-volume-monitor.service" in gvfs.fix


def test_camera_node_without_permission_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A detected camera whose /dev/bus/usb node this user may not open. Tests run as
    # root, for whom every node opens, so the permission test itself is injected.
    from raild import check

    node = tmp_path / "001" / "004"
    node.parent.mkdir()
    node.touch()
    monkeypatch.setattr(check, "_autodetect", lambda: [("Nikon DSC D750", "usb:001,004")])
    config = Config.model_validate({"camera": {"backend": "gphoto2"}})
    denied = check_camera(config, dev=tmp_path, can_open=lambda path: path != node)
    (fail,) = [f for f in denied if f.level == "fail"]
    assert f"is at {node}, which this user cannot open" in fail.message
    assert "plugdev" in fail.fix
    allowed = check_camera(config, dev=tmp_path, can_open=lambda path: True)
    assert [f.level for f in allowed] == ["ok"]


def test_usb_node_of_gphoto2_ports() -> None:
    assert usb_node("usb:001,004", Path("/dev/bus/usb")) == Path("/dev/bus/usb/001/004")
    assert usb_node("usb:", Path("/d")) is None
    assert usb_node("ptpip:192.0.2.9", Path("/d")) is None


def test_gvfs_does_not_matter_for_a_wired_shutter() -> None:
    (finding,) = check_camera(Config.model_validate({"camera": {"backend": "gpio"}}))
    assert finding.level == "ok" and "wired shutter on GPIO 23" in finding.message


def test_low_disk_space_warns(tmp_path: Path) -> None:
    (low,) = check_disk(tmp_path, free_bytes=LOW_DISK_BYTES - 1)
    assert low.level == "warn" and "GiB free for frames" in low.message and low.fix
    (real,) = check_disk(tmp_path)
    assert real.level == ("ok" if shutil.disk_usage(tmp_path).free >= LOW_DISK_BYTES else "warn")
