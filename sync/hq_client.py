"""The unit's HTTP client for HQ: event batches, resumable clip uploads, config pull.

Mutual TLS with the unit's own certificate; HQ is trusted only through the
pinned CA. Errors are split by what the sync loop should do next:
``HQUnavailable`` (network, timeout, 5xx, 429: back off and retry the same
thing) and ``HQRejected`` (4xx: HQ will not take it as it is; retrying the same
bytes will not help).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from sync.identity import UnitIdentity
from sync.schema import EventEnvelope
from sync.throttle import ThrottledReader, TokenBucket

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
CHECKSUM_MISMATCH = 460  # tus checksum extension's status for a digest that does not match


class HQError(Exception):
    """Talking to HQ failed."""


class HQUnavailable(HQError):
    """HQ could not be reached or answered 5xx/429; try again later."""


class HQRejected(HQError):
    """HQ refused the request (4xx); ``status`` and ``error`` say why."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(f"HQ refused ({status} {error}): {detail}")
        self.status = status
        self.error = error


class ChecksumRejected(HQRejected):
    """HQ received the whole clip but its sha256 differs: upload afresh."""


@dataclass(frozen=True, slots=True)
class UploadResult:
    clip_id: str
    sent_bytes: int  # bytes this call put on the wire
    resumed_from: int  # offset HQ already had when this call started
    already_complete: bool


@dataclass(frozen=True)
class BatchAnswer:
    """HQ's answer to an event batch; ``rejected`` maps uuid to (field, reason)."""

    accepted: int
    duplicates: int
    rejected: dict[str, tuple[str, str]]


def _metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


