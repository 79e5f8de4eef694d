"""Body size limits for bodies whose length is not declared (chunked transfer encoding).

api/main.py refuses a body by its Content-Length before reading it; a chunked
body has none, so this ASGI middleware counts the bytes as they arrive and
stops with 413 at the same limits (read from the app's settings per request):
TOVHOLDER_MAX_REQUEST_BYTES for JSON, ten uploads' worth for multipart. The
route never sees the rest of the body, so nothing is stored.

`body_limit` is the one rule for both: a studio draft (a diagram of up to
5 MiB with its forms, as JSON text) may be as large as a deployed file
is allowed to be, plus its forms.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException

from engine.validation import MAX_FILE_BYTES

STUDIO_PATHS = ("/api/studio/", "/studio/")
STUDIO_EXTRA = 2 * 1024 * 1024  # a draft's forms and the JSON escaping of its diagram


def body_limit(settings, path: str, *, multipart: bool) -> int:
    if multipart:
        return settings.max_upload_bytes * 10
    if path.startswith(STUDIO_PATHS):
        return max(settings.max_request_bytes, MAX_FILE_BYTES * 2 + STUDIO_EXTRA)
    return settings.max_request_bytes


class StreamedBodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or ()) if scope["type"] == "http" else {}
        if scope["type"] != "http" or b"content-length" in headers:
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = body_limit(settings, scope.get("path", ""), multipart=multipart)
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
