"""The restricted repair (`solver.restriction`, LP-first's first repair): a row's capacity shared out
by hand, the rows held at every point within the bounds (a property over random rows and plans), a
stuck stock that only an infeasibility certificate reveals, and LP-first's restricted plans against
the monolithic MILP on seeded random networks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.generator import generate
from models.builder import LinearProgram, ModelBuilder
from models.costs import CostComponent
from models.feasibility import check_plan
from models.network import NetworkSpec
from models.solution import SolveStatus
from solver import lp_first
from solver.backends.base import MipProgress
from solver.backends.highs import HighsBackend
from solver.live import LiveModel
from solver.lp_first import solve_lp_first
from solver.options import LP_FIRST, MILP, SolveOptions
from solver.planner import compile_model, plan_network
from solver.restriction import Restriction
from tests.random_networks import random_network


def _one_row() -> LinearProgram:
    """2 x0 + x1 - x2 + 3 x3 <= 10 with x0, x1 in [0, 10], x2 (overtime) in [0, 2], x3 fixed at 1."""
    b = ModelBuilder()
    x = b.add_variables("x", (4,), upper=np.array([10.0, 10.0, 2.0, 1.0]), lower=np.array([0.0, 0.0, 0.0, 1.0]))
    b.add_constraints("capacity_hours", (1,), [(np.zeros(4, dtype=np.int64), x, [2.0, 1.0, -1.0, 3.0])], upper=10.0)
    return b.build()


def test_known_answer_a_row_shared_out_then_a_column_protected() -> None:
    """At the plan x = (4, 6, 0, 1) the row uses 2*4 + 6 = 14 of a capacity of 10 - 3*1 = 7 (x3 is
    fixed: a constant). The overtime x2 can cover 2 of the excess 7: its lower bound goes to 2, and
    the capacity to 9. The rest is shared in proportion to use, scale 9/14: x0 <= 4 * 9/14 = 18/7,
    x1 <= 6 * 9/14 = 27/7. At those bounds the row reads 36/7 + 27/7 - 2 + 3 = 10, exactly full.

    Protecting x1 keeps its 6; the 3 left go to x0: x0 <= 3/2 (row: 3 + 6 - 2 + 3 = 10). Protecting
    x0 as well would need 14 of the 9: bounds cannot hold the row, and `unheld` lists it."""
    lp = _one_row()
    restriction = Restriction(lp, lp.col_lower, lp.col_upper)
    restriction.restrict(np.array([0]), np.array([4.0, 6.0, 0.0, 1.0]))
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(lower, [0.0, 0.0, 2.0, 1.0])
    np.testing.assert_allclose(upper, [18 / 7, 27 / 7, 2.0, 1.0])
    assert restriction.unheld().size == 0

    assert restriction.protect(np.array([1, 3])) == 1  # x3 is fixed, not cut: nothing to protect
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(upper, [1.5, 6.0, 2.0, 1.0])
    np.testing.assert_allclose(lower, [0.0, 0.0, 2.0, 1.0])
    assert restriction.protect(np.array([1])) == 0  # already protected

    assert restriction.protect(np.array([0])) == 1
    assert restriction.unheld().tolist() == [0]


def test_a_row_with_room_left_is_not_cut() -> None:
    """At x = (1, 2, 0, 1) the row uses 2 + 2 + 3 = 7 <= 10: no overtime is needed (its lower bound
    stays 0) and the scale is 1: each column keeps what it used, x0 <= 1, x1 <= 2."""
    lp = _one_row()
    restriction = Restriction(lp, lp.col_lower, lp.col_upper)
    restriction.restrict(np.array([0]), np.array([1.0, 2.0, 0.0, 1.0]))
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(lower, [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(upper, [1.0, 2.0, 2.0, 1.0])


def test_known_answer_a_steady_stock_is_protected_from_the_start() -> None:
    """Stock levels inv[position, period] for 2 positions over 2 periods, one storage row for
    period 1: inv[0,1] + inv[1,1] <= 4. At the plan inv = ((3, 3), (1, 2)) the row holds 5.
    Position 0 stays at 3 in both periods (a stock the plan never moved): as a stock block it is
    protected from the start and keeps its 3, so position 1 gets the 1 left. Without the stock
    block both are cut by 4/5: 2.4 and 1.6."""
    b = ModelBuilder()
    inv = b.add_variables("inv", (2, 2), upper=10.0)
    b.add_constraints("storage_capacity", (1,), [([0, 0], inv[:, 1], 1.0)], upper=4.0)
    lp = b.build()
    plan = np.array([3.0, 3.0, 1.0, 2.0])
    steady = Restriction(lp, lp.col_lower, lp.col_upper, stock=("inv",))
    steady.restrict(np.array([0]), plan)
    np.testing.assert_allclose(steady.bounds()[1], [10.0, 3.0, 10.0, 1.0])
    assert steady.protected.tolist() == [False, True, False, False]  # only columns of the row
    plain = Restriction(lp, lp.col_lower, lp.col_upper)
    plain.restrict(np.array([0]), plan)
    np.testing.assert_allclose(plain.bounds()[1], [10.0, 2.4, 10.0, 1.6])


def _held_caps() -> Restriction:
    """`_one_row` restricted at (4, 6, 0, 1): x0 <= 18/7, x1 <= 27/7, overtime x2 >= 2 (above)."""
    lp = _one_row()
    restriction = Restriction(lp, lp.col_lower, lp.col_upper)
    restriction.restrict(np.array([0]), np.array([4.0, 6.0, 0.0, 1.0]))
    return restriction


def test_known_answer_a_share_left_unused_goes_to_the_column_it_stops() -> None:
    """The restricted LP's plan is x = (18/7, 2, 2, 1): x0 sits at its cap with reduced cost -4 (a
    unit more would save 4; per unit of the row, whose coefficient is 2, that is worth 2), x1
    uses 2 of its 27/7. x1 gives the 13/7 it leaves unused, all of it to x0 (the only column the
    row stops): x0 <= 18/7 + (13/7) / 2 = 7/2, x1 <= 2. The row at the caps: 2 * 7/2 + 2 - 2 + 3
    = 10, still exactly full; the plan is within the new bounds."""
    restriction = _held_caps()
    moved = restriction.reallocate(np.array([18 / 7, 2.0, 2.0, 1.0]), np.array([-4.0, 0.0, 0.0, 0.0]), 0.5)
    assert moved == pytest.approx(13 / 7)
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(upper, [3.5, 2.0, 2.0, 1.0])
    np.testing.assert_allclose(lower, [0.0, 0.0, 2.0, 1.0])


def test_known_answer_a_share_traded_to_the_column_worth_more() -> None:
    """Both columns at their caps, x = (18/7, 27/7, 2, 1), reduced costs -4 and -1: per unit of the
    row x0 is worth 4/2 = 2, x1 1/1 = 1. Their mean, weighted by the capacity each holds (2 * 18/7
    = 36/7 and 27/7), is (36/7 * 2 + 27/7 * 1) / (63/7) = 11/7. With step 1/2 x1, below the mean,
    gives 1/2 * 27/7 * (1 - 1 / (11/7)) = 54/77; x0, the only column above it, takes it all:
    x0 <= 18/7 + (54/77) / 2 = 225/77, x1 <= 27/7 - 54/77 = 243/77. The row at the caps:
    (450 + 243) / 77 - 2 + 3 = 10. `restore` goes back to the shares before."""
    restriction = _held_caps()
    before = restriction.shares()
    moved = restriction.reallocate(np.array([18 / 7, 27 / 7, 2.0, 1.0]), np.array([-4.0, -1.0, 0.0, 0.0]), 0.5)
    assert moved == pytest.approx(54 / 77)
    np.testing.assert_allclose(restriction.bounds()[1], [225 / 77, 243 / 77, 2.0, 1.0])
    restriction.restore(before)
    np.testing.assert_allclose(restriction.bounds()[1], [18 / 7, 27 / 7, 2.0, 1.0])


def test_restore_lets_go_of_the_rows_restricted_since() -> None:
    """Rows x0 + x1 <= 4 and x0 <= 1 over x0, x1 in [0, 10]. The first, restricted at (2, 4) (6
    of 4: scale 2/3), caps x0 <= 4/3 and x1 <= 8/3. The second, restricted later at (3, 1), caps
    x0 at 3 * 1/3 = 1. Restoring the shares taken before it lets go of the second row: x0 <= 4/3
    again, and only the first row is held."""
    b = ModelBuilder()
    x = b.add_variables("x", (2,), upper=10.0)
    b.add_constraints("capacity_hours", (2,), [([0, 0, 1], x[[0, 1, 0]], 1.0)], upper=np.array([4.0, 1.0]))
    lp = b.build()
    restriction = Restriction(lp, lp.col_lower, lp.col_upper)
    restriction.restrict(np.array([0]), np.array([2.0, 4.0]))
    before = restriction.shares()
    restriction.restrict(np.array([1]), np.array([3.0, 1.0]))
    np.testing.assert_allclose(restriction.bounds()[1], [1.0, 8 / 3])
    restriction.restore(before)
    np.testing.assert_allclose(restriction.bounds()[1], [4 / 3, 8 / 3])
    assert restriction.rows.tolist() == [True, False]


def test_a_protected_share_and_a_worthless_row_move_nothing() -> None:
    """x1 protected keeps its 6 and x0 gets the 3/2 left (above): x0 alone is neither donor nor
    traded against, so nothing moves. Unprotected, with both columns at their caps and reduced
    costs 0 (more of either is worth nothing), nothing moves either."""
    restriction = _held_caps()
    restriction.protect(np.array([1]))
    assert restriction.reallocate(np.array([1.5, 6.0, 2.0, 1.0]), np.array([-4.0, -1.0, 0.0, 0.0]), 0.5) == 0.0
    np.testing.assert_allclose(restriction.bounds()[1], [1.5, 6.0, 2.0, 1.0])
    flat = _held_caps()
    assert flat.reallocate(np.array([18 / 7, 27 / 7, 2.0, 1.0]), np.zeros(4), 0.5) == 0.0


def _random_rows(seed: int) -> tuple[LinearProgram, np.random.Generator]:
    """Up to 6 `<=` rows over 12 columns with mixed signs, some columns fixed, some with a positive
    lower bound; capacities below and above what random plans use."""
    rng = np.random.default_rng(seed)
    n, m = 12, int(rng.integers(1, 7))
    lower = np.where(rng.random(n) < 0.2, rng.uniform(0, 2, n), 0.0)
    upper = lower + rng.uniform(0, 10, n)
    fixed = rng.random(n) < 0.15
    upper[fixed] = lower[fixed]
    b = ModelBuilder()
    x = b.add_variables("x", (n,), lower=lower, upper=upper)
    dense = np.where(rng.random((m, n)) < 0.5, rng.uniform(0.1, 5, (m, n)), 0.0)
    dense[rng.random((m, n)) < 0.1] *= -1.0
    rows, cols = np.nonzero(dense)
    b.add_constraints("capacity_hours", (m,), [(rows, x[cols], dense[rows, cols])], upper=rng.uniform(0, 60, m))
    return b.build(), rng


@pytest.mark.parametrize("seed", range(60))
def test_every_point_within_the_bounds_meets_every_held_row(seed: int) -> None:
    """Rows restricted over two rounds at random plans, random columns protected: at the worst point
    within the bounds (each column at the bound that raises the row most) every row that `unheld`
    does not list holds, and no bound is crossed (lower <= upper, inside the original bounds)."""
    lp, rng = _random_rows(seed)
    restriction = Restriction(lp, lp.col_lower, lp.col_upper)
    for _ in range(2):
        lower, upper = restriction.bounds()
        plan = rng.uniform(lower, upper)
        restriction.restrict(np.flatnonzero(rng.random(lp.n_rows) < 0.7), plan)
        restriction.protect(np.flatnonzero(rng.random(lp.n_cols) < 0.2))
    _assert_held(lp, restriction)


@pytest.mark.parametrize("seed", range(60))
def test_every_point_within_the_bounds_meets_every_held_row_after_reallocation(seed: int) -> None:
    """The same, after three rounds of `reallocate` at random plans within the bounds with random
    reduced costs: step 0 (only shares left unused move) keeps the plan within the new bounds;
    any step keeps every held row held at the worst point."""
    lp, rng = _random_rows(seed)
    restriction = Restriction(lp, lp.col_lower, lp.col_upper)
    lower, upper = restriction.bounds()
    restriction.restrict(np.flatnonzero(rng.random(lp.n_rows) < 0.7), rng.uniform(lower, upper))
    restriction.protect(np.flatnonzero(rng.random(lp.n_cols) < 0.2))
    for step in (0.0, 0.3, 1.0):
        lower, upper = restriction.bounds()
        plan = np.where(rng.random(lp.n_cols) < 0.5, upper, rng.uniform(lower, upper))
        reduced = np.where(rng.random(lp.n_cols) < 0.7, -rng.uniform(0, 5, lp.n_cols), 0.0)
        restriction.reallocate(plan, reduced, step)
        if step == 0.0:
            new_lower, new_upper = restriction.bounds()
            assert np.all(plan >= new_lower - 1e-9) and np.all(plan <= new_upper + 1e-9)
        _assert_held(lp, restriction)


def _assert_held(lp: LinearProgram, restriction: Restriction) -> None:
    """No bound crossed (lower <= upper, inside the original bounds), and at the worst point within
    the bounds (each column at the bound that raises the row most) every row held and not listed by
    `unheld` holds."""
    lower, upper = restriction.bounds()
    assert np.all(lower <= upper)
    assert np.all(lower >= lp.col_lower - 1e-12) and np.all(upper <= lp.col_upper + 1e-12)
    A = lp.A.toarray()
    worst = np.where(A > 0, upper[None, :], lower[None, :])
    activity = (A * worst).sum(axis=1)
    held = restriction.rows.copy()
    held[restriction.unheld()] = False
    assert np.all(activity[held] <= lp.row_upper[held] + 1e-9 * (1 + np.abs(lp.row_upper[held])))


def _stuck_stock() -> LinearProgram:
    """Two stock columns in one storage row, s0 + s1 <= 6. s1 is stuck at 4 (a row s1 = 4: stock
    that cannot leave); s0 in [0, 10] earns 1 a unit (cost -1)."""
    b = ModelBuilder()
    s = b.add_variables("s", (2,), upper=10.0)
    b.add_cost(CostComponent.INVENTORY, s[:1], -1.0)
    b.add_constraints("stuck", (1,), [([0], s[1:], 1.0)], lower=4.0, upper=4.0)
    b.add_constraints("storage_capacity", (1,), [([0, 0], s, 1.0)], upper=6.0)
    return b.build()


def test_known_answer_a_stuck_stock_is_protected_by_the_certificate() -> None:
    """Without the storage row the LP holds s = (10, 4): 14 in a room of 6. Shared out at scale
    6/14, s1 <= 12/7 < 4: the restricted LP is infeasible, and its certificate (the stuck row and
    the cap on s1) names s1 (and not s0, whose cap the proof does not use). Protected, s1 keeps
    its 4 and s0 gets the 2 left: s = (2, 4), objective -2, which is this model's optimum."""
    lp = _stuck_stock()
    off = lp.constraints["storage_capacity"].slice
    row_lower, row_upper = lp.row_lower.copy(), lp.row_upper.copy()
    row_lower[off], row_upper[off] = -np.inf, np.inf
    uncoupled = dataclasses.replace(lp, row_lower=row_lower, row_upper=row_upper)
    live = LiveModel(uncoupled, SolveOptions(threads=1))
    first = live.solve()
    assert first.x is not None
    np.testing.assert_allclose(first.x, [10.0, 4.0])
    assert live.infeasible_columns() is None  # a feasible LP has no proof of infeasibility

    restriction = Restriction(lp, uncoupled.col_lower, uncoupled.col_upper)
    restriction.restrict(np.array([1]), first.x)
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(upper, [60 / 14, 24 / 14])
    live.update(dataclasses.replace(uncoupled, col_lower=lower, col_upper=upper))
    assert live.solve().status == SolveStatus.INFEASIBLE
    named = live.infeasible_columns()
    assert named is not None and named.tolist() == [1]

    assert restriction.protect(named) == 1
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(upper, [2.0, 4.0])
    live.update(dataclasses.replace(uncoupled, col_lower=lower, col_upper=upper))
    held = live.solve()
    assert held.status == SolveStatus.OPTIMAL and held.x is not None
    np.testing.assert_allclose(held.x, [2.0, 4.0])
    assert held.objective == pytest.approx(-2.0)


