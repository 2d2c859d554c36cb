"""One TOML file, read and validated completely at start-up.

Every key is declared here with its type, bounds and default; unknown keys are
errors (a typo must not silently fall back to a default that drives a motor).
`load_config` either returns a `Config` or raises `ConfigError` holding one
human-readable line per problem: file, key, what is wrong, what is allowed.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

EX_CONFIG = 78
BCM_MIN, BCM_MAX = 2, 27
DEFAULT_CONFIG_PATHS = (Path("/etc/raild/raild.toml"),)


class ConfigError(Exception):
    """The config (file or flags) is unusable; `problems` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Section(BaseModel):
    # strict: a quoted "50" is a string, not a number, for every key alike.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RailConfig(_Section):
    travel_mm: float = Field(100.0, gt=0, le=2000)
    lead_mm: float = Field(1.0, gt=0, le=100)
    motor_steps_per_rev: int = Field(200, ge=4, le=10_000)
    microsteps: Literal[1, 2, 4, 8, 16, 32, 64, 128, 256] = 16
    max_speed_um_s: float = Field(3000.0, gt=0, le=200_000)
    start_speed_um_s: float = Field(100.0, gt=0, le=200_000)
    accel_um_s2: float = Field(20_000.0, gt=0, le=10_000_000)
    soft_min_um: float = 0.0
    soft_max_um: float | None = None
    backlash_um: float = Field(100.0, ge=0, le=10_000)
    approach: Literal["positive", "negative"] = "positive"
    reliable_step_um: float = Field(2.0, ge=0, le=1000)
    step_pulse_us: int = Field(5, ge=1, le=1000)
    dir_setup_us: int = Field(20, ge=1, le=10_000)
    idle_disable_s: float = Field(60.0, ge=0, le=86_400)
    idle_off_forgets_position: bool = Field(False, strict=True)
    jog_deadman_ms: int = Field(500, ge=50, le=10_000, strict=True)

    @property
    def steps_per_mm(self) -> float:
        return self.motor_steps_per_rev * self.microsteps / self.lead_mm

    @property
    def um_per_step(self) -> float:
        return 1000.0 / self.steps_per_mm

    @property
    def soft_max(self) -> float:
        return self.travel_mm * 1000.0 if self.soft_max_um is None else self.soft_max_um

    @model_validator(mode="after")
    def _ranges(self) -> RailConfig:
        travel_um = self.travel_mm * 1000.0
        problems = []
        if not 0 <= self.soft_min_um <= travel_um:
            problems.append(("soft_min_um", f"must lie within the travel, 0 to {travel_um:g}"))
        if self.soft_max_um is not None and not 0 <= self.soft_max_um <= travel_um:
            problems.append(("soft_max_um", f"must lie within the travel, 0 to {travel_um:g}"))
        if self.soft_max <= self.soft_min_um:
            problems.append(("soft_max_um", f"must be greater than soft_min_um ({self.soft_min_um:g})"))
        if self.start_speed_um_s >= self.max_speed_um_s:
            problems.append(("start_speed_um_s", f"must be less than max_speed_um_s ({self.max_speed_um_s:g})"))
        if self.steps_per_mm * self.max_speed_um_s / 1000.0 > 250_000:
            problems.append(("max_speed_um_s", "needs more than 250 000 steps/s; pigpio waves cannot"))
        if problems:
            raise _Problems(problems)
        return self


class PinsConfig(_Section):
    """BCM numbers. 0 means "not fitted" for optional inputs and outputs."""

    step: int = 20
    dir: int = 21
    enable: int = 16
    enable_active_low: bool = True
    limit_min: int = 5
    limit_max: int = 6
    limit_active_high: bool = True
    limit_pull: Literal["up", "down", "off"] = "up"
    shutter: int = 23
    focus: int = 24
    shutter_active_high: bool = True
    limit_glitch_us: int = Field(300, ge=0, le=300_000, strict=True)

    @model_validator(mode="after")
    def _pins(self) -> PinsConfig:
        problems = []
        optional = {"enable", "limit_min", "limit_max", "shutter", "focus"}
        used: dict[int, str] = {}
        for name in ("step", "dir", "enable", "limit_min", "limit_max", "shutter", "focus"):
            pin = getattr(self, name)
            if pin == 0 and name in optional:
                continue
            if not BCM_MIN <= pin <= BCM_MAX:
                allowed = f"BCM {BCM_MIN}-{BCM_MAX}" + (" or 0 (not fitted)" if name in optional else "")
                problems.append((name, f"pin {pin} is not usable; allowed: {allowed}"))
                continue
            if pin in used:
                problems.append((name, f"pin {pin} is already used by pins.{used[pin]}"))
            else:
                used[pin] = name
        if problems:
            raise _Problems(problems)
        return self

    def limit_pin(self, side: str) -> int:
        return self.limit_min if side == "min" else self.limit_max


