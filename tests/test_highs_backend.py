"""The HiGHS backend's own behaviour: statuses as results, thread counts that change between solves."""

from __future__ import annotations

from pathlib import Path

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


def test_read_a_model_file_with_options_and_thread_changes(tmp_path: Path) -> None:
    """A model written as MPS (gzipped) reads back into HiGHS with the options applied, thread
    counts changing between reads as between loads: the backup network solves to 100 each time."""
    import gzip

    import highspy

    from solver.export import export_model

    lp = compile_model(backup_network(lost_sale_penalty=100)).lp
    path = tmp_path / "backup.mps.gz"
    path.write_bytes(gzip.compress(export_model(lp, "mps").encode()))
    backend = HighsBackend()
    for threads in (2, 1):
        h = backend.read(path, SolveOptions(threads=threads, mip_rel_gap=0.0))
        assert h.getOptions().mip_rel_gap == 0.0
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        assert h.getInfo().objective_function_value == pytest.approx(100)
    with pytest.raises(ValueError, match="cannot read"):
        backend.read(tmp_path / "missing.mps", SolveOptions())
