"""LiveModel: a signal's model reached by in-place updates of the live HiGHS instance is the model a
cold rebuild gives, and solves to the same optimum, for every signal kind, including those that
move entries of the matrix (a lead time, a delay, a coefficient cut to zero).

Differential tests: for each kind, the baseline model is loaded and solved, the signal's model
(`compile_model(spec, None, [signal]).lp`) is handed to `update`, and the warm instance and a cold
solve of the same model must agree on status and objective within the MIP gap. Two networks: a
small MIP ("demo" seed 21: about 820 columns, 37 integers, gap 1e-6) and an S network (seed 12:
about 3,900 columns, 60 integers, gap 1e-4). The seeds were picked because HiGHS proves those gaps
in about a second; most S seeds take 10-20 s per solve at 1e-4.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp

from benchmarks.generator import generate
from models.builder import LinearProgram
from models.network import Network, NetworkSpec, NodeRole
from models.signals import Signal, SignalType
from models.solution import SolveStatus
from solver.backends import highs_live, in_place
from solver.backends.highs import HighsBackend
from solver.backends.in_place import ModelChanges
from solver.convert import read_protocols
from solver.demo import DEMO_PROTOCOLS, data_path
from solver.live import IN_PLACE, REBUILT, LiveModel, structural_difference
from solver.options import SolveOptions
from solver.planner import compile_model


@dataclass(frozen=True)
class Case:
    """A generated network and the MIP gap its solves are compared within."""

    size: str
    seed: int
    gap: float


CASES = {"small": Case("demo", 21, 1e-6), "S": Case("S", 12, 1e-4)}


@functools.cache
def _network(name: str) -> tuple[NetworkSpec, Network, LinearProgram]:
    case = CASES[name]
    spec = generate(case.size, seed=case.seed)
    return spec, Network.from_spec(spec), compile_model(spec).lp


def _signals(net: Network) -> dict[str, tuple[Signal, str]]:
    """One signal per kind (and the variants that decide between in place and rebuilt), each with
    the update mode its model change calls for."""
    W = net.period_hours
    role = net.node_role
    ids = net.node_ids

    def plain(node: int) -> bool:
        offers = net.offer_node == node
        return bool(offers.any()) and not (net.offer_backup[offers].any() or (net.offer_min_order[offers] > 0).any())

    plain_supplier = next(ids[n] for n in range(net.n_nodes) if role[n] == NodeRole.SUPPLIER and plain(n))
    backup_supplier = ids[net.offer_node[np.flatnonzero(net.offer_backup)[0]]]
    customer = ids[int(np.flatnonzero(role == NodeRole.CUSTOMER)[0])]
    plant = ids[int(np.flatnonzero(role == NodeRole.PLANT)[0])]
    lane = next(
        net.lane_ids[k]
        for k in range(net.n_lanes)
        if role[net.lane_origin[k]] == NodeRole.PLANT and role[net.lane_destination[k]] == NodeRole.DC
    )
    at_dc = np.flatnonzero(role[net.position_node] == NodeRole.DC)
    held = at_dc[int(np.argmax(net.position_on_hand[at_dc]))]
    stream = int(np.argmax(net.demand_qty.sum(axis=1)))
    S = SignalType
    return {
        # Only the buy upper bounds of plain offers fall.
        "supplier_outage": (
            Signal("outage", S.SUPPLIER_OUTAGE, supplier=plain_supplier, duration_hours=2 * W, magnitude=0.0),
            IN_PLACE,
        ),
        # A backup offer's capacity is also its activation coefficient: halved, it changes value.
        "supplier_outage_partial_backup": (
            Signal("outage", S.SUPPLIER_OUTAGE, supplier=backup_supplier, duration_hours=2 * W, magnitude=0.5),
            IN_PLACE,
        ),
        # ... cut to zero, the coefficient leaves the sparsity pattern (set to 0 in place).
        "supplier_outage_full_backup": (
            Signal("outage", S.SUPPLIER_OUTAGE, supplier=backup_supplier, duration_hours=2 * W, magnitude=0.0),
            IN_PLACE,
        ),
        "demand_change": (
            Signal("surge", S.DEMAND_CHANGE, customer=customer, duration_hours=3 * W, magnitude=1.4),
            IN_PLACE,
        ),
        "lane_disruption": (
            Signal("lane", S.LANE_DISRUPTION, lane=lane, duration_hours=2 * W, magnitude=0.3),
            IN_PLACE,
        ),
        # A delay moves the arrivals of the window's departures to later rows: entries leave the
        # pattern and others enter it, each set in place.
        "lane_disruption_with_delay": (
            Signal("lane", S.LANE_DISRUPTION, lane=lane, duration_hours=2 * W, magnitude=0.5, delay_hours=W),
            IN_PLACE,
        ),
        "capacity_loss": (
            Signal("fire", S.CAPACITY_LOSS, node=plant, duration_hours=3 * W, magnitude=0.3),
            IN_PLACE,
        ),
        "inventory_adjustment": (
            Signal(
                "hold",
                S.INVENTORY_ADJUSTMENT,
                node=ids[net.position_node[held]],
                item=net.item_ids[net.position_item[held]],
                magnitude=-0.5 * float(net.position_on_hand[held]),
            ),
            IN_PLACE,
        ),
        "lead_time_change": (
            Signal("slow", S.LEAD_TIME_CHANGE, lane=lane, duration_hours=2 * W, delay_hours=W),
            IN_PLACE,
        ),
        "order_change": (
            Signal(
                "order",
                S.ORDER_CHANGE,
                customer=ids[net.demand_node[stream]],
                item=net.item_ids[net.demand_item[stream]],
                start_hours=W,
                magnitude=0.5 * float(net.demand_qty[stream, 1]),
            ),
            IN_PLACE,
        ),
    }


KINDS = list(_signals(_network("small")[1]))
IN_PLACE_KINDS = [k for k in KINDS if _signals(_network("small")[1])[k][1] == IN_PLACE]
PATTERN_KINDS = {"supplier_outage_full_backup", "lane_disruption_with_delay", "lead_time_change"}
"""The kinds whose model moves entries into or out of the sparsity pattern."""


def _relaxed(lp: LinearProgram) -> LinearProgram:
    return dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality))


def _held_by_highs(live: LiveModel) -> dict[str, object]:
    """The model the live instance holds, read back from HiGHS."""
    lp = live.highs.getLp()
    a = lp.a_matrix_
    A = sp.csc_matrix(
        (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)), shape=(lp.num_row_, lp.num_col_)
    )
    return {
        "c": np.asarray(lp.col_cost_),
        "offset": float(lp.offset_),
        "col_lower": np.asarray(lp.col_lower_),
        "col_upper": np.asarray(lp.col_upper_),
        "row_lower": np.asarray(lp.row_lower_),
        "row_upper": np.asarray(lp.row_upper_),
        "A": A,
    }


def _assert_holds(live: LiveModel, lp: LinearProgram) -> None:
    held = _held_by_highs(live)
    for name in ("c", "col_lower", "col_upper", "row_lower", "row_upper"):
        np.testing.assert_array_equal(held[name], getattr(lp, name), err_msg=name)
    assert held["offset"] == lp.offset
    difference = held["A"] - lp.A
    assert isinstance(difference, sp.spmatrix | sp.sparray)
    assert abs(difference).max() == 0.0
    assert held["A"].nnz == lp.A.nnz  # an entry set to 0 left HiGHS's matrix (lp.A stores no zeros)


# ---------------------------------------------------------------------------------------------
# Every signal kind: the warm instance and a cold solve agree
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("network", list(CASES))
def test_update_then_solve_matches_a_cold_solve(network: str, kind: str) -> None:
    """Baseline loaded and solved; the signal's model handed to `update` (in the mode its change
    calls for) and solved on the live instance; the same model solved cold: same status, same
    objective within the MIP gap (both are within the gap of one optimum)."""
    spec, net, baseline = _network(network)
    signal, expected = _signals(net)[kind]
    options = SolveOptions(mip_rel_gap=CASES[network].gap)
    live = LiveModel(baseline, options)
    assert live.solve().status == SolveStatus.OPTIMAL
    disrupted = compile_model(spec, None, [signal]).lp

    assert live.update(disrupted) == expected, live.last_update.reason
    warm = live.solve()
    cold = HighsBackend().solve(disrupted, options)

    assert warm.status == cold.status == SolveStatus.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=CASES[network].gap)
    assert warm.x is not None
    assert live.lp.objective(warm.x) == pytest.approx(warm.objective, rel=1e-9)


def test_partial_backup_outage_changes_coefficients_in_place() -> None:
    """Halving a backup offer's capacity changes its activation coefficients, which in place means
    one `changeCoeff` per changed entry and nothing else structural."""
    spec, net, baseline = _network("small")
    signal, _ = _signals(net)["supplier_outage_partial_backup"]
    live = LiveModel(baseline)
    assert live.update(compile_model(spec, None, [signal]).lp) == IN_PLACE
    assert live.last_update.coefficients > 0
    assert live.last_update.column_bounds > 0


@pytest.mark.parametrize("kind", KINDS)
def test_every_signal_kind_is_a_change_of_entries(kind: str) -> None:
    """No signal kind changes the model's shape or integrality here (no protocols), so none is
    structural; the kinds that move arrivals or cut a coefficient to zero say how many entries
    entered or left the pattern, the others move none."""
    spec, net, baseline = _network("small")
    signal, _ = _signals(net)[kind]
    lp = compile_model(spec, None, [signal]).lp
    assert structural_difference(baseline, lp) == ""
    live = LiveModel(baseline)
    assert live.update(lp) == IN_PLACE
    assert (live.last_update.pattern > 0) == (kind in PATTERN_KINDS)
    assert live.last_update.coefficients >= live.last_update.pattern


def _moving_arrival(arrives: int) -> LinearProgram:
    """One shipment x (cost 1, at most 5) arriving in period `arrives` of two, unmet demand u0, u1
    (cost 10 each), demand 4 in period 0 and 3 in period 1: rows x[arrives=0] + u0 = 4 and
    x[arrives=1] + u1 = 3."""
    dense = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    dense[:, 0] = [1.0, 0.0] if arrives == 0 else [0.0, 1.0]
    return LinearProgram(
        c=np.array([1.0, 10.0, 10.0]),
        offset=0.0,
        A=sp.csr_matrix(dense),
        row_lower=np.array([4.0, 3.0]),
        row_upper=np.array([4.0, 3.0]),
        col_lower=np.zeros(3),
        col_upper=np.array([5.0, np.inf, np.inf]),
        integrality=np.zeros(3, dtype=bool),
        variables={},
        constraints={},
    )


def test_an_arrival_moved_to_another_period_is_set_in_place_and_solved_to_its_optimum() -> None:
    """Arriving in period 0 the shipment covers that period's 4 and period 1 goes unmet:
    4 * 1 + 3 * 10 = 34. Moved to period 1 (entry (0, 0) leaves the pattern, (1, 0) enters), it
    covers period 1's 3 and period 0 goes unmet: 3 * 1 + 4 * 10 = 43. The update is in place, two
    entries moved, HiGHS holds the moved matrix, and the warm solve finds 43."""
    live = LiveModel(_moving_arrival(0))
    assert live.solve().objective == pytest.approx(34.0)
    moved = _moving_arrival(1)
    assert live.update(moved) == IN_PLACE
    assert (live.last_update.pattern, live.last_update.coefficients) == (2, 2)
    _assert_holds(live, moved)
    assert live.solve().objective == pytest.approx(43.0)
    assert live.update(_moving_arrival(0)) == IN_PLACE  # and back again
    assert live.solve().objective == pytest.approx(34.0)


def test_a_pattern_change_beyond_the_limit_rebuilds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over `MAX_PATTERN_CHANGES` moved entries the model is handed over by a rebuild, which says
    why, and still solves to the moved model's optimum (43, as above)."""
    monkeypatch.setattr(in_place, "MAX_PATTERN_CHANGES", 1)
    live = LiveModel(_moving_arrival(0))
    live.solve()
    assert live.update(_moving_arrival(1)) == REBUILT
    assert "sparsity pattern: 2 entries entered or left it" in live.last_update.reason
    assert live.solve().objective == pytest.approx(43.0)


