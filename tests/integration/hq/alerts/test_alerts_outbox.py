"""The outbox in one process with a driven clock: fan-out once, escalation, quiet hours,
a channel down for ten minutes, giving up, silent units. Receivers are real (loopback)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hq.alerts import acknowledge, open_threads, policy_store
from hq.alerts.delivery import links
from hq.alerts.delivery.worker import Outbox
from hq.alerts.policy import PolicyDoc
from hq.alerts.queries import detail
from hq.alerts.recipients import Grant, Person, StaticDirectory
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from tests.helpers.hq.alert_receivers import HttpReceiver, SmtpReceiver
from tests.helpers.hq.alerts import T0, cleared, ev, off_seat, seed_org
from tests.servers.postgres_fixtures import Backend

S = dt.timedelta(seconds=1)
M = dt.timedelta(minutes=1)
ALL = Scope.everything()

SUP = Person("user:lin", "Lin", email="lin@bank.example", phone="+8613800000001")
MGR = Person("user:zhou", "Zhou", email="zhou@bank.example")
DIRECTORY = StaticDirectory([Grant(SUP, "hall_supervisor", "hall:H1"),
                             Grant(MGR, "branch_manager", "branch:B1")])


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class World:
    store: SqliteEventStore
    outbox: Outbox
    clock: Clock
    hook: HttpReceiver
    smtp: SmtpReceiver
    key: bytes
    folder: Path  # the data folder (on PostgreSQL too: the alerts' key stays a file there)

    def policy(self, doc: dict) -> None:
        # Units going quiet have a test of their own; here they would add threads.
        base = {"silent_after_min": 1440, "channels": {
            "room": {"url": f"json://127.0.0.1:{self.hook.port}/room"},
            "mail": {"url": f"mailto://127.0.0.1:{self.smtp.port}?from=hq@bank.example"
                            "&to={email}"}}}
        policy_store.put(self.store._conn, PolicyDoc.model_validate({**base, **doc}), "admin",
                         T0)

    def tick(self, at: dt.datetime):
        self.clock.now = at
        return self.outbox.tick(at, wait_sends=True)

    def deliveries(self) -> list[tuple]:
        return [tuple(r) for r in self.store._conn.execute(
            "SELECT level, channel, recipient, status, attempts FROM alert_deliveries "
            "WHERE channel != 'dashboard' ORDER BY level, channel, recipient")]


@pytest.fixture
def world(tmp_path: Path, backend: Backend) -> Iterator[World]:
    store = SqliteEventStore(backend.migrated(tmp_path) / "events.db")
    seed_org(store._conn)
    hook, smtp = HttpReceiver(), SmtpReceiver()
    clock = Clock(T0)
    key = links.load_key(tmp_path / "alerts")
    outbox = Outbox(tmp_path / "events.db", DIRECTORY, key, clock=clock, maintenance_s=0)
    yield World(store, outbox, clock, hook, smtp, key, tmp_path)
    outbox.close()
    hook.close()
    smtp.close()
    store.close()


LEVEL1 = {"default": {"kinds": {"off_seat": {"levels": {
    "1": {"channels": ["room", "mail"], "recipients": {"roles": ["hall_supervisor"]},
          "plan": "Call the staff member; open the spare window.", "escalate_after_min": 5},
    "2": {"channels": ["mail"], "recipients": {"roles": ["branch_manager"]}}}}}}}


def test_one_message_per_level_per_recipient_whatever_happens(world: World) -> None:
    world.policy(LEVEL1)
    world.store.ingest("unit-a", [off_seat(1)])
    world.tick(T0)
    world.hook.wait_for(lambda got: len(got) == 1)
    world.smtp.wait_for(1)
    # The unit sends level 1 again (a new uuid), HQ passes again and again: nothing new.
    world.store.ingest("unit-a", [off_seat(1, minute=0.1)])
    # Even a dispatch expanded a second time (as if HQ died before marking it) makes the
    # same idempotency keys, which the outbox holds once.
    world.store._conn.execute("UPDATE alert_dispatch SET expanded_utc = NULL")
    for k in range(3):
        world.tick(T0 + k * S)
    assert world.deliveries() == [(1, "mail", "user:lin", "delivered", 1),
                                  (1, "room", "group", "delivered", 1)]
    assert len(world.hook.received) == 1 and len(world.smtp.messages) == 1
    [msg] = world.smtp.messages
    assert msg["To"] == "lin@bank.example"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Call the staff member; open the spare window." in text
    assert "Staff: Li Wei (S001)" in text and "Nanjing Road / Main hall / Window 1" in text
    assert "/#window-W1" in text and "/ack-link?token=" in text
    assert world.hook.received[0].json()["title"].startswith("[L1] Staff off seat")


def test_escalation_when_nobody_acknowledges(world: World) -> None:
    world.policy(LEVEL1)
    world.store.ingest("unit-a", [off_seat(1)])
    world.tick(T0)
    assert world.tick(T0 + 4 * M).escalated == []
    [t] = open_threads(world.store._conn, ALL)
    assert t.level == 1
    out = world.tick(T0 + 5 * M)
    assert out.escalated == [t.thread_id]
    world.tick(T0 + 5 * M + S)  # the escalated level's dispatch is expanded and sent
    world.smtp.wait_for(2)
    assert world.smtp.messages[1]["To"] == "zhou@bank.example"
    d = detail(world.store._conn, ALL, t.thread_id)
    assert [(x["level"], x["source"]) for x in d.levels] == [(1, "unit"), (2, "escalation")]
    assert d.notes[-1]["kind"] == "escalated"
    # The unit's own level 2 later changes nothing: that level has been told already.
    world.store.ingest("unit-a", [off_seat(2, minute=6)])
    world.tick(T0 + 6 * M)
    assert [x[:3] for x in world.deliveries()] == [
        (1, "mail", "user:lin"), (1, "room", "group"), (2, "mail", "user:zhou")]


def test_acknowledged_threads_do_not_escalate(world: World) -> None:
    world.policy(LEVEL1)
    world.store.ingest("unit-a", [off_seat(1)])
    world.tick(T0)
    [t] = open_threads(world.store._conn, ALL)
    acknowledge(world.store._conn, t.thread_id, "lin", T0 + 2 * M, "coming")
    assert world.tick(T0 + 30 * M).escalated == []
    assert open_threads(world.store._conn, ALL)[0].level == 1


QUIET = {"default": {"kinds": {"*": {
    "quiet_hours": {"start": "17:00", "end": "18:00"},  # branch time (UTC+8); T0 is 17:00
    "levels": {"1": {"channels": ["room"]}}}}}}


def test_quiet_hours_hold_messages_until_they_end(world: World) -> None:
    world.policy(QUIET)
    world.store.ingest("unit-a", [off_seat(1)])
    world.tick(T0)
    assert world.deliveries() == [(1, "room", "group", "deferred", 0)]
    world.tick(T0 + 59 * M)
    assert world.hook.received == []
    world.tick(T0 + 60 * M)
    world.hook.wait_for(lambda got: len(got) == 1)
    assert world.deliveries() == [(1, "room", "group", "delivered", 1)]


def test_an_episode_over_before_quiet_hours_end_is_never_sent(world: World) -> None:
    world.policy(QUIET)
    world.store.ingest("unit-a", [off_seat(1)])
    world.tick(T0)
    world.store.ingest("unit-a", [cleared(minute=10)])
    world.tick(T0 + 61 * M)
    assert world.deliveries() == [(1, "room", "group", "cancelled", 0)]
    assert world.hook.received == []


def test_a_channel_down_for_ten_minutes_then_back(world: World) -> None:
    world.policy({"default": {"kinds": {"*": {"levels": {"1": {"channels": ["room"]}}}}}})
    world.hook.status = 503
    world.store.ingest("unit-a", [off_seat(1)])
    at = T0
    while at < T0 + 10 * M:  # HQ passes every 5 s of driven time for ten minutes
        world.tick(at)
        at += 5 * S
    [(_, _, _, status, attempts)] = world.deliveries()
    # Backoff 5, 10, 20, 40, 80 s, then every 120 s: attempts at 0, 5, 15, 35, 75, 155,
    # 275, 395, 515 s -> 9 attempts in the first ten minutes, not 120.
    assert (status, attempts) == ("pending", 9)
    world.hook.status = 200
    while not world.hook.received:
        world.tick(at)
        at += 5 * S
    assert at - T0 <= 10 * M + 2 * M + 10 * S  # back within one backoff step
    world.tick(at + 10 * M)
    assert len(world.hook.received) == 1
    [(_, _, _, status, attempts)] = world.deliveries()
    assert (status, attempts) == ("delivered", 10)
    [row] = world.store._conn.execute("SELECT delivery_id FROM alert_deliveries "
                                      "WHERE channel = 'room'").fetchall()
    log = [tuple(r) for r in world.store._conn.execute(
        "SELECT ok, detail LIKE '%503%' FROM alert_attempts WHERE delivery_id = ? "
        "ORDER BY n", [row[0]])]
    assert log == [(0, 1)] * 9 + [(1, 0)]


def test_a_channel_that_never_recovers_is_given_up(world: World) -> None:
    world.policy({"retry": {"give_up_min": 30},
                  "default": {"kinds": {"*": {"levels": {"1": {"channels": ["room"]}}}}}})
    world.hook.status = 503
    world.store.ingest("unit-a", [off_seat(1)])
    at = T0
    while at <= T0 + 40 * M:
        world.tick(at)
        at += 30 * S
    [(_, _, _, status, attempts)] = world.deliveries()
    assert status == "failed" and 10 <= attempts <= 25


def test_signed_links(world: World) -> None:
    token = links.sign(world.key, 7, "user:lin", T0)
    assert links.verify(world.key, token, 7, T0 + M).recipient == "user:lin"
    for bad, thread_id, at, why in [
            (token, 8, T0, "another alert"),
            (token, 7, T0 + 4 * 24 * 60 * M, "expired"),
            (token[:-1] + ("0" if token[-1] != "0" else "1"), 7, T0, "signature"),
            ("x.y", 7, T0, "malformed")]:
        with pytest.raises(links.BadLink, match=why):
            links.verify(world.key, bad, thread_id, at)
    mode = (world.folder / "alerts" / "ack.key").stat().st_mode & 0o777
    assert mode == 0o600


def test_a_silent_unit_opens_a_thread_and_closes_when_heard(world: World) -> None:
    world.store.ingest("unit-a", [ev("login", {"staff_id": "S001"})])
    world.tick(T0 + 29 * M)
    assert open_threads(world.store._conn, ALL) == []
    world.tick(T0 + 31 * M)
    [t] = open_threads(world.store._conn, ALL)
    assert (t.kind, t.unit_id, t.window_id) == ("silent", "unit-a", "W1")
    assert "no event since 2026-03-02T09:00:00" in t.detail
    # unit-b and unit-c are bound but never sent anything: not installed, not quiet.
    world.store.ingest("unit-a", [ev("logout", {"staff_id": "S001"}, minute=32)])
    world.tick(T0 + 33 * M)
    assert open_threads(world.store._conn, Scope.parse("hall:H1")) == []


def test_hq_conditions_feed_threads(tmp_path: Path) -> None:
    from hq.alerts.service import AlertService, raise_hq_condition

    store = SqliteEventStore(tmp_path / "events.db")
    service = AlertService(tmp_path / "events.db", tmp_path / "alerts", DIRECTORY,
                           clock=lambda: T0)
    try:
        assert raise_hq_condition("disk_full", "no HQ running") is None
        service.condition_hook("disk_full", "events.db: database or disk is full", True)
        service.condition_hook("disk_full", "again", True)  # one episode, one thread
        [t] = open_threads(store._conn, ALL)
        assert (t.kind, t.unit_id, t.level, t.title) == ("disk_full", "hq", 2, "HQ disk full")
        assert open_threads(store._conn, Scope.parse("branch:B1")) == []  # HQ's own: admins
        service.condition_hook("disk_full", "space again", False)
        assert open_threads(store._conn, ALL) == []
    finally:
        service.close()
        store.close()
