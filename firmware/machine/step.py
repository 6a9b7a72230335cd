"""The counter state machine: ``step(state, event, now, rules) -> (state, actions)``.

Pure: no clock, no I/O, no randomness. The daemon feeds it inputs and carries
out the actions (store, record, keypad). Event times: presence inputs carry
their own backdated ``at``; everything else happens at ``now``.
"""

from __future__ import annotations

from dataclasses import replace

from . import window_step
from .model import (
    Absence,
    Action,
    AnnounceWindowState,
    BadgeTapped,
    CounterOpenChanged,
    CounterState,
    Emit,
    Input,
    KeyPressed,
    ManualRecording,
    ManualRecordPressed,
    OpenTransaction,
    PlannedStateChanged,
    PleaseRatePressed,
    PresenceChanged,
    PromptRating,
    RatingWindow,
    Rules,
    Session,
    ShowMessage,
    ShowStaff,
    Shutdown,
    StartClip,
    StopClip,
    ThankYou,
    Tick,
    WindowStateRequested,
)

Result = tuple[CounterState, list[Action]]


def _new_id(state: CounterState, kind: str) -> tuple[CounterState, str]:
    return replace(state, next_n=state.next_n + 1), f"{state.id_prefix}-{kind}{state.next_n}"


def _staff_fields(state: CounterState) -> dict[str, str | None]:
    s = state.session
    return {
        "staff_id": s.staff.staff_id if s else None,
        "session_id": s.session_id if s else None,
    }


def step(state: CounterState, event: Input, now: float, rules: Rules) -> Result:
    """Apply one input; return the new state and the actions to carry out."""
    if isinstance(event, BadgeTapped):
        state, actions = _badge(state, event, now)
        state, more = window_step.refresh(state, now, rules)  # whom the state counts for
        return state, actions + more
    if isinstance(event, PresenceChanged):
        if event.zone == "seat":
            return _seat(state, event, rules)
        return _customer(state, event, now, rules)
    if isinstance(event, KeyPressed):
        return _key(state, event, now, rules)
    if isinstance(event, PleaseRatePressed):
        return _please_rate(state, now, rules)
    if isinstance(event, ManualRecordPressed):
        return _manual(state, now, rules)
    if isinstance(event, CounterOpenChanged):
        state = window_step.hours_changed(replace(state, counter_open=event.open))
        state, more = window_step.refresh(state, now, rules)
        return state, [Emit("counter_opened" if event.open else "counter_closed", now), *more]
    if isinstance(event, WindowStateRequested):
        return window_step.request(state, event, now, rules)
    if isinstance(event, PlannedStateChanged):
        return window_step.planned(state, event, now, rules)
    if isinstance(event, AnnounceWindowState):
        return window_step.announce(state, now, rules)
    if isinstance(event, Tick):
        return _tick(state, now, rules)
    if isinstance(event, Shutdown):
        state, actions = _shutdown(state, now, rules)
        state, more = window_step.stop(state, now)
        return state, actions + more
    raise TypeError(f"unknown input {event!r}")


# ---- staff sessions ------------------------------------------------------------


def _badge(state: CounterState, ev: BadgeTapped, now: float) -> Result:
    if ev.staff is None:
        return state, [
            Emit("badge_refused", now, {"uid_hash": ev.uid_hash}),
            ShowMessage("Badge not recognised"),
        ]
    actions: list[Action] = []
    current = state.session
    if current is not None:
        same = current.staff.staff_id == ev.staff.staff_id
        actions.append(_logout_event(state, now, "tap" if same else "switch"))
        state = replace(state, session=None)
        if same:
            actions.append(ShowStaff(None))
            return state, actions
    state, session_id = _new_id(state, "s")
    state = replace(state, session=Session(session_id, ev.staff, now))
    actions += [
        Emit("login", now, {"staff_id": ev.staff.staff_id, "session_id": session_id,
                            "name": ev.staff.name, "staff_number": ev.staff.staff_number}),
        ShowStaff(ev.staff),
    ]
    return state, actions


def _logout_event(state: CounterState, now: float, reason: str) -> Emit:
    assert state.session is not None
    return Emit("logout", now, {**_staff_fields(state), "reason": reason,
                                "duration_s": round(now - state.session.since, 3)})


# ---- seat: absences and off-seat alerts -------------------------------------------


