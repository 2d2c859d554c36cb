"""FastAPI dependencies: the daemon and its layers, and authentication.

Layers are reached only through these aliases (`RailDep`, `CameraDep`,
`StacksDep`), so a missing layer is one clear 503 and tests can swap in the
simulated rig with `app.dependency_overrides`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from raild.api.auth import (
    CSRF_HEADER,
    CSRF_VALUE,
    SAFE_METHODS,
    SESSION_COOKIE,
    SessionSigner,
    tokens_match,
)
from raild.api.problems import ProblemError
from raild.daemon import Daemon


def get_daemon(request: Request) -> Daemon:
    return request.app.state.daemon


DaemonDep = Annotated[Daemon, Depends(get_daemon)]

_bearer = HTTPBearer(auto_error=False, description="The API token: `Authorization: Bearer TOKEN`")
_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, description="The API token")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                       description="Session from POST /api/v1/session; state-changing "
                                   "requests also need 'X-Requested-With: raild'")


def _unauthorized() -> ProblemError:
    return ProblemError(401, "missing or wrong API token; send 'Authorization: Bearer TOKEN' "
                             "or log in with POST /api/v1/session",
                        code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def require_auth(
    request: Request,
    daemon: DaemonDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
    session: Annotated[str | None, Depends(_cookie)],
) -> None:
    given = bearer.credentials if bearer is not None else api_key
    if given is not None:
        # A wrong header token is refused outright rather than falling back to a
        # cookie: the caller meant to use the token and should learn it is wrong.
        if tokens_match(given, daemon.token):
            return
        raise _unauthorized()
    signer: SessionSigner = request.app.state.sessions
    if session is not None and signer.valid(session):
        # Browsers send cookies on cross-site requests but cannot add custom
        # headers without a CORS preflight we do not grant: that is the CSRF guard.
        if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
            raise ProblemError(403, "requests authenticated by the session cookie that change "
                                    "state must send 'X-Requested-With: raild'", code="csrf")
        return
    raise _unauthorized()


Authed = Depends(require_auth)


def get_rail(daemon: DaemonDep) -> Any:
    if daemon.rail is None:
        raise ProblemError(503, daemon.hardware_problem(), code="hardware_unavailable")
    return daemon.rail


def get_camera(daemon: DaemonDep) -> Any:
    if daemon.camera is None:
        raise ProblemError(503, "the camera is not available: " + daemon.hardware_problem(),
                           code="camera_unavailable")
    return daemon.camera


def get_stacks(daemon: DaemonDep) -> Any:
    if daemon.stacks is None:
        raise ProblemError(503, "stacks are not available: " + daemon.hardware_problem(),
                           code="hardware_unavailable")
    return daemon.stacks


# Typed as Any until each layer's class is importable everywhere the API is.
RailDep = Annotated[Any, Depends(get_rail)]
CameraDep = Annotated[Any, Depends(get_camera)]
StacksDep = Annotated[Any, Depends(get_stacks)]
StatusDict = dict[str, Any]
