"""Inputs, outputs and state of the counter state machine (plain frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Zone = Literal["seat", "customer"]
ClipKind = Literal["transaction", "off_seat", "manual"]
WindowStateName = Literal["open", "closed", "away"]


@dataclass(frozen=True, slots=True)
class Staff:
    """A roster entry, as shown on the keypad like a desk name badge."""

    staff_id: str
    name: str
    staff_number: str
    photo_id: str = ""


# ---- inputs -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadgeTapped:
    """A badge was read; ``staff`` is the roster match or None for an unknown badge."""

    uid_hash: str
    staff: Staff | None


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """A zone's presence decision after hysteresis; ``at`` is the backdated onset."""

    zone: Zone
    present: bool
    at: float
    previous: bool | None


@dataclass(frozen=True, slots=True)
class KeyPressed:
    code: int
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class PleaseRatePressed:
    """Staff asked the customer to rate."""


@dataclass(frozen=True, slots=True)
class ManualRecordPressed:
    """Staff toggled a manual recording (the hall's written rules ask for it)."""


@dataclass(frozen=True, slots=True)
class CounterOpenChanged:
    """The shift schedule opened or closed the counter."""

    open: bool


@dataclass(frozen=True, slots=True)
class WindowStateRequested:
    """Staff asked for a window state: a keypad state key, or a state card (``toggle``:
    tapping the card of the state in force opens the window again)."""

    state: WindowStateName
    source: Literal["keypad", "card"]
    toggle: bool = False


@dataclass(frozen=True, slots=True)
class PlannedStateChanged:
    """HQ's schedule entered a closed/away period (``setting``) or left it (None)."""

    setting: StateSetting | None


@dataclass(frozen=True, slots=True)
class AnnounceWindowState:
    """The daemon started: say which state the window is in (HQ's segments begin here)."""


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed; timers (rating window, alert levels) are checked."""


@dataclass(frozen=True, slots=True)
class Shutdown:
    """The daemon stops: end what is open so nothing is left dangling."""


Input = (
    BadgeTapped
    | PresenceChanged
    | KeyPressed
    | PleaseRatePressed
    | ManualRecordPressed
    | CounterOpenChanged
    | WindowStateRequested
    | PlannedStateChanged
    | AnnounceWindowState
    | Tick
    | Shutdown
)

# ---- outputs ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Emit:
    """A domain event to store (with its outbox entry). ``t`` is when it happened."""

    type: str
    t: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StartClip:
    clip_id: str
    kind: ClipKind
    from_t: float


@dataclass(frozen=True, slots=True)
class StopClip:
    clip_id: str
    until_t: float


@dataclass(frozen=True, slots=True)
class ShowStaff:
    staff: Staff | None


@dataclass(frozen=True, slots=True)
class PromptRating:
    timeout_s: float


@dataclass(frozen=True, slots=True)
class ThankYou:
    pass


@dataclass(frozen=True, slots=True)
class ShowMessage:
    text: str


@dataclass(frozen=True, slots=True)
class ShowWindowState:
    """Show the window state to customers on the keypad (open: no notice)."""

    state: WindowStateName


Action = (Emit | StartClip | StopClip | ShowStaff | PromptRating | ThankYou | ShowMessage
          | ShowWindowState)

# ---- state ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    """Parameters of the machine (mapped from the unit config)."""

    rating_window_s: float = 10.0
    key_ratings: tuple[tuple[int, int], ...] = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5))
    dissatisfied_at_or_below: int = 1
    off_seat_alert_s: tuple[float, float, float] = (120.0, 300.0, 600.0)
    pre_roll_s: float = 3.0
    post_roll_s: float = 5.0
    record_off_seat: bool = True
    min_transaction_s: float = 0.0
    # A key press counts as "customer seen" this long after the customer left:
    # the rating prompt itself only appears once the departure is confirmed.
    customer_grace_s: float = 15.0


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    staff: Staff
    since: float


@dataclass(frozen=True, slots=True)
class OpenTransaction:
    txn_id: str
    started_at: float
    staff_id: str | None
    session_id: str | None


@dataclass(frozen=True, slots=True)
class RatingWindow:
    txn_id: str | None
    staff_id: str | None
    opened_at: float
    deadline: float
    trigger: Literal["transaction_end", "staff_key"]
    rated: bool = False
    invalid_keys: int = 0
    ignored_keys: int = 0


@dataclass(frozen=True, slots=True)
class Absence:
    absence_id: str
    since: float
    level: int = 0
    clip_id: str | None = None


@dataclass(frozen=True, slots=True)
class ManualRecording:
    clip_id: str
    since: float


@dataclass(frozen=True, slots=True)
class StateSetting:
    """A window state one source asks for, since ``since`` (unit time)."""

    state: WindowStateName
    since: float
    source: str  # "keypad" | "card" | "schedule"
    staff_id: str | None = None  # who set it (keyed states)
    note: str = ""


@dataclass(frozen=True, slots=True)
class WindowStates:
    """The window-state layers (docs/window-states.md) and what was last announced."""

    manual: StateSetting | None = None
    planned: StateSetting | None = None
    shown: str = "open"  # open | closed | away | off (outside opening hours, stopped)
    shown_staff: str | None = None
    shown_since: float = 0.0
    announced: bool = False


@dataclass(frozen=True, slots=True)
class CounterState:
    """Everything the machine remembers; ids are ``{id_prefix}-{n}`` so that a
    replay with the same prefix is deterministic and a restart (new prefix) never
    reuses an id."""

    id_prefix: str
    next_n: int = 1
    session: Session | None = None
    seat: bool | None = None
    customer: bool | None = None
    customer_left_at: float | None = None
    counter_open: bool = True
    transaction: OpenTransaction | None = None
    last_txn_id: str | None = None
    rating: RatingWindow | None = None
    absence: Absence | None = None
    manual: ManualRecording | None = None
    window: WindowStates = WindowStates()
