"""Body size limits, checked before a route reads the body: one pure ASGI middleware.

A body that declares its length (Content-Length) is refused by that number
before anything is read (400 for a length that is not a number, 413 over the
limit); a chunked body has none, so its bytes are counted as they arrive and
the read stops with 413 at the same limit. The limits are the app's settings:
TOVHOLDER_MAX_REQUEST_BYTES for JSON, ten uploads' worth
(TOVHOLDER_MAX_UPLOAD_BYTES) for multipart. The route never sees the rest of
the body, so nothing is stored. A plain ASGI class rather than
`@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs every request
through an extra task and stream (a measurable share of a task completion,
docs/performance.md).
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse


class BodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        settings = scope["app"].state.settings
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = settings.max_upload_bytes * 10 if multipart else settings.max_request_bytes
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

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"request body larger than {limit} bytes")
            return message

        await self.app(scope, counting_receive, send)
