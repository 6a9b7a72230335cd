"""Alerts to the staff member they are about (recipients ``staff``), through the outbox
with a driven clock to real receivers on loopback: aiosmtpd for mail, an HTTP receiver
for the SMSEagle gateway (SMS) and for an IM webhook. Contacts are authored through
hq.org like the Staff page does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hq.alerts import open_threads, policy_store
from hq.alerts.delivery import links
from hq.alerts.delivery.worker import Outbox
from hq.alerts.policy import PolicyDoc
from hq.alerts.queries import detail
from hq.alerts.recipients import Grant, Person, StaticDirectory
from hq.org.authoring.store import OrgStore
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from tests.helpers.hq.alert_receivers import HttpReceiver, Received, SmtpReceiver
from tests.helpers.hq.alerts import T0, off_seat, seed_org
from tests.servers.postgres_fixtures import Backend

S = dt.timedelta(seconds=1)
M = dt.timedelta(minutes=1)
ALL = Scope.everything()
SUP = Person("user:lin", "Lin", email="lin@bank.example", phone="+8613800000009")
DIRECTORY = StaticDirectory([Grant(SUP, "hall_supervisor", "hall:H1")])
S001 = {"staff_no": "S001", "name": "Li Wei", "home_branch_id": "B1",
        "phone": "+86 138 0000 0001", "email": "li.wei@bank.example", "im_id": "liwei"}
S002 = {"staff_no": "S002", "name": "Wang Fang", "home_branch_id": "B1",
        "email": "wang.fang@bank.example"}  # no phone, no IM id


@dataclass
class World:
    store: SqliteEventStore
    outbox: Outbox
    rx: HttpReceiver
    smtp: SmtpReceiver

    def policy(self, levels: dict[str, Any], **kind: Any) -> None:
        doc = {"silent_after_min": 1440, "channels": {
            "mail": {"url": f"mailto://127.0.0.1:{self.smtp.port}?from=hq@bank.example"
                            "&to={email}"},
            "sms": {"url": f"smseagle://tok123@127.0.0.1:{self.rx.port}/{{phone}}"},
            "im": {"url": f"json://127.0.0.1:{self.rx.port}/im/{{im}}"}},
            "default": {"kinds": {"off_seat": {"levels": levels, **kind}}}}
        policy_store.put(self.store._conn, PolicyDoc.model_validate(doc), "admin", T0)

    def tick(self, at: dt.datetime) -> None:
        self.outbox.tick(at, wait_sends=True)

    def deliveries(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.store._conn.execute(
            "SELECT level, channel, recipient, status, attempts FROM alert_deliveries "
            "WHERE channel != 'dashboard' ORDER BY level, channel, recipient")]

    def sms(self) -> list[Received]:
        return [r for r in self.rx.received if r.path == "/jsonrpc/sms"]


@pytest.fixture
def world(tmp_path: Path, backend: Backend) -> Iterator[World]:
    store = SqliteEventStore(backend.migrated(tmp_path) / "events.db")
    seed_org(store._conn)
    org = OrgStore.sharing(store)
    for record in (S001, S002):
        org.author("staff", record, T0)
    rx, smtp = HttpReceiver(), SmtpReceiver()
    outbox = Outbox(tmp_path / "events.db", DIRECTORY, links.load_key(tmp_path / "alerts"),
                    clock=lambda: T0, maintenance_s=0)
    yield World(store, outbox, rx, smtp)
    outbox.close()
    rx.close()
    smtp.close()
    store.close()


STAFF_AND_SUPERVISOR = {"1": {"channels": ["mail", "sms", "im"],
                              "recipients": {"staff": True, "roles": ["hall_supervisor"]},
                              "escalate_after_min": 5},
                        "2": {"channels": ["sms"], "recipients": {"staff": True}}}


def test_an_off_seat_alert_reaches_the_staff_member_by_mail_sms_and_im(world: World) -> None:
    world.policy(STAFF_AND_SUPERVISOR)
    world.store.ingest("unit-a", [off_seat(1, staff="S001")])
    world.tick(T0)
    world.smtp.wait_for(2)
    world.rx.wait_for(lambda got: len(got) == 3)  # 2 SMS (staff, supervisor), 1 IM
    assert sorted(m["To"] for m in world.smtp.messages) == ["li.wei@bank.example",
                                                            "lin@bank.example"]
    staff_mail = next(m for m in world.smtp.messages if m["To"] == "li.wei@bank.example")
    assert "Staff: Li Wei (S001)" in staff_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # SMSEagle JSON-RPC: the staff member's number as stored (separators dropped).
    assert sorted(r.json()["params"]["to"] for r in world.sms()) == ["+8613800000001",
                                                                    "+8613800000009"]
    [im] = [r for r in world.rx.received if r.path.startswith("/im/")]
    assert im.path == "/im/liwei" and im.json()["title"].startswith("[L1] Staff off seat")
    assert world.deliveries() == [(1, "im", "staff:S001", "delivered", 1),
                                  (1, "mail", "staff:S001", "delivered", 1),
                                  (1, "mail", "user:lin", "delivered", 1),
                                  (1, "sms", "staff:S001", "delivered", 1),
                                  (1, "sms", "user:lin", "delivered", 1)]
    # Passes again and a dispatch expanded twice make no second message to anyone.
    world.store._conn.execute("UPDATE alert_dispatch SET expanded_utc = NULL")
    for k in range(1, 4):
        world.tick(T0 + k * S)
    assert len(world.smtp.messages) == 2 and len(world.rx.received) == 3
    # Escalated (nobody acknowledged): level 2 texts the staff member once more, once.
    world.tick(T0 + 5 * M)
    world.tick(T0 + 5 * M + S)
    world.rx.wait_for(lambda got: len(got) == 4)
    world.tick(T0 + 6 * M)
    assert world.deliveries()[-1] == (2, "sms", "staff:S001", "delivered", 1)
    assert len(world.sms()) == 3


def test_a_staff_member_without_a_phone_gets_a_skipped_sms_with_the_reason(
        world: World) -> None:
    world.policy(STAFF_AND_SUPERVISOR)
    world.store.ingest("unit-a", [off_seat(1, staff="S002")])
    for k in range(5):  # passes after passes: a skipped delivery is never tried
        world.tick(T0 + k * S)
    world.smtp.wait_for(2)
    world.rx.wait_for(lambda got: len(got) == 1)
    assert [r.json()["params"]["to"] for r in world.sms()] == ["+8613800000009"]  # only Lin
    assert world.deliveries() == [(1, "im", "staff:S002", "skipped", 0),
                                  (1, "mail", "staff:S002", "delivered", 1),
                                  (1, "mail", "user:lin", "delivered", 1),
                                  (1, "sms", "staff:S002", "skipped", 0),
                                  (1, "sms", "user:lin", "delivered", 1)]
    [t] = open_threads(world.store._conn, ALL)
    d = detail(world.store._conn, ALL, t.thread_id)
    sms = next(x for x in d.deliveries if (x["channel"], x["recipient"]) == ("sms", "staff:S002"))
    assert sms["last_error"] == ("skipped: staff S002 (Wang Fang) has no phone number in the "
                                 "staff record (set it on the Staff page or in the staff import)")
    assert sms["attempt_log"] == [] and sms["done_utc"] is not None
    # Level 2 is a new level: one more skipped row for it, still nothing sent.
    world.tick(T0 + 5 * M)
    world.tick(T0 + 5 * M + S)
    assert world.deliveries()[-1] == (2, "sms", "staff:S002", "skipped", 0)
    assert len(world.sms()) == 1


def test_a_staff_number_not_in_the_staff_list_is_skipped_not_lost(world: World) -> None:
    world.policy({"1": {"channels": ["mail"], "recipients": {"staff": True}}})
    world.store.ingest("unit-a", [off_seat(1, staff="S404")])
    world.tick(T0)
    assert world.deliveries() == [(1, "mail", "staff:S404", "skipped", 0)]
    [reason] = world.store._conn.execute("SELECT last_error FROM alert_deliveries WHERE "
                                         "channel = 'mail'").fetchone()
    assert reason == "skipped: staff S404 is not in the staff list, so has no e-mail address"
    assert world.smtp.messages == []


def test_quiet_hours_hold_the_staff_members_messages_too(world: World) -> None:
    # Branch time is UTC+8; T0 is 17:00 there.
    world.policy({"1": {"channels": ["mail", "sms"], "recipients": {"staff": True}}},
                 quiet_hours={"start": "17:00", "end": "18:00"})
    world.store.ingest("unit-a", [off_seat(1, staff="S002")])
    world.tick(T0)
    assert world.deliveries() == [(1, "mail", "staff:S002", "deferred", 0),
                                  (1, "sms", "staff:S002", "skipped", 0)]
    world.tick(T0 + 59 * M)
    assert world.smtp.messages == []
    world.tick(T0 + 60 * M)
    world.smtp.wait_for(1)
    assert world.smtp.messages[0]["To"] == "wang.fang@bank.example"
    assert world.deliveries()[0] == (1, "mail", "staff:S002", "delivered", 1)


def test_a_thread_naming_no_staff_member_has_no_staff_deliveries(world: World) -> None:
    world.policy({"1": {"channels": ["mail"], "recipients": {"staff": True,
                                                             "roles": ["hall_supervisor"]}}})
    world.store.ingest("unit-a", [off_seat(1, staff=None)])
    world.tick(T0)
    world.smtp.wait_for(1)
    assert world.deliveries() == [(1, "mail", "user:lin", "delivered", 1)]
