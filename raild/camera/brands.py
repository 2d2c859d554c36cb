"""Per-brand capture rules as data, and a pure chooser that turns a body into a plan.

No gphoto2 here: a body is its model name and its flattened widget tree (widget
name → `Setting`), so the rules can be tested against recorded trees. Each rule
is named after the `[camera]` key that overrides it; "auto" applies the rule when
the body looks like the brand it was reported for and has the widgets it needs.
The facts behind each rule come from public reports (issue trackers of gphoto2,
libgphoto2 and python-gphoto2), not from bodies tested here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from raild.camera.protocol import Setting

Brand = Literal["canon", "nikon", "sony", "other"]
Mode = Literal["download", "trigger"]
Release = Literal["trigger_capture", "eosremoterelease", "capture"]

# Canon EOS: a full press without autofocus, then wait for the file (libgphoto2 #695, gphoto2 #466).
EOS_RELEASE_WIDGET = "eosremoterelease"
EOS_RELEASE_SEQUENCE = ("Immediate", "Release Full")
# Live view on bodies that answer busy until the viewfinder is up (libgphoto2 #66).
VIEWFINDER_WIDGET = "viewfinder"
# Sony: every shot is half-press, wait for focus, full press; in manual focus the body
# never reports "focused" and each shot waits for a time-out of about 1 s (libgphoto2 #292).
SONY_FOCUS_WAIT_S = 1.5
FOCUS_MODE_WIDGETS = ("focusmode", "focusmode2", "afmode", "focusmodesetting")
MANUAL_FOCUS_WORDS = ("manual", "mf")


class CameraRules(Protocol):
    """The `[camera]` keys the chooser reads (a `CameraConfig` satisfies it)."""

    @property
    def capture_mode(self) -> str: ...

    @property
    def capture_target(self) -> str: ...

    @property
    def remote_release(self) -> str: ...

    @property
    def viewfinder(self) -> str: ...

    @property
    def sony_half_press(self) -> str: ...


@dataclass(frozen=True)
class Body:
    model: str
    widgets: dict[str, Setting]

    def has(self, name: str) -> bool:
        return name in self.widgets


@dataclass(frozen=True)
class Rule:
    name: str
    key: str  # the [camera] key that overrides it
    brand: Brand | Literal["any"]
    what: str
    source: str


RULES: tuple[Rule, ...] = (
    Rule(
        "canon_remote_release",
        "remote_release",
        "canon",
        "release with eosremoterelease (Immediate, then Release Full) and wait for the file event",
        "libgphoto2 #695, gphoto2 #466",
    ),
    Rule(
        "nikon_card_trigger",
        "capture_mode",
        "nikon",
        "save to the card, trigger, and wait for the file and capture-complete events",
        "gphoto2 #590",
    ),
    Rule(
        "sony_half_press",
        "sony_half_press",
        "sony",
        "allow the ~1 s focus time-out of each half-press, and reconnect after a capture time-out",
        "libgphoto2 #292, gphoto2 #133",
    ),
    Rule(
        "viewfinder",
        "viewfinder",
        "any",
        "raise the viewfinder (viewfinder=1) before live view",
        "libgphoto2 #66",
    ),
)
RULES_BY_NAME = {r.name: r for r in RULES}


@dataclass(frozen=True)
class CapturePlan:
    """How this body is driven. `applied` names the rules that shaped it, with why."""

    mode: Mode
    release: Release
    target: Literal["ram", "card"] | None  # None: the body has no capture-target setting
    viewfinder: bool
    focus_wait_s: float  # extra time a shot may take before its file appears
    reconnect_after_timeout: bool
    applied: list[tuple[str, str]] = field(default_factory=list)  # (rule name, why)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "release": self.release,
            "target": self.target,
            "viewfinder": self.viewfinder,
            "focus_wait_s": self.focus_wait_s,
            "reconnect_after_timeout": self.reconnect_after_timeout,
            "rules": [{"name": n, "why": w} for n, w in self.applied],
            "warnings": list(self.warnings),
        }


def brand_of(body: Body) -> Brand:
    """From the model name the driver reports (e.g. "Canon EOS 600D", "Nikon DSC D750",
    "Sony Alpha-A7 III"), else from the body's manufacturer widget."""
    for text in (body.model, body.widgets.get("manufacturer", Setting("", [])).value):
        low = text.lower()
        for brand in ("canon", "nikon", "sony"):
            if low.startswith(brand) or f" {brand}" in low:
                return brand
    return "other"


