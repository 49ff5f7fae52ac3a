"""The replan model: the allocation model of the network as the signals leave it, with its
protocols, the stability penalty and the fence, and (for the first answer) the reach."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from models.allocation import define_model
from models.builder import LinearProgram, ModelBuilder
from models.errors import ValidationError
from models.network import FloatArray, Network
from models.protocols import AuthorityGroup, ProtocolSet
from models.replanning.options import ReplanOptions
from models.replanning.reach import Reach, define_outside_reach_fixed
from models.replanning.stability import define_fence, define_stability


def build_replan_model(
    net: Network,
    baseline: Mapping[str, FloatArray],
    options: ReplanOptions,
    *,
    protocols: ProtocolSet | None = None,
    groups: Sequence[AuthorityGroup] = (),
    reach: Reach | None = None,
    state: Mapping[str, FloatArray] | None = None,
) -> LinearProgram:
    """The replan model of `net` (the network as the signals leave it): the allocation model with
    its protocols, the stability penalty and the fence; with `reach`, decisions outside it are fixed
    to the baseline (the first answer's smaller model), and with `state` as well
    (`models.replanning.baseline_state`) the stock, shortfall, backlog and lost sales of the
    positions and streams outside it."""
    for block, shape in (
        ("buy", net.offer_capacity.shape),
        ("make", (net.n_recipes, net.horizon)),
        ("ship", (net.n_arcs, net.horizon)),
    ):
        if baseline[block].shape != shape:
            raise ValidationError("replan", "baseline", block, f"has shape {baseline[block].shape}, not {shape}")
    if state is not None and reach is None:
        raise ValueError("build_replan_model: state is kept outside a reach; pass the reach too")
    if state is not None:
        safety = int((net.position_safety_stock > 0).sum())
        rows_of = {"inv": net.n_positions, "short": safety, "backlog": net.n_demands, "lost": net.n_demands}
        for block, rows in rows_of.items():
            if state[block].shape != (rows, net.horizon):
                raise ValidationError(
                    "replan", "baseline", block, f"has shape {state[block].shape}, not {(rows, net.horizon)}"
                )
    b = ModelBuilder()
    # A replan may keep production the baseline made (stability, the reach): no demand-bounded setups.
    define_model(b, net, protocols, groups, tighten_setups=False)
    define_stability(b, net, baseline, options)
    define_fence(b, net, baseline, options)
    if reach is not None:
        define_outside_reach_fixed(b, net, baseline, reach, state)
    return b.build()
