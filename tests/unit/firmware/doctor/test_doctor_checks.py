"""Host rows of doctor: config file, models, data dir and free space, clock, HQ identity."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from firmware.config.unit import UnitConfig, parse_config
from firmware.doctor.checks import (
    FREE_FAIL_BYTES,
    FREE_WARN_BYTES,
    GIB,
    check_clock,
    check_config,
    check_data_dir,
    check_identity,
    check_models,
    grade_free_space,
)
from firmware.doctor.host import CheckResult, Host
from hq.pki.ca import CertificateAuthority
from sync.identity import UnitIdentity
from vision.analyzer import default_models_dir

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
PLENTY = 50 * GIB


def test_check_result_refuses_unknown_status() -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        CheckResult("x", "fine", "")  # type: ignore[arg-type]


def test_config_missing_given_path(tmp_path: Path) -> None:
    row, cfg = check_config(tmp_path / "unit.toml")
    assert cfg is None and row.status == "FAIL"
    assert row.found == f"{tmp_path / 'unit.toml'}: missing"
    assert "docs/unit.example.toml" in row.fix


def test_config_problems_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "unit.toml"
    path.write_text('[camera]\ntype = "file"\npath = "/x.mp4"\nanalysis_fps = "fast"\n'
                    '[unit]\nunit_idd = "u"\n')
    row, cfg = check_config(path)
    assert cfg is None and row.status == "FAIL"
    lines = row.found.splitlines()
    assert lines[0] == f"{path}: 2 problem(s)"
    assert any("unit.unit_idd: unknown key" in line for line in lines)
    assert any(line.startswith("camera.file.analysis_fps") for line in lines)
    assert "check-config" in row.fix


def test_config_ok(tmp_path: Path) -> None:
    path = tmp_path / "unit.toml"
    path.write_text('[camera]\ntype = "file"\npath = "/x.mp4"\n')
    row, cfg = check_config(path)
    assert cfg is not None and row.status == "ok"
    assert "zones seat, customer" in row.found


def test_models_ok_and_missing(tmp_path: Path) -> None:
    assert check_models(default_models_dir()).status == "ok"
    shutil.copy(default_models_dir() / "pose_detection.tflite", tmp_path)
    (tmp_path / "pose_landmark_full.tflite").write_bytes(b"truncated")
    row = check_models(tmp_path)
    assert row.status == "FAIL"
    assert "pose_landmark_full, face_detection_full_range_sparse" in row.found
    assert "pose_detection," not in row.found
    assert "make models" in row.fix


@pytest.mark.parametrize("free,status", [
    (0, "FAIL"), (FREE_FAIL_BYTES - 1, "FAIL"), (FREE_FAIL_BYTES, "warn"),
    (FREE_WARN_BYTES - 1, "warn"), (FREE_WARN_BYTES, "ok"), (PLENTY, "ok"),
])
def test_grade_free_space(free: int, status: str) -> None:
    assert grade_free_space(free)[0] == status


def host(free: int = PLENTY, writable: bool = True) -> Host:
    return Host(disk_free=lambda p: free, access=lambda p, mode: writable,
                user=lambda: "counter")


@pytest.mark.parametrize("setup,free,writable,status,words", [
    ("dir", PLENTY, True, "ok", "writable, 50.0 GiB free"),
    ("dir", FREE_WARN_BYTES - GIB, True, "warn", "(< 2 GiB)"),
    ("dir", FREE_FAIL_BYTES - 1, True, "FAIL", "(< 500 MiB)"),
    ("dir", PLENTY, False, "FAIL", "not writable by counter"),
    ("missing", PLENTY, True, "warn", "missing (made at first start)"),
    ("missing", PLENTY, False, "FAIL", "is not writable by counter"),
    ("file", PLENTY, True, "FAIL", "not a folder"),
])
def test_data_dir(tmp_path: Path, setup: str, free: int, writable: bool, status: str,
                  words: str) -> None:
    data = tmp_path / "var/lib/counterunit"
    if setup == "dir":
        data.mkdir(parents=True)
    elif setup == "file":
        data.parent.mkdir(parents=True)
        data.write_text("")
    row = check_data_dir(data, host(free, writable))
    assert row.status == status, row
    assert words in row.found, row
    assert list(tmp_path.rglob(".doctor-*")) == []  # the write probe cleans up


def test_data_dir_real_probe_and_space(tmp_path: Path) -> None:
    row = check_data_dir(tmp_path, Host())
    assert row.status in ("ok", "warn", "FAIL") and "GiB free" in row.found


@pytest.mark.parametrize("synced,status", [(True, "ok"), (False, "warn")])
def test_clock(synced: bool, status: str) -> None:
    row = check_clock(Host(clock_synced=lambda: synced, now=lambda: T0))
    assert row.status == status and "2026-11-01 09:00:00 UTC" in row.found


def test_clock_real_adjtimex_answers() -> None:
    assert check_clock(Host()).status in ("ok", "warn")


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"), "doctor-tests", now=T0)


def sync_config(data_dir: Path, unit_id: str = "unit-7") -> UnitConfig:
    return parse_config({"camera": {"type": "file", "path": "/x.mp4"},
                         "unit": {"unit_id": unit_id, "data_dir": str(data_dir)},
                         "sync": {"hq_url": "https://hq.bank.local:8443"}})


def enrolled(data_dir: Path, ca: CertificateAuthority, unit_id: str = "unit-7",
             days: int = 365) -> UnitIdentity:
    identity = UnitIdentity(data_dir / "identity")
    identity.generate_key()
    identity.install(ca.sign_unit_csr(identity.csr(unit_id), unit_id, days, now=T0), ca.cert_pem,
                     now=T0)
    return identity


def at(moment: dt.datetime) -> Host:
    return Host(now=lambda: moment)


def test_identity_not_applicable() -> None:
    assert check_identity(None, Host()).status == "n/a"
    cfg = parse_config({"camera": {"type": "file", "path": "/x.mp4"}})
    row = check_identity(cfg, Host())
    assert row.status == "n/a" and "no [sync] section" in row.found


def test_identity_not_enrolled(tmp_path: Path) -> None:
    row = check_identity(sync_config(tmp_path), Host())
    assert row.status == "FAIL" and "not enrolled (no key)" in row.found
    assert row.fix == "counterunit enroll --hq https://hq.bank.local:8443 --code CODE"
    UnitIdentity(tmp_path / "identity").generate_key()
    row = check_identity(sync_config(tmp_path), Host())
    assert "key but no certificate" in row.found


@pytest.mark.parametrize("moment,status,words", [
    (T0 + dt.timedelta(days=10), "ok", "(355 days)"),
    (T0 + dt.timedelta(days=350), "warn", "(15 days)"),
    (T0 + dt.timedelta(days=400), "FAIL", "expired 35 day(s) ago"),
])
def test_identity_expiry(tmp_path: Path, ca: CertificateAuthority, moment: dt.datetime,
                         status: str, words: str) -> None:
    enrolled(tmp_path, ca)
    row = check_identity(sync_config(tmp_path), at(moment))
    assert row.status == status, row
    assert words in row.found, row


def test_identity_for_another_unit(tmp_path: Path, ca: CertificateAuthority) -> None:
    enrolled(tmp_path, ca, unit_id="unit-8")
    row = check_identity(sync_config(tmp_path), at(T0))
    assert row.status == "FAIL" and "certificate is for unit 'unit-8'" in row.found


def test_identity_key_readable_by_others(tmp_path: Path, ca: CertificateAuthority) -> None:
    identity = enrolled(tmp_path, ca)
    identity.key_path.chmod(0o644)
    row = check_identity(sync_config(tmp_path), at(T0))
    assert row.status == "FAIL" and "mode 644, others can read the unit key" in row.found
    assert row.fix == f"chmod 600 {identity.key_path}"


def test_identity_unusable_certificate(tmp_path: Path, ca: CertificateAuthority) -> None:
    identity = enrolled(tmp_path, ca)
    identity.cert_path.write_text("not a certificate")
    row = check_identity(sync_config(tmp_path), at(T0))
    assert row.status == "FAIL" and str(identity.directory) in row.found
    assert row.fix.startswith("counterunit enroll")
