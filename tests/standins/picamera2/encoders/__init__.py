"""STAND-IN for ``picamera2.encoders``: as in the real package, ``H264Encoder`` is the
hardware (V4L2) encoder on VC4 and an alias of ``LibavH264Encoder`` elsewhere."""

from ..platform import Platform, get_platform
from .encoder import Encoder, Quality
from .libav_h264_encoder import LibavH264Encoder

_hw_encoder_available = get_platform() == Platform.VC4

if _hw_encoder_available:
    from .h264_encoder import H264Encoder
else:
    from .libav_h264_encoder import LibavH264Encoder as H264Encoder  # type: ignore[assignment]

__all__ = ["Encoder", "H264Encoder", "LibavH264Encoder", "Quality"]
