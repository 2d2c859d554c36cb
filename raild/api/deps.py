"""FastAPI dependencies: the daemon and its layers, and authentication."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request

from raild.api.problems import ProblemError
from raild.daemon import Daemon


def get_daemon(request: Request) -> Daemon:
    return request.app.state.daemon


DaemonDep = Annotated[Daemon, Depends(get_daemon)]


def _presented_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def tokens_match(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def require_auth(request: Request, daemon: DaemonDep) -> None:
    given = _presented_token(request)
    if given is not None and tokens_match(given, daemon.token):
        return
    raise ProblemError(401, "missing or wrong API token; send 'Authorization: Bearer TOKEN'",
                       code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


Authed = Depends(require_auth)
StatusDict = dict[str, Any]
