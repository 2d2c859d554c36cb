"""The committed app icons are what the generator draws (no hand-edited binaries)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

WEB = Path(__file__).resolve().parents[2] / "raild" / "web"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_icons", WEB / "tools" / "make_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("size_px", [192, 512])
def test_committed_icon_matches_the_generator(size_px: int) -> None:
    committed = Image.open(WEB / "icons" / f"icon-{size_px}.png").convert("RGBA")
    drawn = _generator().draw_icon(size_px)
    assert committed.size == (size_px, size_px)
    assert committed.tobytes() == drawn.tobytes(), "rerun raild/web/tools/make_icons.py"
