"""``[keypad]`` section: the evaluator keypad's line and its rating keys (pydantic only)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from hal.config_base import Strict


class RatingKey(Strict):
    code: int = Field(..., ge=0, le=255, description="Key code the keypad sends.")
    rating: int = Field(..., ge=1, le=5, description="Rating this key stands for.")
    label: str = Field("", max_length=40, description="Text on the key.")


def _default_keys() -> tuple[RatingKey, ...]:
    labels = ["very dissatisfied", "dissatisfied", "neutral", "satisfied", "very satisfied"]
    return tuple(RatingKey(code=i + 1, rating=i + 1, label=label) for i, label in enumerate(labels))


class KeypadConfig(Strict):
    type: Literal["serial"] = Field(
        "serial", description="The evaluator keypad on a serial line (docs/keypad-protocol.md)."
    )
    url: str = Field(
        "/dev/counterunit-keypad",
        min_length=1,
        max_length=256,
        description="pyserial URL: a device, a pty path or loop://.",
    )
    baudrate: int = Field(115200, ge=1200, le=921600, description="Serial speed.")
    keys: tuple[RatingKey, ...] = Field(
        default_factory=_default_keys,
        min_length=3,
        max_length=5,
        description="Rating keys (3, 4 or 5).",
    )
    dissatisfied_at_or_below: int = Field(
        1, ge=1, le=5, description="A rating at or below this raises a dissatisfied alert."
    )

    @model_validator(mode="after")
    def _distinct_codes(self) -> KeypadConfig:
        codes = [k.code for k in self.keys]
        if len(set(codes)) != len(codes):
            raise ValueError(f"key codes must be distinct, got {codes}")
        return self
