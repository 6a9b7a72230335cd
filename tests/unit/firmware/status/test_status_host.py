"""Host facts for ``counterunit status``: disk, model files, HQ certificate, formatting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from firmware.status.format import ago, duration, local, size, until
from firmware.status.host import Usage, certificate, check_models, disk_facts
from vision.models.fetch import MODELS_DIR, load_manifest

GIB = 1 << 30


@pytest.mark.parametrize(("usage", "free", "pct"), [
    (Usage(100 * GIB, 25 * GIB, 75 * GIB), 75 * GIB, 25.0),
    (Usage(10, 10, 0), 0, 100.0),
    (Usage(0, 0, 0), 0, None),  # a pseudo file system reports nothing
])
def test_disk_facts(usage: Usage, free: int, pct: float | None) -> None:
    d = disk_facts(Path("/data"), lambda p: usage)
    assert (d.free, d.used_pct, d.problem) == (free, pct, None)


def test_disk_facts_on_a_real_and_a_missing_folder(tmp_path: Path) -> None:
    d = disk_facts(tmp_path)
    assert d.total is not None and d.free is not None and 0 < d.free <= d.total
    gone = disk_facts(tmp_path / "gone")
    assert gone.problem == f"data folder {tmp_path / 'gone'} not found" and gone.free is None


def test_models_present_wrong_and_missing(tmp_path: Path) -> None:
    names = list(load_manifest()["models"])
    real = MODELS_DIR / load_manifest()["models"][names[0]]["file"]
    if not real.is_file():
        pytest.skip("models not fetched (make models)")
    (tmp_path / real.name).symlink_to(real)
    wrong = load_manifest()["models"][names[1]]["file"]
    (tmp_path / wrong).write_bytes(b"not a model")
    checks, problem = check_models(tmp_path)
    assert problem is None
    by_name = {c.name: c for c in checks}
    assert by_name[names[0]].verified and by_name[names[0]].problem is None
    assert by_name[names[0]].sha256 == load_manifest()["models"][names[0]]["sha256"][:12]
    assert not by_name[names[1]].verified
    assert "sha256 differs" in (by_name[names[1]].problem or "")
    assert [c.problem for c in checks[2:]] == ["missing"] * (len(names) - 2)


def _cert(directory: Path, not_after: dt.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unit-1")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(not_after - dt.timedelta(days=365)).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    directory.mkdir()
    (directory / "unit.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_certificate_expiry_or_why_not(tmp_path: Path) -> None:
    until_ = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
    _cert(tmp_path / "ok", until_)
    assert certificate(tmp_path / "ok").not_after_utc == until_
    assert certificate(tmp_path / "none").problem == "not enrolled"
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "unit.pem").write_text("garbage")
    bad = certificate(tmp_path / "bad")
    assert bad.not_after_utc is None and (bad.problem or "").startswith("certificate unreadable")


@pytest.mark.parametrize(("fn", "value", "text"), [
    (size, 1288490189, "1.2 GiB"),
    (size, 0, "0 Bytes"),
    (ago, 300, "5 minutes ago"),
    (ago, 0.4, "just now"),
    (ago, -200, "3 minutes from now"),
    (until, 40, "in 40 seconds"),
    (until, -3, "now"),
    (duration, 95, "1 minute and 35 seconds"),
    (duration, 4000, "1 hour and 7 minutes"),
])
def test_human_words(fn: object, value: float, text: str) -> None:
    assert fn(value) == text  # type: ignore[operator]


def test_local_time_shows_the_date_only_when_not_today() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Berlin")
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    assert local(now - dt.timedelta(hours=1), tz, now) == "12:00:00"
    assert local(now - dt.timedelta(days=2), tz, now) == "2026-11-20 13:00"
    assert local(None, tz, now) == "?"