def _overtime_limit(*, chained: bool) -> LinearProgram:
    """Two products m0, m1 in [0, 10] earning 3 a unit (cost -3), made in 2 hours each; overtime o
    in [0, 5] costing 1 an hour. The hours row 2 m0 + 2 m1 - o <= 10 couples them. A decision
    protocol limits overtime spend to 3, a row always in the LP: o <= 3 directly, or `chained`
    through a spend column s >= 0 (o - s = 0, s <= 3)."""
    b = ModelBuilder()
    m = b.add_variables("make", (2,), upper=10.0)
    o = b.add_variables("overtime", (1,), upper=5.0)
    b.add_cost(CostComponent.REVENUE, m, -3.0)
    b.add_cost(CostComponent.PRODUCTION, o, 1.0)
    if chained:
        spend = b.add_variables("spend", (1,))
        b.add_constraints("spend_balance", (1,), [([0], o, 1.0), ([0], spend, -1.0)], lower=0.0, upper=0.0)
        b.add_constraints("overtime_limit", (1,), [([0], spend, 1.0)], upper=3.0)
    else:
        b.add_constraints("overtime_limit", (1,), [([0], o, 1.0)], upper=3.0)
    b.add_constraints("capacity_hours", (1,), [([0, 0], m, 2.0), ([0], o, -1.0)], upper=10.0)
    return b.build()