class HQClient:
    """One HQ endpoint; methods raise HQUnavailable or HQRejected, never requests' errors."""

    def __init__(self, base_url: str, *, cert: tuple[Path, Path] | None, ca: Path | None,
                 timeout: tuple[float, float] = (5.0, 60.0),
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        # Given on every request, not on the session: requests lets REQUESTS_CA_BUNDLE /
        # CURL_CA_BUNDLE from the environment replace a session's verify, which would
        # quietly swap the pinned CA for the system trust store.
        self._tls: dict[str, Any] = {
            "verify": str(ca) if ca is not None else True,
            "cert": (str(cert[0]), str(cert[1])) if cert is not None else None,
        }
        self.timeout = timeout
        # Clip bytes handed to the network, failed attempts included (what a drop costs).
        self.clip_bytes_sent = 0

    @classmethod
    def from_identity(cls, base_url: str, identity: UnitIdentity, **kwargs: Any) -> HQClient:
        """A client presenting an enrolled unit's certificate, trusting its pinned CA."""
        if not identity.is_enrolled():
            raise HQError(f"{identity.directory}: this unit is not enrolled yet")
        return cls(base_url, cert=(identity.cert_path, identity.key_path), ca=identity.ca_path,
                   **kwargs)

    def close(self) -> None:
        """Close kept-alive connections (HQ restarts and shutdowns need not wait for them)."""
        self.session.close()

    def reconnect(self) -> None:
        """Drop kept-alive connections: the next request handshakes with the certificate and
        key files as they are now (call after the identity's key rotation)."""
        for adapter in self.session.adapters.values():
            adapter.close()  # the pools empty; the adapters stay mounted and usable

    # ---- plumbing ---------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **self._tls,
                                        **kwargs)
        except requests.RequestException as exc:
            raise HQUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise HQUnavailable(f"{method} {path}: HQ answered {resp.status_code}")
        return resp

    @staticmethod
    def _rejected(resp: requests.Response) -> HQRejected:
        try:
            body = resp.json()
            error, detail = str(body.get("error", "")), str(body.get("detail", ""))
        except ValueError:
            error, detail = "", resp.text[:200]
        cls = ChecksumRejected if resp.status_code == CHECKSUM_MISMATCH else HQRejected
        return cls(resp.status_code, error or "refused", detail)

    # ---- events -------------------------------------------------------------------------

    def post_events(self, events: Sequence[EventEnvelope]) -> tuple[int, int]:
        """Send a batch; returns (accepted, duplicates). Safe to repeat: HQ dedupes by uuid."""
        answer = self.send_events(events)
        return answer.accepted, answer.duplicates

    def send_events(self, events: Sequence[EventEnvelope]) -> BatchAnswer:
        """Send a batch; HQ stores all but the events it lists as rejected (by uuid).

        An answer that does not account for every event of the batch is not an
        acknowledgement (HQUnavailable): the events are kept and sent again.
        """
        body = {"events": [e.model_dump(mode="json") for e in events]}
        resp = self._request("POST", "/v1/events", json=body)
        if resp.status_code != 200:
            raise self._rejected(resp)
        sent = {e.uuid for e in events}
        try:
            data = resp.json()
            listed = data.get("rejected", [])
            rejected = {str(r["uuid"]): (str(r["field"]), str(r["reason"])) for r in listed}
            answer = BatchAnswer(int(data["accepted"]), int(data["duplicates"]), rejected)
        except (ValueError, KeyError, TypeError, AttributeError):
            # A malformed answer is not an acknowledgement: keep the events and retry.
            raise HQUnavailable("HQ answered the event batch with a malformed body") from None
        if not rejected.keys() <= sent or \
                answer.accepted + answer.duplicates + len(listed) != len(events):
            raise HQUnavailable(f"HQ's answer ({answer.accepted} accepted, "
                                f"{answer.duplicates} duplicates, {len(listed)} rejected) "
                                f"does not account for the {len(events)} events sent")
        return answer

    # ---- certificate renewal -----------------------------------------------------------------

    def renew(self, csr_pem: bytes) -> tuple[bytes, bytes]:
        """Ask HQ to certify a new key (over the current identity); (cert_pem, ca_pem).

        HQRejected 409 ``too_early`` when the current certificate is not yet in HQ's renewal
        window; 400 ``csr_refused`` when the request names another unit or reuses the key.
        """
        resp = self._request("POST", "/v1/renew", json={"csr_pem": csr_pem.decode()})
        if resp.status_code != 200:
            raise self._rejected(resp)
        try:
            data = resp.json()
            cert_pem, ca_pem = data["cert_pem"], data["ca_pem"]
            if not isinstance(cert_pem, str) or not isinstance(ca_pem, str):
                raise TypeError("not text")
        except (ValueError, KeyError, TypeError):
            raise HQUnavailable("HQ answered the renewal with a malformed body") from None
        return cert_pem.encode(), ca_pem.encode()

    # ---- clips (tus 1.0 core) ---------------------------------------------------------------

    def upload_clip(self, clip_id: str, path: Path, size: int, sha256: str, *,
                    bucket: TokenBucket | None = None, chunk_bytes: int = 1 << 20) -> UploadResult:
        """Upload (or resume) one clip; only bytes HQ does not have yet are sent."""
        bucket = bucket or TokenBucket(None)
        resp = self._request("POST", "/v1/uploads", headers={
            "Tus-Resumable": TUS_VERSION, "Upload-Length": str(size),
            "Upload-Metadata": _metadata(clip_id=clip_id, sha256=sha256)})
        if resp.status_code not in (200, 201):
            raise self._rejected(resp)
        location = resp.headers.get("Location", "")
        offset = self._offset_from(resp)
        start = offset
        if offset >= size:
            return UploadResult(clip_id, 0, start, already_complete=True)
        sent = 0
        with path.open("rb") as f:
            while offset < size:
                f.seek(offset)
                body = ThrottledReader(f, min(chunk_bytes, size - offset), bucket)
                try:
                    resp = self._request("PATCH", location, data=body, headers={
                        "Tus-Resumable": TUS_VERSION, "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream"})
                finally:
                    sent += body.sent
                    self.clip_bytes_sent += body.sent
                if resp.status_code == 409:
                    # Our idea of the offset was stale (a chunk landed before a drop).
                    offset = self._offset_from(resp) if "Upload-Offset" in resp.headers \
                        else self._head_offset(location)
                    continue
                if resp.status_code not in (200, 204):
                    raise self._rejected(resp)
                offset = self._offset_from(resp)
        return UploadResult(clip_id, sent, start, already_complete=False)

    def _head_offset(self, location: str) -> int:
        resp = self._request("HEAD", location, headers={"Tus-Resumable": TUS_VERSION})
        if resp.status_code != 200:
            raise self._rejected(resp)
        return self._offset_from(resp)

    @staticmethod
    def _offset_from(resp: requests.Response) -> int:
        try:
            return int(resp.headers["Upload-Offset"])
        except (KeyError, ValueError):
            raise HQUnavailable("HQ answered without a valid Upload-Offset") from None

    # ---- config ------------------------------------------------------------------------------

    def fetch_config(self, etag: str | None) -> tuple[str, bytes] | None:
        """The unit's config document and its ETag, or None when ``etag`` is current."""
        headers = {"If-None-Match": etag} if etag else {}
        resp = self._request("GET", "/v1/config", headers=headers)
        if resp.status_code == 304:
            return None
        if resp.status_code != 200:
            raise self._rejected(resp)
        return resp.headers.get("ETag", ""), resp.content
