"""Fusion building blocks on small arrays, and the fused preview of a simulated stack."""

from __future__ import annotations

import numpy as np

from raild.camera.render import Optics, Subject, encode_jpeg, render
from raild.focus.fusion import Fusion, box_mean, full_size, half_size_energy
from raild.focus.measure import decode_frame, laplacian_energy


def test_box_mean_matches_a_plain_window_mean() -> None:
    a = np.random.default_rng(0).random((7, 9)).astype(np.float32)
    padded = np.pad(a, 2, mode="edge")
    ref = np.array([[padded[i : i + 5, j : j + 5].mean() for j in range(9)] for i in range(7)])
    assert np.allclose(box_mean(a, 2), ref, atol=1e-6)


def test_half_size_and_back() -> None:
    e = np.arange(35, dtype=np.float32).reshape(5, 7)
    small = half_size_energy(e)
    assert small.shape == (2, 3) and small[0, 0] == e[:2, :2].sum()
    big = full_size(small > small.mean(), (5, 7))
    assert big.shape == (5, 7) and big[4, 6] == big[3, 5]


def vol(gray: np.ndarray) -> float:
    return float(laplacian_energy(gray)[1:-1, 1:-1].var())


def test_fused_preview_is_sharper_than_every_frame_and_has_no_seams() -> None:
    """Simulated stack: the fusion beats the best frame, and where it switches between frames
    the picture has no step (the frames agree in brightness; a seam would be an edge)."""
    subject, optics = Subject(240, 160, 2000.0, 5), Optics(4.0, 4.0)
    fusion = Fusion()
    sharpest = 0.0
    for x in np.arange(-300.0, 2400.0, 150.0):
        image = decode_frame(encode_jpeg(render(subject, optics, x), 92, "simulated"))
        sharpest = max(sharpest, vol(image.gray))
        fusion.add(image, float(x))
    fused = decode_frame(fusion.preview_jpeg(95))
    assert vol(fused.gray) >= 1.5 * sharpest
    # All in focus: compare with the subject rendered sharp everywhere (each terrace at its depth).
    truth = np.zeros_like(fused.gray)
    for r in subject.regions:
        ideal = decode_frame(encode_jpeg(render(subject, optics, r.depth_um), 92, "simulated")).gray
        truth[:, r.x0 : r.x1] = ideal[:, r.x0 : r.x1]
    inner = np.s_[8:-8, 8:-8]
    error = np.abs(fused.gray[inner] - truth[inner])
    assert np.median(error) < 4.0 and np.percentile(error, 99) < 20.0, (np.median(error), np.percentile(error, 99))
