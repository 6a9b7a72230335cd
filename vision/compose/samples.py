"""scikit-image's sample photographs: the one module that imports scikit-image.

The composed test scenes (the demo, the evaluation suites) and the int8 calibration set
are cut from these photographs. scikit-image, and the scipy it brings, is the ``demo``
extra: a unit's image leaves it out (requirements/device.txt), so it is imported here,
when a photograph is first asked for, and its absence is a clear error, not a traceback.
"""

from __future__ import annotations

import numpy as np


class SampleImagesMissing(RuntimeError):
    """scikit-image is not installed; the message says how to get it."""


def sample(name: str) -> np.ndarray:
    """scikit-image's sample photograph ``name`` (e.g. ``"astronaut"``) as an array."""
    try:
        import skimage.data
    except ImportError as exc:
        raise SampleImagesMissing(
            f"the sample photograph {name!r} needs scikit-image, which is not installed: "
            "it is the 'demo' extra (pip install 'counterunit[demo]'; the development "
            "lock requirements/dev.txt has it), not part of a unit's install"
        ) from exc
    return np.asarray(getattr(skimage.data, name)())
