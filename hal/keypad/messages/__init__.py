"""Keypad wire messages: one frozen dataclass per message type and its payload codec.

Pure: no I/O. Field ranges are checked when a message is built, so an out-of-range
message can neither be sent nor come out of the parser. ``seq`` is the sender's frame
sequence number from the frame header (see docs/keypad-protocol.md). The classes live
by direction (to_keypad, to_unit) beside what they share (base); this module is the
registry and the payload decoder, and the one name to import them from.
"""

from __future__ import annotations

from hal.keypad.fields import PayloadError, ProtocolError, Reader, fit_utf8
from hal.keypad.messages.base import (
    MAX_PAYLOAD,
    NAME_MAX_BYTES,
    PHOTO_ID_MAX_BYTES,
    STAFF_NUMBER_MAX_BYTES,
    STATE_CODES,
    STATE_TEXT_MAX_BYTES,
    TEXT_MAX_BYTES,
    WINDOW_STATES,
    Ack,
    AckStatus,
    MsgType,
)
from hal.keypad.messages.to_keypad import (
    Clear,
    Ping,
    PromptRating,
    SetBrightness,
    SetVolume,
    ShowMessage,
    ShowStaff,
    ShowWindowState,
    ThankYou,
)
from hal.keypad.messages.to_unit import (
    Fault,
    Heartbeat,
    Key,
    ManualRecord,
    PleaseRate,
    Pong,
    RatingKey,
    WindowStateKey,
)

__all__ = [
    "MAX_PAYLOAD", "NAME_MAX_BYTES", "PHOTO_ID_MAX_BYTES", "STAFF_NUMBER_MAX_BYTES",
    "STATE_CODES", "STATE_TEXT_MAX_BYTES", "TEXT_MAX_BYTES", "WINDOW_STATES",
    "Ack", "AckStatus", "Clear", "Fault", "Heartbeat", "Key", "ManualRecord", "MsgType",
    "PayloadError", "Ping", "PleaseRate", "Pong", "PromptRating", "ProtocolError",
    "RatingKey", "SetBrightness", "SetVolume", "ShowMessage", "ShowStaff",
    "ShowWindowState", "ThankYou", "WindowStateKey", "fit_utf8",
]

Message = (
    ShowStaff
    | PromptRating
    | ThankYou
    | Clear
    | ShowMessage
    | SetBrightness
    | SetVolume
    | Ping
    | ShowWindowState
    | Key
    | PleaseRate
    | ManualRecord
    | Heartbeat
    | Fault
    | Pong
    | RatingKey
    | WindowStateKey
    | Ack
)

MESSAGE_CLASSES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        ShowStaff,
        PromptRating,
        ThankYou,
        Clear,
        ShowMessage,
        SetBrightness,
        SetVolume,
        Ping,
        ShowWindowState,
        Key,
        PleaseRate,
        ManualRecord,
        Heartbeat,
        Fault,
        Pong,
        RatingKey,
        WindowStateKey,
        Ack,
    )
}

UNIT_TO_KEYPAD: frozenset[int] = frozenset(t for t in MESSAGE_CLASSES if t < 0x80) | {MsgType.ACK}
KEYPAD_TO_UNIT: frozenset[int] = frozenset(t for t in MESSAGE_CLASSES if t >= 0x80)


def decode_payload(msg_type: int, seq: int, payload: bytes) -> Message:
    """Build the message for a known type; raises PayloadError on a malformed payload."""
    cls = MESSAGE_CLASSES[msg_type]
    reader = Reader(payload)
    try:
        msg = cls.parse(reader, seq)
    except ProtocolError as exc:
        raise PayloadError(str(exc)) from None
    reader.end()
    return msg
