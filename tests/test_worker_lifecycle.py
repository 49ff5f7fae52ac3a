"""Solver workers against a real server: a worker killed mid-solve ends its RPC UNAVAILABLE and is
replaced, workers die with a SIGKILLed server, exports run as queued, cancellable, size-limited jobs
on the worker pool, and a job's time limit covers the work before its solve.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import numpy.typing as npt
import pytest

from benchmarks.generator import SIZES, generate
from models.builder import LinearProgram
from models.network import NetworkSpec
from models.solution import Solution
from solver import convert
from solver._proto.concerto.v1 import service_pb2, service_pb2_grpc
from solver.backends.base import MipProgress, WrappedBackend
from solver.backends.highs import HighsBackend
from solver.errors import TimeLimitExceeded, WorkerError, WorkerLost, status_for
from solver.limits import RequestLimits
from solver.options import SolveOptions
from solver.planner import plan_network, replan
from solver.server import ServerConfig
from tests.service_harness import REPO_ROOT, RunningServer, ServerProcess, running_server
from tests.test_known_answers import backup_network
from tests.test_replanning import outage, two_suppliers

WAIT = 60.0
"""Seconds any single wait may take before the test fails instead of hanging."""
ORPHAN_WAIT = 5.0
"""Seconds the workers of a SIGKILLed server may outlive it before the test fails (the kernel's
parent-death signal ends them at once; the watchdog within `PARENT_CHECK_INTERVAL`)."""
RESPONSE_LIMIT = 200_000
"""The response limit of the test server: the S network's LP text (about 710 KB) is over it, the
backup network's (under 1 KB) well under."""

needs_proc = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads processes from Linux's /proc")


def request(spec: NetworkSpec, time_limit: float = 600.0) -> service_pb2.SolveRequest:
    return service_pb2.SolveRequest(
        network=convert.spec_to_network(spec), options=convert.options_to_proto(SolveOptions(time_limit=time_limit))
    )


def solving_stream(stub: service_pb2_grpc.ConcertoStub) -> Any:
    """A SolveStream of network "M" (HiGHS needs far longer than any test waits), read up to its
    first "solving" event: its one worker is busy in HiGHS when this returns."""
    stream = stub.SolveStream(request(generate("M", seed=0)), timeout=WAIT * 4)
    for event in stream:
        if event.WhichOneof("event") == "progress" and event.progress.phase == "solving":
            return stream
    raise AssertionError("the stream ended before the solve started")


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    stop_at = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > stop_at:
            return False
        time.sleep(0.02)
    return True


# -- processes, from /proc -------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The child processes of `pid` (every thread's children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def process_identity(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of a process, None once it is gone; the start time tells
    a reused pid from the process that had it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def running(pid: int, started: int) -> bool:
    """Whether the process `pid` that started at `started` still runs (a zombie has ended)."""
    identity = process_identity(pid)
    return identity is not None and identity[1] == started and identity[0] not in ("Z", "X")


