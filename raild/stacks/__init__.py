"""Focus stacks: plan, run, confirm, persist and resume (see docs/internals.md)."""

from raild.stacks.errors import (
    InvalidPlan,
    StackConflict,
    StackError,
    StackNotFound,
    StorageFull,
)
from raild.stacks.manager import StackManager
from raild.stacks.model import STATES, Stack
from raild.stacks.optics import dof_um, step_um

__all__ = [
    "STATES",
    "InvalidPlan",
    "Stack",
    "StackConflict",
    "StackError",
    "StackManager",
    "StackNotFound",
    "StorageFull",
    "dof_um",
    "step_um",
]
