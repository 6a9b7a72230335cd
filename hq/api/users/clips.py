"""Playing and downloading a transaction's clip (MP4, byte ranges as a video element asks).

Every clip request, allowed or refused, is written to the audit log before any byte of
the body leaves, and if the audit log cannot be written the clip is not sent.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from hq.accounts import roles as perm
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.api.errors import ErrorBody
from hq.api.users.bearer import Bearer, BearerGate, Refused
from hq.storage import (
    CLIP_DOWNLOAD,
    CLIP_PLAY,
    AmbiguousId,
    ClipNotFound,
    InvalidInput,
    RangeNotSatisfiable,
    parse_range,
)

log = logging.getLogger(__name__)


def build_clips_router(gate: BearerGate, deps: HQDeps) -> APIRouter:
    """``GET /clips/{unit_id}/{clip_id}``."""
    router = APIRouter()
    audit, authenticated, require = gate.audit, gate.authenticated, gate.require

    @router.get("/clips/{unit_id}/{clip_id}", response_class=StreamingResponse,
                responses={200: {"content": {"video/mp4": {}}},
                           206: {"content": {"video/mp4": {}}, "description": "A byte range"},
                           416: {"model": ErrorBody}})
    def clip(unit_id: str, clip_id: str, request: Request, cred: Bearer) -> Response:
        """The clip's MP4; a ``Range`` header (as a video element sends) plays/seeks."""
        header = request.headers.get("range")
        action = CLIP_PLAY if header is not None else CLIP_DOWNLOAD
        need = perm.PLAY if header is not None else perm.DOWNLOAD
        ident = f"{unit_id}/{clip_id}"
        asked = f"range={header[:64]}" if header is not None else "range=none"
        user: User | None = None
        try:
            try:
                user = authenticated(cred, request)
                require(user, need, request)
                if not deps.events.clip_in_scope(unit_id, clip_id, user.scope):
                    # Outside the caller's scope a clip does not exist, guessed id or not.
                    raise ClipNotFound(f"no clip {clip_id} of unit {unit_id}")
                stored = deps.clips.open_clip(clip_id, unit_id)
                if_range = request.headers.get("if-range")
                if if_range is not None and if_range != f'"{stored.sha256}"':
                    header = None  # the client's copy is stale: send the whole new one
                span = parse_range(header, stored.size)
            except Refused as r:
                audit(user, action, "clip", ident, request, f"refused={r.status}; {asked}")
                raise
            except (ClipNotFound, InvalidInput, AmbiguousId) as exc:
                audit(user, action, "clip", ident, request, f"refused=404; {asked}")
                raise Refused(404, "not_found", str(exc)) from exc
            except RangeNotSatisfiable as exc:
                audit(user, action, "clip", ident, request, f"refused=416; {asked}")
                raise Refused(416, "range_not_satisfiable", str(exc),
                              {"Content-Range": exc.content_range}) from exc
            start, end = (span.start, span.end) if span else (0, stored.size - 1)
            audit(user, action, "clip", ident, request,
                  f"sent={start}-{end}/{stored.size}; {asked}")
        except Refused as r:
            return r.response(request)
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
                   "ETag": f'"{stored.sha256}"', "Cache-Control": "private, no-store",
                   "Content-Disposition": f'inline; filename="{clip_id}.mp4"'}
        if span is not None:
            headers["Content-Range"] = span.content_range
        log.info("clip %s bytes %d-%d to %s (%s)", ident, start, end,
                 user.username if user else "?", action)
        return StreamingResponse(deps.clips.read_range(stored, start, end),
                                 status_code=206 if span else 200, media_type="video/mp4",
                                 headers=headers)

    return router
