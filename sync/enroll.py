"""First contact with HQ: turn a one-time code into this unit's certificate.

The key is generated here, on the unit, and never leaves it; HQ only sees the
certificate request. HQ's CA comes with the installer (``ca_file``): the first
call already verifies HQ against it, and the same CA is pinned from then on.
"""

from __future__ import annotations

import logging
from pathlib import Path

import requests

from sync.identity import UnitIdentity

log = logging.getLogger(__name__)


class EnrollmentFailed(Exception):
    """HQ did not enroll this unit; the message says why and what to do."""


def enroll(hq_url: str, code: str, unit_id: str, identity: UnitIdentity, ca_file: Path,
           timeout_s: float = 30.0) -> None:
    """Enroll ``unit_id`` with ``code``; on success the identity is installed and pinned."""
    if identity.is_enrolled():
        raise EnrollmentFailed(f"{identity.directory}: this unit is already enrolled "
                               "(renewal is a separate step)")
    if not ca_file.exists():
        raise EnrollmentFailed(f"{ca_file}: HQ's CA certificate is missing (it comes with the "
                               "installer)")
    if not identity.has_key():
        identity.generate_key()
    body = {"unit_id": unit_id, "code": code, "csr_pem": identity.csr(unit_id).decode()}
    try:
        # verify= per request: the environment must not widen trust (see hq_client).
        resp = requests.post(f"{hq_url.rstrip('/')}/v1/enroll", json=body, verify=str(ca_file),
                             timeout=timeout_s)
    except requests.exceptions.SSLError:
        raise EnrollmentFailed(f"HQ at {hq_url} did not prove itself with a certificate from the "
                               f"CA in {ca_file}: wrong --ca file, or not the real HQ") from None
    except requests.RequestException as exc:
        raise EnrollmentFailed(f"cannot reach HQ at {hq_url}: {type(exc).__name__}: {exc}") \
            from None
    if resp.status_code != 200:
        try:
            err = resp.json()
            why = f"{err.get('error')}: {err.get('detail')}"
        except ValueError:
            why = resp.text[:200]
        raise EnrollmentFailed(f"HQ refused enrollment ({resp.status_code} {why})")
    data = resp.json()
    identity.install(data["cert_pem"].encode(), data["ca_pem"].encode())
    log.info("unit %s enrolled with HQ %s", unit_id, hq_url)
