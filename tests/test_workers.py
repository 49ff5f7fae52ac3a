"""The solver worker pool: plans equal to `plan_network`'s, concurrency, admission, cancellation,
errors carried across the process boundary, progress events, and recovery from a killed worker.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest

from benchmarks.generator import generate
from models.errors import ValidationError
from models.network import Lane
from models.solution import SolveStatus
from solver.backends.highs import HighsBackend, MipProgress
from solver.errors import PoolClosed, status_for
from solver.export import export_model
from solver.options import SolveOptions
from solver.planner import compile_model, plan_network
from solver.workers import (
    PROGRESS_INTERVAL,
    ExportJob,
    Phase,
    Progress,
    QueueFull,
    SolveCancelled,
    SolveJob,
    TimeLimitExceeded,
    WorkerError,
    WorkerLost,
    WorkerPool,
    overrun_grace,
)
from tests.random_networks import random_network, random_protocol_network, random_protocols
from tests.test_known_answers import backup_network

WAIT = 60.0
"""Seconds any single wait may take before the test fails instead of hanging."""


def long_job() -> SolveJob:
    """Network "M" of the benchmark generator (~100k columns) solved by HiGHS's MILP: 15-20 s, far
    longer than any test waits, so the job is still solving whenever a test cancels it or kills its
    worker."""
    return SolveJob(generate("M", seed=0), options=SolveOptions(time_limit=600.0, method="milp"))


def tiny_job() -> SolveJob:
    return SolveJob(backup_network(lost_sale_penalty=100))


class Recorder:
    """Collects a job's progress events and signals once the solver is running."""

    def __init__(self) -> None:
        self.events: list[Progress] = []
        self.solving = threading.Event()

    def __call__(self, event: Progress) -> None:
        self.events.append(event)
        if event.phase == Phase.SOLVING:
            self.solving.set()


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2, 4) as p:
        assert p.wait_ready(WAIT)
        yield p


def test_plans_equal_plan_network(pool: WorkerPool) -> None:
    spec = random_protocol_network(3)
    protocols, signals = random_protocols(3, spec)
    jobs = [
        tiny_job(),
        SolveJob(backup_network(lost_sale_penalty=9)),
        SolveJob(random_network(1), options=SolveOptions(mip_rel_gap=0.0)),
        SolveJob(random_network(2, integers=False)),
        SolveJob(spec, protocols, tuple(signals), SolveOptions(mip_rel_gap=0.0)),
    ]
    handles = [pool.submit(job) for job in jobs]
    for job, handle in zip(jobs, handles, strict=True):
        direct = plan_network(job.spec, job.options, protocols=job.protocols, signals=job.signals)
        plan = handle.result(WAIT)
        assert handle.done() and not handle.cancelled()
        assert plan.status == direct.status == SolveStatus.OPTIMAL
        assert plan.objective == pytest.approx(direct.objective, rel=1e-9, abs=1e-6)
        assert plan.values.keys() == direct.values.keys()
        assert [(d.function, d.action, d.status) for d in plan.decisions] == [
            (d.function, d.action, d.status) for d in direct.decisions
        ]


def test_validation_error_comes_back_with_its_fields(pool: WorkerPool) -> None:
    good = backup_network(lost_sale_penalty=100)
    bad = replace(good, lanes=(*good.lanes, Lane("L3", "S1", "nowhere", ("A",))))
    with pytest.raises(ValidationError) as direct:
        plan_network(bad)
    with pytest.raises(ValidationError) as pooled:
        pool.submit(SolveJob(bad)).result(WAIT)
    expected, got = direct.value, pooled.value
    assert type(got) is type(expected)
    assert (got.entity, got.ident, got.field, got.message) == (
        expected.entity,
        expected.ident,
        expected.field,
        expected.message,
    )
    assert str(got) == str(expected)
    assert "in the worker process" in str(got.__cause__)
    # Any other exception comes back as WorkerError naming it, an honest INTERNAL (a bug, not a lost
    # worker); the worker survives either.
    with pytest.raises(WorkerError, match="AttributeError") as bug:
        pool.submit(SolveJob(None)).result(WAIT)  # type: ignore[arg-type]
    assert not isinstance(bug.value, WorkerLost)
    assert status_for(bug.value)[0] == grpc.StatusCode.INTERNAL
    assert pool.submit(tiny_job()).result(WAIT).objective == pytest.approx(100)


def test_two_workers_solve_two_jobs_at_once(pool: WorkerPool) -> None:
    recorders = [Recorder(), Recorder()]
    handles = [pool.submit(long_job(), on_progress=r) for r in recorders]
    try:
        for r in recorders:
            assert r.solving.wait(WAIT), "a job never started solving"
        stats = pool.stats()
        assert (stats.running, stats.queued, stats.workers_alive) == (2, 0, 2)
        assert not any(h.done() for h in handles)
    finally:
        for h in handles:
            h.cancel()
    assert pool.wait_ready(WAIT)
    assert pool.stats().workers_alive == 2


