"""The boto3 S3 client HQ's clip store talks through, and what its failures mean to HQ.

Any S3 API store works (MinIO, Ceph RGW, AWS S3): path-style addressing by default, and
request checksums only where the API requires them, since on-premises stores differ in
which of boto3's newer default checksum trailers they accept. A store that cannot be
reached, times out or answers 5xx is :class:`StorageUnavailable` (HQ answers 503 with a
Retry-After): nothing of the request was kept and the unit sends it again later.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StorageUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER_S = 30  # what a unit is told while the store is down

_SESSION: Any = None  # one boto3 session: its clients share the loaded API models
_SESSION_LOCK = threading.Lock()  # a session's client() is not thread-safe


def read_secret(path: Path) -> str:
    """The secret access key from a file only HQ's user may read."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ValueError(f"{path}: the S3 secret key file is mode {mode:o}; make it 0600")
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ValueError(f"{path}: the S3 secret key file is empty")
    return secret


def make_client(*, endpoint_url: str | None, region: str, access_key_id: str | None,
                secret_access_key_file: Path | None, addressing_style: str = "path",
                ca_bundle: Path | None = None, timeout_s: float = 10.0,
                attempts: int = 2, pool: int = 16) -> Any:
    """A thread-safe boto3 S3 client for the given store."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region, signature_version="s3v4",
        s3={"addressing_style": addressing_style},
        retries={"max_attempts": attempts, "mode": "standard"},
        connect_timeout=timeout_s, read_timeout=timeout_s, max_pool_connections=pool,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required")
    secret = read_secret(secret_access_key_file) if secret_access_key_file else None
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = boto3.session.Session()
        return _SESSION.client(
            "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret, config=config,
            verify=str(ca_bundle) if ca_bundle else os.environ.get("AWS_CA_BUNDLE", True))


def error_code(exc: BaseException) -> str:
    """The S3 error code of a ClientError ('NoSuchUpload', ...), else ''."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


class Reachability:
    """Logs the store going away once and coming back once (not every failed request)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._down = False
        self._lock = threading.Lock()

    def ok(self) -> None:
        with self._lock:
            if self._down:
                self._down = False
                log.info("%s reachable again", self.what)

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if not self._down:
                self._down = True
                log.error("%s failing: %s", self.what, exc)

    @contextmanager
    def calling(self, doing: str, *, expected: tuple[str, ...] = ()) -> Iterator[None]:
        """Run S3 calls; an error whose code is in ``expected`` propagates as it is (the
        caller handles it), every other one becomes StorageUnavailable."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = error_code(exc)
            if code in expected:
                self.ok()
                raise
            self.failed(exc)
            raise StorageUnavailable(f"clip store: {doing}: {code or exc}",
                                     RETRY_AFTER_S) from exc
        except BotoCoreError as exc:
            self.failed(exc)
            raise StorageUnavailable(f"clip store: {doing}: {exc}", RETRY_AFTER_S) from exc
        self.ok()
