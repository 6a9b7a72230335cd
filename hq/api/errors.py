"""Every refusal of HQ's API as one JSON shape, ``{"error": code, "detail": text}``, with a 4xx.

Domain errors of hq.storage, hq.pki.ca and hq.pki.enrollment map to a status and a stable error
code here, in one table, so routers just let them propagate.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from hq.api.units.auth import peer_certificate
from hq.conditions import DISK_FULL, HQConditions
from hq.pki.ca import CAError, CSRRefused, InvalidUnitId, NotAUnitCertificate, UnitRevoked
from hq.pki.certs import unit_id_from_cert
from hq.pki.enrollment import (
    CodeExpired,
    CodeMalformed,
    CodeReused,
    CodeUnknown,
    CodeWrongUnit,
    EnrollmentError,
)
from hq.storage import (
    AmbiguousId,
    BeyondLength,
    ChecksumMismatch,
    ClipConflict,
    ClipNotFound,
    ForeignUnit,
    InvalidInput,
    OffsetConflict,
    QuotaExceeded,
    RangeNotSatisfiable,
    StorageError,
    UploadNotFound,
    UploadTooLarge,
    UuidTaken,
)
from hq.storage.db.adapt import DatabaseUnavailable
from hq.storage.errors import StorageFull, StorageUnavailable

log = logging.getLogger(__name__)

# tus 1.0 has no status for a checksum failure in core; 460 is what its checksum
# extension defines, and what tus clients already understand.
CHECKSUM_MISMATCH_STATUS = 460

# Most specific class first is not needed: lookup walks the raised class's MRO.
ERROR_TABLE: Mapping[type[Exception], tuple[int, str]] = {
    # hq.storage
    InvalidInput: (400, "invalid_input"),
    ForeignUnit: (403, "foreign_unit"),
    UuidTaken: (409, "uuid_taken"),
    UploadNotFound: (404, "upload_not_found"),
    ClipNotFound: (404, "clip_not_found"),
    OffsetConflict: (409, "offset_conflict"),
    ClipConflict: (409, "clip_conflict"),
    AmbiguousId: (409, "ambiguous_id"),
    UploadTooLarge: (413, "upload_too_large"),
    # tusd answers a PATCH past Upload-Length with 413 too (ERR_UPLOAD_SIZE_EXCEEDED).
    BeyondLength: (413, "beyond_length"),
    QuotaExceeded: (429, "quota_exceeded"),
    ChecksumMismatch: (CHECKSUM_MISMATCH_STATUS, "checksum_mismatch"),
    RangeNotSatisfiable: (416, "range_not_satisfiable"),
    StorageFull: (507, "insufficient_storage"),
    StorageError: (400, "storage_refused"),
    # hq.pki.ca
    NotAUnitCertificate: (401, "not_a_unit"),
    UnitRevoked: (403, "unit_revoked"),
    CSRRefused: (400, "csr_refused"),
    InvalidUnitId: (400, "invalid_unit_id"),
    CAError: (400, "ca_refused"),
    # hq.pki.enrollment
    CodeMalformed: (400, "code_malformed"),
    CodeUnknown: (403, "code_unknown"),
    CodeExpired: (403, "code_expired"),
    CodeReused: (403, "code_reused"),
    CodeWrongUnit: (403, "code_wrong_unit"),
    EnrollmentError: (400, "enrollment_refused"),
}

DOMAIN_ERRORS: tuple[type[Exception], ...] = (StorageError, CAError, EnrollmentError)


class ErrorBody(BaseModel):
    """The body of every refusal."""

    error: str
    detail: str


# What any of a unit's JSON routes may answer besides its own result.
UNIT_REFUSALS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 409, 413, 422)}


class ApiError(Exception):
    """A refusal decided in the HTTP layer itself (bad header, missing certificate...).

    ``note`` goes to the log line only: what the caller must not learn (another unit's
    upload, the account name tried) but the operator should.
    """

    def __init__(self, status: int, error: str, detail: str,
                 headers: Mapping[str, str] | None = None, *, note: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})
        self.note = note


RETRY_AFTER_FULL_S = 60
RETRY_AFTER_DB_S = 5  # a PostgreSQL restart or failover takes seconds


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full", or ENOSPC/EDQUOT from a file write."""
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL \
            or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def storage_unavailable(conditions: HQConditions, what: str, exc: BaseException) -> ApiError:
    """The 503 (with Retry-After) for a store that cannot write now; disk full is raised
    as an HQ condition once per episode."""
    if is_disk_full(exc):
        conditions.raise_hq_condition(DISK_FULL, f"{what}: {exc}")
        detail = "HQ's disk is full; nothing of this request was stored, try again later"
    elif isinstance(exc, DatabaseUnavailable):
        return ApiError(503, "database_unavailable", "HQ's database is restarting; nothing "
                        "was stored, try again", headers={"Retry-After": str(RETRY_AFTER_DB_S)},
                        note=f"{what}: {exc}")
    else:
        detail = "HQ's storage is busy or failing; nothing was stored, try again later"
    return ApiError(503, "storage_unavailable", detail,
                    headers={"Retry-After": str(RETRY_AFTER_FULL_S)}, note=f"{what}: {exc}")


