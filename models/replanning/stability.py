"""Stability against the baseline: the penalty on changed decisions, the frozen fence, and the
fenced decisions a signal forced below their baseline values (`fence_cuts`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.builder import LinearProgram, ModelBuilder
from models.costs import CostComponent
from models.network import FloatArray, Network
from models.reduction import DeviationLink
from models.replanning.baseline import DECISION_BLOCKS
from models.replanning.options import ReplanOptions
from models.signals import Signal

STABILITY = CostComponent.STABILITY
FENCE = CostComponent.FENCE


def define_stability(b: ModelBuilder, net: Network, baseline: Mapping[str, FloatArray], options: ReplanOptions) -> None:
    """Deviation from the baseline of each executed decision, weighted by function and time, as
    the units above and below it:

    x[k,t] - up[k,t] + down[k,t] = x0[k,t]                     (change_<block>)
    cost  stability_weight * w_f * decay^t * (up[k,t] + down[k,t])   (stability)

    up, down >= 0 (change_<block>_up, change_<block>_down). With a positive weight no optimum
    has both above 0, so up + down = |x - x0|.

    Why not the textbook change >= x - x0, change >= x0 - x (one column, two rows): at the
    default weight it made HiGHS about 1.55x slower for the same plans. The regional surge's
    first answer took 14.5 s against 9.4 s at M and 156.0 s against 100.7 s at L, and M's full
    replan to 0.1% took 120.7 s against 76.7 s (one run each)."""
    if options.stability_weight == 0:
        return
    decay = options.decay ** np.arange(net.horizon)
    for block, function in DECISION_BLOCKS.items():
        x = b.columns(block)
        axes = b.variables[block].axes
        up = b.add_variables(f"change_{block}_up", x.shape, axes=axes)
        down = b.add_variables(f"change_{block}_down", x.shape, axes=axes)
        rows = np.arange(x.size, dtype=np.int64).reshape(x.shape)
        x0 = baseline[block]
        b.add_constraints(
            f"change_{block}",
            x.shape,
            [(rows, x, 1.0), (rows, up, -1.0), (rows, down, 1.0)],
            lower=x0,
            upper=x0,
            axes=axes,
        )
        weight = options.stability_weight * options.weight(function) * decay[None, :]
        b.add_cost(STABILITY, up, weight)
        b.add_cost(STABILITY, down, weight)


def deviation_links(lp: LinearProgram) -> list[DeviationLink]:
    """The rows `define_stability` wrote into `lp` (none at stability weight 0), for
    `models.reduction.with_deviations_substituted`."""
    return [
        DeviationLink(block, f"change_{block}_up", f"change_{block}_down", f"change_{block}")
        for block in DECISION_BLOCKS
        if f"change_{block}" in lp.constraints
    ]


def define_fence(b: ModelBuilder, net: Network, baseline: Mapping[str, FloatArray], options: ReplanOptions) -> None:
    """The frozen fence: for t < F, x[k,t] <= x0[k,t] and each unit below x0 costs fence_penalty:

        cost  fence_penalty * (x0[k,t] - x[k,t])      (fence; written as a constant and -penalty * x)

    A signal that lowers a bound below x0 cuts the decision to what is possible; nothing else does,
    unless keeping it would break a hard constraint."""
    F = min(options.fence_periods, net.horizon)
    if F == 0:
        return
    for block in DECISION_BLOCKS:
        cols = b.columns(block)[:, :F]
        x0 = baseline[block][:, :F]
        b.restrict_upper(cols, x0)
        b.add_cost(FENCE, cols, -options.fence_penalty, constant=options.fence_penalty * float(x0.sum()))


@dataclass(frozen=True)
class FenceCut:
    """A fenced decision a signal forced below its baseline value."""

    block: str
    resource: str
    period: int
    baseline: float
    replanned: float
    reason: str


def fence_cuts(
    before: Network,
    after: Network,
    lp: LinearProgram,
    x: FloatArray,
    baseline: Mapping[str, FloatArray],
    options: ReplanOptions,
    signals: Sequence[Signal],
    *,
    tol: float = 1e-6,
) -> list[FenceCut]:
    """Every fenced decision below its baseline, and why: the signals that lowered that resource's
    capacity in that period, or the knock-on effect of the signals when none did directly."""
    F = min(options.fence_periods, after.horizon)
    names = {"buy": after.offer_ids, "make": after.recipe_ids, "ship": tuple(after.arc_ids())}
    bound_before = {"buy": before.offer_capacity, "ship": before.lane_capacity[before.arc_lane]}
    bound_after = {"buy": after.offer_capacity, "ship": after.lane_capacity[after.arc_lane]}
    direct = ", ".join(s.id for s in signals)
    cuts: list[FenceCut] = []
    for block in DECISION_BLOCKS:
        values = lp.values(x, block)[:, :F]
        x0 = baseline[block][:, :F]
        for k, t in zip(*np.nonzero(values < x0 - tol * np.maximum(1.0, x0))):
            lowered = block in bound_after and bound_after[block][k, t] < bound_before[block][k, t] - tol
            reason = (
                f"capacity cut to {bound_after[block][k, t]:g} by signals {direct}"
                if lowered
                else f"knock-on effect of signals {direct}"
            )
            cuts.append(FenceCut(block, names[block][k], int(t), float(x0[k, t]), float(values[k, t]), reason))
    return cuts
