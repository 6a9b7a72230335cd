"""Window states (open / temporarily closed / away on business): precedence and effects.

Pure, like the rest of the machine. The rules (docs/window-states.md, tested table-first
in tests/unit/firmware/machine/test_window_states.py):

1. Outside opening hours (the shift schedule closed the counter) the window is ``off``:
   no state is counted. Every change of opening hours drops a keyed state, so a window
   closed by hand in the evening opens at the next opening.
2. Within opening hours two layers may ask for a state: a *keyed* state (keypad state key
   or state card, by staff) and a *planned* one (a closed/away period of HQ's schedule).
   The one that began last wins (a planned period beginning overrides what staff keyed
   before it; staff keying during the period override it); at equal times staff win.
   Neither: open.
3. Keying open while a planned period runs is an override that lasts until the period
   ends; keying open otherwise just drops the keyed state. When a planned period ends, a
   state keyed before or during it is in force again (staff who left for lunch early come
   back and key open).
4. A state card toggles: the card of the state in force opens the window.
5. Logging in or out does not change the state (the notice stays up for customers); it
   only changes whom the time is counted for: the staff member logged in, else whoever
   keyed the state.

Effects: while closed or away there are no off-seat episodes and no off-seat alerts; an
episode in progress when the window becomes closed or away ends there (``absence_ended``
with ``reason`` ``window_closed``/``window_away``, its alert cleared, its clip stopped),
and one starts when the window opens again with the seat empty. Each change of the
state, or of whom it is counted for, is a ``window_state`` event, and the keypad shows it.
"""

from __future__ import annotations

from dataclasses import replace

from .model import (
    Absence,
    Action,
    CounterState,
    Emit,
    PlannedStateChanged,
    Rules,
    ShowWindowState,
    StartClip,
    StateSetting,
    StopClip,
    WindowStateRequested,
    WindowStates,
)

Result = tuple[CounterState, list[Action]]
NOT_OPEN = ("closed", "away")


def resolve(ws: WindowStates, counter_open: bool) -> tuple[str, StateSetting | None]:
    """The state in force and the setting that decided it (None: hours or default)."""
    if not counter_open and ws.announced:
        return "off", None
    layers = [s for s in (ws.manual, ws.planned) if s is not None]
    if not layers:
        return "open", None
    winner = max(layers, key=lambda s: (s.since, s.source != "schedule"))
    return winner.state, winner


def blocks_absence(state: CounterState) -> bool:
    """True while closed or away: an empty seat is expected, not an absence."""
    return state.window.shown in NOT_OPEN


def request(state: CounterState, ev: WindowStateRequested, now: float, rules: Rules) -> Result:
    """Staff keyed a state or tapped a state card."""
    ws = state.window
    if ws.shown == "off":
        return state, [Emit("window_state_ignored", now, {
            "state": ev.state, "source": ev.source, "reason": "outside_hours"})]
    target = "open" if ev.toggle and ws.shown == ev.state else ev.state
    staff = state.session.staff.staff_id if state.session else None
    if target == "open" and ws.planned is None:
        manual = None
    else:
        manual = StateSetting(target, now, ev.source, staff)
    return refresh(replace(state, window=replace(ws, manual=manual)), now, rules)


def planned(state: CounterState, ev: PlannedStateChanged, now: float, rules: Rules) -> Result:
    """HQ's schedule entered or left a closed/away period."""
    ws = state.window
    manual = ws.manual
    if ev.setting is None and manual is not None and manual.state == "open":
        manual = None  # the override ends with the period it overrode
    return refresh(replace(state, window=replace(ws, planned=ev.setting, manual=manual)),
                   now, rules)


def hours_changed(state: CounterState) -> CounterState:
    """Opening hours began or ended: keyed states do not outlive them."""
    return replace(state, window=replace(state.window, manual=None))


def announce(state: CounterState, now: float, rules: Rules) -> Result:
    """The daemon started: emit the state in force even if it did not change."""
    ws = replace(state.window, announced=True)
    name, setting = resolve(ws, state.counter_open)
    staff = _counted_for(state, setting)
    state = replace(state, window=replace(ws, shown=name, shown_staff=staff, shown_since=now))
    actions: list[Action] = [_event(state, now, name, None, "start", setting, staff, 0.0)]
    if name in NOT_OPEN:
        actions.append(ShowWindowState(name))  # type: ignore[arg-type]
    return state, actions