def test_progress_of_a_long_mip(pool: WorkerPool) -> None:
    """Network "S" finds a first incumbent within a fraction of a second and, to a 0.01% gap, keeps
    improving it for longer than its 1.5 s limit: it reports its phases in order and solver updates
    with an incumbent, at most one every PROGRESS_INTERVAL seconds. (At the default 0.1% gap S can
    finish before the first update is due.)"""
    recorder = Recorder()
    job = SolveJob(generate("S", seed=0), options=SolveOptions(time_limit=1.5, mip_rel_gap=1e-4))
    plan = pool.submit(job, on_progress=recorder).result(WAIT)
    assert plan.has_solution
    events = recorder.events
    phases = [e.phase for e in events]
    assert phases[0] == Phase.BUILDING and phases[1] == Phase.SOLVING and phases[-1] == Phase.EXTRACTING
    assert set(phases[1:-1]) == {Phase.SOLVING}
    updates = events[2:-1]
    assert any(e.objective == e.objective for e in updates), "no update carried an incumbent"
    assert all(e.best_bound <= e.objective + 1e-6 * abs(e.objective) for e in updates if e.objective == e.objective)
    times = [e.elapsed_seconds for e in updates]
    assert times == sorted(times)
    # Sent at most once per interval (each stamped when HiGHS reported it, a held one a bit earlier).
    assert len(updates) <= events[-1].elapsed_seconds / PROGRESS_INTERVAL + 1
    assert events[-1].objective == pytest.approx(plan.objective)
    assert events[-1].gap == pytest.approx(plan.gap)


def test_queue_full_and_cancel() -> None:
    """One worker and a queue of one: a third job is refused at once; cancelling the running long
    solve ends it within 2 s, and the replacement worker then solves the queued job."""
    with WorkerPool(1, 1) as pool:
        assert pool.wait_ready(WAIT)
        recorder = Recorder()
        running = pool.submit(long_job(), on_progress=recorder)
        queued = pool.submit(tiny_job())
        with pytest.raises(QueueFull, match="retry later"):
            pool.submit(tiny_job())
        assert recorder.solving.wait(WAIT)
        pid = pool.stats().worker_pids[0]

        assert running.cancel()
        with pytest.raises(SolveCancelled):
            running.result(timeout=2.0)
        assert running.cancelled() and not running.cancel()
        assert queued.result(WAIT).objective == pytest.approx(100)
        assert pool.stats().worker_pids[0] != pid

        # A queued job is just dropped.
        blocker = pool.submit(long_job(), on_progress=(started := Recorder()))
        assert started.solving.wait(WAIT)
        dropped = pool.submit(tiny_job())
        assert pool.stats().queued == 1
        assert dropped.cancel() and dropped.done() and dropped.cancelled()
        stats = pool.stats()
        assert (stats.running, stats.queued) == (1, 0) and not blocker.done()
        blocker.cancel()
        assert pool.submit(tiny_job()).result(WAIT).objective == pytest.approx(100)


def test_one_worker_solves_any_sequence_of_thread_counts() -> None:
    """In the service, a request with `threads` unset followed by one with `threads: 1` in the same
    worker returned an error plan on HiGHS 1.16 (the first solve had started the worker's scheduler
    with HiGHS's default). One worker, one process: unset, 1, 2, unset, 1, each the backup
    network's optimum 100 (test_known_answers), all in the worker that started first."""
    with WorkerPool(1, 0) as pool:
        assert pool.wait_ready(WAIT)
        (pid,) = pool.stats().worker_pids
        for threads in (0, 1, 2, 0, 1):
            job = replace(tiny_job(), options=SolveOptions(threads=threads))
            plan = pool.submit(job).result(WAIT)
            assert plan.status == SolveStatus.OPTIMAL, (threads, plan.message)
            assert plan.objective == pytest.approx(100)
        assert pool.stats().worker_pids == (pid,)


def test_worker_killed_from_outside() -> None:
    with WorkerPool(1, 0) as pool:
        assert pool.wait_ready(WAIT)
        recorder = Recorder()
        handle = pool.submit(long_job(), on_progress=recorder)
        assert recorder.solving.wait(WAIT)
        (pid,) = pool.stats().worker_pids
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerLost, match="SIGKILL") as lost:
            handle.result(WAIT)
        assert status_for(lost.value)[0] == grpc.StatusCode.UNAVAILABLE  # clients retry it
        assert pool.submit(tiny_job()).result(WAIT).objective == pytest.approx(100)
        stats = pool.stats()
        assert stats.workers_alive == 1 and stats.worker_pids != (pid,)


def test_closed_pool_refuses_jobs() -> None:
    """A pool closed by a server shutting down refuses new jobs with `PoolClosed`: UNAVAILABLE, a
    code clients retry (on another server, or this one once it is back)."""
    pool = WorkerPool(1, 1)
    handle = pool.submit(long_job())
    queued = pool.submit(tiny_job())
    pool.close()
    assert handle.cancelled() and queued.cancelled()
    with pytest.raises(PoolClosed, match="closed") as closed:
        pool.submit(tiny_job())
    assert status_for(closed.value)[0] == grpc.StatusCode.UNAVAILABLE
    assert pool.stats().workers_alive == 0