def worker_processes(server_pid: int) -> dict[int, int]:
    """The solver workers of a server process (multiprocessing's spawned children, not its resource
    tracker), by pid, with their start times."""
    workers: dict[int, int] = {}
    for pid in children(server_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        identity = process_identity(pid)
        if b"spawn_main" in cmdline and identity is not None:
            workers[pid] = identity[1]
    return workers


def orphan_seconds(server: ServerProcess, stub: service_pb2_grpc.ConcertoStub) -> tuple[int, float]:
    """SIGKILL a server whose worker is busy solving; returns how many workers it had and the
    seconds until the last of them had ended (inf if one still ran after `ORPHAN_WAIT`)."""
    stream = solving_stream(stub)
    workers = worker_processes(server.process.pid)
    assert workers, "the server has no worker processes"
    killed = time.monotonic()
    server.kill()
    gone = wait_until(lambda: not any(running(pid, started) for pid, started in workers.items()), ORPHAN_WAIT)
    took = time.monotonic() - killed if gone else float("inf")
    stream.cancel()
    return len(workers), took


# -- the tests -------------------------------------------------------------------------------------


@needs_proc
def test_workers_die_with_a_sigkilled_server(tmp_path: Path) -> None:
    """Finding 14: orphaned workers of a SIGKILLed server lived 3-10 s, solving for nobody. Now the
    kernel's parent-death signal ends them as the server dies: every worker, busy in HiGHS, is gone
    within a bounded wait (the time is printed, not asserted)."""
    server = ServerProcess(tmp_path / "concerto.db", tmp_path)
    channel = grpc.insecure_channel(server.target)
    try:
        grpc.channel_ready_future(channel).result(timeout=WAIT)
        count, took = orphan_seconds(server, service_pb2_grpc.ConcertoStub(channel))
        print(f"{count} worker(s) of the SIGKILLed server gone after {took:.3f} s")
        assert took <= ORPHAN_WAIT, f"a worker outlived its SIGKILLed server by more than {ORPHAN_WAIT} s"
    finally:
        channel.close()
        server.kill()


_STALLED_POOL = """
import sys, time
from solver.workers import SolveJob, WorkerPool
from tests.test_known_answers import backup_network

marker = sys.argv[1]


class Stall:
    # Unpickled in the worker: touches the marker, then stalls for 600 s with no progress, no
    # solver callback and no pipe traffic (work before the solve that never looks at its parent).
    def __reduce__(self):
        return exec, (f"open({marker!r}, 'w').close(); import time; time.sleep(600)",)


pool = WorkerPool(1, 0)
assert pool.wait_ready(60)
pool.submit(SolveJob(backup_network(lost_sale_penalty=100), protocols=Stall()))
print(pool.stats().worker_pids[0], flush=True)
time.sleep(600)
"""


@needs_proc
def test_a_stalled_worker_dies_with_its_parent(tmp_path: Path) -> None:
    """Before, only a worker in HiGHS (its progress thread) or waiting on its pipe noticed that its
    parent had gone; one busy before its solve (reach, model building) ran on. A pool in a child
    process with its worker stalled inside a job: SIGKILL the child, and the worker is gone within a
    bounded wait, where before it would have slept out its 600 s."""
    marker = tmp_path / "stalled"
    parent = subprocess.Popen(
        [sys.executable, "-c", _STALLED_POOL, str(marker)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        identity = process_identity(worker)
        assert identity is not None and wait_until(marker.exists, WAIT), "the worker did not reach its job"
        killed = time.monotonic()
        parent.kill()
        parent.wait(WAIT)
        assert wait_until(lambda: not running(worker, identity[1]), ORPHAN_WAIT)
        print(f"the stalled worker was gone {time.monotonic() - killed:.3f} s after its parent's SIGKILL")
    finally:
        parent.kill()
        parent.wait(WAIT)


def test_a_worker_whose_parent_has_gone_exits() -> None:
    """The watchdog that covers a parent dying before the worker set its parent-death signal (and
    systems without one): a worker told its parent is a process that is not its parent exits with
    code 1 at its first check instead of running its 600 s of work."""
    code = (
        "import os, time\n"
        "from solver.workers import _die_with_parent\n"
        "_die_with_parent(os.getpid())  # never its own parent: as if the parent had already gone\n"
        "time.sleep(600)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, timeout=WAIT
    )
    assert done.returncode == 1


@pytest.fixture(scope="module")
def service() -> Iterator[RunningServer]:
    """One worker and no queue, so that one long solve makes the pool full."""
    config = ServerConfig(
        store=":memory:", workers=1, queue_size=0, limits=RequestLimits(response_bytes=RESPONSE_LIMIT)
    )
    with running_server(config) as running:
        yield running


def idle(service: RunningServer) -> bool:
    """Whether the server's one worker is up and has no job (after a test, so the next starts clean)."""
    pool = service.servicer.pool

    def free() -> bool:
        stats = pool.stats()
        return (stats.running, stats.queued, stats.workers_alive) == (0, 0, 1)

    return pool.wait_ready(WAIT) and wait_until(free, WAIT)


def test_a_killed_worker_ends_its_rpc_unavailable_and_is_replaced(service: RunningServer) -> None:
    """Finding 14: a worker that died was reported INTERNAL, which clients do not retry. SIGKILL the
    worker mid-solve: the stream ends UNAVAILABLE naming the lost worker, the pool spawns a new
    process in the slot, and the same network then solves (the backup network: 100, a lost sale)."""
    pool = service.servicer.pool
    stream = solving_stream(service.stub)
    (pid,) = pool.stats().worker_pids
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(grpc.RpcError) as ended:
        list(stream)
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
    assert f"worker process {pid} was killed by SIGKILL" in ended.value.details()
    assert idle(service) and pool.stats().worker_pids != (pid,)
    answer = service.stub.Solve(request(backup_network(lost_sale_penalty=100), time_limit=30.0), timeout=WAIT)
    assert answer.plan.objective == pytest.approx(100)


def test_lost_worker_and_overrun_status_codes() -> None:
    """The status of each way a worker can fail a job: lost (retry) UNAVAILABLE, past its time
    limit DEADLINE_EXCEEDED, a bug in the worker an honest INTERNAL."""
    assert status_for(WorkerLost("worker process 7 was killed by SIGKILL"))[0] == grpc.StatusCode.UNAVAILABLE
    assert status_for(TimeLimitExceeded("job 3 ran 9 s"))[0] == grpc.StatusCode.DEADLINE_EXCEEDED
    assert status_for(WorkerError("the solver worker raised KeyError"))[0] == grpc.StatusCode.INTERNAL


def test_export_over_the_response_limit_is_refused(service: RunningServer) -> None:
    """Finding 9: an export's text is refused over the response limit, in the worker, before it is
    sent: INVALID_ARGUMENT naming "response", the text's size and the limit. A small model exports."""
    big = service_pb2.ExportModelRequest(inline=request(generate("S", seed=0)), format=service_pb2.MODEL_FORMAT_LP)
    with pytest.raises(grpc.RpcError) as refused:
        service.stub.ExportModel(big, timeout=WAIT)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "response would be" in refused.value.details() and f"{RESPONSE_LIMIT:,} bytes" in refused.value.details()
    small = service_pb2.ExportModelRequest(
        inline=request(backup_network(lost_sale_penalty=100)), format=service_pb2.MODEL_FORMAT_LP
    )
    exported = service.stub.ExportModel(small, timeout=WAIT)
    assert exported.columns > 0 and "\nst\n" in exported.text
    assert idle(service)


def test_export_waits_in_the_worker_queue(service: RunningServer) -> None:
    """Finding 9: ExportModel built its model on the gRPC thread, outside the queue. With the one
    worker solving and no queue, an export is refused RESOURCE_EXHAUSTED like a solve; once the
    solve is cancelled the export runs."""
    small = service_pb2.ExportModelRequest(
        inline=request(backup_network(lost_sale_penalty=100)), format=service_pb2.MODEL_FORMAT_MPS
    )
    stream = solving_stream(service.stub)
    try:
        with pytest.raises(grpc.RpcError) as full:
            service.stub.ExportModel(small, timeout=WAIT)
        assert full.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        stream.cancel()
    assert idle(service)
    assert "COLUMNS" in service.stub.ExportModel(small, timeout=WAIT).text


def test_export_stops_at_its_deadline(service: RunningServer) -> None:
    """Finding 9: the S network at a horizon of 2,000 periods took 27 s to export (the horizon
    limit now refuses it; at its limit of 1,000 the export takes about half that). With a 2 s
    deadline the RPC ends DEADLINE_EXCEEDED, the job is cancelled and the worker is freed
    (replaced) for the next request."""
    spec = generate(replace(SIZES["S"], periods=1000), seed=0)
    slow = service_pb2.ExportModelRequest(inline=request(spec), format=service_pb2.MODEL_FORMAT_LP)
    pid = service.servicer.pool.stats().worker_pids
    with pytest.raises(grpc.RpcError) as late:
        service.stub.ExportModel(slow, timeout=2.0)
    assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert idle(service) and service.servicer.pool.stats().worker_pids != pid


class RecordingBackend(WrappedBackend):
    """HiGHS, recording the time limit of every solve it is given; with `delay`, each solve first
    sleeps that long (a slow solve, out of the same budget)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(HighsBackend())
        self.limits: list[float] = []
        self.delay = delay

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
    ) -> Solution:
        self.limits.append(options.time_limit)
        time.sleep(self.delay)
        return self._inner.solve(lp, options, progress=progress, interrupt=interrupt, start=start)


def test_the_time_limit_covers_building_the_model() -> None:
    """Finding 5: the time limit bounded only HiGHS, not the work before it. Planning with 30 s,
    the solver gets 30 s less the time already spent (at least the model's build time); a replan's
    full solve gets less than its first answer's, which came out of the same budget."""
    backend = RecordingBackend()
    plan = plan_network(generate("S", seed=0), SolveOptions(time_limit=30.0), backend=backend)
    (limit,) = backend.limits
    assert 0 < limit <= 30.0 - plan.stats.build_seconds

    spec = two_suppliers()
    baseline = plan_network(spec)
    backend = RecordingBackend()
    results = list(replan(spec, baseline, [outage("S1", 0)], SolveOptions(time_limit=30.0), backend=backend))
    assert [r.kind for r in results] == ["first", "optimal"]
    first, full = backend.limits
    assert first < 30.0 and full < first


def test_no_time_left_after_the_first_answer_skips_the_full_solve() -> None:
    """A replan whose 0.5 s budget is spent by its first answer (the backend takes 0.6 s a solve)
    answers with that first plan twice, as the first answer and as the final one, and the full model
    is never solved: one solve. The first answer is a plan of the full model (see `replan`): S1's
    outage on day 0 answered by the backup, as in test_replanning."""
    spec = two_suppliers()
    backend = RecordingBackend(delay=0.6)
    results = list(replan(spec, plan_network(spec), [outage("S1", 0)], SolveOptions(time_limit=0.5), backend=backend))
    assert len(backend.limits) == 1 and backend.limits[0] <= 0.5
    assert [r.kind for r in results] == ["first", "first"]
    assert results[-1].plan is results[0].plan and results[-1].plan.has_solution
