"""The HiGHS backend's own behaviour: statuses as results, thread counts that change between solves."""

from __future__ import annotations

import pytest

from models.solution import SolveStatus
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions
from solver.planner import compile_model
from tests.test_known_answers import backup_network


def test_thread_count_may_change_between_solves_in_one_process() -> None:
    """HiGHS's process-wide scheduler keeps the first thread count; the backend restarts it when a
    later solve asks for another, so every solve stays optimal (objective 100, see
    test_known_answers.test_backup_supplier_worth_activating)."""
    lp = compile_model(backup_network(lost_sale_penalty=100)).lp
    backend = HighsBackend()
    for threads in (1, 2, 1, 0, 2):
        solution = backend.solve(lp, SolveOptions(threads=threads))
        assert solution.status == SolveStatus.OPTIMAL, threads
        assert solution.objective == pytest.approx(100)
