"""Focus intelligence: how sharp each part of each frame is, and what that says.

Pure cores (`measure`, `coverage`, `fusion`, `extend`, `scan.suggest_range`) work on
numpy arrays or plans and know nothing of rails or HTTP; `service` runs them as frames
land, in a worker thread the capture loop never waits on; `scan.FocusScanner` sweeps
the rail with live view and `meter` measures live view.
"""

from raild.focus.coverage import Coverage, analyse_coverage
from raild.focus.measure import decode_frame, tile_sharpness

__all__ = ["Coverage", "analyse_coverage", "decode_frame", "tile_sharpness"]
