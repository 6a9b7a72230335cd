"""Unit configuration: one TOML file, validated by pydantic.

Every model rejects unknown keys and every field is bounded and described, so a
typo in /etc/counterunit/unit.toml is reported with its key path instead of
being silently ignored. ``load_config`` raises ``ConfigError`` whose
``problems`` list is what ``counterunit check-config`` prints.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    model_validator,
)

from firmware.config.base import DEFAULT_CONFIG_PATH, Fraction, Identifier, Strict
from firmware.config.items import ItemsConfig, counter_problems
from firmware.config.window import StatePeriod, WindowStatesConfig
from firmware.hall.config import HallConfig
from hal.badge.config import BadgeConfig, EvdevBadgeConfig, SerialBadgeConfig
from hal.camera.config import CameraConfig, FileCameraConfig
from hal.keypad.config import KeypadConfig, RatingKey
from hal.mic.config import MicrophoneConfig, SilentMicConfig, WavMicConfig
from hal.queue.config import QueueConfig

__all__ = [
    "DEFAULT_CONFIG_PATH", "BadgeConfig", "CameraConfig", "ConfigError", "EvdevBadgeConfig",
    "FileCameraConfig", "Fraction", "Identifier", "KeypadConfig", "MicrophoneConfig",
    "RatingKey", "SerialBadgeConfig", "SilentMicConfig", "Strict", "UnitConfig",
    "WavMicConfig", "load_config", "parse_config",
]


class UnitSection(Strict):
    unit_id: Identifier = Field("unit-0001", description="This unit's id, as enrolled at HQ.")
    counter_id: Identifier = Field("counter-01", description="The service counter (window) id.")
    branch_id: Identifier = Field("branch-001", description="The branch (hall) id.")
    data_dir: Path = Field(
        Path("/var/lib/counterunit"), description="Database and clips live here."
    )
    timezone: str = Field(
        "UTC", min_length=1, max_length=64, description="IANA zone for shift schedules."
    )

    @model_validator(mode="after")
    def _known_timezone(self) -> UnitSection:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"timezone {self.timezone!r} is not a known IANA zone") from exc
        return self


class RosterConfig(Strict):
    path: Path = Field(
        Path("/etc/counterunit/roster.toml"), description="Local roster until HQ delivers one."
    )
    uid_salt: str = Field(
        "counterunit", min_length=1, max_length=128, description="Salt of badge UID hashes."
    )


class ZoneConfig(Strict):
    x0: Fraction = Field(..., description="Left edge, fraction of frame width.")
    y0: Fraction = Field(..., description="Top edge, fraction of frame height.")
    x1: Fraction = Field(..., description="Right edge, fraction of frame width.")
    y1: Fraction = Field(..., description="Bottom edge, fraction of frame height.")
    enter_dwell_s: float = Field(2.0, ge=0, le=60, description="Seen this long -> present.")
    exit_hold_s: float = Field(
        8.5, ge=0, le=120, description="Unseen this long -> gone. With identity on, the same "
        "person back within the hold stays one visit; a different one starts the next.")
    identity: bool = Field(
        default=True,
        description="Track who is in the zone (appearance across gaps); off: the hold alone.")
    identity_distance: float = Field(
        default=0.12, ge=0, le=1,
        description="Appearance distance (0..1) up to which the person back is the same one.")

    @model_validator(mode="after")
    def _ordered(self) -> ZoneConfig:
        if not (self.x1 - self.x0 >= 0.05 and self.y1 - self.y0 >= 0.05):
            raise ValueError("zone must have x0 < x1 and y0 < y1, each side at least 0.05")
        return self


def _default_zones() -> dict[str, ZoneConfig]:
    return {
        "seat": ZoneConfig(x0=0.0, y0=0.0, x1=0.5, y1=1.0, enter_dwell_s=2.0, exit_hold_s=8.5),
        "customer": ZoneConfig(x0=0.5, y0=0.0, x1=1.0, y1=1.0, enter_dwell_s=2.0, exit_hold_s=8.5),
    }


class VisionConfig(Strict):
    type: Literal["litert"] = Field("litert", description="Detector back-end.")
    threads: int = Field(2, ge=1, le=8, description="Interpreter threads.")
    models_dir: Path | None = Field(None, description="Model folder (default: the packaged one).")
    model_precision: Literal["auto", "int8", "float16"] = Field(
        "auto", description="auto: int8 where its recorded parity with float16 holds, "
                            "else float16.")


class RulesConfig(Strict):
    rating_window_s: float = Field(10.0, ge=2, le=60, description="Time to press a rating key.")
    off_seat_alert_s: tuple[float, float, float] = Field(
        (120.0, 300.0, 600.0), description="Seat empty this long raises alert level 1, 2, 3."
    )
    min_transaction_s: float = Field(
        0.0, ge=0, le=300, description="Shorter customer visits are not transactions."
    )

    @model_validator(mode="after")
    def _ascending(self) -> RulesConfig:
        a = self.off_seat_alert_s
        if not (0 < a[0] < a[1] < a[2] <= 86400):
            raise ValueError(f"off_seat_alert_s must be strictly ascending and > 0, got {list(a)}")
        return self


class RecordingConfig(Strict):
    pre_roll_s: float = Field(3.0, ge=0, le=30, description="Recorded before a start.")
    post_roll_s: float = Field(9.0, ge=0, le=60, description="Recorded after an end.")
    record_off_seat: bool = Field(True, description="Record while the seat is empty in shift.")


class Shift(Strict):
    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = Field(
        ..., min_length=1, max_length=7, description="Weekdays this shift applies to."
    )
    start: dt.time = Field(..., description="Local start time, HH:MM.")
    end: dt.time = Field(..., description="Local end time, HH:MM (after start).")

    @model_validator(mode="after")
    def _start_before_end(self) -> Shift:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class ScheduleConfig(Strict):
    shifts: tuple[Shift, ...] = Field(
        (), max_length=64, description="Opening hours; none means always open."
    )
    states: tuple[StatePeriod, ...] = Field(
        (), max_length=64, description="Planned closed/away periods (docs/window-states.md)."
    )


class UploadWindow(Strict):
    start: dt.time = Field(..., description="Local time uploads may start, HH:MM.")
    end: dt.time = Field(..., description="Local time uploads stop, HH:MM (after start).")

    @model_validator(mode="after")
    def _start_before_end(self) -> UploadWindow:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class SyncConfig(Strict):
    hq_url: str = Field(..., min_length=8, max_length=256, pattern=r"^https://",
                        description="HQ base URL (HTTPS only).")
    identity_dir: Path | None = Field(None,
                                      description="Unit identity (default data_dir/identity).")
    batch_events: int = Field(100, ge=1, le=500, description="Events per request at most.")
    batch_bytes: int = Field(256 * 1024, ge=4096, le=2 * 1024 * 1024,
                             description="JSON bytes per event request at most.")
    chunk_bytes: int = Field(1024 * 1024, ge=64 * 1024, le=8 * 1024 * 1024,
                             description="Clip bytes per upload request (a drop re-sends one).")
    upload_bandwidth: int | None = Field(None, ge=8_000, le=125_000_000,
                                         description="Clip upload cap in bytes/s (shared uplink).")
    upload_windows: tuple[UploadWindow, ...] = Field(
        (), max_length=8, description="Local hours clips may upload; none means any time.")
    poll_s: float = Field(5.0, ge=0.5, le=300, description="Pause when nothing is waiting.")
    config_poll_s: float = Field(300.0, ge=5, le=86400,
                                 description="How often to ask HQ for a new roster/schedule/rules.")
    backoff_base_s: float = Field(2.0, ge=0.1, le=60, description="First retry delay ceiling.")
    backoff_cap_s: float = Field(300.0, ge=1, le=3600, description="Longest retry delay.")


class RetentionConfig(Strict):
    retention_days: float = Field(30.0, ge=0, le=3650,
                                  description="Keep clips HQ acknowledged this long, then delete.")
    low_water: float = Field(0.15, ge=0.01, le=0.9,
                             description="Free-space fraction below which synced clips go early.")
    emergency_floor: float = Field(
        0.05, ge=0.0, le=0.5,
        description="Free-space fraction below which unsynced clips go too (with an alert).")
    check_every_s: float = Field(60.0, ge=1, le=3600, description="How often to check the disk.")

    @model_validator(mode="after")
    def _floor_below_low_water(self) -> RetentionConfig:
        if self.emergency_floor > self.low_water:
            raise ValueError(f"emergency_floor ({self.emergency_floor}) must be <= low_water "
                             f"({self.low_water})")
        return self


class LoggingConfig(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")


class UnitConfig(Strict):
    """The whole unit.toml."""

    unit: UnitSection = Field(default_factory=UnitSection)  # type: ignore[arg-type]
    camera: CameraConfig
    microphone: MicrophoneConfig = Field(default_factory=SilentMicConfig)  # type: ignore[arg-type]
    keypad: KeypadConfig | None = Field(default_factory=KeypadConfig)  # type: ignore[arg-type]
    badge: BadgeConfig | None = Field(default_factory=SerialBadgeConfig)  # type: ignore[arg-type]
    roster: RosterConfig = Field(default_factory=RosterConfig)  # type: ignore[arg-type]
    zones: dict[str, ZoneConfig] = Field(default_factory=_default_zones)
    vision: VisionConfig = Field(default_factory=VisionConfig)  # type: ignore[arg-type]
    rules: RulesConfig = Field(default_factory=RulesConfig)  # type: ignore[arg-type]
    recording: RecordingConfig = Field(default_factory=RecordingConfig)  # type: ignore[arg-type]
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)  # type: ignore[arg-type]
    logging: LoggingConfig = Field(default_factory=LoggingConfig)  # type: ignore[arg-type]
    retention: RetentionConfig = Field(default_factory=RetentionConfig)  # type: ignore[arg-type]
    sync: SyncConfig | None = Field(None, description="HQ sync (none: the unit keeps all locally).")
    queue: QueueConfig | None = Field(None, description="The hall's queue machine (none: no feed).")
    window_states: WindowStatesConfig = Field(
        default_factory=WindowStatesConfig,  # type: ignore[arg-type]
        description="State cards and customer texts (docs/window-states.md).")
    role: Literal["counter", "hall"] = Field(
        "counter", description="counter: one service counter; hall: people per waiting area.")
    hall: HallConfig | None = Field(None, description="The hall role's areas (role = \"hall\").")
    items: ItemsConfig = Field(default_factory=ItemsConfig,  # type: ignore[arg-type]
                               description="Left/taken items (on when zones.counter exists).")

    @model_validator(mode="after")
    def _zones_and_rolls(self) -> UnitConfig:
        missing = {"seat", "customer"} - set(self.zones)
        if missing:
            raise ValueError(f"zones must define {sorted(missing)} (roles seat and customer)")
        if counter_problems(self.zones):
            raise ValueError("; ".join(counter_problems(self.zones)))
        hold = self.zones["customer"].exit_hold_s
        if self.recording.post_roll_s < hold:
            # The end of a visit is only known exit_hold_s after the customer left;
            # a shorter post-roll could not be honoured by a writer that never rewinds.
            raise ValueError(
                f"recording.post_roll_s ({self.recording.post_roll_s}) must be >= "
                f"zones.customer.exit_hold_s ({hold})"
            )
        return self


    @model_validator(mode="after")
    def _hall_role(self) -> UnitConfig:
        if self.role == "hall" and self.hall is None:
            raise ValueError('role = "hall" needs a [hall] section with its areas')
        if self.role != "hall" and self.hall is not None:
            raise ValueError('a [hall] section needs role = "hall"')
        return self


class ConfigError(Exception):
    """Config could not be loaded; ``problems`` lists 'key.path: rule' lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


def _format_error(err: Any) -> str:
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (not allowed here)"
    elif err["type"] == "missing":
        msg = "required key is missing"
    shown = err.get("input")
    if err["type"] not in ("missing",) and not isinstance(shown, dict):
        msg += f" (got {shown!r})"
    # Cross-field rules are checked on the whole file; their message names the keys.
    return f"{loc}: {msg}" if loc else msg


def parse_config(data: dict[str, Any], source: str = "config") -> UnitConfig:
    """Validate a parsed TOML document; raises ConfigError listing every problem."""
    try:
        return UnitConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_format_error(e) for e in exc.errors()]) from None


def load_config(path: Path) -> UnitConfig:
    """Read and validate a unit.toml; raises ConfigError with every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return parse_config(data, str(path))
