"""vision.models.parity: the figure over zone-frames where a model ran, hand-worked."""

from __future__ import annotations

import pytest

from vision.models.parity import ParityResult, SceneParity


def scene(frames: int, ok: int, model: int, model_ok: int) -> SceneParity:
    """``frames`` zone-frames, ``ok`` agreeing on all three; of ``model`` zone-frames with
    a model pass, ``model_ok`` agree (the disagreements all fall on model frames)."""
    return SceneParity("s", frames, frames, ok, ok, ok, (model, model), model, model,
                       model_ok, model_ok, model_ok)


@pytest.mark.parametrize(("scenes", "overall", "on_model", "holds"), [
    # 5330 zone-frames, 683 with a model pass, 3 disagreements: both figures hold
    ([scene(5330, 5327, 683, 680)], 5327 / 5330, 680 / 683, True),
    # a model wrong on 1 pass in 20: 0.9936 overall still passes 0.99, 0.95 does not
    ([scene(5330, 5296, 683, 649)], 5296 / 5330, 649 / 683, False),
    # two scenes: the figure pools counts, it does not average rates
    ([scene(100, 100, 10, 10), scene(100, 99, 90, 89)], 199 / 200, 99 / 100, True),
])
def test_model_frame_agreement(scenes: list[SceneParity], overall: float, on_model: float,
                               holds: bool) -> None:
    result = ParityResult(tuple(scenes))
    assert result.agreement == pytest.approx(overall)
    assert result.agreement >= 0.99  # the old, all-frames figure passes every row
    assert result.model_agreement == pytest.approx(on_model)
    assert result.holds is holds
    assert result.model_frames == sum(s.model_frames for s in scenes)
    record = result.record({})
    assert record["model_frames"] == result.model_frames
    assert record["model_agreement"] == round(on_model, 5)
    assert "where a model ran" in result.summary()
