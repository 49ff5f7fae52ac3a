"""The backup-to-lane links (`models.allocation.define_backup_flow_links`): where they are written,
and that they never change an optimum, on random networks and seeded random CFLP instances."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import highspy
import numpy as np
import pytest

from benchmarks.cuts import CflpData, cflp_data, cflp_network, run_cuts_benchmark, textbook_cflp
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


def _textbook(data: CflpData, *, single_source: bool, relax: bool = False) -> float:
    h = textbook_cflp(data, single_source=single_source, relax=relax)
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


@pytest.mark.parametrize("single_source", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_concerto_matches_the_textbook_cflp(seed: int, single_source: bool) -> None:
    """Seeded 5-site x 12-customer instances (capacity 1.5x the demand) in Concerto's schema and as
    the textbook writes them (`benchmarks.cuts.textbook_cflp`: x in units, or with single sourcing
    the binary assignment x_ij with d_j x_ij in the capacity row). The optima agree; and with the
    links so do the LP relaxations: with every customer served in full, sum_i ship_ij = d_j, and
    with single sourcing ship_ij <= d_j assign_ij and sum_i assign_ij = 1 leave
    sum_i (d_j assign_ij - ship_ij) = 0 with every term >= 0, so ship_ij = d_j assign_ij in the
    relaxation too; the link ship_ij <= min(u_i, d_j) activate_i is then the textbook's strong
    x_ij <= y_i (or x_ij <= d_j y_i), and the remaining rows map one to one."""
    data = cflp_data(5, 12, seed, capacity_ratio=1.5)
    spec = cflp_network(data, single_source=single_source)
    assert _same(_solve(spec, links=True), _textbook(data, single_source=single_source))
    assert _same(_solve(spec, links=False), _textbook(data, single_source=single_source))
    assert _same(_solve(spec, links=True, relax=True), _textbook(data, single_source=single_source, relax=True))


@pytest.mark.parametrize("single_source", [False, True])
def test_cuts_benchmark_reports_every_model_on_small_instances(
    single_source: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m benchmarks cuts` end to end on two 4 x 10 instances: every model solves to the
    gap, the three optima agree, and the JSON names the family it ran."""
    out = tmp_path / "cuts.json"
    results = run_cuts_benchmark([(4, 10)], [0, 1], gap=1e-6, single_source=single_source, capacity_ratio=1.5, out=out)
    assert [r.textbook_status for r in results] == ["optimal", "optimal"]
    for r in results:
        assert _same(r.with_cuts, r.textbook) and _same(r.without_cuts, r.textbook)
        assert r.with_cuts_lp >= r.without_cuts_lp - 1e-6
    printed = capsys.readouterr().out
    assert "stopped at the time limit: textbook 0, with cuts 0, without 0" in printed
    assert "over the 2 of 2 instances every model solved to the gap" in printed
    assert "optima agree within 2x the gap (0.00%): yes" in printed
    settings = json.loads(out.read_text())["settings"]
    assert settings["single_source"] is single_source and settings["capacity_ratio"] == 1.5


def test_cuts_benchmark_measures_the_links_on_a_suite_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m benchmarks cuts --suite supplier_outage_short@S` end to end: the disrupted S
    network has backups that are their site's only source, so link rows are written; both models
    solve to the suite's 0.1% gap and, the links being valid inequalities, their optima agree
    within twice it; the links only add rows, so the relaxation's minimum cannot fall."""
    from benchmarks.cuts import run_suite_cuts

    out = tmp_path / "cuts-suite.json"
    [r] = run_suite_cuts(["supplier_outage_short@S"], gap=1e-3, out=out)
    assert r.case == "supplier_outage_short@S" and r.rows_added > 0
    assert r.with_links_status == r.without_status == "optimal"
    assert abs(r.with_links - r.without) <= 2e-3 * abs(r.without)
    assert r.with_links_lp >= r.without_lp - 1e-6 * abs(r.without_lp)
    printed = capsys.readouterr().out
    assert "over the 1 of 1 cases both models solved to the gap" in printed
    assert "optima agree within 2x the gap (0.10%): yes" in printed
    assert json.loads(out.read_text())["settings"]["selection"] == ["supplier_outage_short@S"]
