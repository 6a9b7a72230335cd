"""``counterunit hq serve`` as a bank runs it: hq.toml names PostgreSQL and an S3 bucket.

A real HQ process (``python -m hq.cli serve``) on the session's PostgreSQL 15 and moto
S3 endpoint; a real unit client uploads a clip over mutual TLS and a user plays it back
by ranges. A [clips] section naming a bucket that is not there stops HQ, naming the key.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
from pathlib import Path

import pytest
import requests

from hq.accounts.users import UserStore
from hq.pki.ca import CertificateAuthority
from hq.storage.scope import Scope
from sync.hq_client import HQClient
from sync.identity import UnitIdentity
from tests.helpers.hq.alert_receivers import free_port
from tests.helpers.hq.procs import start_worker as serve
from tests.helpers.hq.procs import wait_up
from tests.helpers.hq.users import PW
from tests.servers.postgres_fixtures import Backend
from tests.servers.s3 import S3Server
from tests.servers.s3_fixtures import with_s3_clips

pytestmark = [pytest.mark.postgres, pytest.mark.s3]
ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
UNIT = "unit-serve"


@pytest.fixture
def bank_data(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """DATA/hq.toml naming a fresh PostgreSQL database (migrated) and a fresh bucket."""
    db = Backend("postgresql", request.getfixturevalue("pg_dsn"),
                 request.getfixturevalue("postgres"))
    request.addfinalizer(db.close)
    data = db.configure(tmp_path / "hq")
    with_s3_clips(request, data)
    return data


def test_hq_serve_on_postgresql_and_s3_takes_uploads_and_plays_them(
        bank_data: Path, s3: S3Server, tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "hq.log"
    proc = serve(bank_data, port, log)
    try:
        wait_up(proc, bank_data, port, log)
        ca = CertificateAuthority.load(bank_data / "ca")
        ident = UnitIdentity(tmp_path / "units" / UNIT)
        ident.generate_key()
        ident.install(ca.sign_unit_csr(ident.csr(UNIT), UNIT), ca.cert_pem)
        unit = HQClient.from_identity(f"https://localhost:{port}", ident)
        payload = random.Random(5).randbytes(5 * MIB + 4321)
        sha = hashlib.sha256(payload).hexdigest()
        (tmp_path / "c.mp4").write_bytes(payload)
        result = unit.upload_clip("clip-s", tmp_path / "c.mp4", len(payload), sha,
                                  chunk_bytes=MIB)
        assert result.sent_bytes == len(payload)
        bucket = with_bucket(bank_data)
        listed = s3.client().list_objects_v2(Bucket=bucket)["Contents"]
        assert [o["Size"] for o in listed] == [len(payload)]
        users = UserStore(bank_data / "users.db")  # routed to PostgreSQL by the fixture
        try:
            users.create_user("sue", PW, "hall_supervisor", scope=Scope.everything())
            token = users.issue_token("sue").token
        finally:
            users.close()
        auth = {"Authorization": f"Bearer {token}"}
        url = f"https://localhost:{port}/v1/clips/{UNIT}/clip-s"
        r = requests.get(url, headers={**auth, "Range": "bytes=5242000-5242999"},
                         verify=str(ca.directory / "ca.pem"), timeout=10)
        assert r.status_code == 206 and r.content == payload[5242000:5243000]
        r = requests.get(url, headers=auth, verify=str(ca.directory / "ca.pem"), timeout=10)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # uvicorn waiting on an idle keep-alive
            proc.kill()
            proc.wait(10)


def with_bucket(data: Path) -> str:
    import tomllib

    return str(tomllib.loads((data / "hq.toml").read_text())["clips"]["bucket"])


def test_hq_serve_refuses_a_bucket_that_is_not_there(
        bank_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hq.cli import main

    toml = bank_data / "hq.toml"
    bucket = with_bucket(bank_data)
    toml.write_text(toml.read_text().replace(f'"{bucket}"', '"no-such-bucket"'))
    # The command itself, in this process: it stops before it listens.
    assert main(["serve", "--data", str(bank_data), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "counterunit hq serve:" in err
    assert "clips.bucket: bucket 'no-such-bucket' does not exist" in err