def test_highs_progress_and_interrupt_hooks() -> None:
    """The backend hook the workers use: MIP updates reach `progress`, and `interrupt` stops the
    solve at the next check once it returns True, keeping the incumbent."""
    lp = compile_model(generate("S", seed=0)).lp
    updates: list[MipProgress] = []
    solution = HighsBackend().solve(
        lp,
        SolveOptions(time_limit=60.0, mip_rel_gap=1e-4),  # a first incumbent that is not yet the answer
        progress=updates.append,
        interrupt=lambda: any(u.improved for u in updates),
    )
    assert solution.status == SolveStatus.FEASIBLE
    improved = [u for u in updates if u.improved]
    assert improved and solution.objective <= improved[0].objective + 1e-6 * abs(improved[0].objective)
    assert all(u.bound <= u.objective + 1e-6 * abs(u.objective) for u in improved)


class StallOnUnpickle:
    """Stands in for work before the solve that takes longer than any limit: unpickling it in the
    worker sleeps `seconds` (and leaves None), before the job has even reached the planner."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __reduce__(self) -> tuple[object, tuple[float]]:
        return time.sleep, (self.seconds,)


def test_a_job_past_its_time_limit_is_stopped_and_its_worker_freed() -> None:
    """Finding 5: work before the solve (reach, model building) ran past the time limit and the
    client's deadline, holding its worker. A job with a 1 s limit whose pre-solve phase stalls for
    600 s is stopped by the pool once overrun_grace(1) = 10 s past its limit: it ends with
    TimeLimitExceeded (DEADLINE_EXCEEDED), and a new worker in its slot solves the next job."""
    assert overrun_grace(1.0) == 10.0 and overrun_grace(60.0) == 30.0
    stalled = replace(tiny_job(), options=SolveOptions(time_limit=1.0), protocols=StallOnUnpickle(600))  # type: ignore[arg-type]
    with WorkerPool(1, 0) as pool:
        assert pool.wait_ready(WAIT)
        (pid,) = pool.stats().worker_pids
        with pytest.raises(TimeLimitExceeded, match="past its time limit of 1 s") as over:
            pool.submit(stalled).result(WAIT)
        assert status_for(over.value)[0] == grpc.StatusCode.DEADLINE_EXCEEDED
        assert pool.submit(tiny_job()).result(WAIT).objective == pytest.approx(100)
        stats = pool.stats()
        assert (stats.workers_alive, stats.running, stats.queued) == (1, 0, 0) and stats.worker_pids != (pid,)


def test_export_job_writes_the_model_in_the_worker(pool: WorkerPool) -> None:
    """An ExportJob's text is `export_model`'s for the same model, with its size; text over
    `max_bytes` is refused in the worker with a ValidationError on "response" that names the text's
    size and the limit (text exactly at the limit passes), and the worker goes on."""
    spec = backup_network(lost_sale_penalty=100)
    lp = compile_model(spec).lp
    expected = export_model(lp, "lp")
    size = len(expected.encode())
    exported = pool.submit(ExportJob(spec, "lp")).result(WAIT)
    assert (exported.text, exported.columns, exported.rows) == (expected, lp.n_cols, lp.n_rows)
    assert pool.submit(ExportJob(spec, "lp", max_bytes=size)).result(WAIT).text == expected
    with pytest.raises(ValidationError) as refused:
        pool.submit(ExportJob(spec, "lp", max_bytes=size - 1)).result(WAIT)
    assert refused.value.field == "response"
    assert f"{size:,} bytes" in refused.value.message and f"limit of {size - 1:,} bytes" in refused.value.message
    assert pool.submit(tiny_job()).result(WAIT).objective == pytest.approx(100)


def test_a_networks_jobs_go_to_the_worker_holding_its_warm_state() -> None:
    """Two workers. A long MILP holds worker 0, so network "a" is solved LP-first on worker 1; the
    long job is cancelled (worker 0 is replaced by a fresh one). "a" again, with both workers idle:
    without affinity the first idle worker (slot 0) would take it and solve it cold; the pool sends it
    to worker 1, which re-solves its live model warm, to the optimum a cold solve finds."""
    spec = generate("S", seed=1)
    options = SolveOptions(mip_rel_gap=1e-3, method="lp_first", threads=1)
    with WorkerPool(2, 4) as p:
        assert p.wait_ready(WAIT)
        recorder = Recorder()
        blocker = p.submit(long_job(), on_progress=recorder)
        assert recorder.solving.wait(WAIT)
        first = p.submit(SolveJob(spec, options=options, warm_key="a")).result(WAIT)
        assert first.stats.method_stats["warm"] == 0.0
        assert blocker.cancel()
        assert p.wait_ready(WAIT)
        again = p.submit(SolveJob(spec, options=options, warm_key="a")).result(WAIT)
        assert again.stats.method_stats["warm"] == 1.0
    assert again.objective == pytest.approx(plan_network(spec, options).objective, rel=2e-3)
