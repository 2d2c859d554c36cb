"""FastAPI dependencies: the daemon and its layers, and authentication.

Layers are reached only through these aliases (`RailDep`, `CameraDep`,
`StacksDep`, `FocusDep`), so a missing layer is one clear 503 and tests can swap in the
simulated rig with `app.dependency_overrides`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from raild.api.auth import (
    SAFE_METHODS,
    SESSION_COOKIE,
    SessionSigner,
    csrf_header_sent,
    session_cookies,
    tokens_match,
)
from raild.api.problems import ProblemError
from raild.camera import Camera
from raild.daemon import Daemon
from raild.focus.service import FocusService
from raild.motion import Rail
from raild.stacks import StackManager
from raild.usecases.motion import manual_rail


# Every dependency is `async def`: FastAPI runs plain `def` dependencies on its
# thread pool, and a stop or e-stop must not wait for a worker thread.
async def get_daemon(request: Request) -> Daemon:
    return request.app.state.daemon


DaemonDep = Annotated[Daemon, Depends(get_daemon)]

_bearer = HTTPBearer(auto_error=False, description="The API token: `Authorization: Bearer TOKEN`")
_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, description="The API token")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="Session from POST /api/v1/session; state-changing requests also need 'X-Requested-With: raild'",
)


def _unauthorized(
    detail: str = "missing or wrong API token; send 'Authorization: Bearer TOKEN' or log in with POST /api/v1/session",
) -> ProblemError:
    return ProblemError(401, detail, code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def _presented(request: Request) -> tuple[list[str], list[str]]:
    """Header tokens and session cookies exactly as sent, every copy of each: present-
    but-empty counts as presented (and wrong), unlike FastAPI's security helpers,
    which drop it, and a repeated header is checked in full, not just its first copy."""
    tokens: list[str] = []
    for auth in request.headers.getlist("authorization"):
        scheme, _, value = auth.partition(" ")
        # Any other scheme (Basic, Digest) is a credential we cannot accept: wrong.
        tokens.append(value.strip() if scheme.lower() == "bearer" else "\0" + auth)
    tokens.extend(request.headers.getlist("x-api-key"))
    return tokens, session_cookies(request)


async def require_auth(
    request: Request,
    daemon: DaemonDep,
    # Declared for the OpenAPI document (and /docs' Authorize button) only.
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _api_key_doc: Annotated[str | None, Depends(_api_key)],
    _cookie_doc: Annotated[str | None, Depends(_cookie)],
) -> None:
    """Every credential presented must be valid, and at least one must be presented.

    A wrong credential is refused even beside a right one: the caller meant to use
    it and should learn it is wrong, and no stale or forged value slips through.
    """
    signer: SessionSigner = request.app.state.sessions
    tokens, sessions = _presented(request)
    if any(not t or not tokens_match(t, daemon.token) for t in tokens):
        raise _unauthorized("wrong API token")
    if any(not signer.valid(s) for s in sessions):
        raise _unauthorized("the session has expired or was logged out; log in again")
    if tokens:
        return
    if not sessions:
        raise _unauthorized()
    if request.method not in SAFE_METHODS and not csrf_header_sent(request):
        raise ProblemError(
            403,
            "requests authenticated by the session cookie that change state must send 'X-Requested-With: raild'",
            code="csrf",
        )


Authed = Depends(require_auth)


async def get_rail(daemon: DaemonDep) -> Rail:
    if daemon.rail is None:
        raise ProblemError(503, daemon.hardware_problem(), code="hardware_unavailable")
    return daemon.rail


async def get_camera(daemon: DaemonDep) -> Camera:
    if daemon.camera is None:
        raise ProblemError(503, "the camera is not available: " + daemon.hardware_problem(), code="camera_unavailable")
    return daemon.camera


async def get_stacks(daemon: DaemonDep) -> StackManager:
    if daemon.stacks is None:
        raise ProblemError(503, "stacks are not available: " + daemon.hardware_problem(), code="hardware_unavailable")
    return daemon.stacks


async def get_idle_rail(daemon: DaemonDep, rail: Annotated[Rail, Depends(get_rail)]) -> Rail:
    """The rail for a command from a person or script: 409 while a stack drives it."""
    return manual_rail(daemon)


async def get_focus(daemon: DaemonDep) -> FocusService:
    if daemon.focus is None:
        raise ProblemError(503, "focus analysis is not running", code="focus_unavailable")
    return daemon.focus


RailDep = Annotated[Rail, Depends(get_rail)]
ManualRailDep = Annotated[Rail, Depends(get_idle_rail)]
CameraDep = Annotated[Camera, Depends(get_camera)]
StacksDep = Annotated[StackManager, Depends(get_stacks)]
FocusDep = Annotated[FocusService, Depends(get_focus)]
