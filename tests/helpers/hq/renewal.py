"""Shared set-up of the certificate-renewal tests (test_renewal/_renewal_refusals).

One HQ (uvicorn, TLS, client certificates) per test module (``hq = hq_fixture()``); each
test enrolls its own unit directly with HQ's CA, with a certificate lifetime chosen to land
inside or outside HQ's renewal window (60 days here; renewed certificates last 90 days).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from hq.api.deps import HQLimits
from sync.hq_client import HQClient
from sync.identity import UNIT_URI_PREFIX, UnitIdentity
from sync.schema import EventEnvelope
from tests.helpers.hq.api import hq_fixture as module_hq_fixture
from tests.helpers.hq.server import HQServer, running_hq

LIMITS = HQLimits(unit_cert_days=90, renew_window_days=60)


@contextmanager
def renewal_hq(root: Path) -> Iterator[HQServer]:
    """The test HQ (tests/helpers/hq/server.py) with the renewal limits above."""
    with running_hq(root, LIMITS) as server:
        yield server


def hq_fixture() -> Any:
    """A module-scoped ``hq`` fixture: a fresh :func:`renewal_hq` for each test module."""
    return module_hq_fixture(renewal_hq)


def now() -> dt.datetime:
    """The real UTC time: HQ signs and checks with its real clock, so the unit does too."""
    return dt.datetime.now(dt.UTC)


def unit_with_cert(hq: HQServer, unit_id: str, days: int) -> UnitIdentity:
    """A unit certified directly by HQ's CA for ``days`` days."""
    ident = UnitIdentity(hq.root / "units" / unit_id)
    ident.generate_key()
    ident.install(hq.deps.ca.sign_unit_csr(ident.csr(unit_id), unit_id, days),
                  hq.deps.ca.cert_pem)
    return ident


def event(unit_id: str) -> EventEnvelope:
    """One valid login event of ``unit_id``."""
    return EventEnvelope(uuid=str(uuid.uuid4()), type="login", unit_id=unit_id,
                         counter_id="counter-1", utc=now(), mono=1.0, boot_id="boot",
                         clock_synced=True, data={"staff_id": "s-1"})


def post_with_files(hq: HQServer, unit_id: str, cert: Path, key: Path) -> int:
    """Post one event with the given certificate and key files; the HTTP status."""
    resp = requests.post(f"{hq.url}/v1/events", json={
        "events": [event(unit_id).model_dump(mode="json")]}, verify=str(hq.ca_pem),
        cert=(str(cert), str(key)), timeout=10)
    return resp.status_code


def no_client() -> HQClient:
    """A client factory for renewals that must not ask HQ anything."""
    raise AssertionError("no request was due")


def serial_of(cert_path: Path) -> int:
    """The serial number of the PEM certificate in ``cert_path``."""
    return x509.load_pem_x509_certificate(cert_path.read_bytes()).serial_number


def crafted_csr(case: str, unit_id: str) -> bytes:
    """A signature-valid CSR that is wrong in one way (``"valid"``: in no way)."""
    key: Any = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, unit_id)]
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(UNIT_URI_PREFIX + unit_id)]
    algorithm: Any = hashes.SHA256()
    if case == "ed25519_key":
        key, algorithm = ed25519.Ed25519PrivateKey.generate(), None
    elif case == "weak_rsa_key":
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    elif case == "p192_key":
        key = ec.generate_private_key(ec.SECP192R1())
    elif case == "no_cn":
        names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_id)]
    elif case == "two_cns":
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, "unit-other"))
    elif case == "extra_san":
        sans.append(x509.DNSName("hq.example"))
    builder = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
               .add_extension(x509.SubjectAlternativeName(sans), critical=False))
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)
