"""Key rotation at renewal: new key beside the old pair, durable swap, recovery after a crash.

The crash tests run the rotation in a child process that dies with ``os._exit`` (no cleanup,
no ``finally``) just before or just after each file-system step of the dance, then check that
``recover()`` leaves a matching pair: the old key and certificate, or the new ones.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography import x509

from hq.pki.ca import CertificateAuthority
from sync.identity import (
    CertificateRejected,
    IdentityError,
    NoRotation,
    NotEnrolled,
    UnitIdentity,
)

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
UNIT = "unit-r"
PAIR_FILES = {"unit.key", "unit.pem", "hq-ca.pem"}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"), "rotation", now=T0)


@pytest.fixture
def unit(tmp_path: Path, ca: CertificateAuthority) -> UnitIdentity:
    """An enrolled unit whose certificate (10 days from T0) is due for renewal."""
    identity = UnitIdentity(tmp_path / "identity")
    identity.generate_key()
    identity.install(ca.sign_unit_csr(identity.csr(UNIT), UNIT, 10, now=T0), ca.cert_pem, now=T0)
    return identity


def files(identity: UnitIdentity) -> set[str]:
    return {p.name for p in identity.directory.iterdir()}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(identity: UnitIdentity) -> tuple[bytes, bytes, bytes]:
    return (identity.key_path.read_bytes(), identity.cert_path.read_bytes(),
            identity.ca_path.read_bytes())


def renewed_cert(ca: CertificateAuthority, unit: UnitIdentity, days: int = 90) -> bytes:
    return ca.sign_unit_csr(unit.renewal_csr(UNIT), UNIT, days, now=T0)


def test_rotation_swaps_in_a_new_key_and_certificate(unit: UnitIdentity,
                                                     ca: CertificateAuthority) -> None:
    old_key, old_cert, pinned = snapshot(unit)
    old = unit.certificate()
    unit.begin_rotation()
    # Until HQ's answer is installed the working pair is untouched and still usable.
    assert snapshot(unit) == (old_key, old_cert, pinned)
    assert mode(unit.next_key_path) == 0o600
    unit.client_ssl_context()
    cert = unit.install_renewed(renewed_cert(ca, unit), ca.cert_pem, now=T0)
    assert cert.serial_number != old.serial_number
    assert unit.certificate().serial_number == cert.serial_number
    assert cert.not_valid_after_utc == T0 + dt.timedelta(days=90) > old.not_valid_after_utc
    assert unit.key_path.read_bytes() != old_key and mode(unit.key_path) == 0o600
    assert unit.ca_path.read_bytes() == pinned
    assert files(unit) == PAIR_FILES  # nothing pending, no temp file
    unit.client_ssl_context()  # OpenSSL accepts the new key with the new certificate
    assert unit.recover() == "clean"


def test_every_attempt_gets_a_fresh_key(unit: UnitIdentity) -> None:
    unit.begin_rotation()
    first = unit.next_key_path.read_bytes()
    unit.begin_rotation()  # the earlier attempt's answer never came: its key is dropped
    assert unit.next_key_path.read_bytes() not in (first, unit.key_path.read_bytes())
    csr = x509.load_pem_x509_csr(unit.renewal_csr(UNIT))
    assert csr.subject.rfc4514_string() == f"CN={UNIT}" and csr.is_signature_valid


def test_rotation_needs_an_enrolled_unit_and_a_begun_rotation(tmp_path: Path,
                                                              unit: UnitIdentity,
                                                              ca: CertificateAuthority) -> None:
    with pytest.raises(NoRotation, match="begin_rotation"):
        unit.renewal_csr(UNIT)
    with pytest.raises(NoRotation, match="begin_rotation"):
        unit.install_renewed(ca.cert_pem, ca.cert_pem, now=T0)
    fresh = UnitIdentity(tmp_path / "fresh")
    fresh.generate_key()
    with pytest.raises(NotEnrolled, match="enroll before renewing"):
        fresh.begin_rotation()
    assert fresh.recover() == "clean"  # a unit mid-enrollment is left alone


def test_install_renewed_refusals_change_nothing(unit: UnitIdentity, ca: CertificateAuthority,
                                                 tmp_path: Path) -> None:
    rogue = CertificateAuthority.create(tmp_path / "rogue", "rogue", now=T0)
    before = snapshot(unit)
    unit.begin_rotation()
    pending = unit.next_key_path.read_bytes()
    new_csr = unit.renewal_csr(UNIT)
    cases = [
        (ca.sign_unit_csr(unit.csr(UNIT), UNIT, 90, now=T0), ca.cert_pem,
         "not for the new key"),  # HQ certified the old key again
        (rogue.sign_unit_csr(new_csr, UNIT, 90, now=T0), rogue.cert_pem, "pinned"),
        (rogue.sign_unit_csr(new_csr, UNIT, 90, now=T0), ca.cert_pem, "not signed by"),
        (ca.sign_unit_csr(unit.renewal_csr("unit-other"), "unit-other", 90, now=T0),
         ca.cert_pem, "names"),
        (ca.sign_unit_csr(new_csr, UNIT, 1, now=T0 - dt.timedelta(days=5)), ca.cert_pem,
         "not now"),
        (b"garbage", ca.cert_pem, "not a PEM"),
    ]
    for cert_pem, ca_pem, words in cases:
        with pytest.raises(CertificateRejected, match=words):
            unit.install_renewed(cert_pem, ca_pem, now=T0)
        assert snapshot(unit) == before
        assert unit.next_key_path.read_bytes() == pending
        assert not unit.next_cert_path.exists()
    # The rotation is still open: HQ's proper answer installs.
    unit.install_renewed(ca.sign_unit_csr(new_csr, UNIT, 90, now=T0), ca.cert_pem, now=T0)
    assert unit.key_path.read_bytes() == pending


# ---- recovery from each state a crash can leave -------------------------------------------------

def _state(unit: UnitIdentity, ca: CertificateAuthority, name: str) -> None:
    """Put ``unit`` into a named on-disk state, as a crash at that point leaves it."""
    if name == "clean":
        return
    if name == "stale_temp":
        (unit.directory / ".unit.key.next.abc123.tmp").write_bytes(b"half a private key")
        return
    unit.begin_rotation()
    if name == "pending_key":
        return
    cert = renewed_cert(ca, unit)
    unit.next_cert_path.write_bytes(cert)
    if name == "both_pending":
        return
    if name == "key_renamed":
        os.replace(unit.next_key_path, unit.key_path)
        return
    if name == "foreign_pending_cert":
        unit.next_key_path.unlink()  # a pending cert matching no key present
        return
    raise AssertionError(name)


@pytest.mark.parametrize(("state", "outcome", "new_pair"), [
    ("clean", "clean", False),
    ("stale_temp", "discarded", False),
    ("pending_key", "discarded", False),
    ("both_pending", "rolled_forward", True),
    ("key_renamed", "rolled_forward", True),
    ("foreign_pending_cert", "discarded", False),
])
def test_recover_table(unit: UnitIdentity, ca: CertificateAuthority, state: str, outcome: str,
                       new_pair: bool) -> None:
    old_key, old_cert, _ = snapshot(unit)
    _state(unit, ca, state)
    assert unit.recover() == outcome
    assert files(unit) == PAIR_FILES
    assert (unit.key_path.read_bytes() != old_key) is new_pair
    assert (unit.cert_path.read_bytes() != old_cert) is new_pair
    unit.client_ssl_context()  # key and certificate match
    assert unit.recover() == "clean"  # idempotent


def test_recover_refuses_a_mismatched_pair(unit: UnitIdentity, ca: CertificateAuthority,
                                           tmp_path: Path) -> None:
    other = UnitIdentity(tmp_path / "other")
    other.generate_key()
    unit.cert_path.write_bytes(ca.sign_unit_csr(other.csr(UNIT), UNIT, 10, now=T0))
    with pytest.raises(IdentityError, match="re-enroll"):
        unit.recover()


# ---- power cut at each step, in a child process -----------------------------------------------

CHILD = textwrap.dedent("""
    import datetime as dt, os, sys
    from pathlib import Path
    from hq.pki.ca import CertificateAuthority
    from sync.identity import UnitIdentity

    crash_at, when = int(sys.argv[1]), sys.argv[2]
    ca_dir, unit_dir, now = Path(sys.argv[3]), Path(sys.argv[4]), dt.datetime.fromisoformat(
        sys.argv[5])
    calls = 0

    def cut(real):
        def step(*args, **kwargs):
            global calls
            calls += 1
            if calls == crash_at and when == "before":
                os._exit(70)  # power cut: no cleanup, no finally
            real(*args, **kwargs)
            if calls == crash_at and when == "after":
                os._exit(70)
        return step

    # The dance's file-system steps: link (pending key), replace (pending cert),
    # replace (key), replace (certificate).
    os.link, os.replace = cut(os.link), cut(os.replace)
    ca, unit = CertificateAuthority.load(ca_dir), UnitIdentity(unit_dir)
    unit.begin_rotation()
    cert = ca.sign_unit_csr(unit.renewal_csr("unit-r"), "unit-r", 90, now=now)
    unit.install_renewed(cert, ca.cert_pem, now=now)
    print(calls)
