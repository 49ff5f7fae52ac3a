"""What a MILP solve takes out of a model before the backend sees it (`models.reduction`): fixed
columns (a known answer worked out by hand, a row the fixed columns break, and the first answers of
random replans solved with and without the cut, to the same optimum), and a replan's decisions
written as their baseline plus deviations (known answers, a link left alone, and random replans at
the default stability weight, to the same optimum)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from models.builder import ConstraintBlock, CostTerm, LinearProgram, VariableBlock
from models.network import Network
from models.reduction import fixed_share, with_deviations_substituted, without_fixed_columns
from models.replanning import (
    ReplanOptions,
    baseline_decisions,
    build_replan_model,
    deviation_links,
    signal_reach,
)
from models.rounding import row_violation
from models.signals import apply_signals
from models.solution import Solution, SolveStatus
from solver.backends.highs import HighsBackend
from solver.options import MILP, SolveOptions
from solver.planner import REDUCE_FIXED_SHARE, SUBSTITUTE_FIXED_DECISIONS, plan_network, solve_model
from tests.random_networks import random_network, random_replan_signals

EXACT = SolveOptions(mip_rel_gap=0.0, threads=1, method=MILP)


class Recording(HighsBackend):
    """HiGHS, noting the shape (rows, columns) of each model it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []

    def solve(self, lp: LinearProgram, options: SolveOptions, **kwargs: Any) -> Solution:
        self.seen.append((lp.n_rows, lp.n_cols))
        return super().solve(lp, options, **kwargs)


def three_columns(x2_at_least: float = 1.0) -> LinearProgram:
    """min x0 + 3 x1 + 5 x2 over x0 in [0, 1], x1 in [0, 10] whole, x2 fixed at 2:

        r0:  x0 + x1 + x2 >= 4.5
        r1:       x1 + x2 <= 4.5
        r2:            x2 >= `x2_at_least`

    With x2 = 2: r0 reads x0 + x1 >= 2.5, r1 reads x1 <= 2.5 (so x1 <= 2, being whole) and r2 holds
    by itself (2 >= 1). x0 <= 1 makes x1 >= 1.5, so x1 = 2 and x0 = 0.5: 0.5 + 6 + 10 = 16.5.
    Procurement is charged x0 and x2 (0.5 + 10), logistics x1 (6)."""
    A = sp.csr_matrix(np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]))
    return LinearProgram(
        c=np.array([1.0, 3.0, 5.0]),
        offset=0.0,
        A=A,
        row_lower=np.array([4.5, -np.inf, x2_at_least]),
        row_upper=np.array([np.inf, 4.5, np.inf]),
        col_lower=np.array([0.0, 0.0, 2.0]),
        col_upper=np.array([1.0, 10.0, 2.0]),
        integrality=np.array([False, True, False]),
        variables={
            "a": VariableBlock("a", 0, (1,), False, ()),
            "b": VariableBlock("b", 1, (2,), True, ()),
        },
        constraints={"cover": ConstraintBlock("cover", 0, (2,), ()), "floor": ConstraintBlock("floor", 2, (1,), ())},
        cost_terms=(
            CostTerm("procurement", np.array([0, 2]), np.array([1.0, 5.0])),
            CostTerm("logistics", np.array([1]), np.array([3.0])),
        ),
    )


def test_the_fixed_column_moves_into_the_row_bounds_and_the_offset() -> None:
    """x2 = 2 leaves r0 >= 2.5 and r1 <= 2.5 on (x0, x1), an offset of 10, and r2 (2 >= 1) gone."""
    lp = three_columns()
    reduced = without_fixed_columns(lp)
    small = reduced.lp
    assert reduced.columns.tolist() == [0, 1] and reduced.rows.tolist() == [0, 1]
    assert small.offset == 10.0 and small.c.tolist() == [1.0, 3.0]
    assert small.row_lower.tolist() == [2.5, -np.inf] and small.row_upper.tolist() == [np.inf, 2.5]
    assert small.A.toarray().tolist() == [[1.0, 1.0], [0.0, 1.0]]
    assert small.integrality.tolist() == [False, True]
    # Blocks keep their names over what is left of them: "a" whole, "b" its first column only.
    assert {n: (b.start, b.size) for n, b in small.variables.items()} == {"a": (0, 1), "b": (1, 1)}
    assert {n: (b.start, b.size) for n, b in small.constraints.items()} == {"cover": (0, 2), "floor": (2, 0)}
    # The cost split still sums to the objective: the fixed 10 joins procurement's constant.
    x = np.array([0.5, 2.0])
    assert small.cost_by_component(x) == {"procurement": 10.5, "logistics": 6.0}
    assert lp.cost_by_component(reduced.expand(x)) == small.cost_by_component(x)
    assert reduced.expand(x).tolist() == [0.5, 2.0, 2.0]
    start = reduced.restrict(np.array([0.5, 2.0, 2.0]))
    assert start is not None and start.tolist() == [0.5, 2.0]
    assert reduced.restrict(None) is None