def stop(state: CounterState, now: float) -> Result:
    """The daemon stops: the announced state ends here (HQ's segment closes)."""
    ws = state.window
    if not ws.announced:
        return state, []
    event = _event(state, now, "off", ws.shown, "shutdown", None, ws.shown_staff,
                   0.0)
    return replace(state, window=replace(ws, shown="off", shown_since=now)), [event]


def refresh(state: CounterState, now: float, rules: Rules) -> Result:
    """Emit the state's change (or its re-attribution) and carry out its effects."""
    ws = state.window
    name, setting = resolve(ws, state.counter_open)
    staff = _counted_for(state, setting)
    if name == ws.shown and staff == ws.shown_staff:
        return state, []
    previous = ws.shown
    changed = name != previous
    if not changed and not ws.announced:  # nothing announced yet: nobody to tell
        return replace(state, window=replace(ws, shown_staff=staff)), []
    held = 0.0 if changed else round(now - ws.shown_since, 3)
    source = setting.source if setting is not None else ("hours" if name == "off" else
                                                         "default")
    state = replace(state, window=replace(ws, shown=name, shown_staff=staff,
                                          shown_since=now if changed else ws.shown_since))
    actions: list[Action] = [_event(state, now, name, previous, source if changed else "staff",
                                    setting, staff, held)]
    if not changed:
        return state, actions
    actions.append(ShowWindowState(name if name in NOT_OPEN else "open"))  # type: ignore[arg-type]
    if name in NOT_OPEN and state.absence is not None:
        state, more = _end_absence(state, now, f"window_{name}", rules)
        actions += more
    elif name == "open" and previous in NOT_OPEN and state.seat is False:
        state, more = _start_absence(state, now, rules)
        actions += more
    return state, actions


def _counted_for(state: CounterState, setting: StateSetting | None) -> str | None:
    if state.session is not None:
        return state.session.staff.staff_id
    return setting.staff_id if setting is not None else None


def _event(state: CounterState, now: float, name: str, previous: str | None, source: str,
           setting: StateSetting | None, staff: str | None, held: float) -> Emit:
    s = state.session
    return Emit("window_state", now, {
        "state": name, "previous": previous, "source": source, "staff_id": staff,
        "session_id": s.session_id if s else None,
        "set_by": setting.staff_id if setting is not None else None,
        "note": setting.note if setting is not None else "", "held_s": held})


def _fields(state: CounterState) -> dict[str, str | None]:
    s = state.session
    return {"staff_id": s.staff.staff_id if s else None,
            "session_id": s.session_id if s else None}


def _end_absence(state: CounterState, now: float, reason: str, rules: Rules) -> Result:
    a = state.absence
    assert a is not None
    actions: list[Action] = [Emit("absence_ended", now, {
        **_fields(state), "absence_id": a.absence_id, "reason": reason,
        "duration_s": round(now - a.since, 3), "max_level": a.level})]
    if a.level > 0:
        actions.append(Emit("alert_cleared", now, {
            "alert": "off_seat", "absence_id": a.absence_id, "level": a.level,
            "reason": reason}))
    if a.clip_id:
        actions.append(StopClip(a.clip_id, now + rules.post_roll_s))
    return replace(state, absence=None), actions


def _start_absence(state: CounterState, now: float, rules: Rules) -> Result:
    """The window opened again with nobody in the seat: the absence counts from now."""
    absence_id = f"{state.id_prefix}-a{state.next_n}"
    state = replace(state, next_n=state.next_n + 1)
    clip_id = None
    actions: list[Action] = []
    if rules.record_off_seat and state.counter_open:
        clip_id = f"{absence_id}-clip"
        actions.append(StartClip(clip_id, "off_seat", now - rules.pre_roll_s))
    state = replace(state, absence=Absence(absence_id, now, 0, clip_id))
    actions.insert(0, Emit("absence_started", now, {
        **_fields(state), "absence_id": absence_id, "clip_id": clip_id,
        "counter_open": state.counter_open, "reason": "window_opened"}))
    return state, actions
