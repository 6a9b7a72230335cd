"""The ``[hall]`` section of unit.toml: a unit with ``role = "hall"`` counts people per area.

Example::

    role = "hall"
    [hall.areas.waiting]
    points = [[0.0, 0.3], [0.6, 0.3], [0.6, 1.0], [0.0, 1.0]]   # or rect = [x0, y0, x1, y1]
    raise_at = 12        # people
    clear_at = 8         # hysteresis: cleared only at or below this
    raise_hold_s = 60
    clear_hold_s = 60

Coordinates are fractions of the frame (0..1, x right, y down); a corner
outside the frame is a config error naming the area and the corner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from firmware.config.base import Fraction, Identifier, Strict
from vision.hall.geometry import PersonScale, Point, rect


def _check_point(p: tuple[float, float], where: str) -> None:
    if not (0.0 <= p[0] <= 1.0 and 0.0 <= p[1] <= 1.0):
        raise ValueError(f"{where} ({p[0]:g}, {p[1]:g}) is outside the frame "
                         "(x and y are fractions of the frame, 0..1)")


def _area2(poly: tuple[Point, ...]) -> float:
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(poly, poly[1:] + poly[:1],
                                                             strict=True))) / 2


class HallArea(Strict):
    """One waiting area and its crowd thresholds."""

    rect: tuple[float, float, float, float] | None = Field(
        None, description="x0, y0, x1, y1 as fractions of the frame (or give points).")
    points: tuple[tuple[float, float], ...] | None = Field(
        None, min_length=3, max_length=32,
        description="Polygon corners [x, y] as fractions of the frame (or give rect).")
    raise_at: int = Field(..., ge=1, le=500, description="People at or above this are a crowd.")
    clear_at: int | None = Field(
        None, ge=0, le=499,
        description="Cleared only at or below this many (default raise_at - 2, at least 0).")
    raise_hold_s: float = Field(30.0, ge=0, le=3600, description="Crowded this long -> raised.")
    clear_hold_s: float = Field(30.0, ge=0, le=3600, description="Quiet this long -> cleared.")
    record: bool = Field(True, description="Record a clip while the crowd alert is raised.")

    @model_validator(mode="after")
    def _shape(self) -> HallArea:
        if (self.rect is None) == (self.points is None):
            raise ValueError("give exactly one of rect or points")
        if self.rect is not None:
            x0, y0, x1, y1 = self.rect
            _check_point((x0, y0), "rect corner x0, y0")
            _check_point((x1, y1), "rect corner x1, y1")
            if not (x1 - x0 >= 0.02 and y1 - y0 >= 0.02):
                raise ValueError("rect needs x0 < x1 and y0 < y1, each side at least 0.02")
        else:
            assert self.points is not None
            for i, p in enumerate(self.points):
                _check_point(p, f"points[{i}]")
            if _area2(self.polygon()) < 0.0004:
                raise ValueError("points enclose (almost) no area")
        if self.threshold_clear() >= self.raise_at:
            raise ValueError(f"clear_at ({self.clear_at}) must be below raise_at "
                             f"({self.raise_at}): that gap is the hysteresis")
        return self

    def polygon(self) -> tuple[Point, ...]:
        """The area as polygon corners."""
        if self.rect is not None:
            return rect(*self.rect)
        assert self.points is not None
        return tuple((float(x), float(y)) for x, y in self.points)

    def threshold_clear(self) -> int:
        """``clear_at``, or its default."""
        return self.clear_at if self.clear_at is not None else max(0, self.raise_at - 2)


class PersonScaleConfig(Strict):
    """How tall a person standing at a given image row looks (measured at mounting)."""

    far_row: Fraction = Field(0.156, description="Foot row of a far person (fraction of height).")
    far_height: Fraction = Field(0.049, description="That far person's height (fraction).")
    near_row: Fraction = Field(0.521, description="Foot row of a near person (fraction).")
    near_height: Fraction = Field(0.153, description="That near person's height (fraction).")
    fill: float = Field(0.26, ge=0.05, le=1.0,
                        description="Share of height squared a silhouette covers.")

    @model_validator(mode="after")
    def _rows(self) -> PersonScaleConfig:
        if self.near_row - self.far_row < 0.05:
            raise ValueError("near_row must be at least 0.05 below far_row")
        if self.far_height <= 0 or self.near_height <= 0:
            raise ValueError("far_height and near_height must be above 0")
        return self

    def scale(self) -> PersonScale:
        return PersonScale(self.far_row, self.far_height, self.near_row, self.near_height,
                           self.fill)


class HallCounterConfig(Strict):
    """Which people counter the hall role runs (docs/eval.md, "The hall suite")."""

    type: Literal["background", "tiled_pose"] = Field(
        "background", description="background: median background and blobs (the default, "
        "MAE 0.65 on vtest); tiled_pose: the pose detector over tiles (MAE 0.99, far costlier).")
    tile_px: int = Field(224, ge=96, le=1024, description="tiled_pose: tile size in pixels.")
    overlap: float = Field(0.33, ge=0.0, le=0.75, description="tiled_pose: tile overlap share.")
    min_score: float = Field(0.4, ge=0.05, le=0.99, description="tiled_pose: detection score.")
    iou: float = Field(0.1, ge=0.01, le=0.9,
                       description="tiled_pose: overlap of face boxes that are one person.")
    threads: int = Field(1, ge=1, le=8, description="tiled_pose: interpreter threads.")
    models_dir: Path | None = Field(
        None, description="tiled_pose: folder of pose_detection.tflite (default: packaged).")


def _default_areas() -> dict[str, HallArea]:
    return {"hall": HallArea.model_validate({"rect": (0.0, 0.0, 1.0, 1.0), "raise_at": 12})}


class HallConfig(Strict):
    """The hall role's counting and its areas."""

    areas: dict[Identifier, HallArea] = Field(
        default_factory=_default_areas, min_length=1, max_length=16,
        description="Waiting areas by name; a person counts in the first area holding their feet.")
    person_scale: PersonScaleConfig = Field(
        default_factory=PersonScaleConfig,  # type: ignore[arg-type]
        description="Person size by image row.")
    count_every_s: float = Field(1.0, ge=0.2, le=60, description="Seconds between counts.")
    background_history: int = Field(20, ge=3, le=200,
                                    description="Samples in the median background.")
    background_every_s: float = Field(0.5, ge=0.1, le=60,
                                      description="Seconds between background samples.")
    threshold: int = Field(30, ge=5, le=200,
                           description="Colour difference (0..255) that makes a pixel foreground.")
    analysis_width: int = Field(384, ge=96, le=1920, description="Pixels wide the count works at.")
    counter: HallCounterConfig = Field(
        default_factory=HallCounterConfig,  # type: ignore[arg-type]
        description="The people counter (type background or tiled_pose).")
