"""RFC 9457 problem details: every error leaves the API as application/problem+json."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    421: "Misdirected request",
    422: "Invalid value",
    429: "Too many requests",
    503: "Hardware unavailable",
}


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str


class ProblemError(Exception):
    """Raise in the API layer (a dependency, a route) to answer with a problem document;
    the layers below raise their own typed errors (`api/errors.py` maps them)."""

    def __init__(
        self, status: int, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers
        self.extra = extra


class ProblemJSONResponse(JSONResponse):
    """A problem document may quote the client's own bad input back to it, and that input
    can hold text UTF-8 cannot encode (a lone surrogate escape is valid JSON); ASCII-escaped
    JSON carries any string, so the error answer itself can never fail."""

    media_type = PROBLEM_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def problem_response(
    status: int, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:raild:problem:{code}" if code else "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return ProblemJSONResponse(body, status_code=status, headers=headers)


def jsonable(value: Any) -> Any:
    """`value` as JSON can carry it, for echoing in a problem (a rejected input, a
    layer error's extra fields): NaN and the infinities become the strings "nan",
    "inf", "-inf" (JSON has no such numbers, and null would hide what was sent),
    containers are walked, anything else is its str()."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return str(value)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Methods some route fully matches for this path (asked per method, since
    routes may be nested or wrapped and do not all expose their methods)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in request.app.router.routes
        )
    ]
    return allowed


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, code=exc.code, headers=exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route's methods; one path may have several routes.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(exc.status_code, detail, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        malformed = False
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                malformed = True
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            errors.append({"field": loc, "message": err.get("msg", ""), "input": jsonable(err.get("input"))})
        if malformed:
            return problem_response(400, "request body is not valid JSON", code="malformed", errors=errors)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
        return problem_response(422, detail, code="invalid", errors=errors)


_DESCRIPTIONS = {
    400: "Malformed request (body is not valid JSON)",
    401: "Missing or wrong API token or session",
    403: "Cookie-authenticated request without 'X-Requested-With: raild'",
    404: "No such thing",
    409: "Not allowed in the current state (busy, e-stop latched, must home first)",
    413: "Request body larger than api.max_body_bytes",
    415: "Request body is not JSON",
    422: "Invalid value (out of range, not finite, unknown field)",
    429: "Too many failed logins from this client; see Retry-After",
    503: "Hardware unavailable (pigpiod or camera down)",
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented with the problem schema,
    so /openapi.json lists every code a client can meet."""
    return {
        code: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(code, _TITLES.get(code, "Error")),
            "content": {PROBLEM_TYPE: {"schema": _PROBLEM_REF}},
        }
        for code in codes
    }


# Shorthands: every authenticated route can answer 401; every request can be
# refused as invalid (422); routes with a JSON body add the body-level errors.
AUTHED = (401, 422)
BODY = (400, 413, 415)