def _seat(state: CounterState, ev: PresenceChanged, rules: Rules) -> Result:
    previous = state.seat
    state = replace(state, seat=ev.present)
    if previous is None or previous == ev.present:
        # Start-up: the first decision only tells the seat's state, never an absence.
        return state, []
    actions: list[Action] = []
    if not ev.present:
        if window_step.blocks_absence(state):
            return state, []  # closed or away: an empty seat is expected
        state, absence_id = _new_id(state, "a")
        clip_id = None
        if rules.record_off_seat and state.counter_open:
            clip_id = f"{absence_id}-clip"
            actions.append(StartClip(clip_id, "off_seat", ev.at - rules.pre_roll_s))
        state = replace(state, absence=Absence(absence_id, ev.at, 0, clip_id))
        actions.insert(0, Emit("absence_started", ev.at, {
            **_staff_fields(state), "absence_id": absence_id, "clip_id": clip_id,
            "counter_open": state.counter_open}))
        return state, actions
    absence = state.absence
    if absence is None:
        return state, []
    state = replace(state, absence=None)
    actions.append(Emit("absence_ended", ev.at, {
        **_staff_fields(state), "absence_id": absence.absence_id,
        "duration_s": round(ev.at - absence.since, 3), "max_level": absence.level}))
    if absence.level > 0:
        actions.append(Emit("alert_cleared", ev.at, {
            "alert": "off_seat", "absence_id": absence.absence_id, "level": absence.level}))
    if absence.clip_id:
        actions.append(StopClip(absence.clip_id, ev.at + rules.post_roll_s))
    return state, actions


def _tick(state: CounterState, now: float, rules: Rules) -> Result:
    actions: list[Action] = []
    absence = state.absence
    if absence is not None and state.counter_open and not window_step.blocks_absence(state):
        away = now - absence.since
        level = sum(1 for limit in rules.off_seat_alert_s if away >= limit)
        if level > absence.level:
            state = replace(state, absence=replace(absence, level=level))
            for lv in range(absence.level + 1, level + 1):
                actions.append(Emit("alert_raised", now, {
                    **_staff_fields(state), "alert": "off_seat", "level": lv,
                    "absence_id": absence.absence_id,
                    "away_s": round(away, 3)}))
    window = state.rating
    if window is not None and now >= window.deadline:
        state = replace(state, rating=None)
        if not window.rated:
            outcome = "invalid" if window.invalid_keys else "timeout"
            actions.append(_rating_event(window, window.deadline, outcome, None, False))
    return state, actions


# ---- customer: transactions --------------------------------------------------------


def _customer(state: CounterState, ev: PresenceChanged, now: float, rules: Rules) -> Result:
    state = replace(state, customer=ev.present)
    if not ev.present:
        state = replace(state, customer_left_at=ev.at)
    actions: list[Action] = []
    if ev.present and state.transaction is None and state.counter_open:
        state, txn_id = _new_id(state, "t")
        s = state.session
        txn = OpenTransaction(txn_id, ev.at, s.staff.staff_id if s else None,
                              s.session_id if s else None)
        state = replace(state, transaction=txn)
        actions += [
            Emit("transaction_started", ev.at, {"txn_id": txn_id, "staff_id": txn.staff_id,
                                                "session_id": txn.session_id,
                                                "clip_id": txn_id}),
            StartClip(txn_id, "transaction", ev.at - rules.pre_roll_s),
        ]
    elif not ev.present and state.transaction is not None:
        state, actions = _end_transaction(state, ev.at, "customer_left", rules)
        state, more = _open_window(state, now, "transaction_end", rules)
        actions += more
    return state, actions


def _end_transaction(state: CounterState, at: float, reason: str, rules: Rules) -> Result:
    txn = state.transaction
    assert txn is not None
    duration = at - txn.started_at
    state = replace(state, transaction=None, last_txn_id=txn.txn_id)
    return state, [
        Emit("transaction_ended", at, {
            "txn_id": txn.txn_id, "staff_id": txn.staff_id, "session_id": txn.session_id,
            "duration_s": round(duration, 3), "reason": reason,
            "short": duration < rules.min_transaction_s}),
        StopClip(txn.txn_id, at + rules.post_roll_s),
    ]


# ---- ratings -----------------------------------------------------------------------


