"""Pure renderer for the simulated camera: a textured staircase seen through a macro lens.

The subject is a staircase of terraces across the frame, each a textured flat
region at a known depth; terrace 0 is the near face (depth 0) and the last one
the far face (`depth_um`). The carriage at `subject_near_um + d` focuses on
depth `d`. Each terrace is blurred by its defocus with thin-lens geometry:

    blur diameter on the sensor  c = |defocus| * m**2 / (N * (m + 1))

where N(m+1) is the effective aperture at magnification m. The blur disc is
approximated by a Gaussian of the same second moment (sigma = c / 4), with
diffraction (sigma ≈ 0.42 * wavelength * N(m+1)) added in quadrature. Blur is
applied in the frequency domain, so it changes smoothly even below a pixel.

The picture is a full-frame sensor (36 mm wide) scaled down to the image
width, so one pixel spans `sensor_width_um / width` of the sensor. Output is
deterministic for a seed and a position. No I/O here.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image

SENSOR_WIDTH_UM = 36_000.0
WAVELENGTH_UM = 0.55
SIMULATED_MODEL = "raild simulated camera"
_PAD_PX = 24  # reflect padding so the FFT's wrap-around does not bleed across the frame


@dataclass(frozen=True)
class Optics:
    magnification: float
    aperture: float  # f-number set on the lens

    @property
    def effective_aperture(self) -> float:
        return self.aperture * (self.magnification + 1.0)

    def blur_diameter_um(self, defocus_um: float) -> float:
        """Geometric blur-disc diameter on the sensor for an object `defocus_um` off the focus plane."""
        m = self.magnification
        return abs(defocus_um) * m * m / self.effective_aperture

    def blur_sigma_px(self, defocus_um: float, pixel_um: float) -> float:
        geometric = self.blur_diameter_um(defocus_um) / 4.0
        diffraction = 0.42 * WAVELENGTH_UM * self.effective_aperture
        return math.hypot(geometric, diffraction) / pixel_um


@dataclass(frozen=True)
class Region:
    """A terrace: pixel box [x0, x1) × [y0, y1) at `depth_um` behind the near face."""

    index: int
    x0: int
    x1: int
    y0: int
    y1: int
    depth_um: float


class Subject:
    """A seeded textured staircase spanning `depth_um` in `terraces` steps."""

    def __init__(self, width: int, height: int, depth_um: float, seed: int, terraces: int = 12) -> None:
        if terraces < 2:
            raise ValueError("a subject needs at least 2 terraces")
        self.width = width
        self.height = height
        self.depth_um = depth_um
        self.seed = seed
        edges = np.linspace(0, width, terraces + 1).round().astype(int)
        self.regions = [
            Region(i, int(edges[i]), int(edges[i + 1]), 0, height, depth_um * i / (terraces - 1))
            for i in range(terraces)
        ]
        rng = np.random.default_rng(seed)
        self.texture = _texture(rng, width, height)
        # A tint per terrace makes the steps tell apart on a phone screen.
        self.tints = rng.uniform(0.55, 1.0, size=(terraces, 3)).astype(np.float32)

    @property
    def pixel_um(self) -> float:
        return SENSOR_WIDTH_UM / self.width

    @cached_property
    def _padded(self) -> np.ndarray:
        return np.pad(self.texture, _PAD_PX, mode="reflect")

    @cached_property
    def _bands(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per terrace: the spectrum of its strip plus a margin of its neighbours' texture,
        and the squared frequencies of that strip. Blurring strips, not the whole frame,
        keeps a render about as cheap as one full-frame FFT."""
        bands = []
        for r in self.regions:
            strip = self._padded[:, r.x0 : r.x1 + 2 * _PAD_PX]
            fy = np.fft.fftfreq(strip.shape[0])[:, None]
            fx = np.fft.rfftfreq(strip.shape[1])[None, :]
            bands.append((np.fft.rfft2(strip), fx * fx + fy * fy))
        return bands

    def blurred(self, region: Region, sigma_px: float) -> np.ndarray:
        """The terrace's pixels blurred by a Gaussian of `sigma_px`."""
        spectrum, freq2 = self._bands[region.index]
        width = region.x1 - region.x0 + 2 * _PAD_PX
        transfer = np.exp(-2.0 * math.pi**2 * sigma_px**2 * freq2)
        out = np.fft.irfft2(spectrum * transfer, s=(spectrum.shape[0], width))
        return out[_PAD_PX : _PAD_PX + self.height, _PAD_PX : width - _PAD_PX]

    def focus_position_um(self, region: Region, subject_near_um: float) -> float:
        """Carriage position at which `region` is sharpest."""
        return subject_near_um + region.depth_um


def render(subject: Subject, optics: Optics, focus_depth_um: float) -> np.ndarray:
    """RGB uint8 image with the plane at `focus_depth_um` (behind the near face) in focus."""
    img = np.empty((subject.height, subject.width, 3), dtype=np.float32)
    for region in subject.regions:
        sigma = optics.blur_sigma_px(region.depth_um - focus_depth_um, subject.pixel_um)
        lum = subject.blurred(region, sigma)[region.y0 : region.y1]
        img[region.y0 : region.y1, region.x0 : region.x1, :] = lum[:, :, None] * subject.tints[region.index]
    return np.clip(img * 255.0, 0, 255).astype(np.uint8)


def encode_jpeg(pixels: np.ndarray, quality: int, description: str) -> bytes:
    """JPEG bytes labelled as simulated in EXIF Make/Model/ImageDescription."""
    image = Image.fromarray(pixels, "RGB")
    exif = Image.Exif()
    exif[0x010F] = "raild"  # Make
    exif[0x0110] = SIMULATED_MODEL  # Model
    exif[0x010E] = description  # ImageDescription
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


def _texture(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Luminance in [0, 1]: noise at several scales plus small dark specks with hard edges,
    so there is detail at every spatial frequency for blur to remove."""
    tex = np.zeros((height, width), dtype=np.float64)
    for scale, weight in ((1, 0.35), (2, 0.25), (4, 0.2), (16, 0.2)):
        coarse = rng.random((height // scale + 1, width // scale + 1))
        tex += weight * np.kron(coarse, np.ones((scale, scale)))[:height, :width]
    yy, xx = np.mgrid[0:height, 0:width]
    for _ in range(max(8, width * height // 2500)):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(1.5, 5.0)
        tex[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] *= 0.25
    tex -= tex.min()
    return (0.1 + 0.85 * tex / max(tex.max(), 1e-9)).astype(np.float32)