BUTTON_PINS = ("estop", "stop", "start", "jog_plus", "jog_minus", "encoder_a", "encoder_b", "led")


class ButtonsConfig(_Section):
    """Physical controls (gpiozero on the rig's pigpiod): BCM numbers, 0 = not fitted."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    estop: int = 0
    stop: int = 0
    start: int = 0
    jog_plus: int = 0
    jog_minus: int = 0
    encoder_a: int = 0
    encoder_b: int = 0
    led: int = 0
    active_low: bool = True
    bounce_ms: int = Field(10, ge=0, le=300)
    jog_step_um: float = Field(10.0, gt=0, le=10_000, allow_inf_nan=False)

    @model_validator(mode="after")
    def _pins(self) -> ButtonsConfig:
        problems = []
        used: dict[int, str] = {}
        for name in BUTTON_PINS:
            pin = getattr(self, name)
            if pin == 0:
                continue
            if not BCM_MIN <= pin <= BCM_MAX:
                problems.append((name, f"pin {pin} is not usable; allowed: BCM {BCM_MIN}-{BCM_MAX} or 0 (not fitted)"))
            elif pin in used:
                problems.append((name, f"pin {pin} is already used by buttons.{used[pin]}"))
            else:
                used[pin] = name
        if (self.encoder_a == 0) != (self.encoder_b == 0):
            missing = "encoder_b" if self.encoder_b == 0 else "encoder_a"
            problems.append((missing, "an encoder needs both encoder_a and encoder_b"))
        if problems:
            raise _Problems(problems)
        return self

    def fitted(self) -> dict[str, int]:
        """Pin of each fitted control, by name."""
        return {name: getattr(self, name) for name in BUTTON_PINS if getattr(self, name)}


class HomingConfig(_Section):
    switch: Literal["min", "max", "none"] = "min"
    seek_speed_um_s: float = Field(2000.0, gt=0, le=200_000)
    approach_speed_um_s: float = Field(200.0, gt=0, le=200_000)
    backoff_um: float = Field(1000.0, gt=0, le=100_000)
    home_position_um: float = 0.0
    timeout_s: float = Field(120.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _speeds(self) -> HomingConfig:
        if self.approach_speed_um_s >= self.seek_speed_um_s:
            raise _Problems([("approach_speed_um_s", f"must be less than seek_speed_um_s ({self.seek_speed_um_s:g})")])
        return self


class CameraConfig(_Section):
    backend: Literal["sim", "gphoto2", "gpio"] = "sim"
    trigger: Literal["usb", "wire"] = "usb"
    capture_mode: Literal["download", "trigger", "auto"] = "download"
    capture_target: Literal["ram", "card", "auto"] = "ram"
    delete_after_download: bool = True
    settle_ms: int = Field(500, ge=0, le=600_000)
    focus_ms: int = Field(0, ge=0, le=10_000)
    shutter_pulse_ms: int = Field(100, ge=1, le=10_000)
    exposure_ms: int = Field(200, ge=0, le=3_600_000)
    shot_interval_ms: int = Field(0, ge=0, le=600_000)
    capture_timeout_s: float = Field(30.0, gt=0, le=3600)
    retries: int = Field(3, ge=0, le=20)
    liveview_max_fps: float = Field(8.0, gt=0, le=30)
    # Brand rules (raild.camera.brands): "auto" applies each where the body matches.
    remote_release: Literal["auto", "on", "off"] = "auto"
    viewfinder: Literal["auto", "on", "off"] = "auto"
    sony_half_press: Literal["auto", "on", "off"] = "auto"
    # Where a wired shutter (backend "gpio", or trigger "wire") is driven from: a GPIO pin
    # (pins.shutter), or the grbl board's flood coolant output (M8/M9, drive.backend "grbl").
    shutter_output: Literal["gpio", "grbl_coolant"] = "gpio"


class SimConfig(_Section):
    """The virtual rig used by `--sim` and `raild sim-rig`."""

    pigpio_port: int = Field(0, ge=0, le=65535)
    tick_offset_us: int = Field(0, ge=0, le=2**32 - 1)
    time_scale: float = Field(1.0, gt=0, le=1000)
    start_position_um: float = 50_000.0
    motor_max_speed_um_s: float = Field(12_000.0, gt=0)
    motor_max_accel_um_s2: float = Field(200_000.0, gt=0)
    min_pulse_us: int = Field(2, ge=1, le=1000)
    min_dir_setup_us: int = Field(1, ge=0, le=10_000)
    backlash_um: float = Field(0.0, ge=0, le=10_000)
    subject_near_um: float = 49_000.0
    subject_depth_um: float = Field(2_000.0, gt=0, le=100_000)
    magnification: float = Field(2.0, gt=0, le=100)
    aperture: float = Field(4.0, ge=0.5, le=64)
    seed: int = 1
    image_width: int = Field(480, ge=64, le=4096)
    image_height: int = Field(320, ge=64, le=4096)
    capture_latency_ms: int = Field(150, ge=0, le=60_000)
    download_ms: int = Field(80, ge=0, le=60_000)
    preview_ms: int = Field(30, ge=0, le=10_000)


class ApiConfig(_Section):
    host: str = "0.0.0.0"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(65_536, ge=1024, le=16 * 1024 * 1024)
    login_attempts_per_minute: int = Field(5, ge=1, le=1000)
    # Connection limits (raild.api.connguard): a client cannot starve stop and e-stop.
    header_timeout_s: float = Field(10.0, gt=0, le=300, strict=True)
    max_connections_per_client: int = Field(32, ge=1, le=10_000, strict=True)
    limit_concurrency: int = Field(256, ge=8, le=100_000, strict=True)
    # Extra names the Host header may carry (DNS-rebinding guard, raild.api.hosts).
    allowed_hosts: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _origins(self) -> ApiConfig:
        bad = [o for o in self.cors_origins if o == "*" or "://" not in o]
        if bad:
            raise _Problems(
                [("cors_origins", f"{bad[0]!r} is not allowed; give full origins like 'http://host:8080', never '*'")]
            )
        return self

    @model_validator(mode="after")
    def _hosts(self) -> ApiConfig:
        bad = [h for h in self.allowed_hosts if not _HOST_NAME.fullmatch(h)]
        if bad:
            raise _Problems(
                [
                    (
                        "allowed_hosts",
                        f"{bad[0]!r} is not a host name; give bare names like 'rig.lan' (no scheme, port or '*')",
                    )
                ]
            )
        return self


_HOST_NAME = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


class PigpioConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8888, ge=1, le=65535)
    connect_timeout_s: float = Field(5.0, gt=0, le=300)


class DaemonConfig(_Section):
    state_dir: str = "/var/lib/raild"
    name: str = Field("raild", min_length=1, max_length=63, pattern=r"^[A-Za-z0-9-]+$")
    mdns: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class _StrictSection(_Section):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)  # "20" is not a number


class DriveConfig(_StrictSection):
    """Which drive times the steps: pigpio DMA waves on the Pi's GPIO, or a grbl board."""

    backend: Literal["pigpio", "grbl"] = "pigpio"


