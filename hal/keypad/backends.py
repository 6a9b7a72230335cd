"""The keypad back-ends by ``[keypad] type``, loaded on demand."""

from __future__ import annotations

from hal.keypad.config import KeypadConfig
from hal.registry import Backend

KEYPADS = (
    Backend("serial", KeypadConfig, "hal.keypad.serial_keypad:SerialKeypad",
            diagnose="hal.keypad.diagnose:diagnose_serial"),
)
