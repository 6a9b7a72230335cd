"""The camera back-end chosen by ``camera.type`` (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config.unit import UnitConfig
from hal.camera.backends import CAMERAS
from hal.camera.base import Camera
from hal.registry import open_backend

Clock = Callable[[], float]


def build_camera(cfg: UnitConfig, clock: Clock) -> Camera:
    camera: Camera = open_backend(CAMERAS, cfg.camera, clock)
    return camera
