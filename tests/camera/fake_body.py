"""A stand-in for a gphoto2 camera handle, built from a widget-tree fixture (FAKE: no
libgphoto2 driver behind it). It scripts the events a body sends after a release so the
session's use of brand rules and file events can be checked without a real body."""

from __future__ import annotations

import time
from collections import deque
from types import SimpleNamespace
from typing import Any

from raild.camera.protocol import Setting


class GPhoto2Error(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


GP = SimpleNamespace(
    GPhoto2Error=GPhoto2Error,
    GP_EVENT_UNKNOWN=0,
    GP_EVENT_TIMEOUT=1,
    GP_EVENT_FILE_ADDED=2,
    GP_EVENT_CAPTURE_COMPLETE=4,
    GP_WIDGET_WINDOW=0,
    GP_WIDGET_SECTION=1,
    GP_WIDGET_TEXT=2,
    GP_WIDGET_RADIO=5,
    GP_WIDGET_MENU=6,
    GP_FILE_TYPE_NORMAL=1,
    GP_CAPTURE_IMAGE=0,
)


class Widget:
    def __init__(self, name: str, setting: Setting, log: list[tuple[str, Any]]) -> None:
        self.name, self.setting, self.value, self._log = name, setting, setting.value, log

    def get_type(self) -> int:
        return GP.GP_WIDGET_RADIO if self.setting.choices else GP.GP_WIDGET_TEXT

    def get_name(self) -> str:
        return self.name

    def get_value(self) -> Any:
        return self.value

    def set_value(self, value: Any) -> None:
        self.value = value

    def get_choices(self) -> list[str]:
        return list(self.setting.choices)

    def get_readonly(self) -> int:
        return int(self.setting.readonly)


class Tree:
    def __init__(self, widgets: dict[str, Widget]) -> None:
        self.widgets = widgets

    def get_type(self) -> int:
        return GP.GP_WIDGET_WINDOW

    def count_children(self) -> int:
        return len(self.widgets)

    def get_child(self, i: int) -> Widget:
        return list(self.widgets.values())[i]

    def get_child_by_name(self, name: str) -> Widget:
        if name not in self.widgets:
            raise GPhoto2Error(-2)
        return self.widgets[name]


class FakeBody:
    """`events_per_shot`: (kind, name) pairs the body sends after each release."""

    def __init__(self, widgets: dict[str, Setting], events_per_shot: list[tuple[int, str | None]]) -> None:
        self.log: list[tuple[str, Any]] = []  # every call that changes the body, in order
        self._widgets = widgets
        self._per_shot = events_per_shot
        self._events: deque[tuple[int, Any]] = deque()
        self.shots = 0
        self.waits_after_file = 0  # wait_for_event calls made once this shot's last file came

    def init(self) -> None:
        self.log.append(("init", None))

    def exit(self) -> None:
        self.log.append(("exit", None))

    def get_config(self) -> Tree:
        return Tree({n: Widget(n, Setting(str(v), s.choices, s.readonly), self.log) for n, (v, s) in self._state()})

    def _state(self) -> list[tuple[str, tuple[str, Setting]]]:
        return [(n, (s.value, s)) for n, s in self._widgets.items()]

    def set_config(self, tree: Tree) -> None:
        for name, widget in tree.widgets.items():
            if str(widget.value) != self._widgets[name].value:
                self.log.append(("set", (name, widget.value)))
                old = self._widgets[name]
                self._widgets[name] = Setting(str(widget.value), old.choices, old.readonly)
                if name == "eosremoterelease" and widget.value == "Release Full":
                    self._release()

    def trigger_capture(self) -> None:
        self.log.append(("trigger_capture", None))
        self._release()

    def _release(self) -> None:
        self.shots += 1
        for kind, name in self._per_shot:
            stem, dot, ext = (name or "").partition(".")
            data = SimpleNamespace(folder="/store/DCIM", name=f"{stem}_{self.shots}{dot}{ext}") if name else None
            self._events.append((kind, data))

    def wait_for_event(self, timeout_ms: int) -> tuple[int, Any]:
        if not self._events:
            self.waits_after_file += 1
            time.sleep(min(timeout_ms, 20) / 1000)  # a body with nothing to say lets the wait run
            return GP.GP_EVENT_TIMEOUT, None
        return self._events.popleft()

    def capture_preview(self) -> Any:
        self.log.append(("preview", None))
        return SimpleNamespace(get_data_and_size=lambda: b"\xff\xd8jpeg")


def autodetect_for(model: str) -> Any:
    found = SimpleNamespace(count=lambda: 1, get_name=lambda i: model, get_value=lambda i: "usb:001,002")
    return staticmethod(lambda: found)
