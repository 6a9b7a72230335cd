"""HQ's own configuration file: which database and which clip store it runs on.

``hq.toml`` in the HQ data folder (or ``--config FILE``). Without one HQ runs embedded:
SQLite files and a clips folder under the data folder, nothing to start. A bank's
deployment names PostgreSQL and an S3 API store (MinIO, Ceph RGW, AWS S3); see
docs/hq-deploy.md. Unknown keys are refused and every error names the key and the rule.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hq.accounts.directory_config import DirectoryConfig
from hq.server.proxy_cert import ProxyConfig

CONFIG_FILE = "hq.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SqliteDatabase(_Strict):
    """SQLite files in the HQ data folder (the embedded default)."""

    type: Literal["sqlite"] = Field("sqlite", description="SQLite files under the data folder.")


class PostgresDatabase(_Strict):
    """A PostgreSQL 15+ server that HQ's workers share."""

    type: Literal["postgresql"] = Field(description="PostgreSQL through psycopg 3.")
    dsn: str = Field(
        min_length=1, max_length=2000,
        description="libpq connection string or URI, e.g. "
        "'postgresql://hq@db.bank.local/counterunit'. Put the password in a .pgpass or "
        "PGPASSWORD, not here.")
    pool_size: int = Field(8, ge=1, le=256, description="Connections per HQ worker at most.")
    connect_timeout_s: float = Field(
        5.0, ge=0.1, le=120.0, description="Seconds to wait for a connection to the server.")


class FilesClips(_Strict):
    """Clips as files in a folder (the embedded default: DATA/clips)."""

    type: Literal["files"] = Field("files", description="Clips in a local folder.")
    root: Path | None = Field(
        None, description="Folder of the clips; default: 'clips' in the HQ data folder.")


class S3Clips(_Strict):
    """Clips as objects in an S3 API store."""

    type: Literal["s3"] = Field(description="Any S3 API store through boto3.")
    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$",
                        description="Bucket holding the clips (created by the IT team).")
    endpoint_url: str | None = Field(
        None, max_length=2000,
        description="The store's URL (MinIO, Ceph RGW); omit for AWS S3.")
    region: str = Field("us-east-1", min_length=1, max_length=64,
                        description="Region name the store expects in signatures.")
    prefix: str = Field("", max_length=200, pattern=r"^([A-Za-z0-9._-]+/)*$",
                        description="Key prefix under which clips are stored, ending in '/'.")
    access_key_id: str | None = Field(
        None, max_length=256,
        description="Access key id; default: boto3's own chain (environment, profile, role).")
    secret_access_key_file: Path | None = Field(
        None, description="File (0600) holding the secret key; never the key itself here.")
    presign_seconds: int = Field(
        300, ge=10, le=3600,
        description="Lifetime of a pre-signed playback URL; not used yet: every "
        "playback streams through HQ, which audits it.")
    part_size_mib: int = Field(
        8, ge=5, le=512,
        description="Size of a multipart part in MiB (S3 needs at least 5 but for the last); "
        "unit chunks are spooled in HQ's database until they fill one.")
    addressing_style: Literal["path", "virtual"] = Field(
        "path", description="'path' (bucket in the URL path: MinIO, Ceph RGW) or "
        "'virtual' (bucket in the host name: AWS S3).")
    ca_bundle: Path | None = Field(
        None, description="PEM file of the CA that signed the store's TLS certificate "
        "(an on-premises MinIO); default: the system's CAs.")
    timeout_s: float = Field(
        10.0, ge=0.5, le=300.0,
        description="Connect and read timeout of one S3 request, seconds; a unit's chunk "
        "waits at most about twice this before HQ answers 503.")
    attempts: int = Field(
        2, ge=1, le=10, description="Tries per S3 request (boto3 'standard' retries).")

    @field_validator("prefix")
    @classmethod
    def _plain_segments(cls, prefix: str) -> str:
        # MinIO and RGW map keys onto paths: '.' and '..' segments are refused there.
        if any(seg in (".", "..") for seg in prefix.split("/")):
            raise ValueError("prefix segments may not be '.' or '..'")
        return prefix

    @model_validator(mode="after")
    def _key_pair(self) -> S3Clips:
        if (self.access_key_id is None) != (self.secret_access_key_file is None):
            raise ValueError("access_key_id and secret_access_key_file go together "
                             "(or neither, for boto3's own credential chain)")
        return self


Database = Annotated[SqliteDatabase | PostgresDatabase, Field(discriminator="type")]
Clips = Annotated[FilesClips | S3Clips, Field(discriminator="type")]


class HQConfig(_Strict):
    """Everything ``hq.toml`` may say."""

    database: Database = Field(default_factory=lambda: SqliteDatabase.model_validate({}),
                               description="Where HQ's tables live.")
    clips: Clips = Field(default_factory=lambda: FilesClips.model_validate({}),
                         description="Where clips live.")
    directory: DirectoryConfig | None = Field(
        default=None, description="Sign-on against the bank's LDAP/AD directory (hq/accounts/"
        "directory*.py); omitted: local accounts only.")
    proxy: ProxyConfig | None = Field(
        default=None, description="TLS-terminating reverse proxies allowed to pass the unit's "
        "client certificate in a header (hq/server/proxy_cert.py); omitted: HQ's own TLS.")


class HQConfigError(ValueError):
    """``hq.toml`` is unreadable or breaks a rule; the message names the key."""


def load_hq_config(data: Path, path: Path | None = None) -> HQConfig:
    """``path``, else ``data/hq.toml``, else the embedded default."""
    file = path if path is not None else data / CONFIG_FILE
    if path is None and not file.exists():
        return HQConfig()
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise HQConfigError(f"{file}: {exc}") from exc
    try:
        return HQConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{file}: {len(exc.errors())} error(s)"]
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {key}: {err['msg']}")
        raise HQConfigError("\n".join(lines)) from exc
