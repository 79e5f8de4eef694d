"""Body size limits for bodies whose length is not declared (chunked transfer encoding).

api/main.py refuses a body by its Content-Length before reading it; a chunked
body has none, so this ASGI middleware counts the bytes as they arrive and
stops with 413 at the same limits (read from the app's settings per request):
TOVHOLDER_MAX_REQUEST_BYTES for JSON, ten uploads' worth for multipart. The
route never sees the rest of the body, so nothing is stored.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StreamedBodyLimit:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or ()) if scope["type"] == "http" else {}
        if scope["type"] != "http" or b"content-length" in headers:
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = settings.max_upload_bytes * 10 if multipart else settings.max_request_bytes
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
