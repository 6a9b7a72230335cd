"""Map the unit config onto the vision package (zones, hysteresis, model threads)."""

from __future__ import annotations

from firmware.config import UnitConfig
from vision.analyzer import SceneAnalyzer
from vision.params import AnalyzerParams
from vision.presence import PresenceParams
from vision.zones import Zone


def build_analyzer(cfg: UnitConfig) -> SceneAnalyzer:
    """Load the models and set up one analyzer per configured zone."""
    zones = [Zone(name, z.x0, z.y0, z.x1, z.y1) for name, z in cfg.zones.items()]
    presence = {name: PresenceParams(z.enter_dwell_s, z.exit_hold_s)
                for name, z in cfg.zones.items()}
    params = AnalyzerParams(threads=cfg.vision.threads)
    return SceneAnalyzer(zones, params, cfg.vision.models_dir, presence_by_zone=presence)
