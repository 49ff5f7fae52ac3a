"""The capabilities beyond solving (duals, ranging, IIS, model files, in-place updates): every
backend's declared features match what its capability methods do, with answers worked out by hand
in the docstrings; and nothing outside solver/backends/ imports highspy.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from models.builder import LinearProgram
from models.solution import Solution, SolveStatus
from solver.backends.base import BEYOND_SOLVING, BackendFeature, SolverBackend, UnsupportedFeature, WrappedBackend
from solver.backends.in_place import IN_PLACE, RebuildRequired
from solver.backends.registry import BACKENDS, available_backends, backend_by_name
from solver.explain import DiagnosisStatus, diagnose, explain
from solver.export import export_model
from solver.live import REBUILT, LiveModel
from solver.options import SolveOptions
from tests.test_known_answers import backup_network

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = SolveOptions()
AVAILABLE = available_backends()


def _with(feature: BackendFeature) -> list[str]:
    return [name for name in AVAILABLE if feature in backend_by_name(name).features]


def _without(feature: BackendFeature) -> list[str]:
    return [name for name, make in BACKENDS.items() if feature not in make().features]


def known_lp() -> LinearProgram:
    """min x + 2y s.t. need: x + y >= 3, gap: x - y <= 5, 0 <= x <= 2, 0 <= y <= 10.

    x is the cheaper way to meet `need`, so it sits at its upper bound 2 and y = 1: objective 4;
    `gap` holds with slack (2 - 1 = 1 < 5).
    Duals: one more unit of `need` is one more y, so row_dual = (2, 0) (`gap` slack). Reduced
    costs c - A'row_dual: x 1 - 2 = -1 (at its upper bound: raising it by one replaces a y and
    saves 1), y 2 - 2 = 0 (basic).
    Ranging: `need`'s bound 3 may rise until y reaches 10, at 12 (objective 2 + 2 * 10 = 22), and
    fall until y reaches 0, at 2 (objective 2). x's upper bound 2 may rise until y reaches 0, at 3
    (objective 3). x's cost may rise to 2, where y is as cheap (objective 2 * 2 + 2 = 6), and fall
    without limit; y's cost may fall to 1 (objective 2 + 1 = 3) and rise without limit."""
    return LinearProgram(
        c=np.array([1.0, 2.0]),
        offset=0.0,
        A=sp.csr_matrix(np.array([[1.0, 1.0], [1.0, -1.0]])),
        row_lower=np.array([3.0, -np.inf]),
        row_upper=np.array([np.inf, 5.0]),
        col_lower=np.zeros(2),
        col_upper=np.array([2.0, 10.0]),
        integrality=np.zeros(2, dtype=bool),
        variables={},
        constraints={},
    )


def infeasible_lp() -> LinearProgram:
    """`known_lp` with `need` raised to 5 and y's upper bound cut to 2: x + y is at most 4, so no
    point meets `need`. The IIS is `need` (its lower side) with the upper bounds of x and y; `gap`
    (x - y <= 5) takes no part: drop any of the three members and a point exists."""
    lp = known_lp()
    return dataclasses.replace(lp, row_lower=np.array([5.0, -np.inf]), col_upper=np.array([2.0, 2.0]))


def whole_units_lp() -> LinearProgram:
    """2x = 3 with x integer in [0, 5]: infeasible only because x must be whole (x = 1.5 solves
    the LP relaxation), so there is no IIS."""
    return LinearProgram(
        c=np.array([1.0]),
        offset=0.0,
        A=sp.csr_matrix(np.array([[2.0]])),
        row_lower=np.array([3.0]),
        row_upper=np.array([3.0]),
        col_lower=np.zeros(1),
        col_upper=np.array([5.0]),
        integrality=np.ones(1, dtype=bool),
        variables={},
        constraints={},
    )


# ---------------------------------------------------------------------------------------------
# Declared features match the capability methods
# ---------------------------------------------------------------------------------------------