def test_solve_model_takes_the_fixed_columns_out_and_puts_them_back() -> None:
    """One column in three fixed is past `REDUCE_FIXED_SHARE`: HiGHS solves the two-column model
    to 16.5 (the docstring of `three_columns`), and the solution reads in the full model's columns."""
    lp = three_columns()
    assert fixed_share(lp) >= REDUCE_FIXED_SHARE
    solution = solve_model(lp, EXACT, HighsBackend())
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.objective == pytest.approx(16.5)
    assert solution.x is not None and solution.x.tolist() == pytest.approx([0.5, 2.0, 2.0])


def test_a_row_the_fixed_columns_break_keeps_the_model_infeasible() -> None:
    """r2: x2 >= 3 with x2 fixed at 2 has no column left but cannot hold: it stays, empty, and
    HiGHS reports the model infeasible, as it does for the full model."""
    lp = three_columns(x2_at_least=3.0)
    reduced = without_fixed_columns(lp)
    assert reduced.rows.tolist() == [0, 1, 2]
    assert reduced.lp.A.getrow(2).nnz == 0 and reduced.lp.row_lower[2] == pytest.approx(1.0)
    full = HighsBackend().solve(lp, EXACT)
    cut = solve_model(lp, EXACT, HighsBackend())
    assert full.status == cut.status == SolveStatus.INFEASIBLE


@pytest.mark.parametrize("seed", range(8))
def test_first_answers_of_random_replans_reach_the_same_optimum_without_their_fixed_columns(seed: int) -> None:
    """A replan's first answer for each random signal alone (every decision outside its reach
    fixed at the baseline) solved to optimality as built and with its fixed columns taken out: the
    same status and objective, and the cut model's solution, put back, meets every row and bound
    of the full model with the fixed columns at their values."""
    spec = random_network(seed)
    baseline = plan_network(spec, SolveOptions(mip_rel_gap=1e-6, threads=1))
    net = Network.from_spec(spec)
    cold = ReplanOptions(stability_weight=0.0)
    for signal in random_replan_signals(seed, spec):
        after = apply_signals(net, [signal])
        reach = signal_reach(after, [signal], upstream_hops=0, recovery_periods=0)
        lp = build_replan_model(after, baseline_decisions(net, baseline), cold, reach=reach)
        reduced = without_fixed_columns(lp)
        assert reduced.lp.n_cols == np.count_nonzero(lp.col_lower < lp.col_upper)
        full = HighsBackend().solve(lp, EXACT)
        cut = reduced.expanded(HighsBackend().solve(reduced.lp, EXACT))
        assert cut.status == full.status, signal.type
        if not full.status.has_solution:
            continue
        assert cut.x is not None and cut.x.shape == (lp.n_cols,)
        assert math.isclose(cut.objective, full.objective, rel_tol=1e-7, abs_tol=1e-6), (cut.objective, full.objective)
        assert cut.objective == pytest.approx(lp.objective(cut.x), rel=1e-9, abs=1e-6)
        assert row_violation(lp, cut.x).max(initial=0.0) <= 1e-6
        assert np.all(cut.x >= lp.col_lower - 1e-9) and np.all(cut.x <= lp.col_upper + 1e-9)
        fixed = lp.col_lower == lp.col_upper
        assert np.array_equal(cut.x[fixed], lp.col_lower[fixed])


