"""Log in once, with the token or a single-use pairing code from `raild token`;
the browser then holds an HttpOnly session cookie."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from raild.api.auth import (
    SESSION_COOKIE,
    SESSION_LIFETIME_S,
    LoginLimiter,
    SessionSigner,
    csrf_header_sent,
    session_cookies,
    tokens_match,
)
from raild.api.deps import DaemonDep
from raild.api.problems import BODY, ProblemError, problem_responses
from raild.logs import log_event
from raild.pairing import PairingCodes

router = APIRouter(tags=["session"])
log = logging.getLogger("raild.api.session")


class TokenLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=512, description="the API token")


class PairLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pair: str = Field(min_length=1, max_length=256, description="a single-use code from `raild token`")


# Exactly one of the two: an object with both (or neither) matches no branch (422).
Login = TokenLogin | PairLogin


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
    if isinstance(body, PairLogin):
        pairing: PairingCodes = request.app.state.pairing
        # File I/O under a lock shared with `raild token`: off the event loop.
        if not await asyncio.to_thread(pairing.redeem, body.pair):
            limiter.failed(client)
            log_event(log, "pairing failed", logging.WARNING, client=client)
            raise ProblemError(
                401,
                "this pairing code is unknown, used or expired (codes work once, for 10 minutes); "
                "run 'raild token' on the Pi for a new one",
                code="unauthorized",
            )
        log_event(log, "paired", client=client)
    elif not tokens_match(body.token, daemon.token):
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
    sessions = session_cookies(request)
    return SessionState(authenticated=bool(sessions) and all(signer.valid(s) for s in sessions))


@router.delete("/session", status_code=204, responses=problem_responses(403))
async def logout(request: Request) -> Response:
    signer: SessionSigner = request.app.state.sessions
    live = [s for s in session_cookies(request) if signer.valid(s)]
    if live:
        # Same CSRF rule as every state change: a cross-site page must not log us out.
        if not csrf_header_sent(request):
            raise ProblemError(403, "send 'X-Requested-With: raild' to log out", code="csrf")
        for raild_session in live:
            # Written to the state dir so the logout survives a restart.
            await asyncio.to_thread(signer.revoke, raild_session)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
