"""``[queue]`` section: the hall's queue machine (docs/queue-protocol.md), chosen by ``type``."""

from __future__ import annotations

import re
import urllib.parse
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from hal.config_base import Strict

QueueName = Annotated[str, Field(min_length=1, max_length=32,
                                 pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
_SERIAL_SCHEMES = ("loop", "spy", "socket", "rfc2217", "hwgrep", "alt")


class QueueAlertRule(Strict):
    above: int = Field(10, ge=0, le=9998, description="Alert when more than this many wait...")
    for_s: float = Field(300.0, ge=0, le=14400, description="...for this long (seconds).")
    clear_at_or_below: int = Field(7, ge=0, le=9998,
                                   description="Clear once at most this many wait...")
    clear_for_s: float = Field(60.0, ge=0, le=3600, description="...for this long (seconds).")

    @model_validator(mode="after")
    def _hysteresis(self) -> QueueAlertRule:
        if self.clear_at_or_below >= self.above:
            raise ValueError(f"clear_at_or_below ({self.clear_at_or_below}) must be below "
                             f"above ({self.above})")
        return self


class _QueueCommon(Strict):
    counter: QueueName | None = Field(
        None, description="This counter's name in the queue system (default: unit.counter_id).")
    stale_after_s: float = Field(15.0, ge=2, le=3600,
                                 description="No valid line/poll this long: the feed is lost.")
    ticket_hold_s: float = Field(300.0, ge=10, le=3600,
                                 description="A called ticket waits this long for a customer.")
    attach_open_s: float = Field(
        20.0, ge=0, le=300,
        description="A call joins a transaction open at most this long (else the next one).")
    alert: QueueAlertRule | None = Field(default_factory=QueueAlertRule,  # type: ignore[arg-type]
                                         description="Threshold for every service.")
    services: dict[QueueName, QueueAlertRule] = Field(
        default_factory=dict, max_length=32, description="Per-service thresholds.")


class SerialQueueConfig(_QueueCommon):
    type: Literal["serial"] = Field(..., description="Lines $...*CRC on a serial port.")
    url: str = Field("/dev/counterunit-queue", min_length=1, max_length=256,
                     description="pyserial URL: a device path, a pty path or scheme://.")
    baudrate: int = Field(9600, ge=1200, le=921600, description="Serial speed.")

    @field_validator("url")
    @classmethod
    def _serial_url(cls, v: str) -> str:
        if v.startswith("/"):
            return v
        m = re.fullmatch(r"([a-z0-9]+)://(.*)", v)
        if m is None or m.group(1) not in _SERIAL_SCHEMES:
            raise ValueError(f"must be a device path (/dev/...) or one of "
                             f"{', '.join(s + '://' for s in _SERIAL_SCHEMES)}")
        if m.group(1) in ("socket", "rfc2217") and not re.fullmatch(
                r"[^:/]+:\d{1,5}(/.*)?|\[[0-9a-fA-F:]+\]:\d{1,5}", m.group(2)):
            raise ValueError(f"{m.group(1)}:// needs host:port")
        return v


class HttpQueueConfig(_QueueCommon):
    type: Literal["http"] = Field(..., description="A JSON snapshot polled over HTTP.")
    url: str = Field(..., min_length=8, max_length=512, description="http(s):// URL to GET.")
    poll_s: float = Field(5.0, ge=0.5, le=300, description="Seconds between polls.")
    timeout_s: float = Field(3.0, ge=0.2, le=60, description="Per-request timeout.")
    max_bytes: int = Field(256 * 1024, ge=1024, le=8 * 1024 * 1024,
                           description="Larger answers are refused.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        u = urllib.parse.urlsplit(v)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("must be http://host[:port]/path or https://...")
        try:
            u.port  # noqa: B018 (raises on a bad port)
        except ValueError as exc:
            raise ValueError(f"bad port: {exc}") from None
        return v

    @model_validator(mode="after")
    def _polls_fit(self) -> HttpQueueConfig:
        if self.stale_after_s < 2 * self.poll_s:
            raise ValueError(f"stale_after_s ({self.stale_after_s}) must be at least twice "
                             f"poll_s ({self.poll_s})")
        if self.timeout_s >= self.poll_s * 2:
            raise ValueError(f"timeout_s ({self.timeout_s}) must be below 2 x poll_s")
        return self


QueueConfig = Annotated[SerialQueueConfig | HttpQueueConfig, Field(discriminator="type")]
