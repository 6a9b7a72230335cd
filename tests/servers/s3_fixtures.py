"""pytest fixtures: one moto S3 server per test session (started only when a test asks
for it) and a fresh bucket per test. Imported by tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.s3 import S3Server, s3_server

# The bank's deployment as one parameter: PostgreSQL (postgres_fixtures.backend_for takes
# any name but "sqlite" as PostgreSQL) with clips in S3 (with_s3_clips).
BANK = pytest.param("postgresql+s3", marks=[pytest.mark.postgres, pytest.mark.s3])


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """The session's S3 API endpoint (moto server mode on loopback)."""
    with s3_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3: S3Server) -> Iterator[str]:
    """A new, empty bucket on the session's endpoint; the endpoint is up again after the
    test even if the test stopped or paused it."""
    yield s3.new_bucket()
    s3.resume()
    s3.start()


def with_s3_clips(request: pytest.FixtureRequest, data: Path) -> str:
    """Add a ``[clips]`` section naming a fresh bucket of the session's endpoint to
    ``data/hq.toml`` (made if missing), as an operator would; returns the bucket."""
    server: S3Server = request.getfixturevalue("s3")
    bucket = server.new_bucket()
    data.mkdir(parents=True, exist_ok=True)
    toml = data / "hq.toml"
    before = toml.read_text(encoding="utf-8") if toml.exists() else ""
    secret = server.secret_file(data.parent / "secrets")
    toml.write_text(before + server.toml(bucket, secret), encoding="utf-8")
    return bucket