def _open_window(state: CounterState, now: float, trigger: str, rules: Rules) -> Result:
    actions: list[Action] = []
    if state.rating is not None and not state.rating.rated:
        # A new prompt replaces an unanswered one; the old one is closed as superseded.
        actions.append(_rating_event(state.rating, now, "superseded", None, False))
    if state.transaction is not None:
        txn_id: str | None = state.transaction.txn_id
    elif trigger == "transaction_end" or _customer_seen(state, now, rules):
        txn_id = state.last_txn_id
    else:
        # Nobody has been at the counter for a while: not any transaction's rating.
        txn_id = None
    window = RatingWindow(txn_id, _staff_fields(state)["staff_id"], now,
                          now + rules.rating_window_s,
                          "transaction_end" if trigger == "transaction_end" else "staff_key")
    actions += [
        Emit("rating_prompted", now, {"txn_id": txn_id, "staff_id": window.staff_id,
                                      "trigger": window.trigger}),
        PromptRating(rules.rating_window_s),
    ]
    return replace(state, rating=window), actions


def _please_rate(state: CounterState, now: float, rules: Rules) -> Result:
    return _open_window(state, now, "staff_key", rules)


def _customer_seen(state: CounterState, now: float, rules: Rules) -> bool:
    if state.customer:
        return True
    left = state.customer_left_at
    return left is not None and now - left <= rules.customer_grace_s


def _rating_event(window: RatingWindow, t: float, outcome: str, rating: int | None,
                  suspect: bool, key: int | None = None) -> Emit:
    return Emit("rating", t, {
        "txn_id": window.txn_id, "staff_id": window.staff_id, "outcome": outcome,
        "rating": rating, "key": key, "suspect": suspect, "trigger": window.trigger,
        "invalid_keys": window.invalid_keys, "latency_s": round(t - window.opened_at, 3)})


def _key(state: CounterState, ev: KeyPressed, now: float, rules: Rules) -> Result:
    ratings = dict(rules.key_ratings)
    window = state.rating
    suspect = not _customer_seen(state, now, rules)
    if window is None or window.rated:
        if window is not None:
            state = replace(state, rating=replace(window, ignored_keys=window.ignored_keys + 1))
        return state, [Emit("key_ignored", now, {
            "key": ev.code, "seq": ev.seq, "suspect": suspect,
            "reason": "already_rated" if window else "no_prompt",
            "txn_id": window.txn_id if window else None})]
    if ev.code not in ratings:
        state = replace(state, rating=replace(window, invalid_keys=window.invalid_keys + 1))
        return state, [Emit("key_invalid", now, {"key": ev.code, "seq": ev.seq,
                                                  "txn_id": window.txn_id})]
    rating = ratings[ev.code]
    state = replace(state, rating=replace(window, rated=True))
    actions: list[Action] = [_rating_event(window, now, "rated", rating, suspect, ev.code),
                             ThankYou()]
    if rating <= rules.dissatisfied_at_or_below:
        actions.append(Emit("alert_raised", now, {
            "alert": "dissatisfied", "level": 1, "txn_id": window.txn_id,
            "staff_id": window.staff_id, "rating": rating, "suspect": suspect}))
    return state, actions


# ---- manual recording and shutdown --------------------------------------------------


def _manual(state: CounterState, now: float, rules: Rules) -> Result:
    if state.manual is not None:
        m = state.manual
        state = replace(state, manual=None)
        return state, [
            Emit("manual_recording_ended", now, {**_staff_fields(state), "clip_id": m.clip_id,
                                                 "duration_s": round(now - m.since, 3)}),
            StopClip(m.clip_id, now + rules.post_roll_s),
        ]
    state, clip_id = _new_id(state, "m")
    state = replace(state, manual=ManualRecording(clip_id, now))
    return state, [
        Emit("manual_recording_started", now, {**_staff_fields(state), "clip_id": clip_id}),
        StartClip(clip_id, "manual", now - rules.pre_roll_s),
    ]


def _shutdown(state: CounterState, now: float, rules: Rules) -> Result:
    actions: list[Action] = []
    if state.transaction is not None:
        state, more = _end_transaction(state, now, "shutdown", rules)
        actions += [a if not isinstance(a, StopClip) else StopClip(a.clip_id, now) for a in more]
    if state.absence is not None:
        a = state.absence
        actions.append(Emit("absence_ended", now, {
            **_staff_fields(state), "absence_id": a.absence_id, "reason": "shutdown",
            "duration_s": round(now - a.since, 3), "max_level": a.level}))
        if a.clip_id:
            actions.append(StopClip(a.clip_id, now))
        state = replace(state, absence=None)
    if state.manual is not None:
        actions.append(StopClip(state.manual.clip_id, now))
        state = replace(state, manual=None)
    if state.rating is not None and not state.rating.rated:
        actions.append(_rating_event(state.rating, now, "shutdown", None, False))
        state = replace(state, rating=None)
    return state, actions
