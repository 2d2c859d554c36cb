"""Draw the raild app icon as PNGs for the web manifest (192 and 512 px).

The same geometry as icons/icon.svg, drawn with Pillow at 4x and scaled down for
smooth edges. The artwork reaches into the corners' margin, so the manifest lists
these as "any", not "maskable". Run from the repository root:

    .venv/bin/python raild/web/tools/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICON_DIR = Path(__file__).resolve().parent.parent / "icons"
SIZES_PX = (192, 512)
OVERSAMPLE = 4
UNITS = 512  # the SVG's viewBox is 0 0 512 512

BACKGROUND = (15, 19, 23, 255)
RAIL = (154, 167, 180, 255)
CARRIAGE = (78, 161, 255, 255)
PLANES = (255, 211, 77, 255)


def _box(scale: float, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    return (round(x0 * scale), round(y0 * scale), round(x1 * scale), round(y1 * scale))


def draw_icon(size_px: int) -> Image.Image:
    big = size_px * OVERSAMPLE
    s = big / UNITS
    img = Image.new("RGBA", (big, big), BACKGROUND)
    d = ImageDraw.Draw(img)
    # Focus planes: thin bars spaced like a stack's steps, above the carriage.
    for i, x in enumerate(range(176, 352, 32)):
        top = 120 + abs(i - 2) * 14
        d.rounded_rectangle(_box(s, x, top, x + 12, 260), radius=round(6 * s), fill=PLANES)
    # The rail with its end stops.
    d.rounded_rectangle(_box(s, 88, 330, 424, 352), radius=round(11 * s), fill=RAIL)
    d.rounded_rectangle(_box(s, 88, 300, 112, 382), radius=round(8 * s), fill=RAIL)
    d.rounded_rectangle(_box(s, 400, 300, 424, 382), radius=round(8 * s), fill=RAIL)
    # The carriage, riding the rail.
    d.rounded_rectangle(_box(s, 196, 282, 316, 364), radius=round(14 * s), fill=CARRIAGE)
    return img.resize((size_px, size_px), Image.Resampling.LANCZOS)


def main() -> None:
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    for size_px in SIZES_PX:
        path = ICON_DIR / f"icon-{size_px}.png"
        # optimize=True keeps the output byte-for-byte stable between runs.
        draw_icon(size_px).save(path, format="PNG", optimize=True)
        print(path)


if __name__ == "__main__":
    main()
