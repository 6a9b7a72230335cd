"""STAND-IN for ``picamera2.platform``: the platform comes from the test rig, not /dev/video*."""

from enum import Enum

from .standin import RIG


class Platform(Enum):
    VC4 = 0
    PISP = 1


def get_platform() -> Platform:
    """VC4 (Pi 4, has the H.264 block) or PISP (Pi 5), as the rig says."""
    return Platform.PISP if RIG.platform == "PISP" else Platform.VC4
