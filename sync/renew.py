"""Renew the unit's certificate before it expires, with a new key (HQ's ``POST /v1/renew``).

Meant to run about once a day from the sync process. Nothing happens until the certificate is
within ``margin_days`` of expiry; then a new key is made, HQ certifies it over the current
mutual-TLS identity, and the new pair replaces the old one durably (see sync/identity.py for
the file dance and its crash recovery). HQ refuses renewals before its own window
(``HQLimits.renew_window_days``, 60 days by default): keep ``margin_days`` below it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sync.hq_client import HQClient, HQError
from sync.identity import IdentityError, UnitIdentity

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RenewResult:
    """What :func:`maybe_renew` did, and the certificate in use afterwards."""

    renewed: bool
    serial: int
    not_after: dt.datetime
    recovered: str  # what UnitIdentity.recover() found first: "clean" unless a crash intervened


class RenewalFailed(HQError):
    """The unit could not make a request or install HQ's answer; the old identity stays."""


def maybe_renew(client_factory: Callable[[], HQClient], identity: UnitIdentity, unit_id: str,
                now: dt.datetime, margin_days: float = 30) -> RenewResult:
    """Renew when the certificate expires within ``margin_days`` of ``now``; else do nothing.

    ``client_factory`` is called only when a renewal is due; it may return the sync loop's
    own client, which is reconnected afterwards so it presents the new certificate. Failures
    are logged once here and raised as :class:`HQError` (``HQUnavailable``, ``HQRejected``
    e.g. 409 too_early, or :class:`RenewalFailed`); the current key and certificate are then
    still in place and a later call simply tries again with a fresh key.
    """
    try:
        recovered = identity.recover()
        current = identity.certificate()
        if not identity.needs_renewal(now, margin_days):
            return RenewResult(False, current.serial_number, current.not_valid_after_utc,
                               recovered)
        identity.begin_rotation()
        csr = identity.renewal_csr(unit_id)
    except (IdentityError, OSError) as exc:
        failure = RenewalFailed(f"cannot prepare the certificate renewal: {exc}")
        log.warning("%s", failure)
        raise failure from exc
    log.info("certificate serial %x expires %s: renewing with a new key",
             current.serial_number, current.not_valid_after_utc.isoformat())
    client = client_factory()
    try:
        cert_pem, ca_pem = client.renew(csr)
        cert = identity.install_renewed(cert_pem, ca_pem, now=now)
    except HQError as exc:
        _settle(identity)
        log.warning("certificate renewal failed: %s; keeping serial %x", exc,
                    current.serial_number)
        raise
    except (IdentityError, OSError) as exc:
        _settle(identity)
        failure = RenewalFailed(f"cannot install the renewed certificate: {exc}")
        log.warning("%s; keeping serial %x", failure, current.serial_number)
        raise failure from exc
    client.reconnect()
    return RenewResult(True, cert.serial_number, cert.not_valid_after_utc, recovered)


def _settle(identity: UnitIdentity) -> None:
    # Drop the pending key now rather than at the next call; if the swap had begun, this
    # completes it (recover() knows which).
    try:
        identity.recover()
    except (IdentityError, OSError) as exc:
        log.error("could not settle the interrupted key rotation: %s", exc)
