"""Replan options: how a replan trades cost against churn (stability weights, decay, the fence)
and how fast its first answer comes (the reach's extent, the first answer's gap)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.allocation import PROCUREMENT, PRODUCTION
from models.errors import ValidationError


@dataclass(frozen=True, kw_only=True)
class ReplanOptions:
    """How a replan trades cost against churn, and how fast the first answer comes."""

    stability_weight: float = 1.0
    """Cost per unit changed against the baseline in period 0 (before function weights and decay);
    0 makes the replan a cold solve of the disrupted network."""
    procurement_weight: float = 1.0
    production_weight: float = 1.0
    logistics_weight: float = 1.0
    decay: float = 0.7
    """Weight factor per period: a change t periods out costs decay^t of a change now."""
    fence_periods: int = 0
    """Decisions in the first F periods keep their baseline value unless a signal forces a cut."""
    fence_penalty: float = 1e4
    """Cost per unit a fenced decision is cut below its baseline value."""
    upstream_hops: int = 2
    """How far upstream of the disrupted flows the first answer may re-source."""
    recovery_periods: int = 2
    """Periods after the disruption has travelled through the network in which the first answer
    may still move decisions (to rebuild stock and clear backlog); later ones keep the baseline's."""
    first_answer_gap: float = 0.01
    """Relative MIP gap the first answer stops at (the request's gap where that is looser): it is a
    fast coordinated plan and the final replan's start, not the proof. A reach model with most
    decisions free can take far longer to prove a tight gap than the full model (an S regional surge
    under a 0.1% gap: 2.6 s against 0.46 s; 0.12 s to 1%)."""

    def __post_init__(self) -> None:
        for name in ("stability_weight", "procurement_weight", "production_weight", "logistics_weight"):
            value = getattr(self, name)
            if math.isnan(value) or value < 0 or math.isinf(value):
                raise ValidationError("replan options", "options", name, f"is {value}; it must be finite and >= 0")
        if not 0 < self.decay <= 1:
            raise ValidationError("replan options", "options", "decay", f"is {self.decay}; it must lie in (0, 1]")
        for name in ("fence_periods", "upstream_hops", "recovery_periods"):
            value = getattr(self, name)
            if not (isinstance(value, int | np.integer) and not isinstance(value, bool)) or value < 0:
                raise ValidationError(
                    "replan options", "options", name, f"is {value!r}; it must be a whole number >= 0"
                )
        if not 0 <= self.first_answer_gap < 1:
            raise ValidationError(
                "replan options", "options", "first_answer_gap", f"is {self.first_answer_gap}; it must lie in [0, 1)"
            )
        if not (self.fence_penalty > 0 and math.isfinite(self.fence_penalty)):
            raise ValidationError("replan options", "options", "fence_penalty", "must be a finite number > 0")

    def weight(self, function: str) -> float:
        weights: dict[str, float] = {PROCUREMENT: self.procurement_weight, PRODUCTION: self.production_weight}
        return weights.get(function, self.logistics_weight)