def test_highs_declares_every_capability_and_the_others_none() -> None:
    assert backend_by_name("highs").features >= BEYOND_SOLVING
    for name, make in BACKENDS.items():
        if name != "highs":
            assert not BEYOND_SOLVING & make().features, name


CALLS = {
    BackendFeature.DUALS: lambda b, tmp: b.duals(known_lp(), OPTIONS),
    BackendFeature.RANGING: lambda b, tmp: b.duals(known_lp(), OPTIONS, ranging=True),
    BackendFeature.IIS: lambda b, tmp: b.conflict(infeasible_lp(), OPTIONS),
    BackendFeature.WRITE_MODEL: lambda b, tmp: b.write_model(known_lp(), tmp / "model.mps"),
    BackendFeature.IN_PLACE_UPDATE: lambda b, tmp: b.live(known_lp(), OPTIONS),
}


@pytest.mark.parametrize(
    ("name", "feature"),
    [(name, feature) for feature in CALLS for name in _without(feature)] or [pytest.param("", None)],
)
def test_a_backend_without_a_capability_says_so(name: str, feature: BackendFeature, tmp_path: Path) -> None:
    """The error names the backend and the capability (ranging without duals: the duals); nothing
    is solved (so the backend need not even be installed)."""
    if not name:
        pytest.skip("every backend declares every capability")
    backend = BACKENDS[name]()
    ranging_without_duals = feature == BackendFeature.RANGING and BackendFeature.DUALS not in backend.features
    missing = BackendFeature.DUALS if ranging_without_duals else feature
    with pytest.raises(UnsupportedFeature, match=rf"\({missing.value}\); use a backend") as raised:
        CALLS[feature](backend, tmp_path)
    assert raised.value.ident == name and raised.value.field == "backend"
    assert raised.value.feature == missing


@pytest.mark.parametrize("name", _with(BackendFeature.DUALS))
def test_duals_of_the_known_lp(name: str) -> None:
    """`known_lp`'s docstring: objective 4, row duals (2, 0), reduced costs (-1, 0); no ranging
    unless asked for."""
    duals = backend_by_name(name).duals(known_lp(), OPTIONS)
    assert duals.status == SolveStatus.OPTIMAL
    assert duals.objective == pytest.approx(4)
    np.testing.assert_allclose(duals.row_dual, [2, 0], atol=1e-9)
    np.testing.assert_allclose(duals.reduced_cost, [-1, 0], atol=1e-9)
    assert duals.ranging is None


@pytest.mark.parametrize("name", _with(BackendFeature.RANGING))
def test_ranging_of_the_known_lp(name: str) -> None:
    """`known_lp`'s docstring: `need` ranges over [2, 12] (objective 2 to 22), x's upper bound up to
    3 (objective 3), x's cost up to 2 (objective 6), y's cost down to 1 (objective 3)."""
    ranging = backend_by_name(name).duals(known_lp(), OPTIONS, ranging=True).ranging
    assert ranging is not None
    assert (ranging.row_bound_up.value[0], ranging.row_bound_up.objective[0]) == pytest.approx((12, 22))
    assert (ranging.row_bound_down.value[0], ranging.row_bound_down.objective[0]) == pytest.approx((2, 2))
    assert (ranging.col_bound_up.value[0], ranging.col_bound_up.objective[0]) == pytest.approx((3, 3))
    assert (ranging.col_cost_up.value[0], ranging.col_cost_up.objective[0]) == pytest.approx((2, 6))
    assert ranging.col_cost_down.value[0] == -np.inf
    assert (ranging.col_cost_down.value[1], ranging.col_cost_down.objective[1]) == pytest.approx((1, 3))
    assert ranging.col_cost_up.value[1] == np.inf
    assert ranging.col_cost_up.value.shape == (2,) and ranging.row_bound_up.value.shape == (2,)


