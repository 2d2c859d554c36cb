"""How sharp a region of an image is: mean squared Laplacian of its luminance.

Used to check the simulated camera's optics and to measure how well a stack
covers a subject. The box is shrunk by `margin_px` so blur spilling across a
region's border does not count for the wrong region.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def luminance(jpeg: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as im:
        return np.asarray(im.convert("L"), dtype=np.float64)


def region_sharpness(gray: np.ndarray, x0: int, x1: int, y0: int, y1: int, margin_px: int = 6) -> float:
    box = gray[y0 + margin_px : y1 - margin_px, x0 + margin_px : x1 - margin_px]
    if box.shape[0] < 3 or box.shape[1] < 3:
        raise ValueError("region too small to measure sharpness")
    lap = box[1:-1, :-2] + box[1:-1, 2:] + box[:-2, 1:-1] + box[2:, 1:-1] - 4.0 * box[1:-1, 1:-1]
    return float(np.mean(lap * lap))