def focus_is_manual(body: Body) -> bool | None:
    """True/False when a focus-mode widget says so; None when the body does not tell."""
    for name in FOCUS_MODE_WIDGETS:
        if name in body.widgets:
            value = body.widgets[name].value.lower()
            return any(word in value.split() or value.startswith(word) for word in MANUAL_FOCUS_WORDS)
    switch = body.widgets.get("autofocus")  # Nikon: a menu On/Off (Sony's is a button, no choices)
    if switch is not None and "Off" in switch.choices:
        return switch.value == "Off"
    return None


def _wanted(setting: str, auto: bool) -> bool:
    return setting == "on" or (setting == "auto" and auto)


def choose_plan(rules: CameraRules, body: Body) -> CapturePlan:
    """The capture plan for `body` under the `[camera]` keys in `rules`. Pure."""
    brand = brand_of(body)
    applied: list[tuple[str, str]] = []
    warnings: list[str] = []
    has_target = body.has("capturetarget")

    # Capture mode and target: explicit keys win; "auto" follows the brand rules.
    mode: Mode
    target: Literal["ram", "card"] | None
    if rules.capture_mode == "auto":
        if brand in ("nikon", "canon", "sony"):
            mode = "trigger"
            if brand == "nikon":
                applied.append(("nikon_card_trigger", "a Nikon body: card, trigger, wait for the file"))
        else:
            mode = "download"
    else:
        mode = "download" if rules.capture_mode == "download" else "trigger"
    if not has_target:
        target = None
    elif rules.capture_target == "auto":
        target = "card" if brand == "nikon" and mode == "trigger" else "ram"
    else:
        target = "card" if rules.capture_target == "card" else "ram"
    if has_target and body.widgets["capturetarget"].readonly and target is not None:
        warnings.append(
            "capturetarget is read-only on this body (seen after a Nikon Z firmware update); "
            "frames go where the camera puts them"
        )

    # Canon's remote release replaces trigger_capture when the body has it.
    release: Release = "capture" if mode == "download" else "trigger_capture"
    has_eos = body.has(EOS_RELEASE_WIDGET)
    if _wanted(rules.remote_release, brand == "canon" and has_eos and mode == "trigger"):
        if not has_eos:
            warnings.append("remote_release is on but this body has no eosremoterelease setting; not used")
        else:
            mode, release = "trigger", "eosremoterelease"
            applied.append(("canon_remote_release", "the body offers eosremoterelease (full press, no autofocus)"))

    has_viewfinder = body.has(VIEWFINDER_WIDGET)
    viewfinder = has_viewfinder and _wanted(rules.viewfinder, True)
    if viewfinder:
        applied.append(("viewfinder", "the body has a viewfinder switch; live view raises it first"))
    elif rules.viewfinder == "on" and not has_viewfinder:
        warnings.append("viewfinder is on but this body has no viewfinder setting; not used")

    manual = focus_is_manual(body)
    focus_wait_s = 0.0
    reconnect = False
    if _wanted(rules.sony_half_press, brand == "sony"):
        focus_wait_s, reconnect = SONY_FOCUS_WAIT_S, True
        why = "a Sony body half-presses before every shot"
        if manual:
            why += "; in manual focus each shot waits ~1 s for a focus lock that never comes"
        applied.append(("sony_half_press", why))
    if manual is False:
        warnings.append(
            "the body is set to autofocus: it may refocus between frames and spoil the stack; "
            "switch the lens or body to manual focus"
        )
    if brand == "canon" and has_target and target == "ram":
        warnings.append(
            'some Canon bodies answer "busy" from the second shot when saving to RAM without a '
            'card (gphoto2 #251); if that happens insert a card and set capture_target = "card"'
        )
    return CapturePlan(mode, release, target, viewfinder, focus_wait_s, reconnect, applied, warnings)