def test_a_matrix_not_in_canonical_form_is_diffed_by_its_entries() -> None:
    """A matrix with unsorted column indices and a duplicate (summed: the entry is 1) differs from
    the canonical one in nothing; moving its entry is one entry left and one entered."""
    canonical = _moving_arrival(0)
    messy = sp.csr_matrix((np.array([1.0, 0.5, 0.5, 1.0]), np.array([1, 0, 0, 2]), np.array([0, 3, 4])), shape=(2, 3))
    assert not messy.has_canonical_format
    same = dataclasses.replace(canonical, A=messy)
    assert ModelChanges.between(canonical, same).entry_values.size == 0
    moved = ModelChanges.between(same, _moving_arrival(1))
    assert moved.pattern == 2
    assert sorted(zip(moved.entry_rows.tolist(), moved.entry_cols.tolist(), moved.entry_values.tolist())) == [
        (0, 0, 0.0),
        (1, 0, 1.0),
    ]


# ---------------------------------------------------------------------------------------------
# The instance updated in place holds exactly the rebuilt arrays
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("network", list(CASES))
def test_in_place_updates_leave_highs_holding_the_rebuilt_model(network: str) -> None:
    """A chain of updates, each diffed against the model cached by the one before (every in-place
    signal in turn, those that move entries of the pattern among them, then back to the
    baseline): after each, the arrays HiGHS holds equal the rebuilt model's exactly, pattern
    included."""
    spec, net, baseline = _network(network)
    live = LiveModel(baseline)
    _assert_holds(live, baseline)
    for kind in IN_PLACE_KINDS:
        signal, _ = _signals(net)[kind]
        lp = compile_model(spec, None, [signal]).lp
        assert live.update(lp) == IN_PLACE, kind
        _assert_holds(live, lp)
    assert live.update(baseline) == IN_PLACE
    _assert_holds(live, baseline)


