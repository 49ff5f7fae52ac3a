"""Every available backend against the known-answer catalogue, chosen by declared capability;
bad backend names and options; a portfolio race. The optima are worked out in the docstrings of
tests/test_known_answers.py and tests/test_protocols.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from models.builder import LinearProgram
from models.errors import ValidationError
from models.solution import SolveStatus
from solver.backends.base import BackendFeature, MipProgress, SolverBackend
from solver.backends.highs import HighsBackend
from solver.backends.ortools import OrToolsBackend
from solver.backends.registry import BACKENDS, available_backends, backend_by_name, check_options
from solver.options import SolveOptions
from solver.planner import compile_model
from solver.portfolio import race
from tests import test_known_answers as ka
from tests import test_protocols as tp

OPTIONS = SolveOptions(mip_rel_gap=1e-9, time_limit=30)
AVAILABLE = available_backends()

CATALOGUE: dict[str, tuple[Callable[[], LinearProgram], float]] = {
    "backup-worth-activating": (lambda: compile_model(ka.backup_network(100)).lp, 100),
    "backup-not-worth-activating": (lambda: compile_model(ka.backup_network(9)).lp, 95),
    "overtime-pays": (lambda: compile_model(ka.production_network(20)).lp, 72),
    "overtime-idle": (lambda: compile_model(ka.production_network(7)).lp, 68),
    "capacitated-facility-location": (lambda: compile_model(ka.facility_location(False)).lp, 240),
    "single-source-facility-location": (lambda: compile_model(ka.facility_location(True)).lp, 270),
    "short-outage-within-authority": (
        lambda: compile_model(tp.outage_network(), tp.short_outage_protocols(limit=100), [tp.OUTAGE_DAY_0]).lp,
        180,
    ),
    "short-outage-escalation-pays": (
        lambda: compile_model(tp.outage_network(), tp.short_outage_protocols(limit=50), [tp.OUTAGE_DAY_0]).lp,
        310,
    ),
    "hard-cap-shortfall": (
        lambda: (
            compile_model(
                tp.outage_network(), tp.short_outage_protocols(limit=30, cap=50, delay=0), [tp.OUTAGE_DAY_0]
            ).lp
        ),
        680,
    ),
    "long-outage-within-authority": (
        lambda: compile_model(tp.plant_network(), tp.long_outage_protocols(overtime_limit=36), [tp.LONG_OUTAGE]).lp,
        76,
    ),
    "long-outage-joint-escalation": (
        lambda: compile_model(tp.plant_network(), tp.long_outage_protocols(overtime_limit=9), [tp.LONG_OUTAGE]).lp,
        169,
    ),
    "surge-lateral-within-authority": (
        lambda: compile_model(tp.surge_network(), tp.surge_protocols(lateral_limit=20), [tp.SURGE]).lp,
        50,
    ),
    "surge-escalation-pays": (
        lambda: compile_model(tp.surge_network(), tp.surge_protocols(lateral_limit=4), [tp.SURGE]).lp,
        70,
    ),
}


def integer_knapsack() -> LinearProgram:
    """max 5x + 4y s.t. 6x + 4y <= 24, x + 2y <= 6, x, y in {0..10} integer: the LP optimum is
    (3, 1.5) at 21, the integer one (4, 0) at 20 (y = 1 leaves 6x <= 20, x = 3, 19). As a
    minimization with offset 1: -20 + 1 = -19."""
    A = sp.csr_matrix(np.array([[6.0, 4.0], [1.0, 2.0]]))
    return LinearProgram(
        c=np.array([-5.0, -4.0]),
        offset=1.0,
        A=A,
        row_lower=np.full(2, -np.inf),
        row_upper=np.array([24.0, 6.0]),
        col_lower=np.zeros(2),
        col_upper=np.full(2, 10.0),
        integrality=np.ones(2, dtype=bool),
        variables={},
        constraints={},
    )


def _needs(lp: LinearProgram) -> set[BackendFeature]:
    needs = {BackendFeature.MIP} if lp.n_integer else set()
    if lp.n_integer < lp.n_cols:
        needs.add(BackendFeature.LP)
    return needs


@pytest.fixture(scope="module", params=AVAILABLE)
def backend(request: pytest.FixtureRequest) -> SolverBackend:
    return backend_by_name(request.param)


@pytest.fixture(scope="module")
def models() -> dict[str, LinearProgram]:
    return {name: build() for name, (build, _) in CATALOGUE.items()}


def test_ortools_backends_are_available() -> None:
    assert "ortools-scip" in AVAILABLE, "ortools should be importable in a worker process"


def test_catalogue_reaches_known_optima(backend: SolverBackend, models: dict[str, LinearProgram]) -> None:
    """Every catalogue model the backend's declared features cover reaches its optimum within 1e-6."""
    covered = [name for name, lp in models.items() if _needs(lp) <= backend.features]
    if not covered:
        pytest.skip(f"{backend.name} declares no feature set covering the catalogue (continuous columns)")
    for name in covered:
        solution = backend.solve(models[name], OPTIONS)
        assert solution.status == SolveStatus.OPTIMAL, (name, solution.message)
        assert solution.objective == pytest.approx(CATALOGUE[name][1], abs=1e-6), name
        assert solution.x is not None
        assert models[name].objective(solution.x) == pytest.approx(CATALOGUE[name][1], abs=1e-6), name


