"""The FastAPI application: routers under /api/v1, problem+json errors."""

from __future__ import annotations

from fastapi import FastAPI

from raild import __version__
from raild.api.problems import install_problem_handlers
from raild.api.routes import health, status
from raild.daemon import Daemon

API_PREFIX = "/api/v1"


def create_app(daemon: Daemon) -> FastAPI:
    app = FastAPI(title="raild", version=__version__, docs_url=None, redoc_url=None)
    app.state.daemon = daemon
    install_problem_handlers(app)
    app.include_router(health.router, prefix=API_PREFIX)
    app.include_router(status.router, prefix=API_PREFIX)
    return app
