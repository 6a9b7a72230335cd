"""The counter against its reference (vision/items/image.py) on a rendered desk."""

from __future__ import annotations

import numpy as np
import pytest

from vision.compose.spec import SceneSpec
from vision.items.cases import COUNTER_BOX
from vision.items.image import CompareParams, changed_mask, prepare
from vision.items.scenes import ItemScene, ItemsRenderer, Prop, Shadow
from vision.zones import Zone

ZONE = Zone("counter", *COUNTER_BOX)
P = CompareParams()


def counter(scene: ItemScene, t: float, gain: float = 1.0) -> np.ndarray:
    img = ItemsRenderer(scene).frame(t)
    if gain != 1.0:
        img = np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    return prepare(ZONE.crop(img), P)


EMPTY = ItemScene(SceneSpec(10, size=(640, 360)))
REF = counter(EMPTY, 0)


@pytest.mark.parametrize("gain", [0.6, 1.4])
def test_global_lighting_changes_nothing(gain: float) -> None:
    assert changed_mask(counter(EMPTY, 0, gain), REF, P).sum() == 0


def test_soft_shadow_changes_nothing() -> None:
    shadow = ItemScene(EMPTY.spec, shadows=(Shadow(0, 10, 0.5, 0.5),))
    assert changed_mask(counter(shadow, 5), REF, P).sum() == 0


@pytest.mark.parametrize("obj", ["cup", "apple", "box", "cards", "paper"])
def test_objects_change_their_blocks(obj: str) -> None:
    scene = ItemScene(EMPTY.spec, props=(Prop(obj, 0.5, 0, 10),))
    mask = changed_mask(counter(scene, 1), REF, P)
    cols = np.nonzero(mask.any(0))[0]
    assert mask.sum() >= 4
    mid = mask.shape[1] / 2
    assert cols.min() > mid - 8 and cols.max() < mid + 8  # only where the object lies
