"""The clip store hq.toml's ``[clips]`` section names: a local folder or an S3 bucket."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hq.config import Clips, HQConfigError, S3Clips

from ..base import ClipStore
from ..clips.store import LocalClipStore
from ..errors import StorageUnavailable
from .store import S3ClipStore

log = logging.getLogger(__name__)

BOOK_FILE = "s3clips.db"  # the S3 store's uploads and parts (hq_s3clips on PostgreSQL)
MIB = 1024 * 1024


def open_clip_store(root: Path, clips: Clips) -> ClipStore:
    """The clip store of the data folder ``root`` as ``clips`` configures it.

    S3: a bucket that does not exist (or that the key may not use) stops HQ with the
    config named; an endpoint that cannot be reached now does not (events still land,
    uploads answer 503 until it is back).
    """
    if isinstance(clips, S3Clips):
        return open_s3_store(root, clips)
    return LocalClipStore(clips.root or root / "clips")


def open_s3_store(root: Path, cfg: S3Clips, **options: Any) -> S3ClipStore:
    """An S3ClipStore over ``cfg``'s bucket, its bookkeeping beside HQ's other tables."""
    from .client import make_client

    try:
        client = make_client(endpoint_url=cfg.endpoint_url, region=cfg.region,
                             access_key_id=cfg.access_key_id,
                             secret_access_key_file=cfg.secret_access_key_file,
                             addressing_style=cfg.addressing_style, ca_bundle=cfg.ca_bundle,
                             timeout_s=cfg.timeout_s, attempts=cfg.attempts)
    except (OSError, ValueError) as exc:
        raise HQConfigError(f"clips.secret_access_key_file: {exc}") from exc
    store = S3ClipStore(client, cfg.bucket, root / BOOK_FILE, prefix=cfg.prefix,
                        part_size=cfg.part_size_mib * MIB,
                        presign_seconds=cfg.presign_seconds, **options)
    try:
        found = store.objects.bucket_exists()
    except StorageUnavailable as exc:
        log.warning("clip store not reachable at start-up (%s); uploads and playback "
                    "answer 503 until it is", exc)
        return store
    if not found:
        store.close()
        raise HQConfigError(f"clips.bucket: bucket {cfg.bucket!r} does not exist at "
                            f"{cfg.endpoint_url or 'AWS S3'} (or this key may not use it)")
    return store