def _held_at(lp: LinearProgram, x: list[float]) -> tuple[Restriction, LinearProgram]:
    """The restriction holding `lp`'s hours row at the plan `x`, and `lp` without that row."""
    hours = lp.constraints["capacity_hours"].slice
    row_upper = lp.row_upper.copy()
    row_upper[hours] = np.inf
    uncoupled = dataclasses.replace(lp, row_upper=row_upper)
    restriction = Restriction(lp, uncoupled.col_lower, uncoupled.col_upper)
    restriction.restrict(np.arange(lp.n_rows)[hours], np.array(x))
    return restriction, uncoupled


def test_known_answer_a_raised_overtime_stays_within_its_limit() -> None:
    """Held at the plan (4, 4, 2), the hours row uses 16 of 10. Overtime could cover 5 of the excess
    6 (its bound), but the limit row o <= 3 allows a raise of 3 of those 5: o >= 3, capacity 13,
    and the products share it at scale 13/16: m <= 3.25. The LP makes 6.5 units with 3 hours of
    overtime: hours 13 - 3 = 10, objective -19.5 + 3 = -16.5, which is the full model's optimum (each
    overtime hour, 1, makes half a unit, 1.5, up to the limit)."""
    lp = _overtime_limit(chained=False)
    restriction, uncoupled = _held_at(lp, [4.0, 4.0, 2.0])
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(lower, [0.0, 0.0, 3.0])
    np.testing.assert_allclose(upper, [3.25, 3.25, 5.0])
    held = LiveModel(dataclasses.replace(uncoupled, col_lower=lower, col_upper=upper), SolveOptions(threads=1)).solve()
    assert held.status == SolveStatus.OPTIMAL and held.x is not None
    np.testing.assert_allclose(held.x, [3.25, 3.25, 3.0])
    assert held.objective == pytest.approx(-16.5)
    assert HighsBackend().solve(lp, SolveOptions(mip_rel_gap=0.0)).objective == pytest.approx(-16.5)


