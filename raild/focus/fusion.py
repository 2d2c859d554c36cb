"""A quick all-in-focus preview, built one frame at a time: pick-sharpest with smoothing.

For every pixel the fusion keeps the colour of the frame whose local detail energy
(squared Laplacian, box-averaged over a small window so the choice follows regions,
not single noisy pixels) is highest so far, and that frame's position, which makes
the depth map. Adding a frame costs one pass over a <= 1024 px image; nothing else is
kept, so memory does not grow with the number of frames.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from raild.focus.measure import FrameImage, laplacian_energy

CONFIDENT_ENERGY = 2.0  # below this everywhere, a pixel is flat: grey in the depth map

# Near (violet) to far (yellow), a perceptually ordered ramp.
_RAMP = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]],
    dtype=np.float32,
)


def box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, edges clamped, via summed-area tables."""
    k = 2 * radius + 1
    padded = np.pad(values, radius + 1, mode="edge").astype(np.float64)
    sat = padded.cumsum(axis=0).cumsum(axis=1)
    total = sat[k:, k:] - sat[:-k, k:] - sat[k:, :-k] + sat[:-k, :-k]
    h, w = values.shape
    return (total[:h, :w] / (k * k)).astype(np.float32)


class Fusion:
    def __init__(self) -> None:
        self.fused: np.ndarray | None = None  # (h, w, 3) uint8
        self.best: np.ndarray | None = None  # (h, w) float32 energy of the chosen frame
        self.depth_um: np.ndarray | None = None  # (h, w) float32 position of the chosen frame
        self.frames = 0
        self.near_um: float | None = None
        self.far_um: float | None = None

    def add(self, image: FrameImage, position_um: float) -> None:
        rgb, gray = image.rgb, image.gray
        radius = max(2, max(gray.shape) // 128)
        energy = box_mean(laplacian_energy(gray), radius)
        if self.fused is None or self.fused.shape != rgb.shape:
            self.fused = rgb.copy()
            self.best = energy
            self.depth_um = np.full(gray.shape, position_um, dtype=np.float32)
        else:
            assert self.best is not None and self.depth_um is not None
            take = energy > self.best
            self.fused[take] = rgb[take]
            self.best = np.where(take, energy, self.best)
            self.depth_um[take] = position_um
        self.frames += 1
        self.near_um = position_um if self.near_um is None else min(self.near_um, position_um)
        self.far_um = position_um if self.far_um is None else max(self.far_um, position_um)

    def preview_jpeg(self, quality: int = 85) -> bytes:
        if self.fused is None:
            raise ValueError("no frame fused yet")
        buf = io.BytesIO()
        Image.fromarray(self.fused, "RGB").save(buf, "JPEG", quality=quality)
        return buf.getvalue()

    def depth_png(self) -> bytes:
        """Where each frame is sharpest, as colour from near (violet) to far (yellow); flat areas grey."""
        if self.depth_um is None or self.best is None:
            raise ValueError("no frame fused yet")
        span = (self.far_um or 0.0) - (self.near_um or 0.0)
        t = (self.depth_um - (self.near_um or 0.0)) / span if span > 0 else np.zeros_like(self.depth_um)
        scaled = np.clip(t, 0.0, 1.0) * (len(_RAMP) - 1)
        lo = np.floor(scaled).astype(int).clip(0, len(_RAMP) - 2)
        frac = (scaled - lo)[..., None]
        colour = _RAMP[lo] * (1 - frac) + _RAMP[lo + 1] * frac
        colour[self.best < CONFIDENT_ENERGY] = 128.0
        buf = io.BytesIO()
        Image.fromarray(colour.astype(np.uint8), "RGB").save(buf, "PNG")
        return buf.getvalue()
