"""The int8 pipeline decides presence as the float16 one does, on >= 99% of zone-frames.

Every composed scene except the 5-minute still one (whose 1500 frames are a
latched zone) is rendered at 640x360 and 5 fps and fed to two SceneAnalyzers,
one per model set (vision.models.parity). Per zone and frame the raw
evidence, the decided state and the final backdated intervals are compared;
the figure is the lowest of the three. Most zone-frames are decided by the shared
foreground gate and latch without a model, so the same figure is also taken over the
zone-frames where a model ran, and that one is held to the threshold too (the
overall figure alone would pass with a model that disagreed on a tenth of its
passes). Run with ``-s`` to see both counts. ~35 s.
"""

from __future__ import annotations

import pytest

from vision.model_files import load_int8_manifest, resolve_model_files
from vision.models.parity import THRESHOLD, measure


@pytest.mark.slow
def test_int8_presence_decisions_match_float16() -> None:
    result = measure()
    print("\n" + result.summary())
    print(f"zone-frames {result.zone_frames}, of which a model ran on {result.model_frames}")
    assert result.zone_frames > 5000
    assert result.model_frames > 500  # the scenes do reach the models
    assert result.agreement >= THRESHOLD, result.summary()
    assert result.model_agreement >= THRESHOLD, result.summary()
    # What the manifest recorded for these files still holds, so `auto` may pick int8.
    recorded = load_int8_manifest()["parity"]
    assert recorded["holds"] and recorded["agreement"] >= THRESHOLD
    assert resolve_model_files("auto").precision == "int8"
