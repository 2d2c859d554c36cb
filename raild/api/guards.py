"""ASGI guards that run before routing: path canonicalisation and body limits.

They answer with problem documents themselves, so nothing behind them ever sees
a traversal path, a body over the limit or a non-JSON body.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from raild.api.problems import _TITLES, PROBLEM_TYPE

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _send_problem(
    send: Send, status: int, detail: str, code: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(
        {"type": f"urn:raild:problem:{code}", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def path_is_canonical(path: str) -> bool:
    """False for anything a traversal could hide in, in any encoding.

    `path` is already percent-decoded once by the server, so a `%` left in it means
    double encoding (`%252e` arrives as `%2e`); no raild URL legitimately has one.
    """
    if not path.startswith("/") or "\\" in path or "\x00" in path or "%" in path:
        return False
    segments = path.split("/")[1:]
    # An empty segment is only allowed last ("/", "/api/v1/"), never "//etc".
    for i, segment in enumerate(segments):
        if segment in (".", ".."):
            return False
        if segment == "" and i != len(segments) - 1:
            return False
    return True


class PathGuard:
    """Refuses non-canonical paths before any route (and its auth) is chosen."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not path_is_canonical(scope["path"]):
            await _send_problem(send, 404, "no such path", "not_found")
            return
        await self.app(scope, receive, send)


class _TooLarge(HTTPException):
    """An HTTPException so FastAPI's body reader passes it on instead of calling
    it a parse error; the problem handler or this guard then answers 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body is over the limit of {max_bytes} bytes")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class BodyGuard:
    """413 for bodies over `max_bytes` (by header, or counted while streaming)
    and 415 for non-empty bodies that are not JSON, before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        length_text = headers.get("content-length")
        declared: int | None = None
        if length_text is not None:
            if not length_text.isdigit():
                await _send_problem(send, 400, "Content-Length is not a number", "malformed")
                return
            declared = int(length_text)
            if declared > self.max_bytes:
                await _send_problem(
                    send, 413, f"request body of {declared} bytes is over the limit of {self.max_bytes}", "too_large"
                )
                return
        has_body = (declared or 0) > 0 or "transfer-encoding" in headers
        if has_body and not _is_json(headers.get("content-type", "")):
            await _send_problem(
                send, 415, "send the body as JSON with 'Content-Type: application/json'", "unsupported_media_type"
            )
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_problem(send, 413, f"request body is over the limit of {self.max_bytes} bytes", "too_large")