def test_an_unchanged_model_updates_in_place_with_nothing_to_do() -> None:
    spec, _, baseline = _network("small")
    live = LiveModel(baseline)
    assert live.update(compile_model(spec).lp) == IN_PLACE
    update = live.last_update
    assert (update.column_bounds, update.row_bounds, update.costs, update.coefficients) == (0, 0, 0, 0)
    assert not update.offset


def test_a_rule_that_becomes_active_rebuilds_and_reaches_the_cold_optimum() -> None:
    """Under the default protocol set, a 72 h supplier outage activates authority rules: their
    spend rows, escalation binaries and the actions they unlock are new structure, so the model is
    rebuilt, and solves to the optimum a cold solve finds."""
    spec, net, _ = _network("small")
    protocols = read_protocols(data_path(DEMO_PROTOCOLS))
    supplier = next(net.node_ids[n] for n in net.offer_node if net.node_tier[n] == 1)
    outage = Signal("outage", SignalType.SUPPLIER_OUTAGE, supplier=supplier, duration_hours=72.0)
    options = SolveOptions(mip_rel_gap=CASES["small"].gap)
    live = LiveModel(compile_model(spec, protocols).lp, options)
    live.solve()
    disrupted = compile_model(spec, protocols, [outage]).lp

    assert live.update(disrupted) == REBUILT
    warm = live.solve()
    cold = HighsBackend().solve(disrupted, options)
    assert warm.status == cold.status == SolveStatus.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=CASES["small"].gap)


