"""Certificate renewals HQ refuses, over real mutual TLS on loopback.

Not due yet, too early, a CSR naming another unit or reusing the current key, odd CSRs,
a revoked unit, no client certificate; the OpenAPI document of /v1/renew and a fuzz pass
as an authenticated unit. Successful renewal is in test_renewal.py; the HQ and the helpers
in tests/helpers/hq/renewal.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from hq.api.app import OPENAPI_URL, create_app
from hq.api.units.certs import CERT_RENEW, CERT_RENEW_REFUSED
from sync.hq_client import HQClient, HQRejected
from sync.renew import maybe_renew
from tests.helpers.hq.renewal import crafted_csr, hq_fixture, no_client, now, unit_with_cert
from tests.helpers.hq.server import HQServer

hq = hq_fixture()


def test_not_due_asks_nothing(hq: HQServer) -> None:
    ident = unit_with_cert(hq, "unit-renew-later", 10)
    serial = ident.certificate().serial_number
    result = maybe_renew(no_client, ident, "unit-renew-later", now(), margin_days=5)
    assert (result.renewed, result.serial, result.recovered) == (False, serial, "clean")


def test_too_early_is_409_and_the_identity_stays(hq: HQServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    unit_id = "unit-renew-early"
    ident = unit_with_cert(hq, unit_id, 300)
    before = ident.key_path.read_bytes(), ident.cert_path.read_bytes()
    caplog.set_level(logging.WARNING, logger="sync.renew")
    client = HQClient.from_identity(hq.url, ident)
    # A unit whose margin is wider than HQ's window asks too early.
    with pytest.raises(HQRejected) as refused:
        maybe_renew(lambda: client, ident, unit_id, now(), margin_days=400)
    client.close()
    assert (refused.value.status, refused.value.error) == (409, "too_early")
    assert "renewal opens" in str(refused.value)
    assert (ident.key_path.read_bytes(), ident.cert_path.read_bytes()) == before
    assert {p.name for p in ident.directory.iterdir()} == {"unit.key", "unit.pem", "hq-ca.pem"}
    warnings = [r.getMessage() for r in caplog.records if r.name == "sync.renew"]
    assert len(warnings) == 1 and "too_early" in warnings[0]


def test_a_csr_naming_another_unit_is_refused_logged_and_audited(
        hq: HQServer, caplog: pytest.LogCaptureFixture) -> None:
    unit_id = "unit-renew-thief"
    ident = unit_with_cert(hq, unit_id, 10)
    caplog.set_level(logging.WARNING, logger="hq.api")
    ident.begin_rotation()
    client = HQClient.from_identity(hq.url, ident)
    with pytest.raises(HQRejected) as refused:
        client.renew(ident.renewal_csr("unit-renew-victim"))
    client.close()
    assert (refused.value.status, refused.value.error) == (400, "csr_refused")
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("hq.api")]
    assert any("POST /v1/renew from unit unit-renew-thief: 400 csr_refused" in m
               for m in logged), logged
    audit = hq.deps.audit.query(actor=unit_id, action=CERT_RENEW_REFUSED)
    assert len(audit) == 1 and "unit-renew-victim" in audit[0].detail
    assert not hq.deps.audit.query(actor=unit_id, action=CERT_RENEW)


def test_the_current_key_cannot_be_certified_again(hq: HQServer) -> None:
    unit_id = "unit-renew-samekey"
    ident = unit_with_cert(hq, unit_id, 10)
    client = HQClient.from_identity(hq.url, ident)
    with pytest.raises(HQRejected, match="reuses the key") as refused:
        client.renew(ident.csr(unit_id))
    client.close()
    assert refused.value.status == 400


@pytest.mark.parametrize("case", ["ed25519_key", "weak_rsa_key", "p192_key", "no_cn",
                                  "two_cns", "extra_san"])
def test_odd_requests_are_refused(hq: HQServer, case: str) -> None:
    unit_id = f"unit-renew-{case.replace('_', '-')}"
    client = HQClient.from_identity(hq.url, unit_with_cert(hq, unit_id, 10))
    with pytest.raises(HQRejected) as refused:
        client.renew(crafted_csr(case, unit_id))
    client.close()
    assert (refused.value.status, refused.value.error) == (400, "csr_refused")
    assert len(hq.deps.audit.query(actor=unit_id, action=CERT_RENEW_REFUSED)) == 1


def test_a_revoked_unit_cannot_renew(hq: HQServer) -> None:
    unit_id = "unit-renew-revoked"
    ident = unit_with_cert(hq, unit_id, 10)
    before = ident.cert_path.read_bytes()
    hq.deps.ca.revoke_unit(unit_id, "test: stolen")
    client = HQClient.from_identity(hq.url, ident)
    with pytest.raises(HQRejected) as refused:
        maybe_renew(lambda: client, ident, unit_id, now(), margin_days=30)
    client.close()
    assert (refused.value.status, refused.value.error) == (403, "unit_revoked")
    assert ident.cert_path.read_bytes() == before and not ident.next_key_path.exists()
    assert not hq.deps.audit.query(actor=unit_id)


def test_no_client_certificate_is_401(hq: HQServer) -> None:
    ident = unit_with_cert(hq, "unit-renew-anon", 10)
    ident.begin_rotation()
    anonymous = HQClient(hq.url, cert=None, ca=hq.ca_pem)
    with pytest.raises(HQRejected) as refused:
        anonymous.renew(ident.renewal_csr("unit-renew-anon"))
    anonymous.close()
    assert (refused.value.status, refused.value.error) == (401, "not_a_unit")


def test_openapi_documents_renew(hq: HQServer) -> None:
    doc = requests.get(f"{hq.url}{OPENAPI_URL}", verify=str(hq.ca_pem), timeout=10).json()
    post = doc["paths"]["/v1/renew"]["post"]
    ok = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/RenewResponse"}
    assert {"400", "401", "403", "409", "422", "503"} <= set(post["responses"])
    assert set(doc["components"]["schemas"]["RenewResponse"]["required"]) == {"cert_pem",
                                                                              "ca_pem"}


class WithClientCert:
    """ASGI wrapper handing the app one unit certificate, as the TLS layer would."""

    def __init__(self, app: Any, cert_pem: str) -> None:
        self.app = app
        self.tls = {"client_cert_chain": [cert_pem]}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": self.tls}}
        await self.app(scope, receive, send)


def test_no_renewal_input_makes_hq_fail(hq: HQServer) -> None:
    # The module-wide fuzz test reaches /v1/renew without a certificate (401 only); here
    # every generated body gets past authentication, as an enrolled unit in its window.
    ident = unit_with_cert(hq, "unit-renew-fuzz", 10)
    app = WithClientCert(create_app(hq.deps), ident.cert_path.read_text())
    schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    [renew] = [op for op in operations if op.path == "/v1/renew"]
    statuses: list[int] = []

    @given(case=renew.as_strategy())
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        statuses.append(case.call().status_code)

    check()
    assert statuses and all(400 <= s < 500 for s in statuses), sorted(set(statuses))
    assert not hq.deps.audit.query(actor="unit-renew-fuzz", action=CERT_RENEW)