def test_a_model_with_few_fixed_columns_goes_to_the_backend_whole() -> None:
    """Below `REDUCE_FIXED_SHARE` the backend gets the model as built (the cut would cost more
    than the presolve it saves): a backend that records what it is given sees every column.

    With x2 free in [0, 2] the cheapest cover of r0 (x0 + x1 + x2 >= 4.5) takes x0 = 1 (1 a unit),
    then x1 (3 a unit, whole) before x2 (5 a unit), with x2 >= 1 (r2): x1 = 1 leaves x2 >= 2.5 > 2;
    x1 = 2 needs x2 = 1.5 (1 + 6 + 7.5 = 14.5); x1 = 3 needs x2 = 1 (1 + 9 + 5 = 15). So 14.5."""
    lp = three_columns()
    lp = replace(lp, col_lower=np.array([0.0, 0.0, 0.0]), col_upper=np.array([1.0, 10.0, 2.0]))
    assert fixed_share(lp) == 0.0
    backend = Recording()
    solution = solve_model(lp, EXACT, backend)
    assert backend.seen == [(lp.n_rows, 3)]
    assert solution.objective == pytest.approx(14.5)
    assert solution.x is not None and solution.x.tolist() == pytest.approx([1.0, 2.0, 1.5])


def one_decision(lower: float = 0.0, upper: float = 10.0, baseline: float = 4.0, charge: float = 1.0) -> LinearProgram:
    """A replan of one purchase x in [`lower`, `upper`] worth 3 a unit (cost -3), its baseline x0 =
    `baseline`, each unit of change charged `charge` (the stability penalty on up and down):

        r0:  x            <= 6       (cap)
        r1:  x - up + down = x0      (change_buy)

    With the defaults: each unit above 4 earns 3 - 1 = 2, so x = 6 (the cap), up = 2, down = 0:
    -18 + 2 = -16 (procurement -18, stability 2). Substituted (x = 4 + up - down): up in
    [0, 10 - 4] = [0, 6], down in [0, 4 - 0] = [0, 4], the cap up - down <= 6 - 4 = 2, costs
    up 1 - 3 = -2 and down 1 + 3 = 4, offset -3 * 4 = -12: up = 2 gives -4 - 12 = -16."""
    A = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [1.0, -1.0, 1.0]]))
    return LinearProgram(
        c=np.array([-3.0, charge, charge]),
        offset=0.0,
        A=A,
        row_lower=np.array([-np.inf, baseline]),
        row_upper=np.array([6.0, baseline]),
        col_lower=np.array([lower, 0.0, 0.0]),
        col_upper=np.array([upper, np.inf, np.inf]),
        integrality=np.array([False, False, False]),
        variables={
            "buy": VariableBlock("buy", 0, (1,), False, ()),
            "change_buy_up": VariableBlock("change_buy_up", 1, (1,), False, ()),
            "change_buy_down": VariableBlock("change_buy_down", 2, (1,), False, ()),
        },
        constraints={
            "cap": ConstraintBlock("cap", 0, (1,), ()),
            "change_buy": ConstraintBlock("change_buy", 1, (1,), ()),
        },
        cost_terms=(
            CostTerm("procurement", np.array([0]), np.array([-3.0])),
            CostTerm("stability", np.array([1, 2]), np.array([charge, charge])),
        ),
    )