def test_known_answer_a_raised_overtime_is_protected_by_the_certificate() -> None:
    """The same limit through a spend column (o - s = 0, s <= 3): no single row shows it (the
    balance row's least activity is unbounded, s has no upper bound), so overtime is raised to 5,
    capacity 15, scale 15/16: m <= 3.75, and the restricted LP is infeasible. Its certificate (the
    balance and limit rows, and o's raised lower bound) names o. Protected, o is raised no further
    than its use, 2: capacity 12, scale 12/16, m <= 3 each. The LP then makes 3 + 3 with 2 hours of
    overtime: hours 12 - 2 = 10, objective -18 + 2 = -16, a plan of the full model (whose optimum
    is -16.5, as above)."""
    lp = _overtime_limit(chained=True)
    restriction, uncoupled = _held_at(lp, [4.0, 4.0, 2.0, 2.0])
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(lower, [0.0, 0.0, 5.0, 0.0])
    np.testing.assert_allclose(upper, [3.75, 3.75, 5.0, np.inf])
    live = LiveModel(dataclasses.replace(uncoupled, col_lower=lower, col_upper=upper), SolveOptions(threads=1))
    assert live.solve().status == SolveStatus.INFEASIBLE
    named = live.infeasible_columns()
    assert named is not None and 2 in named.tolist() and not {0, 1} & set(named.tolist())

    assert restriction.protect(named) == 1
    lower, upper = restriction.bounds()
    np.testing.assert_allclose(lower, [0.0, 0.0, 2.0, 0.0])
    np.testing.assert_allclose(upper, [3.0, 3.0, 5.0, np.inf])
    live.update(dataclasses.replace(uncoupled, col_lower=lower, col_upper=upper))
    held = live.solve()
    assert held.status == SolveStatus.OPTIMAL and held.x is not None
    np.testing.assert_allclose(held.x, [3.0, 3.0, 2.0, 2.0])
    assert held.objective == pytest.approx(-16.0)
    assert restriction.protect(named) == 0  # protected already: a second certificate naming it ends the repair


