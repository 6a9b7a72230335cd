"""ASGI middleware of HQ's API: a request-body size guard and the tus version header.

Both are plain ASGI so they also cover responses no route produced (413, 404).
"""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hq.api.deps import HQLimits
from hq.api.errors import who

log = logging.getLogger(__name__)

UPLOADS_PREFIX = "/v1/uploads"
TUS_VERSION = "1.0.0"


def body_limit(limits: HQLimits, method: str, path: str) -> int:
    """Most bytes a request body may have: one tus chunk for PATCH, else a JSON body."""
    if method == "PATCH" and path.startswith(UPLOADS_PREFIX + "/"):
        return limits.max_chunk_bytes
    return limits.max_body_bytes


class BodyTooLarge(HTTPException):
    """Raised into the app while it reads a body past the limit.

    An HTTPException because FastAPI turns any other error raised while parsing a body
    into a 400; this way the app's handler answers 413.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over the {limit}-byte limit")


async def _send_json(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodySizeGuard:
    """Refuse bodies over the limit with 413: by Content-Length up front, else while reading.

    Chunked bodies carry no length, so the bytes are counted as the app reads them and
    the read fails once the limit is passed; nothing past the limit is ever buffered.
    """

    def __init__(self, app: ASGIApp, limits: HQLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.limits, scope["method"], scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(scope, send, 400, "bad_content_length",
                                   "Content-Length must be a non-negative integer")
                return
            if int(declared) > limit:
                await self._refuse(scope, send, 413, "body_too_large",
                                   f"the body of {int(declared)} bytes is over the "
                                   f"{limit}-byte limit")
                return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            # Only reached if the app did not answer it itself.
            if started:
                raise
            await self._refuse(scope, send, 413, "body_too_large", exc.detail)

    async def _refuse(self, scope: Scope, send: Send, status: int, error: str,
                      detail: str) -> None:
        # The app never saw this request: this is its one log line (named as the app would).
        log.warning("refused %s %s from %s: %d %s: %s", scope["method"], scope["path"],
                    who(Request(scope)), status, error, detail)
        await _send_json(send, status, error, detail)


class TusResumableHeader:
    """Put ``Tus-Resumable`` on every response under /v1/uploads, errors included (tus 1.0)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(UPLOADS_PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"tus-resumable"]
                headers.append((b"tus-resumable", TUS_VERSION.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_header)