def test_a_decision_becomes_its_baseline_plus_its_deviations() -> None:
    """`one_decision`'s docstring: x and the link row go, the cap reads up - down <= 2, the
    deviations carry x's cost (-2 and 4) and bounds ([0, 6] and [0, 4]), the offset is -12, and
    both models reach -16 with x = 6."""
    lp = one_decision()
    (link,) = deviation_links(lp)
    substituted = with_deviations_substituted(lp, [link])
    assert substituted is not None
    small = substituted.lp
    assert substituted.columns.tolist() == [1, 2] and substituted.rows.tolist() == [0]
    assert small.A.toarray().tolist() == [[1.0, -1.0]]
    assert small.row_lower.tolist() == [-np.inf] and small.row_upper.tolist() == [2.0]
    assert small.c.tolist() == [-2.0, 4.0] and small.offset == -12.0
    assert small.col_lower.tolist() == [0.0, 0.0] and small.col_upper.tolist() == [6.0, 4.0]
    assert {n: b.size for n, b in small.variables.items()} == {"buy": 0, "change_buy_up": 1, "change_buy_down": 1}
    assert {n: b.size for n, b in small.constraints.items()} == {"cap": 1, "change_buy": 0}
    # The cost split still sums to the objective: procurement -3 x = -3 (4 + up - down).
    assert small.cost_by_component(np.array([2.0, 0.0])) == {"procurement": -18.0, "stability": 2.0}
    # One unit below the baseline: x = 3, procurement -9, stability 1.
    assert small.cost_by_component(np.array([0.0, 1.0])) == {"procurement": -9.0, "stability": 1.0}
    assert substituted.expand(np.array([2.0, 0.0])).tolist() == [6.0, 2.0, 0.0]
    # A start is read by its decision: x = 6 is 2 above the baseline, whatever its deviations say.
    start = substituted.restrict(np.array([6.0, 5.0, 3.0]))
    assert start is not None and start.tolist() == [2.0, 0.0]
    full = HighsBackend().solve(lp, EXACT)
    cut = substituted.expanded(HighsBackend().solve(small, EXACT))
    assert full.objective == pytest.approx(-16.0) and cut.objective == pytest.approx(-16.0)
    assert cut.x is not None and cut.x.tolist() == pytest.approx([6.0, 2.0, 0.0])


def test_a_baseline_above_the_new_bound_forces_the_deviation_below() -> None:
    """A signal cut x to [0, 3] under a baseline of 5: up in [max(0 - 5, 0), max(3 - 5, 0)] =
    [0, 0], down in [max(5 - 3, 0), max(5 - 0, 0)] = [2, 5]. x = 3 earns 9 and pays 2 units of
    change: -9 + 2 = -7; substituted, down = 2 costs 4 * 2 = 8 against an offset of -15: -7."""
    lp = one_decision(upper=3.0, baseline=5.0)
    substituted = with_deviations_substituted(lp, deviation_links(lp))
    assert substituted is not None
    assert substituted.lp.col_lower.tolist() == [0.0, 2.0] and substituted.lp.col_upper.tolist() == [0.0, 5.0]
    solution = substituted.expanded(HighsBackend().solve(substituted.lp, EXACT))
    assert solution.objective == pytest.approx(-7.0)
    assert solution.x is not None and solution.x.tolist() == pytest.approx([3.0, 0.0, 2.0])


def test_a_lower_bound_above_the_baseline_forces_the_deviation_above() -> None:
    """x in [5, 10] over a baseline of 4, each unit costing 3 (cost +3): x goes to its least, 5,
    one unit above the baseline: 15 + 1 = 16. Substituted, up lies in [max(5 - 4, 0), 10 - 4] =
    [1, 6] and down in [max(4 - 10, 0), max(4 - 5, 0)] = [0, 0]; up = 1 costs 1 + 3 = 4 over an
    offset of 12: 16. (Without the lower bound on up, x = 4 would cost 12: below x's bound.)"""
    lp = replace(one_decision(lower=5.0), c=np.array([3.0, 1.0, 1.0]))
    substituted = with_deviations_substituted(lp, deviation_links(lp))
    assert substituted is not None
    assert substituted.lp.col_lower.tolist() == [1.0, 0.0] and substituted.lp.col_upper.tolist() == [6.0, 0.0]
    solution = substituted.expanded(HighsBackend().solve(substituted.lp, EXACT))
    assert solution.objective == pytest.approx(16.0) == HighsBackend().solve(lp, EXACT).objective
    assert solution.x is not None and solution.x.tolist() == pytest.approx([5.0, 1.0, 0.0])


