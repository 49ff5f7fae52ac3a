"""Every available backend against the known-answer catalogue, chosen by declared capability;
bad backend names and options; a portfolio race. The optima are worked out in the docstrings of
tests/test_known_answers.py and tests/test_protocols.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from models.builder import LinearProgram
from models.errors import ValidationError
from models.solution import SolveStatus
from solver.backends.base import BackendFeature, SolverBackend
from solver.backends.highs import HighsBackend
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
    with pytest.raises(ValidationError, match="unknown backend 'gurobi'; use one of highs, ortools-scip") as err:
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
    with pytest.raises(ValidationError, match="unknown backend"):
        race(integer_knapsack(), OPTIONS, ["highs", "nope"])