""")

STEPS = 4


@pytest.mark.parametrize(("step", "when", "new_pair"), [
    (1, "before", False), (1, "after", False),
    (2, "before", False), (2, "after", True),  # both new files durable: roll forward
    (3, "before", True), (3, "after", True),  # new key with old certificate: roll forward
    (4, "before", True), (4, "after", True),
    (STEPS + 1, "before", True),  # no crash
])
def test_power_cut_at_any_step_leaves_a_working_pair(unit: UnitIdentity,
                                                     ca: CertificateAuthority, step: int,
                                                     when: str, new_pair: bool) -> None:
    old_key, old_cert, pinned = snapshot(unit)
    old_serial = unit.certificate().serial_number
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, "-c", CHILD, str(step), when, str(ca.directory),
                           str(unit.directory), T0.isoformat()], cwd=root, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(root)})
    if step > STEPS:
        assert (proc.returncode, proc.stdout.strip()) == (0, str(STEPS)), proc.stderr
    else:
        assert proc.returncode == 70, proc.stderr
    after = UnitIdentity(unit.directory)  # a fresh start, as after the reboot
    after.recover()
    assert files(after) == PAIR_FILES  # no pending file, no stray private key copy
    assert mode(after.key_path) == 0o600 and after.ca_path.read_bytes() == pinned
    after.client_ssl_context()  # key and certificate match
    renewed = after.certificate().serial_number != old_serial
    assert renewed is new_pair
    assert (after.key_path.read_bytes() != old_key) is new_pair
    assert (after.cert_path.read_bytes() != old_cert) is new_pair
    # And the next renewal proceeds from there.
    after.begin_rotation()
    after.install_renewed(renewed_cert(ca, after), ca.cert_pem, now=T0)
    assert files(after) == PAIR_FILES
