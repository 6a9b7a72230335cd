"""Queue thresholds, ticket linkage and feed watch: hand-worked tables, driven time."""

from __future__ import annotations

from firmware.machine.model import Emit
from firmware.queue_link.alerts import AlertRule, AlertState, feed_lost, observe, tick
from firmware.queue_link.tickets import OpenTxn, TicketBook, TicketRules, called, on_emit
from firmware.queue_link.watch import FeedWatch, check, seen

RULE = AlertRule(above=10, for_s=300, clear_at_or_below=7, clear_for_s=60)

# (t, waiting or None for a tick) -> events expected at that step, as (type, waiting)
Step = tuple[float, int | None, list[tuple[str, int | None]]]


def run(steps: list[Step], rule: AlertRule = RULE) -> list[Emit]:
    state = AlertState("u1")
    every: list[Emit] = []
    for t, waiting, expected in steps:
        if waiting is None:
            state, emits = tick(state, t, {"A": rule})
        else:
            state, emits = observe(state, "A", waiting, t, rule)
        assert [(e.type, e.data["waiting"]) for e in emits] == expected, (t, waiting, emits)
        every += emits
    return every


def test_raise_after_sustained_high_then_clear_with_hysteresis() -> None:
    emits = run([
        (0, 8, []),
        (60, 11, []),                     # high since 60
        (200, 15, []),
        (359, None, []),                  # 299 s high: not yet
        (360, None, [("queue_alert_raised", 15)]),
        (361, None, []),                  # once
        (400, 9, []),                     # between 7 and 10: stays raised
        (420, 7, []),                     # low since 420
        (479, None, []),
        (480, None, [("queue_alert_cleared", 7)]),
        (481, 3, []),
    ])
    raised, cleared = emits
    assert raised.data == {"alert": "queue", "alert_id": "u1-q1", "service": "A", "waiting": 15,
                           "threshold": 10, "for_s": 300, "high_since": 60}
    assert cleared.data == {"alert": "queue", "alert_id": "u1-q1", "service": "A", "waiting": 7,
                            "threshold": 10, "clear_at_or_below": 7, "peak": 15,
                            "duration_s": 120.0}


def test_a_dip_restarts_the_raise_timer() -> None:
    run([
        (0, 11, []),
        (200, 10, []),                    # not above 10: the streak ends
        (250, 12, []),                    # new streak from 250
        (500, None, []),
        (549, None, []),
        (550, None, [("queue_alert_raised", 12)]),
    ])


def test_a_bounce_above_the_clear_level_restarts_the_clear_timer() -> None:
    run([
        (0, 20, []),
        (300, None, [("queue_alert_raised", 20)]),
        (310, 5, []),
        (350, 8, []),                     # above clear level: timer reset
        (360, 6, []),
        (419, None, []),
        (420, None, [("queue_alert_cleared", 6)]),
    ])


def test_raise_on_the_sample_itself_when_for_s_is_zero() -> None:
    rule = AlertRule(above=3, for_s=0, clear_at_or_below=0, clear_for_s=0)
    run([(5, 4, [("queue_alert_raised", 4)]), (6, 1, []), (7, 0, [("queue_alert_cleared", 0)])],
        rule)


def test_a_lost_feed_neither_raises_nor_clears() -> None:
    state = AlertState("u1")
    state, _ = observe(state, "A", 50, 0, RULE)
    state = feed_lost(state)
    state, emits = tick(state, 1000, {"A": RULE})
    assert emits == []                   # no raise from a count nobody confirmed
    state, _ = observe(state, "A", 50, 1000, RULE)
    state, emits = tick(state, 1300, {"A": RULE})
    assert [e.type for e in emits] == ["queue_alert_raised"]
    state = feed_lost(state)
    state, emits = tick(state, 5000, {"A": RULE})
    assert emits == []                   # and no clear either
    state, _ = observe(state, "A", 0, 5000, RULE)
    state, emits = tick(state, 5060, {"A": RULE})
    assert [(e.type, e.data["alert_id"], e.data["peak"]) for e in emits] == [
        ("queue_alert_cleared", "u1-q1", 50)]


def test_services_are_independent_and_ids_distinct() -> None:
    state = AlertState("u1")
    state, _ = observe(state, "A", 11, 0, RULE)
    state, _ = observe(state, "B", 11, 100, RULE)
    state, a = tick(state, 300, {"A": RULE, "B": RULE})
    state, b = tick(state, 400, {"A": RULE, "B": RULE})
    assert [(e.data["service"], e.data["alert_id"]) for e in a + b] == [("A", "u1-q1"),
                                                                          ("B", "u1-q2")]
    state, none = tick(state, 400, {})   # a service without a rule is not checked
    assert none == []


