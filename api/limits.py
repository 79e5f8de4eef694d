"""Body size limits, checked before a route reads the body: one pure ASGI middleware.

A body that declares its length (Content-Length) is refused by that number
before anything is read (400 for a length that is not a number, 413 over the
limit); a chunked body has none, so its bytes are counted as they arrive and
the read stops with 413 at the same limit. The route never sees the rest of
the body, so nothing is stored. A plain ASGI class rather than
`@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs every request
through an extra task and stream (a measurable share of a task completion,
docs/performance.md).

`body_limit` is the one rule: TOVHOLDER_MAX_REQUEST_BYTES for JSON, ten
uploads' worth (TOVHOLDER_MAX_UPLOAD_BYTES) for multipart, and a studio draft
(a diagram of up to 5 MiB with its forms, as JSON text) as large as a
deployed file is allowed to be, plus its forms.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.settings import Settings
from engine.validation import MAX_FILE_BYTES

STUDIO_PATHS = ("/api/studio/", "/studio/")
STUDIO_EXTRA = 2 * 1024 * 1024  # a draft's forms and the JSON escaping of its diagram


def body_limit(settings: Settings, path: str, *, multipart: bool) -> int:
    if multipart:
        return settings.max_upload_bytes * 10
    if path.startswith(STUDIO_PATHS):
        return max(settings.max_request_bytes, MAX_FILE_BYTES * 2 + STUDIO_EXTRA)
    return settings.max_request_bytes


class BodyLimit:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        settings = scope["app"].state.settings
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = body_limit(settings, scope.get("path", ""), multipart=multipart)
        length = headers.get(b"content-length")
        if length is not None:
            refusal = None
            if not length.isdigit():
                refusal = JSONResponse({"detail": "invalid Content-Length"}, status_code=400)
            elif int(length) > limit:
                refusal = JSONResponse({"detail": f"request body larger than {limit} bytes"}, status_code=413)
            await (refusal or self.app)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"request body larger than {limit} bytes")
            return message

        await self.app(scope, counting_receive, send)