@pytest.mark.parametrize("name", _with(BackendFeature.IIS))
def test_iis_of_the_known_infeasible_lp(name: str) -> None:
    """`infeasible_lp`'s docstring: row 0 on its lower side, both columns on their upper bounds;
    `whole_units_lp` has no IIS."""
    backend = backend_by_name(name)
    found = backend.conflict(infeasible_lp(), OPTIONS)
    assert found is not None and found.irreducible
    assert found.rows.tolist() == [0] and found.row_sides == ("lower",)
    assert found.columns.tolist() == [0, 1] and found.column_sides == ("upper", "upper")
    assert backend.solve(whole_units_lp(), OPTIONS).status == SolveStatus.INFEASIBLE
    assert backend.conflict(whole_units_lp(), OPTIONS) is None


@pytest.mark.parametrize("name", _with(BackendFeature.WRITE_MODEL))
def test_write_model_writes_the_known_lp_with_its_names(name: str, tmp_path: Path) -> None:
    """MPS of `known_lp`: `need` a G row, `gap` an L row, x's upper bound 2; the file solves back
    to objective 4 (read by HiGHS). A path that names no format is refused."""
    backend = backend_by_name(name)
    path = tmp_path / "known.mps"
    backend.write_model(known_lp(), path, column_names=["x", "y"], row_names=["need", "gap"])
    words = [line.split() for line in path.read_text().splitlines()]
    assert ["G", "need"] in words and ["L", "gap"] in words
    assert ["UP", "BOUND", "x", "2"] in words
    from solver.backends.highs import HighsBackend

    h = HighsBackend().read(path, OPTIONS)
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(4)
    with pytest.raises(ValueError, match=r"\.mps or \.lp"):
        backend.write_model(known_lp(), tmp_path / "known.txt")


@pytest.mark.parametrize("name", _with(BackendFeature.IN_PLACE_UPDATE))
def test_in_place_update_of_the_known_lp(name: str) -> None:
    """Raising x's cost to 3 makes y the cheaper way to meet `need`: x = 0, y = 3, objective 6,
    reached in place (one cost changed). A model of another shape raises RebuildRequired."""
    model = backend_by_name(name).live(known_lp(), OPTIONS)
    assert model.solve(handoff=0.0).objective == pytest.approx(4)
    dearer = dataclasses.replace(known_lp(), c=np.array([3.0, 2.0]))
    update = model.update(dearer)
    assert update.mode == IN_PLACE and update.costs == 1 and update.column_bounds == update.row_bounds == 0
    solution = model.solve(handoff=0.0)
    assert solution.objective == pytest.approx(6)
    assert solution.x is not None and np.allclose(solution.x, [0, 3])
    assert model.lp is dearer
    one_column = dataclasses.replace(
        known_lp(),
        c=np.array([1.0]),
        A=sp.csr_matrix(np.array([[1.0], [1.0]])),
        col_lower=np.zeros(1),
        col_upper=np.array([2.0]),
        integrality=np.zeros(1, dtype=bool),
    )
    with pytest.raises(RebuildRequired, match="shape 2x2 -> 2x1"):
        model.update(one_column)


def test_a_wrapped_backend_passes_its_capabilities_on() -> None:
    """A backend wrapped to watch its solves keeps the inner backend's capabilities beyond solving."""
    highs = backend_by_name("highs")
    wrapped = _Watching(highs, highs.features)
    assert wrapped.duals(known_lp(), OPTIONS).objective == pytest.approx(4)
    assert wrapped.conflict(infeasible_lp(), OPTIONS) is not None


# ---------------------------------------------------------------------------------------------
# explain, export and the live model pick a backend that declares what they need
# ---------------------------------------------------------------------------------------------


def _lacking(feature: BackendFeature) -> SolverBackend:
    """An unsolving stand-in for a backend without `feature` (the check comes before any solve)."""
    return BACKENDS[_without(feature)[0]]()


