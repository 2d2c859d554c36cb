"""The bound on a position or distance in µm, for every layer that takes one."""

from __future__ import annotations

# Far beyond any rail, but small enough that µm → steps stays an exact integer.
MAX_ABS_UM = 10_000_000.0
