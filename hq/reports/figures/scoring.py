"""Scores and grades from figures and managers' inputs, by rules kept as data.

Pure logic: the rules (:class:`ScoringRules`) are kept as versions by
:mod:`hq.reports.entries.rules`, managers' inputs by :mod:`hq.reports.entries.inputs`.
The formula is documented with a worked example in docs/scoring.md:

- satisfaction part (0..100) = linear map of the satisfaction rate from ``floor_pct``
  (0 points) to ``target_pct`` (100 points), clamped; blended with the mystery-shopper
  result (0..100) at ``mystery_share`` when one was entered for the month;
- efficiency part (0..100) = weighted mean of handling (100 at or under
  ``target_handling_s``, else 100 × target / mean), attendance rate, and off-seat
  (100 minus ``points_per_unexcused_min`` per unexcused off-seat minute, clamped);
- knowledge and teamwork parts are the managers' 0..100 entries;
- score = sum of part × weight / 100; grade = first band whose ``min_score`` it reaches.

A part that cannot be computed (no rated transaction, no input entered) is listed in
:attr:`Score.missing`, and the score is taken over the remaining weights, rescaled to
100, so it is provisional: exports print both.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hq.reports.figures.metrics import Figures

PARTS = ("satisfaction", "efficiency", "knowledge", "teamwork")


class Weights(BaseModel):
    """Weights of the four parts, in points out of 100."""

    model_config = ConfigDict(extra="forbid")
    satisfaction: float = Field(default=40, ge=0, le=100, description="Satisfaction part weight.")
    efficiency: float = Field(default=30, ge=0, le=100, description="Efficiency part weight.")
    knowledge: float = Field(default=20, ge=0, le=100, description="Professional knowledge weight.")
    teamwork: float = Field(default=10, ge=0, le=100, description="Teamwork weight.")

    @model_validator(mode="after")
    def _sum(self) -> Weights:
        total = self.satisfaction + self.efficiency + self.knowledge + self.teamwork
        if abs(total - 100) > 1e-9:
            raise ValueError(f"weights must add up to 100, not {total:g}")
        return self


class SatisfactionRule(BaseModel):
    """How the satisfaction rate maps to the satisfaction part."""

    model_config = ConfigDict(extra="forbid")
    floor_pct: float = Field(default=0, ge=0, lt=100, description="Rate worth 0 points.")
    target_pct: float = Field(default=100, gt=0, le=100, description="Rate worth 100 points.")
    mystery_share: float = Field(default=0.25, ge=0, le=1,
                                 description="Share of the mystery-shopper result, if any.")

    @model_validator(mode="after")
    def _order(self) -> SatisfactionRule:
        if self.target_pct <= self.floor_pct:
            raise ValueError("satisfaction target_pct must be above floor_pct")
        return self


class EfficiencyRule(BaseModel):
    """How handling time, attendance and unexcused off-seat time make efficiency."""

    model_config = ConfigDict(extra="forbid")
    target_handling_s: float = Field(default=300, gt=0, le=7200,
                                     description="Mean handling time worth 100 points.")
    points_per_unexcused_min: float = Field(default=0.5, ge=0, le=100,
                                            description="Off-seat points lost per minute.")
    handling_weight: float = Field(default=0.4, ge=0, le=1, description="Share of handling.")
    attendance_weight: float = Field(default=0.4, ge=0, le=1, description="Share of attendance.")
    off_seat_weight: float = Field(default=0.2, ge=0, le=1, description="Share of off-seat.")

    @model_validator(mode="after")
    def _sum(self) -> EfficiencyRule:
        total = self.handling_weight + self.attendance_weight + self.off_seat_weight
        if abs(total - 1) > 1e-9:
            raise ValueError(f"efficiency weights must add up to 1, not {total:g}")
        return self


class Band(BaseModel):
    """A grade and the lowest score that earns it."""

    model_config = ConfigDict(extra="forbid")
    grade: str = Field(..., min_length=1, max_length=32, description="Grade name.")
    min_score: float = Field(..., ge=0, le=100, description="Lowest score of the band.")


def _default_bands() -> list[Band]:
    return [Band(grade="excellent", min_score=95), Band(grade="good", min_score=90),
            Band(grade="pass", min_score=80), Band(grade="fail", min_score=0)]


class ScoringRules(BaseModel):
    """One version of the scoring rules; the defaults are the seeds' sheets."""

    model_config = ConfigDict(extra="forbid")
    weights: Weights = Field(default_factory=lambda: Weights(), description="Part weights.")
    satisfaction: SatisfactionRule = Field(default_factory=lambda: SatisfactionRule(),
                                           description="Satisfaction formula.")
    efficiency: EfficiencyRule = Field(default_factory=lambda: EfficiencyRule(),
                                       description="Efficiency formula.")
    bands: list[Band] = Field(default_factory=_default_bands, min_length=1, max_length=10,
                              description="Grade bands, highest first; the last at 0.")

    @model_validator(mode="after")
    def _bands(self) -> ScoringRules:
        mins = [b.min_score for b in self.bands]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("bands must be listed highest min_score first, without repeats")
        if mins[-1] != 0:
            raise ValueError("the last band must start at 0 so every score has a grade")
        return self


