"""Resumable clip uploads, tus 1.0 core (plus creation): POST, HEAD, PATCH, OPTIONS.

Extension beyond core: the creation response already carries ``Upload-Offset``, equal to
``Upload-Length`` when HQ holds the clip, so a unit re-sends nothing and needs no HEAD.
Another unit's upload answers 404, exactly as a missing one, so ids reveal nothing.
"""

from __future__ import annotations

import base64
import binascii
import logging
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from hq.api.deps import HQDeps
from hq.api.errors import CHECKSUM_MISMATCH_STATUS, ApiError, ErrorBody, storage_unavailable
from hq.api.middleware import TUS_VERSION, UPLOADS_PREFIX
from hq.api.units.auth import unit_dependency
from hq.conditions import DISK_FULL
from hq.metrics import count_upload
from hq.storage import ForeignUnit, OffsetConflict, Upload
from hq.storage.errors import StorageFull

log = logging.getLogger(__name__)

OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
_REFUSALS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody}
    for code in (400, 401, 403, 404, 409, 412, 413, 415, 429, 503, 507,
                 CHECKSUM_MISMATCH_STATUS)}


def parse_metadata(header: str) -> dict[str, str]:
    """tus ``Upload-Metadata``: comma-separated ``key base64(value)`` pairs, values UTF-8."""
    pairs: dict[str, str] = {}
    for item in header.split(","):
        item = item.strip()
        if not item:
            continue
        key, _, encoded = item.partition(" ")
        if not key or key in pairs:
            raise ApiError(400, "bad_metadata", f"Upload-Metadata key {key!r} is empty "
                           "or repeated")
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(400, "bad_metadata", f"Upload-Metadata value of {key!r} is not "
                           "base64 of UTF-8 text") from None
    return pairs


def parse_count(name: str, value: str | None) -> int:
    """A non-negative decimal header value (Upload-Length, Upload-Offset)."""
    if value is None:
        raise ApiError(400, "missing_header", f"the {name} header is required")
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise ApiError(400, "bad_header", f"{name} must be a non-negative integer, "
                       f"got {value[:40]!r}")
    return int(value)


def check_tus_version(value: str | None) -> None:
    """tus: a server answers 412 to a client speaking a version it does not support."""
    if value != TUS_VERSION:
        raise ApiError(412, "tus_version", f"Tus-Resumable must be {TUS_VERSION}, "
                       f"got {value!r}", headers={"Tus-Version": TUS_VERSION})


def offset_headers(upload: Upload) -> dict[str, str]:
    """The headers telling a client where an upload stands."""
    return {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length),
            "Cache-Control": "no-store"}


def not_found(upload_id: str, exc: ForeignUnit) -> ApiError:
    """Another unit's upload answers as a missing one; only the log says whose it is."""
    return ApiError(404, "upload_not_found", f"no upload {upload_id!r}", note=str(exc))


def build_uploads_router(deps: HQDeps) -> APIRouter:
    """tus routes under /v1/uploads."""
    router = APIRouter(prefix=UPLOADS_PREFIX, tags=["uploads"], responses=_REFUSALS)
    unit = Depends(unit_dependency(deps.ca, deps.audit))
    clips = deps.clips

    @router.options("", status_code=204)
    def discover() -> Response:
        """What this tus server supports; no certificate needed."""
        return Response(status_code=204, headers={
            "Tus-Version": TUS_VERSION, "Tus-Extension": "creation",
            "Tus-Max-Size": str(clips.max_length)})

    @router.post("", status_code=201, responses={201: {"description": "Upload created"}})
    def create(unit_id: str = unit,
               tus_resumable: Annotated[str | None, Header()] = None,
               upload_length: Annotated[str | None, Header()] = None,
               upload_metadata: Annotated[str | None, Header()] = None) -> Response:
        """Start (or find) the upload of a clip: metadata ``clip_id`` and ``sha256``."""
        check_tus_version(tus_resumable)
        length = parse_count("Upload-Length", upload_length)
        meta = parse_metadata(upload_metadata or "")
        missing = [k for k in ("clip_id", "sha256") if k not in meta]
        if missing:
            raise ApiError(400, "bad_metadata", f"Upload-Metadata lacks {', '.join(missing)}")
        try:
            upload = clips.create(unit_id, meta["clip_id"], length, meta["sha256"])
        except sqlite3.OperationalError as exc:
            raise storage_unavailable(deps.conditions, "clips.sqlite", exc) from None
        log.info("unit %s: upload %s of clip %s at %d/%d", unit_id, upload.upload_id,
                 upload.clip_id, upload.offset, upload.length)
        return Response(status_code=201, headers={
            "Location": f"{UPLOADS_PREFIX}/{upload.upload_id}", **offset_headers(upload)})

    @router.head("/{upload_id}", responses={200: {"description": "Upload-Offset header"}})
    def head(upload_id: str, unit_id: str = unit,
             tus_resumable: Annotated[str | None, Header()] = None) -> Response:
        """Where the upload stands: the offset to continue at."""
        check_tus_version(tus_resumable)
        try:
            upload = clips.offset(upload_id, unit_id)
        except ForeignUnit as exc:
            raise not_found(upload_id, exc) from None
        return Response(status_code=200, headers=offset_headers(upload))

    @router.patch("/{upload_id}", status_code=204, openapi_extra={"requestBody": {
        "required": True,
        "content": {OFFSET_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    async def patch(request: Request, upload_id: str, unit_id: str = unit,
                    tus_resumable: Annotated[str | None, Header()] = None,
                    upload_offset: Annotated[str | None, Header()] = None,
                    content_type: Annotated[str | None, Header()] = None) -> Response:
        """Append one chunk at ``Upload-Offset``; the last chunk triggers the sha256 check."""
        check_tus_version(tus_resumable)
        if (content_type or "").split(";")[0].strip().lower() != OFFSET_CONTENT_TYPE:
            raise ApiError(415, "bad_content_type",
                           f"PATCH needs Content-Type {OFFSET_CONTENT_TYPE}")
        offset = parse_count("Upload-Offset", upload_offset)
        try:
            chunk = await request.body()
        except ClientDisconnect:
            # Nothing of a half-received chunk is kept: the offset stays where it was.
            log.info("unit %s: connection dropped during a chunk of upload %s",
                     unit_id, upload_id)
            return Response(status_code=400)
        try:
            new = await run_in_threadpool(clips.append, upload_id, unit_id, offset, chunk)
            count_upload(len(chunk))  # Prometheus (hq/metrics.py)
        except ForeignUnit as exc:
            raise not_found(upload_id, exc) from None
        except OffsetConflict as exc:
            raise ApiError(409, "offset_conflict", str(exc),
                           headers={"Upload-Offset": str(exc.expected)}) from None
        except StorageFull as exc:
            deps.conditions.raise_hq_condition(DISK_FULL, f"clip uploads: {exc}")
            raise ApiError(507, "insufficient_storage",
                           "HQ's disk is full; the chunk was not kept, send it again later",
                           headers={"Upload-Offset": str(offset), "Retry-After": "300"},
                           note=str(exc)) from None
        except sqlite3.OperationalError as exc:
            raise storage_unavailable(deps.conditions, "clips.sqlite", exc) from None
        deps.conditions.clear_hq_condition(DISK_FULL, "clip chunks are stored again")
        return Response(status_code=204, headers={"Upload-Offset": str(new)})

    return router
