"""Enrollment end to end: HQ issues a one-time code, the unit enrolls, then talks mTLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.cli.app import main
from hq.cli import main as hq_main
from sync.hq_client import HQClient
from sync.identity import UnitIdentity
from tests.helpers.hq.server import HQServer, running_hq


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    with running_hq(tmp_path_factory.mktemp("hq")) as server:
        yield server


def unit_config(tmp_path: Path, unit_id: str) -> Path:
    cfg = tmp_path / "unit.toml"
    cfg.write_text(f'[unit]\nunit_id = "{unit_id}"\ndata_dir = "{tmp_path / "data"}"\n'
                   f'[camera]\ntype = "file"\npath = "/nonexistent.mp4"\n')
    return cfg


def test_code_from_hq_cli_enrolls_the_unit(hq: HQServer, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert hq_main(["enroll-code", "--data", str(hq.root / "data"), "--unit", "unit-42"]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) == 19 and code.count("-") == 3
    cfg = unit_config(tmp_path, "unit-42")
    assert main(["enroll", "--hq", hq.url, "--code", code, "--config", str(cfg),
                 "--ca", str(hq.ca_pem)]) == 0
    identity = UnitIdentity(tmp_path / "data" / "identity")
    assert identity.is_enrolled()
    assert oct(identity.key_path.stat().st_mode & 0o777) == "0o600"
    # The new identity works for events right away.
    assert HQClient.from_identity(hq.url, identity).post_events([]) == (0, 0)


def test_reused_code_fails_cleanly(hq: HQServer, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert hq_main(["enroll-code", "--data", str(hq.root / "data"), "--unit", "unit-43"]) == 0
    code = capsys.readouterr().out.strip()
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert main(["enroll", "--hq", hq.url, "--code", code, "--config",
                 str(unit_config(first, "unit-43")), "--ca", str(hq.ca_pem)]) == 0
    assert main(["enroll", "--hq", hq.url, "--code", code, "--config",
                 str(unit_config(second, "unit-43")), "--ca", str(hq.ca_pem)]) == 1
    err = capsys.readouterr().err
    assert "enrollment failed: HQ refused enrollment (403" in err and "Traceback" not in err


def test_wrong_ca_file_is_refused_before_sending_the_code(
        hq: HQServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hq.pki.ca import CertificateAuthority

    other = CertificateAuthority.create(tmp_path / "other", "other")
    (tmp_path / "other.pem").write_bytes(other.cert_pem)
    assert main(["enroll", "--hq", hq.url, "--code", "AAAA-BBBB-CCCC-DDDD", "--config",
                 str(unit_config(tmp_path, "unit-44")), "--ca", str(tmp_path / "other.pem")]) == 1
    assert "did not prove itself with a certificate from the CA" in capsys.readouterr().err


def test_first_admin_from_the_cli(hq: HQServer, capsys: pytest.CaptureFixture[str]) -> None:
    from hq.accounts.users import UserStore

    data = str(hq.root / "data")
    assert hq_main(["user-add", "--data", data, "--username", "root-admin", "--role", "admin",
                    "--password", "a long enough passphrase"]) == 0
    assert hq_main(["user-add", "--data", data, "--username", "root-admin", "--role", "admin",
                    "--password", "a long enough passphrase"]) == 1
    assert "cannot add user" in capsys.readouterr().err
    users = UserStore(hq.root / "data" / "users.db")
    assert users.authenticate("root-admin", "a long enough passphrase") is not None
    users.close()


def test_revoked_unit_is_refused_on_its_next_request(hq: HQServer,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from sync.hq_client import HQRejected

    identity = hq.enrolled_unit("unit-lost")
    client = HQClient.from_identity(hq.url, identity)
    assert client.post_events([]) == (0, 0)
    assert hq_main(["revoke", "--data", str(hq.root / "data"), "--unit", "unit-lost"]) == 0
    assert "1 certificate(s) revoked" in capsys.readouterr().out
    with pytest.raises(HQRejected) as info:
        client.post_events([])
    assert info.value.status == 403
    client.close()