# ---------------------------------------------------------------------------------------------
# LP re-solves: the basis survives an in-place update
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", IN_PLACE_KINDS)
def test_lp_resolve_in_place_takes_fewer_simplex_iterations_than_cold(kind: str) -> None:
    """The S model with its integrality cleared is an LP: re-solved in place from the old basis it
    needs fewer simplex iterations than solved cold, and reaches the same optimum."""
    spec, net, baseline = _network("S")
    signal, _ = _signals(net)[kind]
    live = LiveModel(_relaxed(baseline))
    assert live.solve().status == SolveStatus.OPTIMAL
    disrupted = _relaxed(compile_model(spec, None, [signal]).lp)

    assert live.update(disrupted) == IN_PLACE
    warm = live.solve()
    cold = HighsBackend().solve(disrupted, SolveOptions())

    assert warm.status == cold.status == SolveStatus.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.info["simplex_iteration_count"] < cold.info["simplex_iteration_count"]


def test_lp_relaxation_keeps_its_basis_across_a_mip_solve_and_an_update() -> None:
    """A MIP solve leaves HiGHS without a basis; `solve_lp_relaxation` restores the previous
    relaxation's, so after an in-place update the relaxation is re-solved warm, to the value a cold
    solve of the relaxation finds, and the model is a MIP again afterwards."""
    spec, net, baseline = _network("S")
    signal, _ = _signals(net)["demand_change"]
    live = LiveModel(baseline, SolveOptions(mip_rel_gap=CASES["S"].gap))
    first = live.solve_lp_relaxation()
    assert first.status == SolveStatus.OPTIMAL
    assert first.objective <= live.solve().objective + 1e-6 * abs(first.objective)
    disrupted = compile_model(spec, None, [signal]).lp

    assert live.update(disrupted) == IN_PLACE
    warm = live.solve_lp_relaxation()
    cold = HighsBackend().solve(_relaxed(disrupted), SolveOptions())

    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.info["simplex_iteration_count"] < cold.info["simplex_iteration_count"]
    assert live.solve().info["mip_node_count"] >= 1  # solved as a MIP again


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("share", [0.05, 0.01, 0.001])
def test_an_objective_bound_stop_proves_a_bound_between_it_and_the_optimum(seed: int, share: float) -> None:
    """The LP relaxation of a generated S network, solved, then re-solved warm with every
    one-sided row's capacity cut by 10% and an objective bound `share` below the new optimum
    (found by a cold solve of the new LP): the dual simplex may stop early, and if it does, the
    lower bound it reports lies between the objective bound and the new optimum (weak duality:
    the dual objective of a dual feasible basis); otherwise it solves to that optimum. With a
    bound below the optimum a stop is the rule here: the old basis stays dual feasible under the
    new right-hand sides, and its dual objective already passes the bound."""
    lp = compile_model(generate("S", seed=seed)).lp
    relaxed = dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality))
    one_sided = np.isinf(relaxed.row_lower) & np.isfinite(relaxed.row_upper) & (relaxed.row_upper > 0)
    tighter = dataclasses.replace(relaxed, row_upper=np.where(one_sided, 0.9 * relaxed.row_upper, relaxed.row_upper))
    optimum = LiveModel(tighter, SolveOptions(threads=1)).solve().objective
    live = LiveModel(relaxed, SolveOptions(threads=1))
    assert live.solve().status == SolveStatus.OPTIMAL
    live.update(tighter)
    threshold = optimum - share * abs(optimum)
    stopped = live.solve(objective_bound=threshold)
    assert stopped.info.get("objective_bound_reached") == 1.0
    assert stopped.status == SolveStatus.TIME_LIMIT and stopped.x is None
    assert threshold <= stopped.bound <= optimum + 1e-9 * abs(optimum)
    again = live.solve()  # the bound is for one run only: the next one solves to the optimum
    assert again.status == SolveStatus.OPTIMAL
    assert again.objective == pytest.approx(optimum, rel=1e-9)


