"""``[badge]`` section: one model per badge reader back-end, chosen by ``type`` (pydantic only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from hal.config_base import Strict


class SerialBadgeConfig(Strict):
    type: Literal["serial"] = Field("serial", description="A reader sending one UID per line.")
    url: str = Field(
        "/dev/counterunit-badge",
        min_length=1,
        max_length=256,
        description="pyserial URL of the badge reader (one UID per line).",
    )
    baudrate: int = Field(9600, ge=1200, le=921600, description="Serial speed.")


class EvdevBadgeConfig(Strict):
    type: Literal["evdev"] = Field(..., description="A USB reader that types the UID.")
    device: Path = Field(
        ..., description="Input device, e.g. /dev/input/by-id/usb-...-event-kbd (stable name)."
    )
    grab: bool = Field(True, description="Grab the device so UIDs never reach a console.")


def _badge_type(value: Any) -> str:
    # ``type`` may be left out for the common serial reader.
    if isinstance(value, dict):
        return str(value.get("type", "serial"))
    return str(getattr(value, "type", "serial"))


BadgeConfig = Annotated[
    Annotated[SerialBadgeConfig, Tag("serial")] | Annotated[EvdevBadgeConfig, Tag("evdev")],
    Discriminator(_badge_type),
]