@pytest.fixture
def restricted_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The restricted repair on models of every size (it runs from 500,000 free columns)."""
    monkeypatch.setattr(lp_first, "RESTRICTED_REPAIR_COLUMNS", 0)


@pytest.mark.usefixtures("restricted_everywhere")
def test_lp_first_protects_through_certificates_then_certifies_with_the_coupled_lp() -> None:
    """The same model through `solve_lp_first` at a 50% gap. The relaxation (storage row off) bounds
    the optimum by -10 (s0 = 10). The restricted repair needs one certificate and gives the plan
    -2, (-2 + 10) / 2 = 400% above the bound: not certified. The coupled LP (storage row on) repairs
    to -2 as well, still 400%; the bound is then tightened to the relaxation with the storage row
    on, whose optimum is -2: the plan is proven optimal, gap 0."""
    lp = _stuck_stock()
    solution, _ = solve_lp_first(lp, SolveOptions(mip_rel_gap=0.5, method=LP_FIRST), fallback=False)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.objective == pytest.approx(-2.0)
    assert solution.bound == pytest.approx(-2.0)
    assert solution.info["infeasible_certificates"] == 1.0
    assert solution.info["protected_columns"] == 1.0
    assert solution.info["restricted_rows"] == 1.0


def _networks() -> list[tuple[str, NetworkSpec]]:
    return [(f"S{seed}", generate("S", seed)) for seed in range(4)] + [
        (f"random{seed}", random_network(seed)) for seed in range(8)
    ]


@pytest.mark.usefixtures("restricted_everywhere")
@pytest.mark.parametrize("name,spec", _networks(), ids=[name for name, _ in _networks()])
def test_lp_first_at_2_percent_agrees_with_the_milp(name: str, spec: NetworkSpec) -> None:
    """LP-first at a 2% gap, where the restricted repair's plan is often the answer (on the generated
    S networks it breaks 21-27 coupling rows): every plan passes the independent checker, lies
    within 2% of the MILP's optimum (solved to 0.01%), and no bound is above that optimum."""
    milp = plan_network(spec, SolveOptions(mip_rel_gap=1e-4, method=MILP))
    plan = plan_network(spec, SolveOptions(mip_rel_gap=0.02, method=LP_FIRST))
    assert plan.status == milp.status == SolveStatus.OPTIMAL
    scale = max(abs(milp.objective), 1.0)
    assert milp.bound - 1e-6 * scale <= plan.objective <= milp.objective + 0.02 * scale
    assert plan.bound <= milp.objective + 1e-6 * scale
    assert check_plan(spec, plan) == []
    if name.startswith("S"):
        stats = plan.stats.method_stats
        assert stats["restricted_plan"] == 1.0 and stats["restricted_rows"] > 0
        assert "restricted" in plan.message


