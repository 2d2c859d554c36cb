"""Security headers on every response, added in one place.

The phone UI loads nothing but its own files (no inline script, no framing by
other sites), so a strict Content-Security-Policy costs it nothing. API answers,
frames included, are per-user and change: never cached (`no-store`).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Inline styles stay allowed: the UI and Swagger UI set `style` attributes.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_COMMON = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_REPLACED = frozenset(name for name, _ in _COMMON) | {b"cache-control"}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope.get("path", "").startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = list(_COMMON)
                if no_store:
                    extra.append((b"cache-control", b"no-store"))
                    headers = [(k, v) for k, v in headers if k.lower() not in _REPLACED]
                else:
                    # Static files keep their own caching headers (ETag, Last-Modified).
                    headers = [(k, v) for k, v in headers if k.lower() not in _REPLACED - {b"cache-control"}]
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