class GrblConfig(_StrictSection):
    """A grbl 1.1 or grblHAL board on USB serial (used when drive.backend = "grbl")."""

    port: str = Field("/dev/ttyACM0", min_length=1, max_length=1024)  # device path or pyserial URL
    baud: int = Field(115200, ge=1200, le=4_000_000)
    axis: Literal["X", "Y", "Z"] = "X"
    status_hz: float = Field(20.0, ge=10, le=200)  # `?` polls per second while moving
    connect_timeout_s: float = Field(5.0, gt=0, le=120)


class Config(_Section):
    rail: RailConfig = Field(default_factory=RailConfig)
    pins: PinsConfig = Field(default_factory=PinsConfig)
    homing: HomingConfig = Field(default_factory=HomingConfig)
    camera: CameraConfig = Field(default_factory=CameraConfig)
    sim: SimConfig = Field(default_factory=SimConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    pigpio: PigpioConfig = Field(default_factory=PigpioConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    buttons: ButtonsConfig = Field(default_factory=ButtonsConfig)
    drive: DriveConfig = Field(default_factory=DriveConfig)
    grbl: GrblConfig = Field(default_factory=GrblConfig)

    @model_validator(mode="after")
    def _cross(self) -> Config:
        problems = []
        homes_itself = self.drive.backend == "grbl"  # grbl homes on its own switches ($H)
        if self.homing.switch != "none" and self.pins.limit_pin(self.homing.switch) == 0 and not homes_itself:
            problems.append(
                (
                    "homing.switch",
                    f"is {self.homing.switch!r} but pins.limit_{self.homing.switch} is 0 "
                    '(not fitted); fit the pin or set switch = "none"',
                )
            )
        on_gpio = self.camera.shutter_output == "gpio"
        if self.camera.backend == "gpio" and self.pins.shutter == 0 and on_gpio:
            problems.append(("camera.backend", "is 'gpio' but pins.shutter is 0; set a shutter pin"))
        if self.camera.trigger == "wire" and self.pins.shutter == 0 and on_gpio:
            problems.append(("camera.trigger", "is 'wire' but pins.shutter is 0; set a shutter pin"))
        problems += self._coolant_shutter()
        problems += self._buttons_clash()
        if problems:
            raise _Problems(problems)
        return self

    def _coolant_shutter(self) -> list[tuple[str, str]]:
        if self.camera.shutter_output != "grbl_coolant":
            return []
        problems = []
        if self.drive.backend != "grbl":
            problems.append(("camera.shutter_output", "is 'grbl_coolant' but drive.backend is not 'grbl'"))
        if self.camera.focus_ms:
            problems.append(
                (
                    "camera.focus_ms",
                    "must be 0 with shutter_output = 'grbl_coolant' (one output: wire focus and "
                    "shutter together to the optocoupler)",
                )
            )
        return problems

    def _buttons_clash(self) -> list[tuple[str, str]]:
        names = ("step", "dir", "enable", "limit_min", "limit_max", "shutter", "focus")
        rig = {getattr(self.pins, n): n for n in names}
        return [
            (f"buttons.{name}", f"pin {pin} is already used by pins.{rig[pin]}")
            for name, pin in self.buttons.fitted().items()
            if pin in rig
        ]

    def with_overrides(self, **sections: dict[str, Any]) -> Config:
        """A copy with some keys replaced, validated again (used for CLI flags)."""
        data = self.model_dump()
        for section, values in sections.items():
            data[section].update(values)
        return Config.model_validate(data)

    @property
    def has_home_switch(self) -> bool:
        return self.homing.switch != "none"


class _Problems(ValueError):
    """Raised inside validators to report several (key, message) pairs at once."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{k}: {m}" for k, m in items))
        self.items = items


def _describe(err: ErrorDetails) -> list[tuple[str, str]]:
    loc = ".".join(str(p) for p in err["loc"])
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, _Problems):
        prefix = loc + "." if loc else ""
        return [(prefix + k, m) for k, m in inner.items]
    kind = err["type"]
    if kind == "extra_forbidden":
        return [(loc, "unknown key; check the spelling against config/raild.toml")]
    if kind == "missing":
        return [(loc, "is required")]
    got = err.get("input")
    msg = err["msg"]
    if isinstance(got, float) and not math.isfinite(got):
        msg = "must be a finite number"
    return [(loc, f"{msg} (got {got!r})")]


def validate_data(data: dict[str, Any], source: str) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            for key, msg in _describe(err):
                lines.append(f"{source}: {key}: {msg}")
        raise ConfigError(lines) from None


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Read and validate; `None` means the embedded defaults."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read: {exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{p}: is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{p}: is not valid TOML: {exc}"]) from None
    return validate_data(data, str(p))


def find_config_path(explicit: str | None) -> str | None:
    """--config wins, then RAILD_CONFIG, then /etc/raild/raild.toml if present."""
    if explicit:
        return explicit
    env = os.environ.get("RAILD_CONFIG")
    if env:
        return env
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.is_file():
            return str(candidate)
    return None