def test_integer_model_reaches_known_optimum(backend: SolverBackend) -> None:
    solution = backend.solve(integer_knapsack(), OPTIONS)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.objective == pytest.approx(-19, abs=1e-6)
    assert solution.x is not None and np.allclose(solution.x, [4, 0])


def test_backends_agree_with_highs_status_on_infeasible() -> None:
    """6x + 4y >= 30 with x, y <= 3 and x + 2y <= 6 cannot hold (6x + 4y is at most 24)."""
    lp = integer_knapsack()
    bad = LinearProgram(
        **{
            **lp.__dict__,
            "row_lower": np.array([30.0, -np.inf]),
            "row_upper": np.array([np.inf, 6.0]),
            "col_upper": np.full(2, 3.0),
        }
    )
    for name in AVAILABLE:
        assert backend_by_name(name).solve(bad, OPTIONS).status in (
            SolveStatus.INFEASIBLE,
            SolveStatus.INFEASIBLE_OR_UNBOUNDED,
        ), name


def test_unknown_backend_names_the_option() -> None:
    with pytest.raises(ValidationError, match="is unknown; Concerto knows highs, ortools-scip") as err:
        backend_by_name("gurobi")
    assert err.value.field == "backend"


def test_unavailable_backend_names_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    class Missing(HighsBackend):
        name = "missing"

        @classmethod
        def available(cls) -> bool:
            return False

    monkeypatch.setitem(BACKENDS, "missing", Missing)
    with pytest.raises(ValidationError, match="not available in this installation") as err:
        backend_by_name("missing")
    assert err.value.field == "backend"


def test_cpsat_refuses_continuous_models() -> None:
    if "ortools-cpsat" not in AVAILABLE:
        pytest.skip("ortools unavailable")
    lp = CATALOGUE["backup-worth-activating"][0]()
    with pytest.raises(ValidationError, match="CP-SAT needs integer variables") as err:
        backend_by_name("ortools-cpsat").solve(lp, OPTIONS)
    assert err.value.field == "backend"


def test_cpsat_refuses_fractional_data() -> None:
    if "ortools-cpsat" not in AVAILABLE:
        pytest.skip("ortools unavailable")
    lp = integer_knapsack()
    fractional = LinearProgram(**{**lp.__dict__, "c": np.array([-5.5, -4.0])})
    with pytest.raises(ValidationError, match="integer objective coefficients"):
        backend_by_name("ortools-cpsat").solve(fractional, OPTIONS)


def test_unsupported_option_names_the_option() -> None:
    class NoThreads(HighsBackend):
        name = "no-threads"
        features = frozenset(BackendFeature) - {BackendFeature.THREADS}

    check_options(NoThreads(), SolveOptions())
    with pytest.raises(ValidationError, match="not supported by the no-threads backend") as err:
        check_options(NoThreads(), SolveOptions(threads=2))
    assert err.value.field == "threads"


def test_portfolio_race_reports_winner_and_times(models: dict[str, LinearProgram]) -> None:
    if "ortools-scip" not in AVAILABLE:
        pytest.skip("ortools unavailable")
    result = race(models["single-source-facility-location"], OPTIONS, ["highs", "ortools-scip"])
    assert result.winner in ("highs", "ortools-scip")
    assert result.solution.status == SolveStatus.OPTIMAL
    assert result.solution.objective == pytest.approx(270, abs=1e-6)
    assert {e.backend for e in result.entries} == {"highs", "ortools-scip"}
    assert all(e.seconds > 0 for e in result.entries)
    assert [e.backend for e in result.entries if not e.cancelled and e.solution is not None]


def test_portfolio_rejects_unknown_backend() -> None:
    with pytest.raises(ValidationError, match="backend is unknown"):
        race(integer_knapsack(), OPTIONS, ["highs", "nope"])


# -- the OR-Tools backend's MIP start, progress and interrupt, where its solver declares them --------

ORTOOLS = [name for name in AVAILABLE if name.startswith("ortools-")]


def _with(feature: BackendFeature) -> list[str]:
    return [name for name in ORTOOLS if feature in backend_by_name(name).features]


