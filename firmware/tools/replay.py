"""``counterunit replay``: the whole unit over a recorded video, media time as the clock."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from firmware.config.unit import UnitConfig, _default_zones, load_config, parse_config
from firmware.system.clock import MediaClock
from firmware.tools.replay_progress import replay_progress
from firmware.tools.script import ScriptedBadgeReader, ScriptedKeypad, load_script
from firmware.wiring.runner import Overrides, open_unit
from sync.schema import EventEnvelope


def replay_config(video: Path, out: Path, *, base: UnitConfig | None = None,
                  zones: list[tuple[str, tuple[float, float, float, float]]] | None = None,
                  audio: Path | None = None) -> UnitConfig:
    """The config a replay runs with: ``base`` with the camera, microphone and data
    folder replaced, and zones overridden."""
    data: dict[str, Any] = base.model_dump(exclude_none=True) if base else {}
    camera = {k: v for k, v in data.get("camera", {}).items() if k not in ("path", "realtime")}
    # A camera-like video (a unit's own clip, say) is recorded as it is, not re-encoded.
    data["camera"] = {**camera, "type": "file", "path": video, "realtime": False,
                      "copy_h264": True}
    data["microphone"] = ({"type": "wav", "path": audio, "realtime": False} if audio
                          else {"type": "silent"})
    data.setdefault("unit", {})["data_dir"] = out
    for name, (x0, y0, x1, y1) in zones or []:
        zone = data.setdefault("zones", {}).setdefault(name, {})
        zone.update({"x0": x0, "y0": y0, "x1": x1, "y1": y1})
    if zones:
        # Overriding one zone keeps the default box of the other.
        for name, zone_cfg in _default_zones().items():
            data["zones"].setdefault(name, zone_cfg.model_dump())
    return parse_config(data, "replay config")


def event_json(env: EventEnvelope) -> str:
    """One replay output line: ``type``, ``t`` (media seconds), then the event's fields."""
    return json.dumps({"type": env.type, "t": round(env.mono, 3), **env.data},
                      sort_keys=False, default=str)


def replay(args: argparse.Namespace) -> int:
    base = load_config(args.config) if args.config else None
    out: Path = args.out or Path(tempfile.mkdtemp(prefix="counterunit-replay-"))
    cfg = replay_config(args.video, out, base=base, zones=args.zone, audio=args.audio)
    items = load_script(args.script) if args.script else []
    clock = MediaClock()
    overrides = Overrides(ScriptedKeypad(items, clock), ScriptedBadgeReader(items, clock),
                          replace_serial=True)
    lines: list[str] = []

    def emit(env: EventEnvelope) -> None:
        if args.json:
            print(event_json(env), flush=True)
        else:
            lines.append(f"{env.mono:9.2f}  {env.type}")

    if cfg.role == "hall":  # a hall unit has no keypad or badge to script
        from firmware.hall.unit import open_hall_unit

        hall = open_hall_unit(cfg, media_time=True, media_clock=clock, on_event=emit)
        try:
            with replay_progress(args.video, clock, enabled=not args.json):
                hall.run()
        finally:
            hall.store.close()
        print(f"replay data in {out}", file=sys.stderr)
        return 0
    unit = open_unit(cfg, media_time=True, media_clock=clock, overrides=overrides, on_event=emit)
    try:
        with replay_progress(args.video, clock, enabled=not args.json):
            unit.run()
    finally:
        unit.store.close()
    if not args.json:
        print("\n".join(lines))
    print(f"replay data in {out}", file=sys.stderr)
    return 0