# ---- tickets -----------------------------------------------------------------------

TR = TicketRules(hold_s=300, attach_open_s=20)


def started(txn: str, t: float) -> Emit:
    return Emit("transaction_started", t, {"txn_id": txn})


def ended(txn: str, t: float) -> Emit:
    return Emit("transaction_ended", t, {"txn_id": txn})


def test_a_call_before_the_customer_arrives_goes_to_the_next_transaction() -> None:
    book, ev = called(TicketBook(), "A031", "3", 100, None, TR)
    assert ev.data == {"ticket": "A031", "counter": "3", "txn_id": None, "joined": "next",
                       "replaces": None}
    book, s = on_emit(book, started("T1", 130), TR)
    assert s.data == {"txn_id": "T1", "ticket": "A031"}
    book, e = on_emit(book, ended("T1", 400), TR)
    assert e.data["ticket"] == "A031"
    book, s2 = on_emit(book, started("T2", 420), TR)
    assert s2.data["ticket"] is None      # a ticket is used once


def test_a_call_the_customer_never_answers_expires() -> None:
    book, _ = called(TicketBook(), "A031", "3", 100, None, TR)
    book, s = on_emit(book, started("T1", 401), TR)   # 301 s later: over hold_s
    assert s.data["ticket"] is None
    book, _ = called(TicketBook(), "A031", "3", 100, None, TR)
    book, s = on_emit(book, started("T1", 400), TR)   # exactly hold_s: still taken
    assert s.data["ticket"] == "A031"


def test_a_call_just_after_the_customer_sat_down_joins_the_open_transaction() -> None:
    book, _ = on_emit(TicketBook(), started("T1", 90), TR)
    book, ev = called(book, "A031", "3", 110, OpenTxn("T1", 90), TR)
    assert (ev.data["txn_id"], ev.data["joined"]) == ("T1", "open")
    book, e = on_emit(book, ended("T1", 300), TR)
    assert e.data["ticket"] == "A031"
    book, s = on_emit(book, started("T2", 310), TR)
    assert s.data["ticket"] is None


def test_next_pressed_while_the_last_customer_leaves_is_the_next_ones() -> None:
    book, _ = on_emit(TicketBook(), started("T1", 0), TR)
    book, ev = called(book, "A032", "3", 21, OpenTxn("T1", 0), TR)  # 21 s into T1
    assert ev.data["joined"] == "next"
    book, e = on_emit(book, ended("T1", 30), TR)
    assert e.data["ticket"] is None
    book, s = on_emit(book, started("T2", 40), TR)
    assert s.data["ticket"] == "A032"


def test_an_open_transaction_with_a_ticket_passes_the_next_call_on() -> None:
    book, _ = called(TicketBook(), "A031", "3", 0, None, TR)
    book, _ = on_emit(book, started("T1", 5), TR)
    book, ev = called(book, "A032", "3", 10, OpenTxn("T1", 5), TR)
    assert ev.data["joined"] == "next"
    book, e = on_emit(book, ended("T1", 20), TR)
    book, s = on_emit(book, started("T2", 25), TR)
    assert (e.data["ticket"], s.data["ticket"]) == ("A031", "A032")


def test_a_recall_replaces_the_pending_ticket() -> None:
    book, _ = called(TicketBook(), "A031", "3", 0, None, TR)
    book, ev = called(book, "A033", "3", 60, None, TR)   # A031 did not come: next one
    assert ev.data["replaces"] == "A031"
    book, s = on_emit(book, started("T1", 70), TR)
    assert s.data["ticket"] == "A033"


def test_other_events_pass_untouched() -> None:
    e = Emit("rating", 1, {"txn_id": "T1"})
    assert on_emit(TicketBook(pending="A1"), e, TR) == (TicketBook(pending="A1"), e)


# ---- feed watch --------------------------------------------------------------------


def test_stale_once_and_restored_once() -> None:
    w = FeedWatch(started_at=0)
    w, out = check(w, 14.9, 15, "")
    assert out == []
    w, out = check(w, 15, 15, "cannot open /dev/x")   # never seen: stale from start
    assert [(e.type, e.data) for e in out] == [("queue_feed_lost", {
        "last_seen_s_ago": None, "stale_after_s": 15, "detail": "cannot open /dev/x"})]
    for t in (16, 100, 1000):
        w, out = check(w, t, 15, "")
        assert out == []
    w, out = seen(w, 1001)
    assert [(e.type, e.data) for e in out] == [("queue_feed_restored", {"lost_s": 986.0})]
    w, out = seen(w, 1002)
    assert out == []
    w, out = check(w, 1016.9, 15, "")
    assert out == []
    w, out = check(w, 1017, 15, "")
    assert [e.data["last_seen_s_ago"] for e in out] == [15.0]
