"""`raild camera probe` on the real USB camera: every capture path works or says why,
and the recommended `[camera]` section is accepted by raild's loader. The summary
lists the timings (attach them to a camera report). Skips without a USB camera."""

from __future__ import annotations

import asyncio

import pytest

from hw_tests.conftest import report
from hw_tests.rig import Target
from raild.camera.probe import merge_section, recommend, section_text


async def test_probe_recommends_a_section_raild_accepts(target: Target) -> None:
    from raild.check import _autodetect

    try:
        found = _autodetect()
    except ImportError:
        pytest.skip("the gphoto2 Python bindings are not installed (see docs/install.md)")
    if not found:
        pytest.skip("no USB camera detected: connect one, switch it on, set USB mode to PTP/PC")
    from raild.camera.probe_gphoto2 import run_probe

    probe = await asyncio.to_thread(run_probe, target.config.camera, 2)
    for path in probe.paths:
        mean = f"{path.mean('total_s'):.2f} s" if path.ok else f"failed: {path.error}"
        report(f"probe {probe.model}: {path.spec.name}: {mean}")
    rec = recommend(probe, target.config)
    assert rec.path is not None, [p.as_dict() for p in probe.paths]
    merged = merge_section(target.config, section_text(rec))
    assert merged.camera.backend == "gphoto2"
    report(f"probe {probe.model}: recommended {rec.values}")
