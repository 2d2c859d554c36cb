"""Log in with the token once; the browser then holds an HttpOnly session cookie."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from raild.api.auth import (
    CSRF_HEADER,
    CSRF_VALUE,
    SESSION_COOKIE,
    SESSION_LIFETIME_S,
    LoginLimiter,
    SessionSigner,
    tokens_match,
)
from raild.api.deps import DaemonDep
from raild.api.problems import BODY, ProblemError, problem_responses
from raild.logs import log_event

router = APIRouter(tags=["session"])
log = logging.getLogger("raild.api.session")


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=512)


class SessionState(BaseModel):
    authenticated: bool


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/session", response_model=SessionState, responses=problem_responses(*BODY, 401, 422, 429))
async def login(body: Login, request: Request, response: Response, daemon: DaemonDep) -> SessionState:
    limiter: LoginLimiter = request.app.state.login_limiter
    client = _client(request)
    wait_s = limiter.retry_after_s(client)
    if wait_s:
        log_event(log, "login refused: too many failures", logging.WARNING, client=client)
        raise ProblemError(
            429,
            f"too many failed logins; try again in {wait_s} s",
            code="rate_limited",
            headers={"Retry-After": str(wait_s)},
        )
    if not tokens_match(body.token, daemon.token):
        limiter.failed(client)
        log_event(log, "login failed", logging.WARNING, client=client)
        raise ProblemError(401, "wrong token; 'raild token' on the Pi prints it", code="unauthorized")
    limiter.succeeded(client)
    signer: SessionSigner = request.app.state.sessions
    response.set_cookie(
        SESSION_COOKIE, signer.issue(), max_age=SESSION_LIFETIME_S, path="/", httponly=True, samesite="strict"
    )
    return SessionState(authenticated=True)


@router.get("/session", response_model=SessionState)
async def session_state(request: Request) -> SessionState:
    signer: SessionSigner = request.app.state.sessions
    raild_session = request.cookies.get(SESSION_COOKIE)
    return SessionState(authenticated=bool(raild_session and signer.valid(raild_session)))


@router.delete("/session", status_code=204, responses=problem_responses(403))
async def logout(request: Request) -> Response:
    signer: SessionSigner = request.app.state.sessions
    raild_session = request.cookies.get(SESSION_COOKIE)
    if raild_session and signer.valid(raild_session):
        # Same CSRF rule as every state change: a cross-site page must not log us out.
        if request.headers.get(CSRF_HEADER) != CSRF_VALUE:
            raise ProblemError(403, "send 'X-Requested-With: raild' to log out", code="csrf")
        signer.revoke(raild_session)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
