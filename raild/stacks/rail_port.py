"""What the stack layer needs of the rail: the seam `StackManager` and `StackRunner`
are typed against. `raild.motion.Rail` satisfies it; tests may pass a small fake."""

from __future__ import annotations

from typing import Any, Protocol


class StackRail(Protocol):
    @property
    def state(self) -> str: ...  # idle | moving | homing | ... | fault | estop

    @property
    def homed(self) -> bool: ...

    @property
    def position_known(self) -> bool: ...

    @property
    def position_steps(self) -> int: ...

    def um_to_steps(self, um: float) -> int: ...

    def steps_to_um(self, steps: int) -> float: ...

    def status(self) -> dict[str, Any]: ...  # its "limits" key bounds a plan

    async def stop(self) -> dict[str, Any]: ...  # decelerate to rest; the interrupted move raises

    async def move_to_steps(
        self, target_steps: int, speed_um_s: float | None = None, approach: bool = True
    ) -> dict[str, Any]: ...
