"""Per-frame sharpness on a tile grid, at reduced resolution.

The focus measure is the mean squared 4-neighbour Laplacian of the luminance over
each tile (the energy of the finest detail, which defocus removes first). Frames are
decoded straight to at most `ANALYSIS_MAX_PX` on the long side with the JPEG
decoder's own DCT scaling (`Image.draft`), so a 24 MP frame costs about as much as a
1024 px one and never sits in memory at full size. numpy only: OpenCV would be
faster on large images, but at this size numpy keeps up with the camera (see
docs/benchmarks.md), and it saves a 36 MB wheel.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ANALYSIS_MAX_PX = 1024
TILES_ON_LONG_SIDE = 24
MIN_TILE_PX = 8


class UnreadableFrame(Exception):
    """The frame is not an image this layer can decode (a raw file, a torn file)."""


@dataclass(frozen=True)
class FrameImage:
    rgb: np.ndarray  # (h, w, 3) uint8, long side <= ANALYSIS_MAX_PX
    gray: np.ndarray  # (h, w) float32 luminance, 0..255
    scale: float  # analysis pixels per frame pixel (<= 1)


def decode_frame(source: bytes | Path, max_px: int = ANALYSIS_MAX_PX) -> FrameImage:
    """The frame as RGB and luminance at most `max_px` on its long side."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as file_im:
            full_w, full_h = file_im.size
            if file_im.format == "JPEG":
                # DCT scaling: decode at the smallest 1/2^k size still >= the target.
                file_im.draft("RGB", (max_px * full_w // max(full_w, full_h), max_px * full_h // max(full_w, full_h)))
            im = file_im.convert("RGB")
            if max(im.size) > max_px:
                factor = max_px / max(im.size)
                im = im.resize(
                    (max(1, round(im.width * factor)), max(1, round(im.height * factor))), Image.Resampling.BILINEAR
                )
            rgb = np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableFrame(str(exc)) from exc
    return FrameImage(rgb=rgb, gray=luminance(rgb), scale=rgb.shape[1] / full_w)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def laplacian_energy(gray: np.ndarray) -> np.ndarray:
    """Squared 4-neighbour Laplacian, same shape as `gray` (edges repeated)."""
    g = np.pad(gray.astype(np.float32, copy=False), 1, mode="edge")
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4.0 * g[1:-1, 1:-1]
    return lap * lap


def tile_px_for(shape: tuple[int, ...]) -> int:
    return max(MIN_TILE_PX, round(max(shape[0], shape[1]) / TILES_ON_LONG_SIDE))


def tile_sharpness(gray: np.ndarray, tile_px: int | None = None) -> np.ndarray:
    """(rows, cols) float32: mean Laplacian energy per whole tile (a partial last row/column is left out)."""
    tile = tile_px or tile_px_for(gray.shape)
    return block_mean(laplacian_energy(gray), tile)


def block_mean(values: np.ndarray, tile: int) -> np.ndarray:
    rows, cols = values.shape[0] // tile, values.shape[1] // tile
    if rows == 0 or cols == 0:
        raise ValueError(f"image {values.shape[1]}x{values.shape[0]} is smaller than one {tile} px tile")
    cropped = values[: rows * tile, : cols * tile]
    return cropped.reshape(rows, tile, cols, tile).mean(axis=(1, 3), dtype=np.float32)


def frame_sharpness(gray: np.ndarray) -> float:
    """One figure for a whole frame (the live meter): mean energy of the sharpest quarter of tiles,
    so a small sharp subject on a plain background still moves the needle."""
    tiles = tile_sharpness(gray).ravel()
    top = np.sort(tiles)[-max(1, tiles.size // 4) :]
    return float(top.mean())