def _with_entry(lp: LinearProgram, row: int, col: int, value: float) -> LinearProgram:
    A = lp.A.tolil()
    A[row, col] = value
    return replace(lp, A=sp.csr_matrix(A))


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("up in another row", lambda lp: _with_entry(lp, 0, 1, 1.0)),
        ("a fourth entry in the link row", lambda lp: _with_entry(_three_columns_and_a_fourth(lp), 1, 3, 1.0)),
        ("the link row an inequality", lambda lp: replace(lp, row_upper=np.array([6.0, np.inf]))),
        ("x integer", lambda lp: replace(lp, integrality=np.array([True, False, False]))),
        ("down integer", lambda lp: replace(lp, integrality=np.array([False, False, True]))),
        ("up bounded above", lambda lp: replace(lp, col_upper=np.array([10.0, 3.0, np.inf]))),
        ("down bounded below", lambda lp: replace(lp, col_lower=np.array([0.0, 0.0, 1.0]))),
        ("the link's coefficient on x not 1", lambda lp: _with_entry(lp, 1, 0, 2.0)),
    ],
)
def test_a_link_that_is_not_x_minus_up_plus_down_stays_as_it_is(case: str, change: Any) -> None:
    """The substitution is exact only for a row x - up + down = x0 whose deviations appear nowhere
    else, lie in [0, inf) and are continuous, with x continuous: any other link is left alone."""
    lp = change(one_decision())
    assert with_deviations_substituted(lp, deviation_links(lp)) is None, case


def _three_columns_and_a_fourth(lp: LinearProgram) -> LinearProgram:
    """`lp` with a fourth column in [0, 1], cost 0, in no row."""
    return replace(
        lp,
        c=np.append(lp.c, 0.0),
        A=sp.hstack([lp.A, sp.csr_matrix((lp.n_rows, 1))]).tocsr(),
        col_lower=np.append(lp.col_lower, 0.0),
        col_upper=np.append(lp.col_upper, 1.0),
        integrality=np.append(lp.integrality, False),
    )


def test_empty_deviation_blocks_leave_nothing_to_substitute() -> None:
    """A model whose decision, deviation and link blocks are all empty (a network without
    purchases, say) has nothing to substitute."""
    lp = one_decision()
    empty = {name: replace(block, shape=(0,)) for name, block in lp.variables.items()}
    lp = replace(
        lp,
        variables=empty,
        constraints={**lp.constraints, "change_buy": replace(lp.constraints["change_buy"], shape=(0,))},
    )
    assert with_deviations_substituted(lp, deviation_links(lp)) is None


def test_a_link_whose_deviations_could_pay_stays_as_it_is() -> None:
    """With a charge of -1 on each deviation (c_up + c_down = -2 < 0), up and down both above 0
    would earn: the boxes would cut that off, so the link is not substituted."""
    lp = one_decision(charge=-1.0)
    assert with_deviations_substituted(lp, deviation_links(lp)) is None


@pytest.mark.parametrize("seed", range(6))
def test_replans_at_the_default_weight_reach_the_same_optimum_with_their_decisions_substituted(seed: int) -> None:
    """Each random signal replanned at the default stability weight, as the full model and as its
    first answer's (the reach): solved as built and with the decisions substituted (then the fixed
    columns taken out), the same status and objective; the substituted solution, put back, meets
    every row and bound of the model as built, and each decision is its baseline plus up less
    down."""
    spec = random_network(seed)
    baseline = plan_network(spec, SolveOptions(mip_rel_gap=1e-6, threads=1))
    net = Network.from_spec(spec)
    weighted = ReplanOptions()
    assert weighted.stability_weight > 0
    for signal in random_replan_signals(seed, spec):
        after = apply_signals(net, [signal])
        reach = signal_reach(after, [signal], upstream_hops=0, recovery_periods=0)
        for scope in (None, reach):
            lp = build_replan_model(after, baseline_decisions(net, baseline), weighted, reach=scope)
            links = deviation_links(lp)
            assert [link.decision for link in links] == ["buy", "make", "ship"]
            substituted = with_deviations_substituted(lp, links)
            assert substituted is not None
            decisions = sum(lp.variables[link.decision].size for link in links)
            assert substituted.lp.n_cols == lp.n_cols - decisions
            assert substituted.lp.n_rows == lp.n_rows - decisions
            reduced = without_fixed_columns(substituted.lp)
            full = HighsBackend().solve(lp, EXACT)
            cut = substituted.expanded(reduced.expanded(HighsBackend().solve(reduced.lp, EXACT)))
            assert cut.status == full.status, signal.type
            if not full.status.has_solution:
                continue
            assert cut.x is not None and cut.x.shape == (lp.n_cols,)
            assert math.isclose(cut.objective, full.objective, rel_tol=1e-7, abs_tol=1e-6), signal.type
            assert cut.objective == pytest.approx(lp.objective(cut.x), rel=1e-9, abs=1e-6)
            assert row_violation(lp, cut.x).max(initial=0.0) <= 1e-6
            assert np.all(cut.x >= lp.col_lower - 1e-9) and np.all(cut.x <= lp.col_upper + 1e-9)
            for link in links:
                x, up, down = (lp.values(cut.x, name) for name in (link.decision, link.up, link.down))
                x0 = lp.row_lower[lp.constraints[link.rows].slice].reshape(x.shape)
                assert np.array_equal(x, x0 + up - down)