def test_explain_export_and_live_refuse_a_backend_without_the_capability() -> None:
    """Each names the capability and the backends that declare it (highs)."""
    with pytest.raises(UnsupportedFeature, match=r"duals\); use a backend that declares duals: highs"):
        explain(backup_network(lost_sale_penalty=100), backend=_lacking(BackendFeature.DUALS))
    with pytest.raises(UnsupportedFeature, match="write_model: highs"):
        export_model(known_lp(), "mps", backend=_lacking(BackendFeature.WRITE_MODEL))
    with pytest.raises(UnsupportedFeature, match="in_place_update: highs"):
        LiveModel(known_lp(), backend=_lacking(BackendFeature.IN_PLACE_UPDATE))


class _Watching(WrappedBackend):
    """HiGHS passed through, declaring what the test says."""

    def __init__(self, inner: SolverBackend, features: frozenset[BackendFeature]) -> None:
        super().__init__(inner)
        self.features = features  # type: ignore[misc]

    def solve(self, lp: LinearProgram, options: SolveOptions, **hints: object) -> Solution:
        return self._inner.solve(lp, options)


def test_diagnose_without_an_iis_backend_still_diagnoses() -> None:
    """test_diagnosis' one-lane network (demand 10, lane capacity 6, service target forbids loss):
    a backend without IIS gives the same relaxation of 4, and the conflict message says why there is
    no IIS instead of raising."""
    from tests.test_diagnosis import one_lane_network, only

    no_iis = _Watching(backend_by_name("highs"), backend_by_name("highs").features - {BackendFeature.IIS})
    d = diagnose(one_lane_network(), backend=no_iis)
    assert d.status == DiagnosisStatus.INFEASIBLE and only(d).amount == pytest.approx(4)
    assert d.conflict == ()
    assert d.conflict_message.startswith("conflict: no IIS (UnsupportedFeature: ")
    assert "(iis); use a backend that declares iis" in d.conflict_message


def test_live_model_rebuilds_when_the_backend_cannot_update_in_place() -> None:
    """The front turns `RebuildRequired` into a rebuild with the backend's reason: y made integer
    is a change of integrality, which no in-place update makes; the optimum (x = 2, y = 1: 4) is
    whole already."""
    live = LiveModel(known_lp())
    integer_y = dataclasses.replace(known_lp(), integrality=np.array([False, True]))
    assert live.update(integer_y) == REBUILT
    assert live.last_update.reason == "integrality of 1 columns"
    assert live.solve().objective == pytest.approx(4)


# ---------------------------------------------------------------------------------------------
# highspy stays inside solver/backends/
# ---------------------------------------------------------------------------------------------


def highspy_imports(source: str) -> list[int]:
    """Lines of `source` that import highspy: `import highspy[.x]`, `from highspy[.x] import ...`,
    or a name `highspy` imported from any module (`from solver.backends.highs import highspy`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] == "highspy" for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module == "highspy" or any(alias.name == "highspy" for alias in node.names):
                lines.append(node.lineno)
    return lines


def test_the_scan_finds_every_form_of_import() -> None:
    source = (
        "import highspy\nimport os, highspy.highs as h\nfrom highspy import Highs\n"
        "from solver.backends.highs import highspy as hs\nfrom solver.backends.highs import HighsBackend\n"
        "def f():\n    import highspy\n"
    )
    assert highspy_imports(source) == [1, 2, 3, 4, 7]


def test_nothing_outside_solver_backends_imports_highspy() -> None:
    """models/ and solver/ reach HiGHS only through the backend interface (solver/_proto is
    generated; benchmarks/suite.py measures HiGHS directly by design and is not scanned)."""
    offenders = []
    for path in sorted([*(ROOT / "models").rglob("*.py"), *(ROOT / "solver").rglob("*.py")]):
        relative = path.relative_to(ROOT)
        if relative.parts[:2] in (("solver", "backends"), ("solver", "_proto")):
            continue
        offenders += [f"{relative}:{line}" for line in highspy_imports(path.read_text())]
    assert not offenders, f"highspy imported outside solver/backends/: {', '.join(offenders)}"
