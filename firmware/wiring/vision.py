"""Map the unit config onto the vision package (zones, hysteresis, models, threads)."""

from __future__ import annotations

from firmware.config.items import COUNTER
from firmware.config.unit import UnitConfig
from vision.analyzer import SceneAnalyzer
from vision.model_files import Precision, resolve_model_files
from vision.params import AnalyzerParams
from vision.presence import PresenceParams
from vision.track.identity import IdentityParams
from vision.zones import Zone


def build_analyzer(cfg: UnitConfig) -> SceneAnalyzer:
    """Load the models (int8 or float16, per ``vision.model_precision``) and set up the zones.

    Raises vision.model_files.ModelSelectionError when ``int8`` is asked for and
    the int8 files are absent.
    """
    # The counter zone is watched for items (firmware/daemon/items_watch.py), not for people.
    people = {name: z for name, z in cfg.zones.items() if name != COUNTER}
    zones = [Zone(name, z.x0, z.y0, z.x1, z.y1) for name, z in people.items()]
    presence = {name: PresenceParams(z.enter_dwell_s, z.exit_hold_s)
                for name, z in people.items()}
    identity = {
        name: IdentityParams(enter_dwell_s=z.enter_dwell_s, hold_s=z.exit_hold_s,
                             check_gap_s=min(1.0, z.exit_hold_s),
                             same_distance=z.identity_distance,
                             startup_empty_s=min(3.0, z.exit_hold_s))
        for name, z in people.items() if z.identity
    }
    params = AnalyzerParams(threads=cfg.vision.threads)
    precision: Precision = cfg.vision.model_precision
    files = resolve_model_files(precision, cfg.vision.models_dir)
    return SceneAnalyzer(zones, params, files, presence_by_zone=presence,
                          identity_by_zone=identity)