def test_solve_model_substitutes_a_first_answers_decisions() -> None:
    """A first answer at the default weight (every decision outside the reach fixed) goes to the
    backend with its decisions substituted and its fixed columns out: a backend that records what
    it is given sees fewer columns than either cut alone leaves, and the answer reads in the full
    model's columns at the optimum of the model as built."""
    spec = random_network(0)
    baseline = plan_network(spec, SolveOptions(mip_rel_gap=1e-6, threads=1))
    net = Network.from_spec(spec)
    models = []
    for signal in random_replan_signals(0, spec):
        after = apply_signals(net, [signal])
        reach = signal_reach(after, [signal], upstream_hops=0, recovery_periods=0)
        models.append(build_replan_model(after, baseline_decisions(net, baseline), ReplanOptions(), reach=reach))
    narrow = [
        m for m in models if fixed_share(m, [k.decision for k in deviation_links(m)]) >= SUBSTITUTE_FIXED_DECISIONS
    ]
    assert narrow, "no first answer of seed 0 fixes enough decisions"
    lp = narrow[0]
    backend = Recording()
    solution = solve_model(lp, EXACT, backend)
    substituted = with_deviations_substituted(lp, deviation_links(lp))
    assert substituted is not None
    cut = without_fixed_columns(substituted.lp).lp
    assert backend.seen == [(cut.n_rows, cut.n_cols)]
    assert cut.n_cols < min(substituted.lp.n_cols, without_fixed_columns(lp).lp.n_cols)
    full = HighsBackend().solve(lp, EXACT)
    assert solution.objective == pytest.approx(full.objective, rel=1e-7, abs=1e-6)
    assert solution.x is not None and row_violation(lp, solution.x).max(initial=0.0) <= 1e-6


def test_no_deviations_at_weight_zero() -> None:
    """At stability weight 0 the replan model has no deviation rows: nothing to substitute."""
    spec = random_network(1)
    baseline = plan_network(spec, SolveOptions(mip_rel_gap=1e-6, threads=1))
    net = Network.from_spec(spec)
    lp = build_replan_model(net, baseline_decisions(net, baseline), ReplanOptions(stability_weight=0.0))
    assert deviation_links(lp) == []
    assert with_deviations_substituted(lp, deviation_links(lp)) is None


def test_a_full_replan_keeps_its_decisions() -> None:
    """A full replan at the default weight fixes few of its decisions (closed lanes, offers past
    their window), below `SUBSTITUTE_FIXED_DECISIONS`: its MILP goes to the backend with its
    decision columns and link rows as built (M's full replan took longer substituted)."""
    spec = random_network(2)
    baseline = plan_network(spec, SolveOptions(mip_rel_gap=1e-6, threads=1))
    net = Network.from_spec(spec)
    signal = random_replan_signals(2, spec)[0]
    lp = build_replan_model(apply_signals(net, [signal]), baseline_decisions(net, baseline), ReplanOptions())
    assert fixed_share(lp, [link.decision for link in deviation_links(lp)]) < SUBSTITUTE_FIXED_DECISIONS
    assert fixed_share(lp) < REDUCE_FIXED_SHARE
    backend = Recording()
    solve_model(lp, EXACT, backend)
    assert backend.seen == [(lp.n_rows, lp.n_cols)]
