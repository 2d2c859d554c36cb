"""scripts/install.sh: shellcheck-clean, and its --dry-run plan on the systems it meets.

The script reads the board, OS and existing installation through overridable
paths (RAILD_ROOT and friends, see docs/install.md), so every case below runs
the real script against a directory tree shaped like that system.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install.sh"
PI4 = "Raspberry Pi 4 Model B Rev 1.4"
BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n'
RPIOS_32 = 'PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"\nID=raspbian\nVERSION_CODENAME=bookworm\n'


def _root(tmp_path: Path, os_release: str = BOOKWORM) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(os_release)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\nplugdev:x:46:pi\n")
    return root


def _exe(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def _installed(root: Path) -> None:
    """Shape `root` like a Pi after a successful install."""
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nraild:x:999:999::/var/lib/raild:/usr/sbin/nologin\n"
    )
    (root / "etc/group").write_text("root:x:0:\nplugdev:x:46:pi,raild\nraild:x:999:\n")
    _exe(root / "usr/bin/pigpiod")
    _exe(root / "opt/raild/venv/bin/python")
    packaged = root / "lib/systemd/system/pigpiod.service"
    packaged.parent.mkdir(parents=True)
    packaged.write_text("[Service]\nExecStart=/usr/bin/pigpiod -l\nType=forking\n")
    (root / "etc/raild").mkdir()
    (root / "etc/raild/raild.toml").write_text('[daemon]\nname = "bench"\n')
    units = root / "etc/systemd/system"
    (units / "pigpiod.service.d").mkdir(parents=True)
    shutil.copyfile(REPO / "systemd/raild.service", units / "raild.service")
    shutil.copyfile(REPO / "systemd/pigpiod.service.d/raild.conf", units / "pigpiod.service.d/raild.conf")
    rules = root / "etc/udev/rules.d"
    rules.mkdir(parents=True)
    shutil.copyfile(REPO / "systemd/udev/70-raild-camera.rules", rules / "70-raild-camera.rules")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _run(
    root: Path, *args: str, model: str = PI4, arch: str = "arm64", pigpiod_pkg: str = "yes", revision: str | None = None
) -> subprocess.CompletedProcess[str]:
    cpuinfo = root.parent / "cpuinfo"
    cpuinfo.write_text(f"Hardware\t: BCM2835\nRevision\t: {revision}\n" if revision else "")
    env = {
        "PATH": os.environ["PATH"],
        "RAILD_ROOT": str(root),
        "RAILD_MODEL": model,
        "RAILD_ARCH": arch,
        "RAILD_PIGPIOD_PKG": pigpiod_pkg,
        "RAILD_CPUINFO": str(cpuinfo),
    }
    before = _tree(root)
    proc = subprocess.run(["sh", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)
    assert _tree(root) == before, "a dry run changed files"
    return proc


def _actions(proc: subprocess.CompletedProcess[str], root: Path) -> list[str]:
    return [line[2:].replace(str(root), "") for line in proc.stdout.splitlines() if line.startswith("+ ")]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck_clean() -> None:
    proc = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout


def test_pi4_bookworm_full_plan(tmp_path: Path) -> None:
    root = _root(tmp_path)
    proc = _run(root, "--dry-run", revision="c03114")
    assert proc.returncode == 0, proc.stderr
    actions = _actions(proc, root)
    apt = next(a for a in actions if "apt-get install" in a).split()
    assert {"python3-venv", "libgphoto2-6", "pigpiod"} <= set(apt)
    assert "libgphoto2-dev" not in apt  # the arm64 wheel needs no build
    expected_in_order = [
        "apt-get update",
        "useradd --system --user-group --groups plugdev",
        "python3 -m venv /opt/raild/venv",
        f"/opt/raild/venv/bin/python -m pip install --upgrade {REPO}",
        f"install -m 0644 {REPO}/config/raild.toml /etc/raild/raild.toml",
        f"install -D -m 0644 {REPO}/systemd/raild.service /etc/systemd/system/raild.service",
        f"install -D -m 0644 {REPO}/systemd/pigpiod.service.d/raild.conf "
        "/etc/systemd/system/pigpiod.service.d/raild.conf",
        f"install -D -m 0644 {REPO}/systemd/udev/70-raild-camera.rules /etc/udev/rules.d/70-raild-camera.rules",
        "udevadm control --reload",
        "systemctl daemon-reload",
        "systemctl enable pigpiod.service raild.service",
        "systemctl restart pigpiod.service",
        "systemctl restart raild.service",
    ]
    positions = [next(i for i, a in enumerate(actions) if a.startswith(want)) for want in expected_in_order]
    assert positions == sorted(positions), actions
    # The package brings its own pigpiod unit: ours is only a fallback.
    assert not any("systemd/pigpiod.service " in a for a in actions)
    assert "dry run" in proc.stdout


@pytest.mark.parametrize(
    ("model", "revision"),
    [
        ("Raspberry Pi 5 Model B Rev 1.0", "c04170"),
        ("Raspberry Pi 500 Rev 1.0", None),
        ("Raspberry Pi Compute Module 5 Rev 1.0", None),
        (PI4, "d04170"),  # a Pi 5 revision code wins over a wrong model string
    ],
)
def test_pi5_is_refused_before_any_action(tmp_path: Path, model: str, revision: str | None) -> None:
    root = _root(tmp_path)
    proc = _run(root, "--dry-run", model=model, revision=revision)
    assert proc.returncode == 1
    assert "refusing" in proc.stderr and "Pi 5" in proc.stderr and "pigpio" in proc.stderr
    assert _actions(proc, root) == []


@pytest.mark.parametrize(
    ("os_release", "model", "arch", "says"),
    [
        (
            'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nID=debian\nVERSION_CODENAME=bullseye\n',
            PI4,
            "arm64",
            "unsupported system",
        ),
        ('PRETTY_NAME="Ubuntu 24.04"\nID=ubuntu\nVERSION_CODENAME=noble\n', PI4, "arm64", "unsupported system"),
        (BOOKWORM, "unknown", "amd64", "not a Raspberry Pi"),
        (BOOKWORM, "Raspberry Pi Zero W Rev 1.1", "armhf", "not supported"),
        (BOOKWORM, PI4, "i386", "architecture i386"),
    ],
)
def test_unsupported_systems_are_refused(tmp_path: Path, os_release: str, model: str, arch: str, says: str) -> None:
    root = _root(tmp_path, os_release)
    proc = _run(root, "--dry-run", model=model, arch=arch)
    assert proc.returncode == 1
    assert says in proc.stderr
    assert _actions(proc, root) == []


def test_32_bit_builds_gphoto2_against_system_libgphoto2(tmp_path: Path) -> None:
    root = _root(tmp_path, RPIOS_32)
    proc = _run(root, "--dry-run", model="Raspberry Pi Zero 2 W Rev 1.0", arch="armhf")
    assert proc.returncode == 0, proc.stderr
    actions = _actions(proc, root)
    apt = next(a for a in actions if "apt-get install" in a).split()
    assert {"libgphoto2-dev", "pkg-config", "build-essential", "python3-dev"} <= set(apt)
    build = actions.index("/opt/raild/venv/bin/python -m pip install --no-binary gphoto2 gphoto2>=2.5")
    raild = actions.index(f"/opt/raild/venv/bin/python -m pip install --upgrade {REPO}")
    assert build < raild  # raild's own requirements then find gphoto2 satisfied


def test_no_pigpiod_anywhere_says_how_to_get_it(tmp_path: Path) -> None:
    root = _root(tmp_path)
    proc = _run(root, "--dry-run", pigpiod_pkg="no")
    assert proc.returncode == 1
    assert "apt offers no pigpiod" in proc.stderr
    assert "make install" in proc.stderr and "Raspberry Pi OS" in proc.stderr
    assert _actions(proc, root) == []


def test_source_built_pigpiod_gets_our_unit_with_its_path(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _exe(root / "usr/local/bin/pigpiod")
    proc = _run(root, "--dry-run", pigpiod_pkg="no")
    assert proc.returncode == 0, proc.stderr
    actions = _actions(proc, root)
    assert "pigpiod" not in next(a for a in actions if "apt-get install" in a).split()
    assert f"install -D -m 0644 {REPO}/systemd/pigpiod.service /etc/systemd/system/pigpiod.service" in actions
    assert "sed -i s#/usr/bin/pigpiod#/usr/local/bin/pigpiod#g /etc/systemd/system/pigpiod.service" in actions


def test_rerun_on_an_installed_system_changes_only_what_it_must(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _installed(root)
    proc = _run(root, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for message in (
        "user raild exists",
        "user raild is in plugdev",
        "venv /opt/raild/venv exists; upgrading raild in it",
        "kept your /etc/raild/raild.toml",
        "/etc/systemd/system/raild.service unchanged",
        "/etc/systemd/system/pigpiod.service.d/raild.conf unchanged",
        "/etc/udev/rules.d/70-raild-camera.rules unchanged",
        "pigpiod found at /usr/bin/pigpiod",
        "using the packaged pigpiod unit /lib/systemd/system/pigpiod.service",
    ):
        assert message in out, message
    actions = _actions(proc, root)
    assert not any(a.startswith(("useradd", "usermod", "python3 -m venv", "install ", "udevadm")) for a in actions)
    assert "systemctl restart pigpiod.service" not in actions  # its units did not change
    assert "systemctl restart raild.service" in actions  # the upgrade takes effect
    assert f"/opt/raild/venv/bin/python -m pip install --upgrade {REPO}" in actions


def test_rerun_after_a_unit_changed_reinstalls_it(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _installed(root)
    (root / "etc/systemd/system/raild.service").write_text("[Service]\nExecStart=/old\n")
    actions = _actions(_run(root, "--dry-run"), root)
    assert f"install -D -m 0644 {REPO}/systemd/raild.service /etc/systemd/system/raild.service" in actions
    assert "systemctl restart pigpiod.service" in actions


def test_user_outside_plugdev_is_added(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _installed(root)
    (root / "etc/group").write_text("plugdev:x:46:pi\nraild:x:999:\n")
    assert "usermod -a -G plugdev raild" in _actions(_run(root, "--dry-run"), root)


def test_desktop_image_offers_the_gvfs_fix(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _exe(root / "usr/libexec/gvfs-gphoto2-volume-monitor")
    proc = _run(root, "--dry-run")
    assert "would ask whether to apply the gvfs fix" in proc.stdout
    assert "systemctl --global mask gvfs-gphoto2-volume-monitor.service" in _actions(proc, root)
    declined = _run(root, "--dry-run", "--no-gvfs-fix")
    assert not any("mask" in a for a in _actions(declined, root))
    assert "gvfs fix not applied" in declined.stdout


def test_gvfs_fix_already_applied(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _exe(root / "usr/libexec/gvfs-gphoto2-volume-monitor")
    (root / "etc/systemd/user").mkdir(parents=True)
    (root / "etc/systemd/user/gvfs-gphoto2-volume-monitor.service").symlink_to("/dev/null")
    proc = _run(root, "--dry-run", "--gvfs-fix")
    assert "already masked" in proc.stdout
    assert not any("mask" in a for a in _actions(proc, root))


def test_lite_image_has_no_gvfs_question(tmp_path: Path) -> None:
    root = _root(tmp_path)
    proc = _run(root, "--dry-run")
    assert "gvfs" not in proc.stdout.replace(str(tmp_path), "")


def test_fake_root_without_dry_run_is_refused(tmp_path: Path) -> None:
    root = _root(tmp_path)
    proc = _run(root)
    assert proc.returncode == 1
    assert "RAILD_ROOT is for --dry-run only" in proc.stderr
    assert _actions(proc, root) == []


def test_help_is_the_header_comment(tmp_path: Path) -> None:
    proc = _run(_root(tmp_path), "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("Install or upgrade raild")
    assert "RAILD_SRC" in proc.stdout and "set -eu" not in proc.stdout


def test_unknown_option(tmp_path: Path) -> None:
    proc = _run(_root(tmp_path), "--frobnicate")
    assert proc.returncode == 2
    assert "unknown option --frobnicate" in proc.stderr


@pytest.mark.parametrize(
    ("model", "revision"),
    [("Raspberry Pi 5 Model B Rev 1.0", "c04170"), ("Raspberry Pi 500 Rev 1.0", None), (PI4, "d04170")],
)
def test_pi5_refusal_says_what_to_do(tmp_path: Path, model: str, revision: str | None) -> None:
    root = _root(tmp_path)
    proc = _run(root, "--dry-run", model=model, revision=revision)
    assert proc.returncode == 1 and "--drive grbl" in proc.stderr and "RP1" in proc.stderr


@pytest.mark.parametrize("args", [("--drive", "grbl"), ("--drive=grbl",)])
def test_pi5_is_accepted_with_the_grbl_drive(tmp_path: Path, args: tuple[str, ...]) -> None:
    root = _root(tmp_path)
    proc = _run(root, "--dry-run", *args, model="Raspberry Pi 5 Model B Rev 1.0", revision="c04170", pigpiod_pkg="no")
    assert proc.returncode == 0, proc.stderr
    actions = _actions(proc, root)
    apt = next(a for a in actions if "apt-get install" in a).split()
    assert "pigpiod" not in apt
    assert not any("pigpiod" in a for a in actions), actions  # no pigpiod unit, drop-in, enable or restart
    assert any(a.startswith("useradd") and "--groups plugdev,dialout" in a for a in actions)
    assert 'sed -i s/^backend = "pigpio"/backend = "grbl"/ /etc/raild/raild.toml' in actions
    assert "grbl_unit_edit -i /etc/systemd/system/raild.service" in actions
    assert "systemctl enable raild.service" in actions
    assert "grbl drive" in proc.stdout


def test_grbl_unit_edit_drops_pigpiod_and_adds_dialout(tmp_path: Path) -> None:
    """The edit the plan prints, run on the real unit (the function is the script's own)."""
    unit = tmp_path / "raild.service"
    shutil.copyfile(REPO / "systemd/raild.service", unit)
    body = SCRIPT.read_text()
    func = body[body.index("grbl_unit_edit() {") : body.index("\n}\n", body.index("grbl_unit_edit() {")) + 3]
    subprocess.run(["sh", "-c", f'{func}\ngrbl_unit_edit -i "$1"', "sh", str(unit)], check=True, timeout=30)
    text = unit.read_text()
    assert "pigpiod.service" not in "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    assert "safe-stop" not in text and "SupplementaryGroups=plugdev dialout" in text
    assert "ExecStart=/opt/raild/venv/bin/raild serve" in text


def test_existing_config_with_grbl_is_followed_and_adds_dialout(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _installed(root)
    (root / "etc/raild/raild.toml").write_text('[camera]\nbackend = "gphoto2"\n[drive]\nbackend = "grbl"\n')
    proc = _run(root, "--dry-run", model="Raspberry Pi 5 Model B Rev 1.0")
    assert proc.returncode == 0, proc.stderr
    actions = _actions(proc, root)
    assert "usermod -a -G dialout raild" in actions
    assert "systemctl enable raild.service" in actions


def test_unknown_drive_is_a_usage_error(tmp_path: Path) -> None:
    proc = _run(_root(tmp_path), "--dry-run", "--drive", "lgpio")
    assert proc.returncode == 2 and "unknown drive" in proc.stderr
