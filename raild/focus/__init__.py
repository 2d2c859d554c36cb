"""Focus intelligence: how sharp each part of each frame is, and what that says.

Pure cores (`measure`, `coverage`, `fusion`, `scan_math`) work on numpy arrays and
know nothing of stacks, rails or HTTP; `service` runs them as frames land, in a
worker thread the capture loop never waits on; `scan` sweeps the rail with live view.
"""

from raild.focus.coverage import Coverage, analyse_coverage
from raild.focus.measure import decode_frame, tile_sharpness

__all__ = ["Coverage", "analyse_coverage", "decode_frame", "tile_sharpness"]
