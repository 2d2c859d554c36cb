"""Errors the stack layer raises; `.status` is the HTTP status the API answers with."""

from __future__ import annotations


class StackError(Exception):
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StackNotFound(StackError):
    """No stack with that id (or the id is not even well-formed)."""

    status = 404


class StackConflict(StackError):
    """Not allowed in the current state: another stack runs, rail not ready, bad transition."""

    status = 409


class InvalidPlan(StackError):
    """The request cannot become a plan; `errors` has one `{field, message}` per problem."""

    status = 422

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class StorageFull(StackError):
    """The stack's folder could not be written (disk full or read-only)."""

    status = 507


class FrameNotFound(StackNotFound):
    """The stack has no file for that frame inside its folder."""

    code = "frame_not_found"


class StackRunning(StackConflict):
    """A hand command for the rail while a stack drives it: the stack would shoot its
    next frame wherever the rail was sent. `advice` says what to do instead."""

    code = "stack_running"

    def __init__(self, stack_id: str, advice: str) -> None:
        super().__init__(f"stack {stack_id} is running; {advice}")
        self.stack_id = stack_id
