"""What the HQ API's routers need, in one container built once at start-up."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hq.accounts.users import UserStore
from hq.conditions import HQConditions
from hq.config import HQConfigError
from hq.org.authoring.store import OrgStore
from hq.pki.ca import DB_FILE, CertificateAuthority
from hq.pki.enrollment import EnrollmentCodes
from hq.storage import SqliteAuditLog
from hq.storage.base import ClipStore
from hq.storage.db.backend import open_data
from hq.storage.events import SqliteEventStore
from hq.storage.s3.config import open_clip_store
from hq.storage.sqlite import private_dir, private_file

if TYPE_CHECKING:
    from hq.accounts.directory import Directory
    from hq.accounts.directory_config import DirectoryConfig
    from hq.alerts.service import AlertService
    from hq.retention.store import RetentionStore
    from hq.server.proxy_cert import ProxyConfig


@dataclass
class HQLimits:
    """Bounds the HTTP layer enforces before anything reaches storage."""

    max_event_batch: int = 500
    max_body_bytes: int = 2 * 1024 * 1024  # JSON bodies (events, enrollment)
    max_chunk_bytes: int = 8 * 1024 * 1024  # one tus PATCH
    unit_cert_days: int = 365
    # A unit may renew only when its current certificate has less than this left, so a
    # stolen, not yet revoked certificate cannot mint fresh long-lived ones at will: it can
    # renew only in its last weeks, and every renewal is in the audit log.
    renew_window_days: int = 60


@dataclass
class HQDeps:
    """Stores and authorities shared by every request."""

    events: SqliteEventStore
    clips: ClipStore  # hq.toml [clips]: files (LocalClipStore) or s3 (S3ClipStore)
    audit: SqliteAuditLog
    ca: CertificateAuthority
    codes: EnrollmentCodes
    config_dir: Path  # unit config files served to units (roster, schedule, rules)
    limits: HQLimits = field(default_factory=HQLimits)
    users: UserStore | None = None  # users.db: accounts, tokens, page sessions, throttle
    alerts: AlertService | None = None  # alert threads' outbox worker, link key, policy
    conditions: HQConditions = field(default_factory=HQConditions)  # disk full, ...
    directory: Directory | None = None  # hq.toml [directory]: page sign-on via LDAP/AD
    proxy: ProxyConfig | None = None  # hq.toml [proxy]: proxies passing unit certificates

    def alert_service(self) -> AlertService:
        """Alerts of this data folder, opened on first use (the worker starts separately)."""
        if self.alerts is None:
            from hq.alerts.recipients import UsersDirectory
            from hq.alerts.service import AlertService

            self.alerts = AlertService.open(self.config_dir.parent,
                                            UsersDirectory(self.user_store()))
        return self.alerts

    def user_store(self) -> UserStore:
        """The accounts store, opened beside the config folder on first use."""
        if self.users is None:
            self.users = UserStore(self.config_dir.parent / "users.db")
        return self.users

    @functools.cached_property
    def org(self) -> OrgStore:
        """Authoring of the organisation, over the events database's connection."""
        return OrgStore.sharing(self.events)

    @functools.cached_property
    def retention(self) -> RetentionStore:
        """Retention periods and legal holds, over the events database's connection."""
        from hq.retention.store import RetentionStore

        return RetentionStore(self.events)

    def __post_init__(self) -> None:
        if self.conditions.audit is None:
            self.conditions.audit = self.audit

    @classmethod
    def open(cls, root: Path, deployment: str = "hq", config_file: Path | None = None
             ) -> HQDeps:
        """Open (creating on first use) everything under one HQ data folder.

        ``hq.toml`` (or ``config_file``) chooses the database: SQLite files here, or
        PostgreSQL (hq/storage/db); a schema revision HQ does not know is refused.
        """
        private_dir(root)  # every database and key below is 0600, every folder 0700
        config = open_data(root, config_file)
        ca_dir = root / "ca"
        for db in (root / "enrollment.db", ca_dir / DB_FILE):  # opened without connect()
            private_file(db)
        ca = (CertificateAuthority.load(ca_dir) if (ca_dir / "ca.pem").exists()
              else CertificateAuthority.create(ca_dir, deployment))
        private_dir(root / "config")
        private_dir(root / "alerts")  # the alerts service's folder (its link key)
        clips = open_clip_store(root, config.clips)  # a bad [clips] stops HQ before the rest
        return cls(
            events=SqliteEventStore(root / "events.db"),
            clips=clips,
            audit=SqliteAuditLog(root / "audit.db"),
            ca=ca,
            codes=EnrollmentCodes(root / "enrollment.db"),
            config_dir=root / "config",
            directory=_directory(config.directory), proxy=config.proxy,
        )


def _directory(config: DirectoryConfig | None) -> Directory | None:
    """The directory client of ``hq.toml`` (its bind password file read now), if any."""
    from hq.accounts.directory import Directory

    if config is None:
        return None
    try:
        return Directory.from_config(config)
    except ValueError as exc:
        raise HQConfigError(str(exc)) from exc
