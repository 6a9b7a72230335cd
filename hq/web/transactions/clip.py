"""A transaction's clip for the page's <video> and download button, audited like /v1/clips.

Every request — a play (``Range``, as a video element sends), a download, or a refusal —
is written to the audit log before a byte of the clip leaves; if the log cannot be
written the clip is not sent (503). The transaction is looked up in the user's scope
first, so a clip outside it is "not found", exactly like an unknown one.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Protocol

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from hq.accounts import roles
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.storage import (
    CLIP_DOWNLOAD,
    CLIP_PLAY,
    ClipNotFound,
    InvalidInput,
    RangeNotSatisfiable,
    StorageError,
    parse_range,
)
from hq.web.auth import PageError, client_address

log = logging.getLogger(__name__)

# The unit names an alert's still ``<absence_id>-snap<level>`` (firmware/daemon/snapshots.py).
_SNAPSHOT = re.compile(r"-snap\d+$")


class ClipRef(Protocol):
    """What locates a recording: a transaction row, or a clip found by its id."""

    @property
    def unit_id(self) -> str: ...

    @property
    def clip_id(self) -> str | None: ...


def media_of(clip_id: str) -> tuple[str, str]:
    """(media type, file extension): a still taken with an alert, else an MP4 clip."""
    return ("image/jpeg", "jpg") if _SNAPSHOT.search(clip_id) else ("video/mp4", "mp4")


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)[:512]


def audit(deps: HQDeps, user: User, request: Request, action: str, object_type: str,
          object_id: str, detail: str) -> None:
    """One audit record; PageError 503 when the log cannot be written (fail closed)."""
    try:
        deps.audit.append(actor=user.username, role=user.role, action=action,
                          object_type=object_type, object_id=_printable(object_id),
                          client=client_address(request), detail=_printable(detail))
    except (StorageError, sqlite3.Error) as exc:
        log.error("audit log write failed (%s); refusing %s", exc, action)
        raise PageError(503, "The audit log cannot be written; try again later.") from exc


def clip_response(deps: HQDeps, user: User, request: Request, txn: ClipRef | None,
                  ident: str, download: bool) -> Response:
    """The recording ``txn`` names (None: not found in scope) as the browser asked for it."""
    header = None if download else request.headers.get("range")
    action = CLIP_DOWNLOAD if header is None else CLIP_PLAY
    need = roles.DOWNLOAD if header is None else roles.PLAY
    asked = f"range={header[:64]}" if header is not None else "range=none"
    if not user.may(need):
        audit(deps, user, request, action, "clip", ident, f"refused=403; {asked}")
        raise PageError(403, "Your role may not open recordings.")
    if txn is None or txn.clip_id is None:
        audit(deps, user, request, action, "clip", ident, f"refused=404; {asked}")
        raise PageError(404, "No recording %(id)s here.", id=ident)
    try:
        stored = deps.clips.open_clip(txn.clip_id, txn.unit_id)
        if_range = request.headers.get("if-range")
        if if_range is not None and if_range != f'"{stored.sha256}"':
            header = None  # the browser's copy is stale: send the whole clip
        span = parse_range(header, stored.size)
    except (ClipNotFound, InvalidInput):
        audit(deps, user, request, action, "clip", ident, f"refused=404; {asked}")
        raise PageError(404, "The recording %(id)s has not reached HQ yet.", id=ident) from None
    except RangeNotSatisfiable as exc:
        audit(deps, user, request, action, "clip", ident, f"refused=416; {asked}")
        return Response(status_code=416, headers={"Content-Range": exc.content_range})
    start, end = (span.start, span.end) if span else (0, stored.size - 1)
    audit(deps, user, request, action, "clip", ident,
          f"sent={start}-{end}/{stored.size}; {asked}")
    disposition = "attachment" if download else "inline"
    media, ext = media_of(txn.clip_id)
    name = f"{txn.unit_id}-{txn.clip_id}.{ext}"
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
               "ETag": f'"{stored.sha256}"', "Cache-Control": "private, no-store",
               "Content-Disposition": f'{disposition}; filename="{name}"'}
    if span is not None:
        headers["Content-Range"] = span.content_range
    log.info("clip %s bytes %d-%d to %s (%s, page)", ident, start, end, user.username, action)
    return StreamingResponse(deps.clips.read_range(stored, start, end),
                             status_code=206 if span else 200, media_type=media,
                             headers=headers)
