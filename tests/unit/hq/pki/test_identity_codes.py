"""One-time enrollment codes: format, hashing at rest, and every refusal (explicit ``now``)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hq.pki.enrollment import (
    ALPHABET,
    CodeExpired,
    CodeMalformed,
    CodeRecord,
    CodeReused,
    CodeUnknown,
    CodeWrongUnit,
    EnrollmentCodes,
    EnrollmentError,
    check_redeem,
    generate_code,
    normalize_code,
)

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(hours=24)


def test_generated_code_is_four_groups_of_four_unambiguous_characters() -> None:
    codes = {generate_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set(ALPHABET)
    assert not set("0O1IL") & set(ALPHABET)


@pytest.mark.parametrize("typed", [
    "abcd-efgh-jkmn-pqrs", "ABCD EFGH JKMN PQRS", "ABCDEFGHJKMNPQRS", " abcd-EFGH-jkmn-PQRS ",
])
def test_normalize_accepts_typed_variants(typed: str) -> None:
    assert normalize_code(typed) == "ABCDEFGHJKMNPQRS"


@pytest.mark.parametrize("bad", [
    "", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQRS-TVWX", "ABCD-EFGH-JKMN-PQR0", "ABCD-EFGH-JKMN-PQRI",
    "ABCD_EFGH_JKMN_PQRS",
])
def test_normalize_refuses_malformed(bad: str) -> None:
    with pytest.raises(CodeMalformed):
        normalize_code(bad)


OPEN = CodeRecord("unit-a", T0 + TTL)
USED = CodeRecord("unit-a", T0 + TTL, redeemed_at=T0 + dt.timedelta(minutes=5))


@pytest.mark.parametrize(("record", "unit_id", "now", "error"), [
    (OPEN, "unit-a", T0, None),
    (OPEN, "unit-a", T0 + TTL - dt.timedelta(seconds=1), None),
    (OPEN, "unit-a", T0 + TTL, CodeExpired),
    (OPEN, "unit-b", T0, CodeWrongUnit),
    (USED, "unit-a", T0 + dt.timedelta(minutes=6), CodeReused),
    (USED, "unit-a", T0 + 2 * TTL, CodeReused),
    (None, "unit-a", T0, CodeUnknown),
])
def test_check_redeem_table(record: CodeRecord | None, unit_id: str, now: dt.datetime,
                            error: type[EnrollmentError] | None) -> None:
    if error is None:
        check_redeem(record, unit_id, now)
    else:
        with pytest.raises(error):
            check_redeem(record, unit_id, now)


def test_error_classes_are_distinct() -> None:
    classes = {CodeMalformed, CodeUnknown, CodeExpired, CodeReused, CodeWrongUnit}
    assert len(classes) == 5
    for a in classes:
        assert issubclass(a, EnrollmentError)
        assert not any(issubclass(a, b) for b in classes - {a})


@pytest.mark.parametrize(("redeem_as", "at", "error", "words"), [
    ("unit-a", T0 + dt.timedelta(hours=1), None, ""),
    ("unit-a", T0 + TTL + dt.timedelta(seconds=1), CodeExpired, "expired"),
    ("unit-b", T0 + dt.timedelta(hours=1), CodeWrongUnit, "another unit"),
])
def test_store_redeem_table(tmp_path: Path, redeem_as: str, at: dt.datetime,
                            error: type[EnrollmentError] | None, words: str) -> None:
    codes = EnrollmentCodes(tmp_path / "codes.db")
    code = codes.issue("unit-a", TTL, now=T0)
    if error is None:
        codes.redeem(code, redeem_as, now=at)
    else:
        with pytest.raises(error, match=words):
            codes.redeem(code, redeem_as, now=at)


def test_code_works_exactly_once_even_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "codes.db"
    code = EnrollmentCodes(path).issue("unit-a", TTL, now=T0)
    EnrollmentCodes(path).redeem(code.lower().replace("-", " "), "unit-a", now=T0)
    with pytest.raises(CodeReused, match="already used"):
        EnrollmentCodes(path).redeem(code, "unit-a", now=T0 + dt.timedelta(seconds=1))


def test_wrong_unit_attempt_does_not_burn_the_code(tmp_path: Path) -> None:
    codes = EnrollmentCodes(tmp_path / "codes.db")
    code = codes.issue("unit-a", TTL, now=T0)
    with pytest.raises(CodeWrongUnit):
        codes.redeem(code, "unit-b", now=T0)
    codes.redeem(code, "unit-a", now=T0)


@pytest.mark.parametrize(("offered", "error"), [
    ("ZZZZ-ZZZZ-ZZZZ-ZZZZ", CodeUnknown), ("not a code", CodeMalformed)])
def test_unknown_and_malformed_codes(tmp_path: Path, offered: str,
                                     error: type[EnrollmentError]) -> None:
    codes = EnrollmentCodes(tmp_path / "codes.db")
    codes.issue("unit-a", TTL, now=T0)
    with pytest.raises(error):
        codes.redeem(offered, "unit-a", now=T0)


def test_only_the_hash_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "codes.db"
    code = EnrollmentCodes(path).issue("unit-a", TTL, now=T0)
    raw = normalize_code(code)
    assert raw.encode() not in path.read_bytes()
    assert code.encode() not in path.read_bytes()
    with sqlite3.connect(path) as conn:
        (stored,) = conn.execute("SELECT hash FROM codes").fetchone()
    assert len(stored) == 64 and stored != raw


@pytest.mark.parametrize(("unit_id", "ttl"), [
    ("unit-a", dt.timedelta(0)), ("unit-a", dt.timedelta(seconds=-1)), ("../etc", TTL), ("", TTL)])
def test_issue_refuses_bad_arguments(tmp_path: Path, unit_id: str, ttl: dt.timedelta) -> None:
    with pytest.raises(EnrollmentError):
        EnrollmentCodes(tmp_path / "codes.db").issue(unit_id, ttl, now=T0)


def test_racing_redeems_succeed_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "codes.db"
    code = EnrollmentCodes(path).issue("unit-a", TTL, now=T0)
    start = threading.Barrier(4)

    def attempt() -> str:
        store = EnrollmentCodes(path)  # one connection per request, as HTTP handlers would
        start.wait(timeout=5)
        try:
            store.redeem(code, "unit-a", now=T0)
        except CodeReused:
            return "reused"
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(lambda _: attempt(), range(4)))
    assert outcomes == ["ok", "reused", "reused", "reused"]