def classify(exc: Exception) -> tuple[int, str]:
    """Status and error code of a domain error (400 for an unlisted subclass)."""
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return 400, "bad_request"


def who(request: Request) -> str:
    """The caller as logs name it: the authenticated unit, else the HQ user (with its
    address), else what its certificate claims (refused before or during authentication),
    else the peer address and the unit it is enrolling as, if any."""
    unit = getattr(request.state, "unit_id", None)
    if unit:
        return f"unit {unit}"
    client = request.client
    where = f"{client.host}:{client.port}" if client else "unknown peer"
    user = getattr(request.state, "username", None)
    if user:
        return f"user {user} at {where}"
    enrolling = getattr(request.state, "enrolling", None)
    if enrolling:
        return f"anonymous {where} enrolling as unit {enrolling!r}"
    cert = peer_certificate(request.scope)
    if cert is not None:
        try:
            return f"{where} presenting a certificate for unit {unit_id_from_cert(cert)}"
        except CAError:
            return f"{where} presenting a certificate of no unit"
    return f"anonymous {where}"


def error_response(request: Request, status: int, error: str, detail: str,
                   headers: Mapping[str, str] | None = None, *,
                   note: str = "") -> JSONResponse:
    """Log the refusal once and answer it in the common shape.

    This is the one place a refusal is logged (WARNING): lower layers raise without
    logging, since only here are the client, the unit or user and the answer all known.
    """
    # A request the server guard closed for stalling has nobody to answer: debug only.
    level = logging.DEBUG if getattr(request.state, "closed_by_guard", None) \
        else logging.WARNING
    log.log(level, "refused %s %s from %s: %d %s: %s%s", request.method, request.url.path,
            who(request), status, error, detail, f" ({note})" if note else "")
    return JSONResponse({"error": error, "detail": detail}, status_code=status,
                        headers=dict(headers or {}))


def _validation_detail(errors: list[Any]) -> tuple[str, str]:
    if any(e.get("type") == "json_invalid" for e in errors):
        return "malformed_json", "the request body is not valid JSON"
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "invalid_request", "; ".join(parts) + more


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every expected failure into a JSON 4xx."""

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        status, error = classify(exc)
        return error_response(request, status, error, str(exc))

    async def on_api(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(request, exc.status, exc.error, exc.detail, exc.headers,
                              note=exc.note)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        error, detail = _validation_detail(list(exc.errors()))
        status = 400 if error == "malformed_json" else 422
        return error_response(request, status, error, detail)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        error = {404: "not_found", 405: "method_not_allowed",
                 413: "body_too_large"}.get(exc.status_code, "http_error")
        return error_response(request, exc.status_code, error, str(exc.detail),
                              exc.headers)

    async def on_database_lost(request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL restarting or failing over: the open transaction was rolled back by
        # the server, so the client retries the whole request (hq/storage/db/engine.py).
        return error_response(request, 503, "database_unavailable",
                              "HQ's database is restarting; nothing of this request was "
                              "stored, try again", {"Retry-After": str(RETRY_AFTER_DB_S)},
                              note=str(exc))

    async def on_store_down(request: Request, exc: Exception) -> JSONResponse:
        # The clip store (an S3 endpoint) is down: nothing of the request was kept.
        assert isinstance(exc, StorageUnavailable)
        return error_response(request, 503, "clip_store_unavailable",
                              "HQ's clip store cannot be reached; nothing of this request "
                              "was kept, try again", {"Retry-After": str(exc.retry_after_s)},
                              note=str(exc))

    app.add_exception_handler(DatabaseUnavailable, on_database_lost)
    app.add_exception_handler(StorageUnavailable, on_store_down)
    for cls in DOMAIN_ERRORS:
        app.add_exception_handler(cls, on_domain)
    app.add_exception_handler(ApiError, on_api)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
