"""Models that crashed HiGHS, each solved in a child process (a crash fails the test instead of
killing the test run) and checked once built."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from models.allocation import build_model
from models.network import Network
from tests.highs_regressions import SUBNORMAL_COSTS
from tests.service_harness import REPO_ROOT
from tests.test_builder_properties import _uncapped

_SOLVE = """
from models.allocation import build_model
from models.network import Network
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions
from tests.highs_regressions import SUBNORMAL_COSTS
from tests.test_builder_properties import _uncapped

lp = build_model(Network.from_spec(_uncapped(SUBNORMAL_COSTS)))
solution = HighsBackend().solve(lp, SolveOptions(time_limit=20.0, mip_rel_gap=0.0, seed=1))
print(solution.status.value, repr(solution.objective))
"""


def test_a_model_with_subnormal_costs_is_built_without_them_and_solves() -> None:
    """Every subnormal number of the drawn network's model is flushed to zero by the builder (no
    entry of the costs, bounds or matrix lies strictly between 0 and 2.2e-308), and HiGHS solves it
    to optimality in a child process that exits normally (it died with SIGSEGV, exit -11, before)."""
    lp = build_model(Network.from_spec(_uncapped(SUBNORMAL_COSTS)))
    tiny = np.finfo(np.float64).tiny
    for name, values in (
        ("c", lp.c),
        ("col_lower", lp.col_lower),
        ("col_upper", lp.col_upper),
        ("row_lower", lp.row_lower),
        ("row_upper", lp.row_upper),
        ("A", lp.A.data),
    ):
        magnitudes = np.abs(values)
        assert not ((magnitudes > 0) & (magnitudes < tiny)).any(), name
    done = subprocess.run(
        [sys.executable, "-c", _SOLVE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    status, objective = done.stdout.split()
    assert status == "optimal" and float(objective) > 0