def hard_binary_knapsack() -> LinearProgram:
    """max p.x s.t. W x <= 400 over 120 binaries and 40 rows of 30 random weights (seed 3): integer
    data only (so CP-SAT takes it) and hard enough that no solver proves the optimum within the
    first incumbents, which is all the interrupt test needs."""
    rng = np.random.default_rng(3)
    n, m = 120, 40
    rows = np.repeat(np.arange(m), 30)
    cols = np.concatenate([rng.choice(n, size=30, replace=False) for _ in range(m)])
    A = sp.csr_matrix((rng.integers(1, 51, size=rows.size).astype(float), (rows, cols)), shape=(m, n))
    return LinearProgram(
        c=-rng.integers(1, 61, size=n).astype(float),
        offset=0.0,
        A=A,
        row_lower=np.full(m, -np.inf),
        row_upper=np.full(m, 400.0),
        col_lower=np.zeros(n),
        col_upper=np.ones(n),
        integrality=np.ones(n, dtype=bool),
        variables={},
        constraints={},
    )


@pytest.mark.parametrize("name", _with(BackendFeature.MIP_START))
def test_ortools_mip_start_is_accepted_when_feasible(name: str) -> None:
    """The knapsack's optimum (4, 0) as a start is accepted and the solve ends at -19; the start
    (3, 3) breaks 6x + 4y <= 24 (30 > 24), and the solver's log says nothing of accepting it."""
    backend = backend_by_name(name)
    good = backend.solve(integer_knapsack(), OPTIONS, start=np.array([4.0, 0.0]))
    assert good.status == SolveStatus.OPTIMAL and good.objective == pytest.approx(-19, abs=1e-6)
    assert good.info["mip_start_accepted"] == 1.0
    bad = backend.solve(integer_knapsack(), OPTIONS, start=np.array([3.0, 3.0]))
    assert bad.objective == pytest.approx(-19, abs=1e-6)
    assert bad.info["mip_start_accepted"] == 0.0


def test_ortools_scip_accepts_highs_plan_as_start(models: dict[str, LinearProgram]) -> None:
    """HiGHS's optimum of the single-source facility location (270) is a start SCIP accepts, with
    the same optimum."""
    if "ortools-scip" not in AVAILABLE:
        pytest.skip("ortools unavailable")
    lp = models["single-source-facility-location"]
    highs = HighsBackend().solve(lp, OPTIONS)
    scip = backend_by_name("ortools-scip").solve(lp, OPTIONS, start=highs.x)
    assert scip.info["mip_start_accepted"] == 1.0
    assert scip.objective == pytest.approx(270, abs=1e-6)


@pytest.mark.parametrize("name", _with(BackendFeature.PROGRESS))
def test_ortools_progress_reports_non_increasing_incumbents(name: str, models: dict[str, LinearProgram]) -> None:
    """Each MIP_SOLUTION event reaches `progress` in the parent: the incumbent never rises
    (minimization), the bound never passes it, and the last incumbent is the optimum (-19 for the
    knapsack; 270 for the single-source facility location where the solver takes continuous columns)."""
    cases = [(integer_knapsack(), -19.0)]
    if BackendFeature.LP in backend_by_name(name).features:
        cases.append((models["single-source-facility-location"], 270.0))
    for lp, optimum in cases:
        updates: list[MipProgress] = []
        solution = backend_by_name(name).solve(lp, OPTIONS, progress=updates.append)
        assert solution.status == SolveStatus.OPTIMAL
        incumbents = [u.objective for u in updates]
        assert incumbents, "no progress reached the parent"
        assert all(b <= a + 1e-9 for a, b in itertools.pairwise(incumbents))
        assert incumbents[-1] == pytest.approx(optimum, abs=1e-6)
        assert updates[0].improved
        assert all(u.bound <= u.objective + 1e-6 for u in updates if not np.isnan(u.bound))


@pytest.mark.parametrize("name", _with(BackendFeature.INTERRUPT))
def test_ortools_interrupt_stops_with_the_incumbent(name: str) -> None:
    """`interrupt` turning True after the first incumbent stops the solve through MathOpt's
    interrupter: the answer is the best plan so far (FEASIBLE, MathOpt's limit INTERRUPTED), not a
    proven optimum nor the time limit."""
    updates: list[MipProgress] = []
    solution = backend_by_name(name).solve(
        hard_binary_knapsack(),
        SolveOptions(time_limit=60.0, mip_rel_gap=0.0),
        progress=updates.append,
        interrupt=lambda: any(u.improved for u in updates),
    )
    assert solution.status == SolveStatus.FEASIBLE, solution.message
    assert "INTERRUPTED" in solution.message
    assert updates and solution.objective <= updates[0].objective + 1e-6


