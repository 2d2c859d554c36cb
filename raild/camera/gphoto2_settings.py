"""Reading and writing the few camera settings raild exposes, whatever the camera calls them.

Names differ between makes (Canon says `aperture`, Nikon `f-number`); the API
always says `aperture`. Only settings the camera actually has are listed.
Runs on the camera worker thread; `gp` is the gphoto2 module.
"""

from __future__ import annotations

from typing import Any

from raild.camera.errors import InvalidSetting
from raild.camera.protocol import Setting

# API name → the camera widget names that may hold it, in order of preference.
SETTING_WIDGETS: dict[str, tuple[str, ...]] = {
    "iso": ("iso", "isospeed"),
    "shutterspeed": ("shutterspeed", "shutterspeed2", "eosshutterspeed"),
    "aperture": ("aperture", "f-number"),
    "imageformat": ("imageformat", "imagequality"),
    "capturetarget": ("capturetarget",),
}
# Names a caller may use for an API name (a Nikon user may type f-number).
ALIASES = {"f-number": "aperture"}


def find_widgets(gp: Any, config: Any) -> dict[str, Any]:
    """API name → the widget inside the camera's config tree, for those it has."""
    found: dict[str, Any] = {}
    for api_name, candidates in SETTING_WIDGETS.items():
        for widget_name in candidates:
            try:
                found[api_name] = config.get_child_by_name(widget_name)
                break
            except gp.GPhoto2Error:
                continue
    return found


def describe(gp: Any, widget: Any) -> Setting:
    choices: list[str] = []
    if widget.get_type() in (gp.GP_WIDGET_RADIO, gp.GP_WIDGET_MENU):
        choices = [str(c) for c in widget.get_choices()]
    return Setting(value=str(widget.get_value()), choices=choices, readonly=bool(widget.get_readonly()))


def read_all(gp: Any, config: Any) -> dict[str, Setting]:
    return {name: describe(gp, w) for name, w in find_widgets(gp, config).items()}


def apply(gp: Any, config: Any, values: dict[str, str]) -> list[str]:
    """Validate every value first, then set them on the config tree (all or nothing).
    Returns the API names set; the caller sends the tree to the camera."""
    widgets = find_widgets(gp, config)
    plan: list[tuple[str, Any, str]] = []
    for raw_name, value in values.items():
        name = ALIASES.get(raw_name, raw_name)
        widget = widgets.get(name)
        if widget is None:
            raise InvalidSetting(
                raw_name,
                None,
                sorted(widgets),
                message=f"this camera has no setting {raw_name!r}; it offers: {', '.join(sorted(widgets))}",
            )
        current = describe(gp, widget)
        if current.readonly:
            raise InvalidSetting(raw_name, value, current.choices, message=f"{raw_name} is read-only on this camera")
        if current.choices and value not in current.choices:
            raise InvalidSetting(raw_name, value, current.choices)
        plan.append((name, widget, value))
    for _, widget, value in plan:
        widget.set_value(value)
    return [name for name, _, _ in plan]


def pick_capture_target(choices: list[str], target: str) -> str | None:
    """The camera's label for RAM or card (labels vary: 'Internal RAM', 'Memory card', 'card')."""
    wanted = ("ram",) if target == "ram" else ("card", "sd", "cf")
    for choice in choices:
        if any(word in choice.lower() for word in wanted):
            return choice
    return None


def flatten(gp: Any, config: Any) -> dict[str, Setting]:
    """Every value widget in the camera's config tree by name (sections walked, actions
    and widgets that cannot be read left out): the input of the brand rules and the probe."""
    found: dict[str, Setting] = {}
    containers = (gp.GP_WIDGET_WINDOW, gp.GP_WIDGET_SECTION)

    def walk(widget: Any) -> None:
        if widget.get_type() in containers:
            for i in range(widget.count_children()):
                walk(widget.get_child(i))
            return
        try:
            found.setdefault(widget.get_name(), describe(gp, widget))
        except gp.GPhoto2Error:  # a property the body lists but cannot read
            pass

    walk(config)
    return found
