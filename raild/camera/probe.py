"""`raild camera probe`, the pure part: which capture paths to time, what the numbers
recommend, and the report as text, JSON and a `[camera]` section raild accepts.

The gphoto2 I/O that fills a `ProbeReport` lives in `raild.camera.probe_gphoto2`;
nothing here touches a camera, so every decision can be tested on recorded data.
"""

from __future__ import annotations

import statistics
import tomllib
from dataclasses import dataclass, field
from typing import Any, Literal

from raild.camera.brands import Body, CapturePlan, brand_of, focus_is_manual
from raild.camera.gphoto2_settings import pick_capture_target
from raild.camera.protocol import Setting
from raild.config import Config, validate_data

EX_UNAVAILABLE = 69  # no camera, or the camera is held by another program
EX_SOFTWARE = 70  # the camera answered but no capture path worked
NEAR_FASTEST = 1.05  # paths within 5 % (or 20 ms: timing jitter) of the fastest count as equally fast
NEAR_FASTEST_S = 0.02

# What the probe shows, by label: the widget names a body may use for it.
RELEVANT: dict[str, tuple[str, ...]] = {
    "capture target": ("capturetarget",),
    "image format": ("imageformat", "imagequality"),
    "focus mode": ("focusmode", "focusmode2", "afmode", "autofocus"),
    "live view switch": ("viewfinder",),
    "remote release": ("eosremoterelease",),
    "lens focus drive": ("manualfocusdrive",),
    "iso": ("iso", "isospeed"),
    "shutter speed": ("shutterspeed", "shutterspeed2", "eosshutterspeed"),
    "aperture": ("aperture", "f-number"),
    "battery": ("batterylevel",),
}


@dataclass(frozen=True)
class PathSpec:
    """One way to take and fetch a frame."""

    mode: Literal["download", "trigger"]
    target: Literal["ram", "card"] | None  # None: the body has no capture-target setting
    delete: bool

    @property
    def name(self) -> str:
        where = self.target or "camera"
        keep = "" if self.target == "ram" else ("+delete" if self.delete else "+keep")
        verb = "capture+download" if self.mode == "download" else "trigger+wait-for-file"
        return f"{verb} to {where}{keep}"


@dataclass(frozen=True)
class ShotTiming:
    confirm_s: float  # release until the camera names the file
    download_s: float  # the file fetched to the Pi
    delete_s: float  # the file deleted on the camera (0 when kept)
    files: int  # files the shot made (2 for RAW+JPEG)
    bytes: int

    @property
    def total_s(self) -> float:
        return self.confirm_s + self.download_s + self.delete_s


@dataclass
class PathResult:
    spec: PathSpec
    shots: list[ShotTiming] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.shots)

    def mean(self, attr: str) -> float:
        return statistics.fmean(getattr(s, attr) for s in self.shots) if self.shots else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.spec.name,
            "mode": self.spec.mode,
            "target": self.spec.target,
            "delete": self.spec.delete,
            "ok": self.ok,
            "error": self.error,
            "shots": len(self.shots),
            "mean_s": {k: round(self.mean(k), 4) for k in ("confirm_s", "download_s", "delete_s", "total_s")},
            "max_total_s": round(max((s.total_s for s in self.shots), default=0.0), 4),
            "files_per_shot": self.shots[0].files if self.shots else None,
            "bytes_per_shot": self.shots[0].bytes if self.shots else None,
        }


@dataclass(frozen=True)
class LiveViewResult:
    supported: bool
    frame_s: float = 0.0
    error: str | None = None
    viewfinder_raised: bool = False


@dataclass
class ProbeReport:
    model: str
    port: str
    body: Body
    plan: CapturePlan
    shots_per_path: int
    paths: list[PathResult] = field(default_factory=list)
    liveview: LiveViewResult | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Recommendation:
    values: dict[str, str | bool]  # [camera] keys and values
    reasons: list[str]
    path: PathResult | None


def paths_for(body: Body) -> list[PathSpec]:
    """Every capture path worth timing on this body: both modes, RAM and card where the
    body can choose (RAM files are always deleted once fetched), keep and delete on card."""
    target_setting = body.widgets.get("capturetarget")
    targets: list[Literal["ram", "card"] | None] = [None]
    if target_setting is not None and not target_setting.readonly:
        has = [t for t in ("ram", "card") if pick_capture_target(target_setting.choices, t) is not None]
        targets = [t for t in ("ram", "card") if t in has] or [None]
    specs: list[PathSpec] = []
    for mode in ("download", "trigger"):
        for target in targets:
            for delete in (True,) if target == "ram" else (True, False):
                specs.append(PathSpec(mode, target, delete))
    return specs


def relevant_settings(body: Body) -> dict[str, tuple[str, Setting] | None]:
    """Label → (widget name, setting) for what matters to stacking; None when not offered."""
    found: dict[str, tuple[str, Setting] | None] = {}
    for label, names in RELEVANT.items():
        found[label] = next(((n, body.widgets[n]) for n in names if n in body.widgets), None)
    return found


