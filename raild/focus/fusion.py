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
    """Mean over a (2r+1)^2 window, edges clamped: two separable running sums (float64, so
    the differences of large sums stay exact enough)."""
    k = 2 * radius + 1
    padded = np.pad(values, radius, mode="edge").astype(np.float64)
    c = np.zeros((padded.shape[0] + 1, padded.shape[1]))
    np.cumsum(padded, axis=0, out=c[1:])
    rows = c[k:] - c[:-k]
    c = np.zeros((rows.shape[0], rows.shape[1] + 1))
    np.cumsum(rows, axis=1, out=c[:, 1:])
    return ((c[:, k:] - c[:, :-k]) / (k * k)).astype(np.float32)


def half_size_energy(energy: np.ndarray) -> np.ndarray:
    """Sum over 2x2 blocks (a partial last row/column dropped)."""
    h2, w2 = energy.shape[0] // 2, energy.shape[1] // 2
    return energy[: 2 * h2, : 2 * w2].reshape(h2, 2, w2, 2).sum(axis=3).sum(axis=1)


def full_size(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A half-size mask back at `shape` (the odd last row/column repeats its neighbour)."""
    big = mask.repeat(2, axis=0).repeat(2, axis=1)
    pad = (0, shape[0] - big.shape[0]), (0, shape[1] - big.shape[1])
    return np.pad(big, pad, mode="edge") if pad[0][1] or pad[1][1] else big


class Fusion:
    def __init__(self) -> None:
        self.fused: np.ndarray | None = None  # (h, w, 3) uint8
        self.best: np.ndarray | None = None  # (h/2, w/2) float32 smoothed energy of the chosen frame
        self.depth_um: np.ndarray | None = None  # (h/2, w/2) float32 position of the chosen frame
        self.frames = 0
        self.near_um: float | None = None
        self.far_um: float | None = None

    def add(self, image: FrameImage, position_um: float, energy: np.ndarray | None = None) -> None:
        """Fold one frame in. `energy`: its `laplacian_energy`, when the caller has it already.
        The choice is made on a half-size grid (smoothed over a window a little over 1 % of
        the long side), which is both the smoothing and half the work."""
        rgb, gray = image.rgb, image.gray
        if energy is None:
            energy = laplacian_energy(gray)
        small = half_size_energy(energy)
        measure = box_mean(small, max(1, max(small.shape) // 96))
        if self.fused is None or self.fused.shape != rgb.shape or self.best is None or self.depth_um is None:
            self.fused = rgb.copy()
            self.best = measure
            self.depth_um = np.full(small.shape, position_um, dtype=np.float32)
        else:
            take = measure > self.best
            np.maximum(measure, self.best, out=self.best)
            self.depth_um[take] = position_um
            big = full_size(take, gray.shape)
            self.fused[big] = rgb[big]
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
        colour[self.best < CONFIDENT_ENERGY * 4] = 128.0  # energies are 2x2 sums
        image = Image.fromarray(colour.astype(np.uint8), "RGB")
        if self.fused is not None:  # the same size as the preview, so they overlay
            image = image.resize((self.fused.shape[1], self.fused.shape[0]), Image.Resampling.NEAREST)
        buf = io.BytesIO()
        image.save(buf, "PNG")
        return buf.getvalue()
