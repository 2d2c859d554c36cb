"""The FastAPI application: routers under /api/v1, guards, docs and the phone UI."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from raild import __version__
from raild.api.auth import CSRF_HEADER, REVOKED_FILE, LoginLimiter, SessionSigner
from raild.api.docs import install_docs
from raild.api.errors import install_layer_error_handlers
from raild.api.guards import BodyGuard, PathGuard
from raild.api.hosts import HostGuard, allowed_host_names
from raild.api.problems import install_problem_handlers
from raild.api.routes import camera, events, focus, health, motion, optics, presets, session, stacks, status
from raild.api.secheaders import SecurityHeaders
from raild.daemon import Daemon
from raild.pairing import PairingCodes

API_PREFIX = "/api/v1"
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class _WebMount(Mount):
    """The phone UI at "/", but never for API paths: a wrong method on an API route
    must stay a 405 (and an unknown API path a problem 404), not fall to the files."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("path", "").startswith(("/api/", "/docs", "/openapi.json")):
            return Match.NONE, {}
        return super().matches(scope)


def _daemon_lifespan(daemon: Daemon) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await daemon.start()
        try:
            yield
        finally:
            await daemon.stop()

    return lifespan


def create_app(daemon: Daemon, web_dir: Path | None = WEB_DIR, *, manage_daemon: bool = False) -> FastAPI:
    """`manage_daemon`: start and stop the daemon in the ASGI lifespan, on the loop
    that serves the requests (in-process runners such as schemathesis). `raild
    serve` starts the daemon itself before uvicorn, so READY means ready."""
    app = FastAPI(
        title="raild",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        description="Focus-stacking rail daemon. Errors are application/problem+json.",
        lifespan=_daemon_lifespan(daemon) if manage_daemon else None,
        # operationId = the handler's name: short, stable, used by OpenAPI links.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.daemon = daemon
    app.state.sessions = SessionSigner(daemon.token, revoked_path=daemon.state_dir / REVOKED_FILE)
    app.state.pairing = PairingCodes(daemon.state_dir)
    app.state.login_limiter = LoginLimiter(daemon.config.api.login_attempts_per_minute)
    install_problem_handlers(app)
    install_layer_error_handlers(app)
    for module in (health, session, status, motion, camera, stacks, focus, optics, events, presets):
        app.include_router(module.router, prefix=API_PREFIX)
    install_docs(app)

    # Outermost last: CORS answers preflights first, then the path is checked
    # for traversal, then the body's size and type, then routing and auth.
    app.add_middleware(BodyGuard, max_bytes=daemon.config.api.max_body_bytes)
    app.add_middleware(PathGuard)
    origins = list(daemon.config.api.cors_origins)
    if origins:
        # Config validation already refuses "*": credentials only for named origins.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "X-Api-Key", "Content-Type", CSRF_HEADER],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    # Outermost of all: a foreign Host is refused (421) before CORS or anything
    # else answers, and every answer, refusals included, carries the security headers.
    app.add_middleware(HostGuard, allowed=allowed_host_names(daemon.config))
    app.add_middleware(SecurityHeaders)

    # Mounted last so every API route and /docs wins over a file of the same name.
    if web_dir is not None and (web_dir / "index.html").is_file():
        app.router.routes.append(_WebMount("/", StaticFiles(directory=web_dir, html=True), name="web"))
    return app