@dataclass(frozen=True)
class Inputs:
    """What managers entered for a staff member and month (None: not entered)."""

    knowledge: float | None = None
    teamwork: float | None = None
    mystery: float | None = None


@dataclass(frozen=True)
class Score:
    """A score, its grade, its parts, what was missing and the rules version used."""

    score: float | None
    grade: str | None
    parts: dict[str, float | None]
    missing: tuple[str, ...]
    rules_version: int


def _clamp(v: float) -> float:
    return max(0.0, min(100.0, v))


def parts_of(f: Figures, inputs: Inputs, rules: ScoringRules) -> dict[str, float | None]:
    """The four parts (0..100, None when they cannot be computed)."""
    s, e = rules.satisfaction, rules.efficiency
    sat: float | None = None
    if f.satisfaction_pct is not None:
        sat = _clamp(100 * (f.satisfaction_pct - s.floor_pct) / (s.target_pct - s.floor_pct))
    if inputs.mystery is not None:
        sat = inputs.mystery if sat is None else (1 - s.mystery_share) * sat + \
            s.mystery_share * inputs.mystery
    eff: float | None = None
    subs: list[tuple[float, float]] = []
    if f.handling_mean_s is not None:
        subs.append((e.handling_weight, _clamp(
            100 * min(1.0, e.target_handling_s / max(f.handling_mean_s, 1e-9)))))
    if f.attendance_pct is not None:
        subs.append((e.attendance_weight, f.attendance_pct))
    unexcused_min = f.off_seat_by_excuse.get("unexcused", (0, 0.0))[1] / 60
    if subs:  # off-seat alone says nothing about a person who never worked
        subs.append((e.off_seat_weight, _clamp(100 - e.points_per_unexcused_min * unexcused_min)))
        w = sum(x for x, _ in subs)
        eff = sum(x * v for x, v in subs) / w if w > 0 else None
    return {"satisfaction": sat, "efficiency": eff, "knowledge": inputs.knowledge,
            "teamwork": inputs.teamwork}


def score(f: Figures, inputs: Inputs, rules: ScoringRules, version: int = 0) -> Score:
    """Score and grade of one staff member over one period (see the module docstring)."""
    parts = parts_of(f, inputs, rules)
    weights = rules.weights.model_dump()
    missing = tuple(p for p in PARTS if parts[p] is None)
    have = [p for p in PARTS if parts[p] is not None and weights[p] > 0]
    total_w = sum(weights[p] for p in have)
    if total_w <= 0:
        return Score(None, None, parts, missing, version)
    value = round(sum(weights[p] * (parts[p] or 0.0) for p in have) / total_w, 1)
    grade = next(b.grade for b in rules.bands if value >= b.min_score)
    return Score(value, grade, {k: None if v is None else round(v, 1) for k, v in parts.items()},
                 missing, version)

