"""The validated unit config as the state machine's parameters and the pre-roll ring's size."""

from __future__ import annotations

from firmware.config.unit import UnitConfig
from firmware.machine.model import Rules


def rules_from_config(cfg: UnitConfig) -> Rules:
    """Map the validated config onto the state machine's parameters."""
    cust = cfg.zones["customer"]
    keys = cfg.keypad.keys if cfg.keypad else ()
    return Rules(
        rating_window_s=cfg.rules.rating_window_s,
        key_ratings=tuple((k.code, k.rating) for k in keys) or Rules().key_ratings,
        dissatisfied_at_or_below=cfg.keypad.dissatisfied_at_or_below if cfg.keypad else 1,
        off_seat_alert_s=cfg.rules.off_seat_alert_s,
        pre_roll_s=cfg.recording.pre_roll_s,
        post_roll_s=cfg.recording.post_roll_s,
        record_off_seat=cfg.recording.record_off_seat,
        min_transaction_s=cfg.rules.min_transaction_s,
        customer_grace_s=cfg.rules.rating_window_s + cust.exit_hold_s + 1.0,
    )


# Decisions can trail the first evidence by up to ~3 s (vision's confirmation
# window) on top of the hysteresis; one keyframe interval more for the nearest keyframe.
EVIDENCE_LOOKBACK_S = 4.0


def ring_seconds(cfg: UnitConfig) -> float:
    """How far back the pre-roll ring must reach: a clip starts pre-roll before an
    arrival or departure that is only decided after the dwell or hold."""
    hysteresis = max(max(z.enter_dwell_s, z.exit_hold_s) for z in cfg.zones.values())
    return cfg.recording.pre_roll_s + hysteresis + EVIDENCE_LOOKBACK_S