@pytest.mark.usefixtures("restricted_everywhere")
@pytest.mark.parametrize("seed", range(4))
def test_reallocation_improves_the_restricted_plan(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """S seed 0-3 at a 0.1% gap, which no restricted plan meets: the restricted repair's plan (the
    first LP-first reports) with the held rows' capacity reallocated is strictly better than with
    the proportional shares alone (`REALLOCATION_ROUNDS` 0), never below the bound, and the final
    plan passes the independent checker."""
    spec = generate("S", seed)
    lp = compile_model(spec).lp
    default_rounds = lp_first.REALLOCATION_ROUNDS

    def restricted_plan(rounds: int) -> tuple[float, float, float]:
        monkeypatch.setattr(lp_first, "REALLOCATION_ROUNDS", rounds)
        reports: list[MipProgress] = []
        solution, _ = solve_lp_first(
            lp, SolveOptions(mip_rel_gap=0.001, method=LP_FIRST), fallback=False, progress=reports.append
        )
        first = next(r for r in reports if np.isfinite(r.objective))
        return first.objective, first.bound, solution.info["reallocations"]

    shared, bound, none = restricted_plan(0)
    moved, same_bound, rounds = restricted_plan(default_rounds)
    assert none == 0.0 and rounds > 0
    assert same_bound == pytest.approx(bound, rel=1e-9)
    assert bound <= moved < shared - 1e-6 * abs(shared)
    plan = plan_network(spec, SolveOptions(mip_rel_gap=0.001, method=LP_FIRST))
    assert check_plan(spec, plan) == []


def test_below_the_size_line_the_coupled_repair_alone_runs() -> None:
    """On S (3,876 columns, far below `RESTRICTED_REPAIR_COLUMNS`) LP-first at 2% repairs with the
    coupling rows switched on, as before the restricted repair existed: no row held by bounds, and
    the plan within 2% of the bound."""
    plan = plan_network(generate("S", 0), SolveOptions(mip_rel_gap=0.02, method=LP_FIRST))
    stats = plan.stats.method_stats
    assert stats["restricted_plan"] == 0.0 and stats["restricted_rows"] == 0.0
    assert stats["coupling_rounds"] > 0
    assert plan.status == SolveStatus.OPTIMAL and plan.gap <= 0.02


@pytest.mark.usefixtures("restricted_everywhere")
def test_a_restricted_answer_leaves_the_relaxation_and_its_basis_for_the_next_solve() -> None:
    """S seed 0 at 2%: the answer is the restricted plan, but the live instance the warm state keeps
    holds the relaxation again (no caps, integers free, coupling rows off), with the relaxation's
    optimal basis: re-run as it stands it takes 0 iterations and returns the bound."""
    lp = compile_model(generate("S", 0)).lp
    solution, state = solve_lp_first(lp, SolveOptions(mip_rel_gap=0.02, method=LP_FIRST))
    assert solution.info["restricted_plan"] == 1.0
    held = state.live.lp
    np.testing.assert_array_equal(held.col_lower, lp.col_lower)
    np.testing.assert_array_equal(held.col_upper, lp.col_upper)
    assert not held.integrality.any()
    again = state.live.solve()
    assert again.info["simplex_iteration_count"] == 0
    assert again.objective == pytest.approx(solution.bound, rel=1e-9)
