"""The backup-to-lane links (`models.allocation.define_backup_flow_links`): where they are written,
and that they never change an optimum, on random networks and seeded random CFLP instances."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from benchmarks.cuts import cflp_data, cflp_network
from models.allocation import build_model
from models.network import Network, NetworkSpec
from models.solution import SolveStatus
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions
from tests.random_networks import random_network

EXACT = SolveOptions(mip_rel_gap=1e-9, threads=1)


def _solve(spec: NetworkSpec, *, links: bool, relax: bool = False) -> float:
    lp = build_model(Network.from_spec(spec), link_backup_flows=links)
    if relax:
        lp = dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality))
    solution = HighsBackend().solve(lp, EXACT)
    assert solution.status == SolveStatus.OPTIMAL, solution.message
    return solution.objective


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-6)


@pytest.mark.parametrize("seed", range(24))
def test_random_networks_reach_the_same_optimum_with_and_without_the_links(seed: int) -> None:
    spec = random_network(seed)
    assert _same(_solve(spec, links=True), _solve(spec, links=False))


@pytest.mark.parametrize("single_source", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_random_cflp_reaches_the_same_optimum_and_a_higher_bound(seed: int, single_source: bool) -> None:
    """Seeded 5-site x 12-customer CFLPs (capacity 1.5x the demand, so several sites open): the
    same optimum with and without the links, and a relaxation at least as high with them."""
    spec = cflp_network(cflp_data(5, 12, seed, capacity_ratio=1.5), single_source=single_source)
    assert _same(_solve(spec, links=True), _solve(spec, links=False))
    assert _solve(spec, links=True, relax=True) >= _solve(spec, links=False, relax=True) - 1e-6


def test_links_raise_the_bound_on_most_random_cflp() -> None:
    raised = sum(
        _solve(spec, links=True, relax=True) > _solve(spec, links=False, relax=True) + 1e-6
        for spec in (cflp_network(cflp_data(5, 12, seed, capacity_ratio=1.5)) for seed in range(6))
    )
    assert raised >= 5


def test_links_are_written_only_where_they_cut() -> None:
    """A customer's demand d below the site's capacity u gives ship <= d y; a site whose capacity
    is below every demand gets no row, and neither does a network without backup offers."""
    data = cflp_data(3, 4, 0)
    data = dataclasses.replace(data, capacity=np.array([1000.0, 5.0, 1000.0]), demand=np.array([10.0, 20, 30, 40]))
    lp = build_model(Network.from_spec(cflp_network(data)), link_backup_flows=True)
    block = lp.constraints["backup_lane_link"]
    arcs = block.entities("arc")
    net = Network.from_spec(cflp_network(data))
    assert sorted(set(net.lane_origin[net.arc_lane[arcs]].tolist())) == [
        net.node_ids.index("F0"),
        net.node_ids.index("F2"),
    ]
    rows = lp.A[block.start : block.start + block.size].toarray()
    activate = lp.variables["activate"]
    assert sorted(-rows[:, activate.slice].sum(axis=1)) == [10, 10, 20, 20, 30, 30, 40, 40]
    off = build_model(Network.from_spec(cflp_network(data)), link_backup_flows=False)
    assert off.constraints["backup_lane_link"].size == 0
    assert off.n_rows == lp.n_rows - 8