def recommend(report: ProbeReport, config: Config) -> Recommendation:
    """The fastest path that worked; among paths within 5 % of it, deleting on the camera
    (the card never fills) and then the camera's own file event (trigger) are preferred.
    Brand-rule keys keep the values the user set (the probe ran with them)."""
    cam = config.camera
    rules: dict[str, str | bool] = {
        "remote_release": cam.remote_release,
        "viewfinder": cam.viewfinder,
        "sony_half_press": cam.sony_half_press,
    }
    worked = [p for p in report.paths if p.ok]
    if not worked:
        return Recommendation({}, ["no capture path worked; see the errors above"], None)
    fastest = min(p.mean("total_s") for p in worked)
    close = [p for p in worked if p.mean("total_s") <= max(fastest * NEAR_FASTEST, fastest + NEAR_FASTEST_S)]
    best = min(close, key=lambda p: (not p.spec.delete, p.spec.mode != "trigger", p.mean("total_s")))
    spec = best.spec
    values: dict[str, str | bool] = {
        "backend": "gphoto2",
        "capture_mode": spec.mode,
        "capture_target": spec.target or cam.capture_target,
        "delete_after_download": spec.delete,
        **rules,
    }
    reasons = [
        f"{spec.name}: {best.mean('total_s'):.3f} s a frame (confirmed in {best.mean('confirm_s'):.3f} s, "
        f"download {best.mean('download_s'):.3f} s, delete {best.mean('delete_s'):.3f} s; "
        f"mean of {len(best.shots)} shots), the best of {len(worked)} working paths"
    ]
    if best.mean("total_s") > fastest:
        reasons.append(
            "preferred to a slightly faster path (within 5 % or 20 ms): it deletes on the camera or uses its file event"
        )
    if not spec.delete:
        reasons.append("frames stay on the camera's card as a second copy; it fills up over long stacks")
    if spec.mode == "trigger":
        reasons.append("trigger mode: raild fires, waits for the camera's file event, downloads during the next move")
    for name, why in report.plan.applied:
        reasons.append(f"rule {name}: {why}")
    if report.liveview is not None and not report.liveview.supported:
        reasons.append("live view did not work over USB: frame the subject on the camera's screen")
    return Recommendation(values, reasons, best)


def section_text(rec: Recommendation) -> str:
    """The `[camera]` section to paste into raild.toml, the reasons as comments."""
    lines = ["[camera]"]
    lines += [f"# {reason}" for reason in rec.reasons]
    for key, value in rec.values.items():
        shown = ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
        lines.append(f"{key} = {shown}")
    return "\n".join(lines) + "\n"


def merge_section(config: Config, section: str, source: str = "probe") -> Config:
    """`config` with the printed `[camera]` section applied, validated by raild's loader
    (ConfigError when raild would reject it)."""
    data = config.model_dump()
    for key, value in tomllib.loads(section).get("camera", {}).items():
        data["camera"][key] = value
    return validate_data(data, source)


def report_dict(report: ProbeReport, rec: Recommendation) -> dict[str, Any]:
    settings = relevant_settings(report.body)
    return {
        "ok": rec.path is not None,
        "model": report.model,
        "port": report.port,
        "brand": brand_of(report.body),
        "focus_manual": focus_is_manual(report.body),
        "settings": {
            label: (None if found is None else {"widget": found[0], **found[1].as_dict()})
            for label, found in settings.items()
        },
        "plan": report.plan.as_dict(),
        "shots_per_path": report.shots_per_path,
        "paths": [p.as_dict() for p in report.paths],
        "liveview": None
        if report.liveview is None
        else {
            "supported": report.liveview.supported,
            "frame_s": round(report.liveview.frame_s, 4),
            "error": report.liveview.error,
            "viewfinder_raised": report.liveview.viewfinder_raised,
        },
        "notes": list(report.notes),
        "recommended": {"camera": rec.values, "reasons": rec.reasons, "section": section_text(rec)},
        "widgets": {name: s.as_dict() for name, s in sorted(report.body.widgets.items())},
    }


def report_text(report: ProbeReport, rec: Recommendation) -> str:
    out = [f"camera: {report.model} on {report.port} (brand: {brand_of(report.body)})", "", "settings that matter:"]
    for label, found in relevant_settings(report.body).items():
        if found is None:
            out.append(f"  {label:17} not offered")
        else:
            name, s = found
            ro = ", read-only" if s.readonly else ""
            out.append(f"  {label:17} {s.value!r} ({name}{ro})")
    shots = f"{report.shots_per_path} shot{'s' if report.shots_per_path != 1 else ''} each"
    out += ["", f"capture paths ({shots}; seconds per frame, mean):"]
    for p in report.paths:
        if p.ok:
            out.append(
                f"  {p.spec.name:38} {p.mean('total_s'):7.3f}  (confirm {p.mean('confirm_s'):.3f}, "
                f"download {p.mean('download_s'):.3f}, delete {p.mean('delete_s'):.3f})"
            )
        else:
            out.append(f"  {p.spec.name:38} failed: {p.error or 'no shots'}")
    lv = report.liveview
    if lv is not None:
        state = f"works, {lv.frame_s:.2f} s a frame" if lv.supported else f"not available ({lv.error})"
        out += ["", f"live view: {state}" + (" (viewfinder raised first)" if lv.viewfinder_raised else "")]
    for warning in report.plan.warnings:
        out.append(f"advice: {warning}")
    for note in report.notes:
        out.append(f"note: {note}")
    out += ["", "recommended (paste into raild.toml):", section_text(rec)]
    return "\n".join(out)