def _slowed_lane(net: Network, nth: int = 0) -> Signal:
    """A lead-time change of one period, for three periods, on the `nth` lane into a plant or a DC
    whose arrivals it moves within the horizon."""
    lanes = [
        net.lane_ids[k]
        for k in range(net.n_lanes)
        if net.node_role[net.lane_destination[k]] in (NodeRole.PLANT, NodeRole.DC)
        and net.lane_lead_time[k] + 2 < net.horizon
    ]
    lane = lanes[nth]
    return Signal(
        "slow",
        SignalType.LEAD_TIME_CHANGE,
        lane=lane,
        duration_hours=3 * net.period_hours,
        delay_hours=net.period_hours,
    )


@pytest.mark.parametrize("seed", range(3))
def test_a_bounded_run_after_moved_entries_proves_a_valid_bound_and_restores_the_options(seed: int) -> None:
    """The relaxation of an S network solved, then a lead-time change handed over in place (its
    moved entries make HiGHS drop its steepest-edge weights, so the bounded run prices with Devex
    and, like every bounded run, with unperturbed costs) and re-solved with an objective bound 1%
    below the new optimum (a cold solve's): it stops (on these seeds, one thread, it does, after
    66-288 iterations) with no plan and a proven bound between that threshold and the optimum (weak
    duality); afterwards the instance's pricing, perturbation and objective bound are HiGHS's
    defaults again, and the next run solves to the optimum."""
    spec = generate("S", seed=seed)
    slow = _slowed_lane(Network.from_spec(spec))
    baseline, moved = _relaxed(compile_model(spec).lp), _relaxed(compile_model(spec, None, [slow]).lp)
    optimum = HighsBackend().solve(moved, SolveOptions(threads=1)).objective
    live = LiveModel(baseline, SolveOptions(threads=1))
    assert live.solve().status == SolveStatus.OPTIMAL
    assert live.update(moved) == IN_PLACE and live.last_update.pattern > 0
    threshold = optimum - 0.01 * abs(optimum)
    run = live.solve(objective_bound=threshold)
    assert run.info.get("objective_bound_reached") == 1.0
    assert run.status == SolveStatus.TIME_LIMIT and run.x is None
    assert threshold <= run.bound <= optimum + 1e-9 * abs(optimum)
    options = {
        name: live.highs.getOptionValue(name)[1]
        for name in (
            "simplex_dual_edge_weight_strategy",
            "dual_simplex_cost_perturbation_multiplier",
            "objective_bound",
        )
    }
    assert options == {
        "simplex_dual_edge_weight_strategy": -1,
        "dual_simplex_cost_perturbation_multiplier": 1.0,
        "objective_bound": float("inf"),
    }
    assert live.solve().objective == pytest.approx(optimum, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# A matrix run on before restarts from the basis kept for it
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kept", [highs_live.BASES_KEPT, 0])
@pytest.mark.parametrize("seed", range(3))
def test_a_model_moved_back_to_a_matrix_run_on_before_starts_from_its_kept_basis(
    seed: int, kept: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An S network's relaxation solved, a lead-time change handed over in place (moved entries)
    and solved, then the baseline handed over again. Its matrix is the one the first run ended on,
    so the instance restarts from the basis that run left, which is optimal for exactly this model:
    HiGHS takes 0 iterations and finds the first optimum. With no bases kept (`BASES_KEPT` 0, the
    control) the run starts from the lead-time basis with its entries moved back, and needs
    iterations (75-173 on these seeds, one thread) to the same optimum."""
    monkeypatch.setattr(highs_live, "BASES_KEPT", kept)
    spec = generate("S", seed=seed)
    net = Network.from_spec(spec)
    baseline, moved = _relaxed(compile_model(spec).lp), _relaxed(compile_model(spec, None, [_slowed_lane(net)]).lp)
    live = LiveModel(baseline, SolveOptions(threads=1))
    first = live.solve()
    assert live.update(moved) == IN_PLACE and not live.last_update.basis_restored
    assert live.solve().status == SolveStatus.OPTIMAL
    assert live.update(baseline) == IN_PLACE and live.last_update.pattern > 0
    again = live.solve()
    assert again.objective == pytest.approx(first.objective, rel=1e-9)
    if kept:
        assert live.last_update.basis_restored
        assert again.info["simplex_iteration_count"] == 0
    else:
        assert not live.last_update.basis_restored
        assert again.info["simplex_iteration_count"] > 0


@pytest.mark.parametrize("seed", range(3))
def test_a_new_order_after_a_lead_time_change_starts_from_the_baseline_basis_and_reaches_the_cold_optimum(
    seed: int,
) -> None:
    """The replan benchmark's last two replans on an S network's relaxation: a lead-time change,
    then a new order on the baseline's arrivals (its matrix the baseline's, one more right-hand
    side). The new order starts from the baseline run's basis and reaches the optimum a cold solve
    of its LP finds; the instance then holds exactly the new order's arrays."""
    spec = generate("S", seed=seed)
    net = Network.from_spec(spec)
    stream = int(np.argmax(net.demand_qty.sum(axis=1)))
    order = Signal(
        "order",
        SignalType.ORDER_CHANGE,
        customer=net.node_ids[net.demand_node[stream]],
        item=net.item_ids[net.demand_item[stream]],
        start_hours=net.period_hours,
        magnitude=0.5 * float(net.demand_qty[stream, 1]),
    )
    baseline = _relaxed(compile_model(spec).lp)
    ordered = _relaxed(compile_model(spec, None, [order]).lp)
    live = LiveModel(baseline, SolveOptions(threads=1))
    live.solve()
    live.update(_relaxed(compile_model(spec, None, [_slowed_lane(net)]).lp))
    live.solve()
    assert live.update(ordered) == IN_PLACE and live.last_update.basis_restored
    _assert_holds(live, ordered)
    warm = live.solve()
    cold = HighsBackend().solve(ordered, SolveOptions(threads=1))
    assert warm.status == cold.status == SolveStatus.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)


@pytest.mark.parametrize("kept", [2, 3])
def test_only_the_last_bases_kept_matrices_keep_their_basis(kept: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs on three matrices in turn (the baseline, then two lead-time changes on different lanes),
    then the baseline again: with two matrices kept its basis was dropped when the third matrix
    ran, so the update restores nothing; with three it is restored. Either way the run reaches the
    baseline's optimum."""
    monkeypatch.setattr(highs_live, "BASES_KEPT", kept)
    spec = generate("S", seed=0)
    net = Network.from_spec(spec)
    baseline = _relaxed(compile_model(spec).lp)
    live = LiveModel(baseline, SolveOptions(threads=1))
    first = live.solve()
    for nth in (0, 1):
        assert live.update(_relaxed(compile_model(spec, None, [_slowed_lane(net, nth)]).lp)) == IN_PLACE
        assert live.last_update.pattern > 0
        live.solve()
    live.update(baseline)
    assert live.last_update.basis_restored == (kept >= 3)
    assert live.solve().objective == pytest.approx(first.objective, rel=1e-9)