def test_ortools_highs_declares_only_what_mathopt_supports() -> None:
    """MathOpt's HiGHS refuses `threads`, never calls back and ignores an interrupter (ortools 9.15):
    the registry refuses the option instead of failing in the worker."""
    backend = OrToolsBackend("highs")
    assert {BackendFeature.THREADS, BackendFeature.PROGRESS, BackendFeature.INTERRUPT}.isdisjoint(backend.features)
    with pytest.raises(ValidationError, match="not supported by the ortools-highs backend") as err:
        check_options(backend, SolveOptions(threads=2))
    assert err.value.field == "threads"


@pytest.mark.parametrize("name", sorted(AVAILABLE))
def test_terminal_progress_shows_whatever_a_backend_reports(name: str) -> None:
    """`concerto solve --backend NAME` wraps the backend in `ShowProgress`: a backend declaring
    PROGRESS prints at least one line on the knapsack (optimum -19, the last incumbent shown), one
    that does not prints none and still solves; the wrapper keeps the name and capabilities."""
    from solver.progress import ShowProgress, TerminalProgress

    lines: list[str] = []
    inner = backend_by_name(name)
    backend = ShowProgress(inner, TerminalProgress(after=0.0, every=0.0, out=lines.append))
    assert (backend.name, backend.features) == (inner.name, inner.features)
    solution = backend.solve(integer_knapsack(), OPTIONS)
    assert solution.status == SolveStatus.OPTIMAL
    assert solution.objective == pytest.approx(-19)
    if BackendFeature.PROGRESS in inner.features:
        assert lines and "incumbent -19.00" in lines[-1], lines
    else:
        assert lines == []


# -- the Pyomo backend: any solver Pyomo's contrib.solver drives ------------------------------------


def test_pyomo_highs_agrees_with_highs_on_a_generated_network() -> None:
    """The plain transfer of a whole S model (about 3.6k columns, every coefficient, bound and the
    offset) through Pyomo reaches HiGHS's own optimum. Its LP relaxation, so both optima are exact
    (the catalogue above holds the integer columns to known optima)."""
    from benchmarks.generator import generate

    mip = compile_model(generate("S", 1)).lp
    lp = replace(mip, integrality=np.zeros(mip.n_cols, dtype=bool))
    options = SolveOptions(time_limit=120)
    direct = HighsBackend().solve(lp, options)
    through_pyomo = backend_by_name("pyomo-highs").solve(lp, options)
    assert direct.status == through_pyomo.status == SolveStatus.OPTIMAL
    assert through_pyomo.objective == pytest.approx(direct.objective, rel=1e-9)
    assert through_pyomo.x is not None and through_pyomo.x.shape == (lp.n_cols,)
    # The returned columns are a plan of the model: every row holds.
    activity = lp.A @ through_pyomo.x
    assert np.all(activity >= lp.row_lower - 1e-6) and np.all(activity <= lp.row_upper + 1e-6)
    assert float(lp.c @ through_pyomo.x + lp.offset) == pytest.approx(through_pyomo.objective, rel=1e-9)


def test_pyomo_backend_states_an_empty_infeasible_row_as_infeasible() -> None:
    """A row without columns whose bounds exclude 0 (0 >= 1) is infeasible before any solver
    runs; Pyomo could not state it, so the backend answers INFEASIBLE itself, as HiGHS does."""
    lp = integer_knapsack()
    A = sp.vstack([lp.A, sp.csr_matrix((1, 2))]).tocsr()
    bad = replace(lp, A=A, row_lower=np.append(lp.row_lower, 1.0), row_upper=np.append(lp.row_upper, np.inf))
    assert HighsBackend().solve(bad, OPTIONS).status == SolveStatus.INFEASIBLE
    answer = backend_by_name("pyomo-highs").solve(bad, OPTIONS)
    assert answer.status == SolveStatus.INFEASIBLE and "row 2" in answer.message


def test_pyomo_solver_not_installed_names_the_option() -> None:
    """Every contrib.solver name is known; one whose solver is not installed here is refused with
    the option named, and an unknown Pyomo solver lists the known ones."""
    from solver.backends.pyomo import SOLVERS, PyomoBackend

    assert {f"pyomo-{s}" for s in SOLVERS} <= set(BACKENDS)
    missing = [s for s in SOLVERS if not PyomoBackend(s).usable()]
    if not missing:
        pytest.skip("every Pyomo solver is installed here")
    with pytest.raises(ValidationError, match="not available in this installation") as err:
        backend_by_name(f"pyomo-{missing[0]}")
    assert err.value.field == "backend"
    # ... and it says what to install, then what is usable here.
    from solver.backends.pyomo import INSTALL_HINTS

    assert f"(to use it: {INSTALL_HINTS[missing[0]]}); available here: highs" in str(err.value)
    with pytest.raises(ValidationError, match="unknown Pyomo solver; use one of highs"):
        PyomoBackend("cplex_shell")
