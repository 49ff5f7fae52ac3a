"""Replanning: a baseline plan and new signals in, a stable replan model out: the stability
penalty, the frozen fence, the signal's reach (for a fast first answer), and the rolling horizon.

The replan model is the allocation model of the network as the signals leave it, plus:
  x[k,t] = x0[k,t] + change_<block>_up[k,t] - change_<block>_down[k,t] for the decisions people
  execute (buy, make, ship), the up and down units each charged w_f * stability_weight * decay^t
  (component "stability"), so the charge is on |x - x0|: near-term changes cost more;
  x[k,t] <= x0[k,t] inside the fence t < F, every unit cut below the baseline charged
  fence_penalty (component "fence"), so a fenced decision changes only when a signal forces it.

One concept per module:
  options     `ReplanOptions`: weights, decay, the fence, the reach's extent, the first answer's gap
  baseline    `baseline_decisions`, `baseline_state`: the baseline plan's buy, make and ship, and its
              stock, shortfall, backlog and lost sales, as arrays on a network
  stability   `define_stability`, `define_fence`, `fence_cuts`: the penalty and the fence
  reach       `signal_reach`, `window_end`, `define_outside_reach_fixed`: what the signals can affect
  model       `build_replan_model`: the replan model, in order of those definitions
  advance     `advance`: the network some periods later, the plan's first periods executed
"""

from __future__ import annotations

from models.replanning.advance import advance
from models.replanning.baseline import DECISION_BLOCKS, baseline_decisions, baseline_state
from models.replanning.model import build_replan_model
from models.replanning.options import ReplanOptions
from models.replanning.reach import SHORTAGE_SIGNALS, Reach, define_outside_reach_fixed, signal_reach, window_end
from models.replanning.stability import (
    FENCE,
    STABILITY,
    FenceCut,
    define_fence,
    define_stability,
    deviation_links,
    fence_cuts,
)

__all__ = [
    "DECISION_BLOCKS",
    "FENCE",
    "SHORTAGE_SIGNALS",
    "STABILITY",
    "FenceCut",
    "Reach",
    "ReplanOptions",
    "advance",
    "baseline_decisions",
    "baseline_state",
    "build_replan_model",
    "define_fence",
    "define_outside_reach_fixed",
    "define_stability",
    "deviation_links",
    "fence_cuts",
    "signal_reach",
    "window_end",
]
