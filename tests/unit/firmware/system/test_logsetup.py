"""Under systemd, log records go to journald with the unit's structured fields."""

from __future__ import annotations

import logging

import pytest

from firmware.system.logsetup import setup_logging


def test_journald_handler_under_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    journal = pytest.importorskip("systemd.journal", reason="systemd-python not installed")
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    sent: list[dict[str, object]] = []
    try:
        setup_logging("INFO")
        (handler,) = logging.getLogger().handlers
        assert isinstance(handler, journal.JournalHandler)
        # Capture what would go to the journal socket.
        handler.send = lambda *args, **fields: sent.append({"MESSAGE": args[0], **fields})
        logging.getLogger("firmware.daemon.unit").info(
            "alert_raised", extra={"COUNTERUNIT_EVENT": "alert_raised", "COUNTERUNIT_LEVEL": 2})
    finally:
        logging.getLogger().handlers.clear()
    (rec,) = sent
    assert rec["MESSAGE"] == "alert_raised"
    assert rec["COUNTERUNIT_EVENT"] == "alert_raised" and rec["COUNTERUNIT_LEVEL"] == 2
    assert rec["SYSLOG_IDENTIFIER"] == "counterunit"


def test_plain_stderr_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    try:
        setup_logging("WARNING")
        (handler,) = logging.getLogger().handlers
        assert type(handler) is logging.StreamHandler
        assert logging.getLogger().level == logging.WARNING
    finally:
        logging.getLogger().handlers.clear()
