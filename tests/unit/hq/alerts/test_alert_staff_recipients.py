"""The ``staff`` recipient kind, table-first: who the staff member of an alert is, what each
personal channel makes of their contacts (a delivery, or a skipped one and why), and the
staff contact fields' rules. Real SQLite for the lookup and the in-place upgrades."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hq.alerts import schema
from hq.alerts.delivery.plan import DASHBOARD, idem_key, plan
from hq.alerts.policy import PolicyDoc, Recipients, resolve
from hq.alerts.recipients import (
    Grant,
    Person,
    StaticDirectory,
    missing_reason,
    people,
    staff_person,
)
from hq.org.records.errors import OrgInvalid
from hq.org.records.models import StaffIn, check
from hq.storage.org_schema import ORG_SCHEMA, add_staff_contact, ensure

MAIL_AT = "mailto://127.0.0.1:25?from=hq@bank.example&to="
MAIL = MAIL_AT + "{email}"
SMS = "smseagle://tok@127.0.0.1:8080/{phone}"
IM = "json://127.0.0.1:8080/im/{im}"
DOC = PolicyDoc.model_validate({
    "channels": {"mail": {"url": MAIL}, "sms": {"url": SMS}, "im": {"url": IM},
                 "room": {"url": "json://127.0.0.1:8080/room"}},
    "default": {"kinds": {"off_seat": {"levels": {"1": {
        "channels": ["mail", "sms", "im", "room"],
        "recipients": {"staff": True, "roles": ["hall_supervisor"]}}}}}}})
RESOLVED = resolve(DOC, "off_seat", 1, "B1", "H1")

FULL = Person("staff:S001", "Li Wei", email="li.wei@bank.example", phone="+8613800000001",
              im="liwei", report_missing=True)
NO_PHONE = Person("staff:S002", "Wang Fang", email="wang@bank.example", report_missing=True)
UNLISTED = Person("staff:S009", "S009", report_missing=True, listed=False)
SUP_NO_PHONE = Person("user:lin", "Lin", email="lin@bank.example")

PLAN_CASES = [
    # who, expected (channel, recipient, url, skipped) besides the dashboard
    ([FULL], [
        ("mail", "staff:S001", MAIL_AT + "li.wei@bank.example", ""),
        ("sms", "staff:S001", "smseagle://tok@127.0.0.1:8080/+8613800000001", ""),
        ("im", "staff:S001", "json://127.0.0.1:8080/im/liwei", ""),
        ("room", "group", "json://127.0.0.1:8080/room", "")]),
    ([NO_PHONE], [
        ("mail", "staff:S002", MAIL_AT + "wang@bank.example", ""),
        ("sms", "staff:S002", "", "skipped: staff S002 (Wang Fang) has no phone number in the "
                                  "staff record (set it on the Staff page or in the staff import)"),
        ("im", "staff:S002", "", "skipped: staff S002 (Wang Fang) has no IM id in the staff "
                                 "record (set it on the Staff page or in the staff import)"),
        ("room", "group", "json://127.0.0.1:8080/room", "")]),
    ([UNLISTED], [
        ("mail", "staff:S009", "", "skipped: staff S009 is not in the staff list, so has no "
                                   "e-mail address"),
        ("sms", "staff:S009", "", "skipped: staff S009 is not in the staff list, so has no "
                                  "phone number"),
        ("im", "staff:S009", "", "skipped: staff S009 is not in the staff list, so has no IM id"),
        ("room", "group", "json://127.0.0.1:8080/room", "")]),
    # A user without a phone is left out of SMS as before (no skipped row for users).
    ([SUP_NO_PHONE], [
        ("mail", "user:lin", MAIL_AT + "lin@bank.example", ""),
        ("room", "group", "json://127.0.0.1:8080/room", "")]),
]


@pytest.mark.parametrize(("who", "expected"), PLAN_CASES)
def test_plan_per_channel_a_delivery_or_a_skip_with_its_reason(who, expected) -> None:
    got = plan(7, 1, DOC, RESOLVED, who)
    assert got[0].channel == DASHBOARD
    assert [(p.channel, p.recipient, p.url, p.skipped) for p in got[1:]] == expected
    # Skipped or not, each (alert, level, channel, recipient) has its one idempotency key.
    for p in got[1:]:
        assert p.idem_key == idem_key(7, 1, p.channel, p.recipient)


def test_a_staff_members_keys_differ_per_level_and_channel_not_per_expansion() -> None:
    one = {p.idem_key for p in plan(7, 1, DOC, RESOLVED, [FULL])}
    again = {p.idem_key for p in plan(7, 1, DOC, RESOLVED, [FULL])}
    level2 = {p.idem_key for p in plan(7, 2, DOC, RESOLVED, [FULL])}
    assert one == again and len(one) == 5 and not (one - {idem_key(7, 1, DASHBOARD,
                                                                   DASHBOARD)}) & level2


SUP = Person("user:lin", "Lin", email="lin@bank.example")
DIRECTORY = StaticDirectory([Grant(SUP, "hall_supervisor", "hall:H1")])
PEOPLE_CASES = [
    # recipients, the staff member, expected keys in order
    ({"staff": True, "roles": ["hall_supervisor"]}, FULL, ["staff:S001", "user:lin"]),
    ({"roles": ["hall_supervisor"]}, FULL, ["user:lin"]),  # staff not asked for
    ({"staff": True}, None, []),  # the thread names no staff member (disk, silent)
    ({"staff": True, "roles": ["hall_supervisor"]}, None, ["user:lin"]),
    ({"staff": True, "addresses": [{"name": "desk", "phone": "+8613800000000"}]}, NO_PHONE,
     ["staff:S002", "addr:+8613800000000"]),
]


@pytest.mark.parametrize(("recipients", "staff", "keys"), PEOPLE_CASES)
def test_people_puts_the_staff_member_first_when_asked(recipients, staff, keys) -> None:
    who = Recipients.model_validate(recipients)
    assert [p.key for p in people(DIRECTORY, who, "B1", "H1", staff)] == keys


@pytest.fixture
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:", isolation_level=None)
    c.executescript(ORG_SCHEMA)
    c.executescript("""
        INSERT INTO org_staff (staff_no, name, phone, email, im_id)
            VALUES ('S001', 'Li Wei', '+8613800000001', 'li.wei@bank.example', 'liwei');
        INSERT INTO org_staff (staff_no, name, email) VALUES ('S002', 'Wang Fang',
            'wang@bank.example');
    """)
    return c


def test_staff_person_reads_the_staff_record(conn: sqlite3.Connection) -> None:
    assert staff_person(conn, "S001") == FULL
    assert staff_person(conn, "S002") == NO_PHONE
    assert staff_person(conn, "S009") == UNLISTED


def test_an_org_staff_without_contact_columns_reads_as_no_contacts() -> None:
    old = sqlite3.connect(":memory:", isolation_level=None)
    old.execute("CREATE TABLE org_staff (staff_no TEXT PRIMARY KEY, name TEXT NOT NULL, "
                "home_branch_id TEXT, badge_uid TEXT, photo_id TEXT, active INTEGER)")
    old.execute("INSERT INTO org_staff (staff_no, name) VALUES ('S001', 'Li Wei')")
    assert staff_person(old, "S001") == Person("staff:S001", "Li Wei", report_missing=True)


REASONS = [
    (NO_PHONE, "phone", "skipped: staff S002 (Wang Fang) has no phone number in the staff "
                        "record (set it on the Staff page or in the staff import)"),
    (UNLISTED, "email", "skipped: staff S009 is not in the staff list, so has no e-mail address"),
    (FULL, "username", "skipped: staff S001 (Li Wei) has no HQ user name in the staff record "
                       "(set it on the Staff page or in the staff import)"),
]


@pytest.mark.parametrize(("person", "field", "reason"), REASONS)
def test_missing_reason(person: Person, field: str, reason: str) -> None:
    assert missing_reason(person, field) == reason


STAFF_FIELDS = [
    # field, given, stored (None: refused with that rule's words)
    ("phone", "+86 138-0000-0001", "+8613800000001"),
    ("phone", "(021) 6000.1234", "02160001234"),
    ("phone", "13800000001", "13800000001"),
    ("phone", "", None),
    ("email", " li.wei@bank.example ", "li.wei@bank.example"),
    ("im_id", "ou_7d8a6e6df7621556ce0d21922b676706", "ou_7d8a6e6df7621556ce0d21922b676706"),
    ("im_id", "manager@corp", "manager@corp"),
]
STAFF_REFUSED = [
    ("phone", "1234", "phone: must be digits with an optional leading + (E.164"),
    ("phone", "+1234567890123456", "phone: must be digits with an optional leading +"),
    ("phone", "138 0000 000x", "5 to 15 digits (got '138 0000 000x')"),
    ("phone", "++8613800000001", "phone: must be digits"),
    ("email", "li.wei@bank", "email: must be an e-mail address like name@bank.example"),
    ("email", "li wei@bank.example", "email: must be an e-mail address"),
    ("email", "a" * 250 + "@b.cn", "email: String should have at most 254 characters"),
    ("im_id", "li wei", "im_id: must be an IM user id: letters, digits and _ . @ : + = -"),
    ("im_id", "x" * 129, "im_id: String should have at most 128 characters"),
]


@pytest.mark.parametrize(("field", "given", "stored"), STAFF_FIELDS)
def test_staff_contact_fields_are_normalised(field: str, given: str, stored: str | None
                                             ) -> None:
    s = check(StaffIn, {"staff_no": "S1", "name": "Li", field: given})
    assert getattr(s, field) == stored


@pytest.mark.parametrize(("field", "given", "rule"), STAFF_REFUSED)
def test_staff_contact_fields_refused_naming_field_and_rule(field: str, given: str,
                                                            rule: str) -> None:
    with pytest.raises(OrgInvalid) as exc:
        check(StaffIn, {"staff_no": "S1", "name": "Li", field: given})
    assert len(exc.value.problems) == 1 and rule in exc.value.problems[0]


OLD_STAFF = ("CREATE TABLE org_staff (staff_no TEXT PRIMARY KEY, name TEXT NOT NULL, "
             "home_branch_id TEXT, badge_uid TEXT, photo_id TEXT, "
             "active INTEGER NOT NULL DEFAULT 1)")


def test_older_org_staff_gains_the_contact_columns_once(tmp_path: Path) -> None:
    c = sqlite3.connect(tmp_path / "events.db", isolation_level=None)
    c.execute(OLD_STAFF)
    c.execute("INSERT INTO org_staff (staff_no, name) VALUES ('S001', 'Li Wei')")
    assert add_staff_contact(c) == ["phone", "email", "im_id"]
    assert add_staff_contact(c) == []
    ensure(c)  # the whole ensure path is idempotent too
    cols = [r[1] for r in c.execute("PRAGMA table_info(org_staff)")]
    assert cols[-3:] == ["phone", "email", "im_id"]
    assert c.execute("SELECT name, phone FROM org_staff").fetchone() == ("Li Wei", None)


def test_a_new_database_has_nothing_to_add() -> None:
    c = sqlite3.connect(":memory:", isolation_level=None)
    assert add_staff_contact(c) == []  # no org_staff at all: nothing to do
    c.executescript(ORG_SCHEMA)
    assert add_staff_contact(c) == []


def test_older_alert_deliveries_learns_the_skipped_status(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    c = sqlite3.connect(path, isolation_level=None)
    old = [s.replace(", 'skipped'", "") for s in schema.STATEMENTS]
    assert old != list(schema.STATEMENTS)
    for sql in old:
        c.execute(sql)
    other = sqlite3.connect(path, isolation_level=None)  # a connection that read the old schema
    other.execute("SELECT COUNT(*) FROM alert_deliveries").fetchone()
    row = ("k1", 1, 1, "sms", "staff:S002", "", "t", "b", "skipped", "x", "x")
    insert = ("INSERT INTO alert_deliveries (idem_key, thread_id, level, channel, recipient, "
              "url, title, body, status, next_utc, created_utc) VALUES "
              "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    with pytest.raises(sqlite3.IntegrityError):
        c.execute(insert, row)
    assert schema.allow_skipped(c) is True
    assert schema.allow_skipped(c) is False
    other.execute(insert, row)  # the other connection sees the new rule
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(sqlite3.IntegrityError):
        c.execute(insert, ("k2", *row[1:8], "lost", "x", "x"))
