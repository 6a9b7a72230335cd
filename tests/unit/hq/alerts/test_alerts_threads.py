"""Alert threads: the signal of each unit event, the state machine, and the store at ingest."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.alerts import acknowledge, open_threads
from hq.alerts.queries import UnknownThread, detail, list_threads
from hq.alerts.signals import Signal, signal_of
from hq.alerts.threads import ThreadState, advance, escalate, escalation_due
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from tests.helpers.hq.alerts import T0, cleared, ev, off_seat, seed_org
from tests.servers.postgres_fixtures import Backend

M = dt.timedelta(minutes=1)


@pytest.mark.parametrize(("event", "expected"), [
    (off_seat(2), ("off_seat", "a1", "raise", 2, "S001")),
    (cleared(level=3), ("off_seat", "a1", "clear", 3, None)),
    (ev("absence_started", {"absence_id": "a1", "clip_id": "a1-clip", "staff_id": "S001"}),
     ("off_seat", "a1", "context", 1, "S001")),
    (ev("absence_ended", {"absence_id": "a1", "max_level": 2}), ("off_seat", "a1", "clear", 2,
                                                                 None)),
    (ev("alert_raised", {"alert": "disk", "detail": "disk full, nothing deletable"}),
     ("disk", "disk", "raise", 2, None)),
    (ev("alert_raised", {"alert": "disk", "detail": "deleting unsynced clips"}),
     ("disk", "disk", "raise", 1, None)),
    (ev("alert_cleared", {"alert": "disk", "detail": "deleting unsynced clips"}),
     ("disk", "disk", "clear", 1, None)),
    (ev("camera_failed", {"reason": "no frames"}), ("camera", "camera", "raise", 1, None)),
    (ev("config_refused", {"etag": "e1", "problems": ["rules.x: too big"]}),
     ("config_refused", "config", "raise", 1, None)),
    (ev("config_applied", {"etag": "e2"}), ("config_refused", "config", "clear", 1, None)),
])
def test_signal_of_unit_events(event, expected) -> None:
    sig = signal_of(event)
    assert sig is not None
    assert (sig.kind, sig.episode, sig.action, sig.level, sig.staff_id) == expected


@pytest.mark.parametrize("event", [
    ev("login", {"staff_id": "S001"}),
    ev("alert_raised", {"alert": "off_seat", "level": 1}),  # no absence id: no episode
    ev("alert_raised", {"level": 1}),
    ev("alert_raised", {"alert": "dissatisfied", "level": 1, "txn_id": "t1"}),
])
def test_events_without_a_thread(event) -> None:
    assert signal_of(event) is None


def test_absence_that_never_alerted_does_not_make_a_thread() -> None:
    sig = signal_of(ev("absence_ended", {"absence_id": "a1", "max_level": 0}))
    assert sig is not None and sig.only_if_open
    assert advance(None, sig).state is None


def _sig(action: str, level: int = 1, minute: float = 0, **kw) -> Signal:
    return Signal("u", "off_seat", "a1", action, T0 + minute * M, level, **kw)  # type: ignore[arg-type]


OPEN1 = ThreadState("open", 1, T0, T0)
CLOSED1 = ThreadState("closed", 1, T0, T0, T0 + 2 * M)


# (state before, signal, status after, level after, levels recorded, levels notified)
@pytest.mark.parametrize(("before", "sig", "status", "level", "levels", "notify"), [
    (None, _sig("raise", 1), "open", 1, (1,), (1,)),
    (OPEN1, _sig("raise", 2, 1), "open", 2, (2,), (2,)),
    (OPEN1, _sig("raise", 1, 1), "open", 1, (), ()),  # a level heard twice: said once
    (dataclasses.replace(OPEN1, level=3), _sig("raise", 2), "open", 3, (), ()),
    (OPEN1, _sig("clear", 1, 2), "closed", 1, (), ()),
    (CLOSED1, _sig("raise", 2, 3), "closed", 2, (2,), ()),  # late: history, nobody told
    (None, _sig("clear", 2), "closed", 2, (2,), ()),  # clear before raise
    (CLOSED1, _sig("clear", 1, 5), "closed", 1, (), ()),
])
def test_thread_state_machine(before, sig, status, level, levels, notify) -> None:
    out = advance(before, sig)
    assert out.state is not None
    assert (out.state.status, out.state.level, out.levels, out.notify) == (
        status, level, levels, notify)


def test_clear_records_when_it_closed() -> None:
    out = advance(OPEN1, _sig("clear", 1, 7))
    assert out.state is not None and out.state.closed_utc == T0 + 7 * M


@pytest.mark.parametrize(("state", "after_min", "now_min", "due"), [
    (OPEN1, 5, 5, True),
    (OPEN1, 5, 4.9, False),
    (OPEN1, None, 60, False),
    (dataclasses.replace(OPEN1, acked=True), 5, 60, False),
    (CLOSED1, 5, 60, False),
    (dataclasses.replace(OPEN1, level=3), 5, 60, False),  # nothing above level 3
])
def test_escalation_due(state, after_min, now_min, due) -> None:
    after = None if after_min is None else after_min * M
    assert escalation_due(state, after, T0 + now_min * M) is due


def test_escalate_raises_one_level_and_notifies_it() -> None:
    out = escalate(OPEN1, T0 + 5 * M)
    assert out.state is not None
    assert (out.state.level, out.state.level_utc, out.notify) == (2, T0 + 5 * M, (2,))


@pytest.fixture
def store(tmp_path: Path, backend: Backend) -> Iterator[SqliteEventStore]:
    s = SqliteEventStore(backend.migrated(tmp_path) / "events.db")
    seed_org(s._conn)
    yield s
    s.close()


def _dispatch(store: SqliteEventStore) -> list[tuple[int, int]]:
    return [tuple(r) for r in store._conn.execute(
        "SELECT thread_id, level FROM alert_dispatch ORDER BY thread_id, level")]


def test_an_off_seat_episode_is_one_thread_that_rises_and_closes(store) -> None:
    store.ingest("unit-a", [ev("absence_started", {"absence_id": "a1", "clip_id": "a1-clip",
                                                   "staff_id": "S001"})])
    store.ingest("unit-a", [off_seat(1, minute=1), off_seat(2, minute=3)])
    store.ingest("unit-a", [off_seat(2, minute=3.5)])  # a second copy of level 2
    [t] = open_threads(store._conn, Scope.everything())
    assert (t.kind, t.level, t.status, t.window_id, t.window_name, t.hall_name,
            t.branch_name, t.staff_no, t.staff_name) == (
        "off_seat", 2, "open", "W1", "Window 1", "Main hall", "Nanjing Road", "S001", "Li Wei")
    assert t.opened_utc == "2026-03-02T09:01:00.000000Z"
    assert (t.dashboard_link, t.clip_link) == ("/#window-W1", "/clips/unit-a/a1-clip")
    assert _dispatch(store) == [(t.thread_id, 1), (t.thread_id, 2)]
    store.ingest("unit-a", [cleared(level=2, minute=4)])
    assert open_threads(store._conn, Scope.everything()) == []
    [closed] = list_threads(store._conn, Scope.everything())
    assert (closed.status, closed.closed_utc) == ("closed", "2026-03-02T09:04:00.000000Z")
    levels = detail(store._conn, Scope.everything(), t.thread_id).levels
    assert [(x["level"], x["source"]) for x in levels] == [(1, "unit"), (2, "unit")]


def test_clip_filled_in_when_the_absence_start_arrives_after_its_alert(store) -> None:
    store.ingest("unit-a", [off_seat(1, minute=1)])
    store.ingest("unit-a", [ev("absence_started", {"absence_id": "a1", "clip_id": "a1-clip"})])
    [t] = open_threads(store._conn, Scope.everything())
    assert t.clip_id == "a1-clip"


def test_threads_follow_scope(store) -> None:
    store.ingest("unit-a", [off_seat(1)])
    store.ingest("unit-b", [off_seat(1, unit="unit-b")])
    store.ingest("unit-c", [off_seat(1, unit="unit-c")])

    def units(scope: str) -> list[str]:
        return sorted(t.unit_id for t in open_threads(store._conn, Scope.parse(scope)))

    assert units("all") == ["unit-a", "unit-b", "unit-c"]
    assert units("branch:B1") == ["unit-a", "unit-b"]
    assert units("hall:H1") == ["unit-a"]
    assert units("hall:H3") == ["unit-c"]


def test_disk_camera_and_config_threads_open_and_close(store) -> None:
    store.ingest("unit-a", [
        ev("alert_raised", {"alert": "disk", "detail": "deleting unsynced clips"}),
        ev("config_refused", {"etag": "e1", "problems": ["rules.off_seat: bad"]}),
        ev("camera_failed", {"reason": "no frames for 2 s"})])
    kinds = {t.kind: t for t in open_threads(store._conn, Scope.everything())}
    assert set(kinds) == {"disk", "config_refused", "camera"}
    assert "rules.off_seat: bad" in kinds["config_refused"].detail
    store.ingest("unit-a", [ev("alert_raised", {"alert": "disk",
                                                "detail": "disk full, nothing deletable"},
                               minute=1)])
    assert {t.kind: t.level for t in open_threads(store._conn, Scope.everything())}[
        "disk"] == 2
    store.ingest("unit-a", [ev("alert_cleared", {"alert": "disk", "detail": "x"}, minute=2),
                            ev("config_applied", {"etag": "e2"}, minute=2),
                            ev("camera_recovered", {}, minute=2)])
    assert open_threads(store._conn, Scope.everything()) == []


def test_a_refused_batch_leaves_no_thread(store) -> None:
    first = off_seat(1)
    store.ingest("unit-b", [off_seat(1, unit="unit-b")])
    taken = store._conn.execute("SELECT uuid FROM events").fetchone()[0]
    clash = first.model_copy(update={"uuid": taken})
    with pytest.raises(Exception, match="another unit"):
        store.ingest("unit-a", [off_seat(1, "a9"), clash])
    assert [t.unit_id for t in open_threads(store._conn, Scope.everything())] == ["unit-b"]


def test_acknowledge_first_and_later(store) -> None:
    store.ingest("unit-a", [off_seat(1)])
    [t] = open_threads(store._conn, Scope.everything())
    assert acknowledge(store._conn, t.thread_id, "lin", T0 + M, "on my way") is True
    assert acknowledge(store._conn, t.thread_id, "wang", T0 + 2 * M) is False
    again = detail(store._conn, Scope.everything(), t.thread_id)
    assert (again.thread.acked_by, again.thread.acked_utc) == ("lin",
                                                               "2026-03-02T09:01:00.000000Z")
    assert [(n["username"], n["text"]) for n in again.notes] == [("lin", "on my way"),
                                                                 ("wang", "")]
    with pytest.raises(UnknownThread):
        acknowledge(store._conn, t.thread_id, "x", T0, scope=Scope.parse("hall:H2"))


def test_a_condition_that_comes_back_is_a_new_thread(store) -> None:
    disk = {"alert": "disk", "detail": "deleting unsynced clips"}
    store.ingest("unit-a", [ev("alert_raised", disk)])
    store.ingest("unit-a", [ev("alert_cleared", disk, minute=5)])
    store.ingest("unit-a", [ev("alert_cleared", disk, minute=6)])  # nothing open: nothing
    store.ingest("unit-a", [ev("alert_raised", disk, minute=60)])
    rows = store._conn.execute("SELECT thread_id, status, episode FROM alert_threads "
                               "ORDER BY thread_id").fetchall()
    assert [(r["status"], r["episode"]) for r in rows] == [
        ("closed", "disk@2026-03-02T09:00:00.000000Z"),
        ("open", "disk@2026-03-02T10:00:00.000000Z")]
    assert _dispatch(store) == [(rows[0]["thread_id"], 1), (rows[1]["thread_id"], 1)]
