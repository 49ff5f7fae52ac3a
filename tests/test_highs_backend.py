"""The HiGHS backend's own behaviour: statuses as results, thread counts that change between solves."""

from __future__ import annotations

import subprocess
import sys
import textwrap
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


def test_any_thread_sequence_after_a_default_thread_solve_in_a_fresh_process() -> None:
    """The sequence that failed on HiGHS 1.16: a first solve with `threads` unset starts the
    process-wide scheduler with HiGHS's default, and a later `threads=1` then ended "Not Set"
    (status ERROR). Run in a new interpreter so that the first solve of the process really is the
    default-thread one, whatever ran before in this one; every solve must reach the optimum 100.
    It also checks the banner: nothing but the objectives reaches standard output."""
    script = textwrap.dedent(
        """
        from models.solution import SolveStatus
        from solver.backends.highs import HighsBackend
        from solver.options import SolveOptions
        from solver.planner import compile_model
        from tests.test_known_answers import backup_network

        lp = compile_model(backup_network(lost_sale_penalty=100)).lp
        for threads in (0, 1, 2, 0, 1, 1, 2, 2, 0):
            solution = HighsBackend().solve(lp, SolveOptions(threads=threads))
            print(threads, solution.status.value, round(solution.objective, 6))
        # Pyomo's HiGHS runs on the same scheduler: the sequence goes on through it.
        from solver.backends.registry import backend_by_name

        pyomo = backend_by_name("pyomo-highs")
        for threads in (1, 0, 2, 1):
            solution = pyomo.solve(lp, SolveOptions(threads=threads))
            print(threads, "pyomo", solution.status.value, round(solution.objective, 6))
        """
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = [line for line in done.stdout.splitlines() if line[:1].isdigit()]
    assert results == [f"{t} optimal 100.0" for t in (0, 1, 2, 0, 1, 1, 2, 2, 0)] + [
        f"{t} pyomo optimal 100.0" for t in (1, 0, 2, 1)
    ]


def test_no_highs_banner_on_standard_output(tmp_path: Path) -> None:
    """HiGHS 1.16 prints a copyright banner ("Running HiGHS 1.16.0 ...") to file descriptor 1 when
    a process makes its first `Highs()`. `concerto export FILE` to standard output must be the MPS
    model alone: its first line is MPS's NAME record, and no line mentions HiGHS."""
    from solver.convert import write_network

    path = tmp_path / "backup.json"
    write_network(backup_network(lost_sale_penalty=100), path)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "solver.cli", "export", str(path), "--format", "mps"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("NAME")
    assert not [line for line in lines if "HiGHS" in line]


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
