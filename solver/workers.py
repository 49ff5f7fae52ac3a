"""The pool of solver worker processes behind the service: every HiGHS solve runs in a worker process,
never on a gRPC thread, with bounded admission, streamed progress and cancellation.

Design
------
`WorkerPool(workers, queue_size)` keeps `workers` long-lived processes (started with "spawn", so they
share nothing with the threaded gRPC parent and each imports numpy, highspy and `models` once, before
its first job). Each worker owns one duplex `Pipe` and runs one job at a time: it compiles, solves
and extracts exactly as `solver.planner.plan_network` does (it calls it, with a backend that reports
progress), and sends the `Plan` back pickled. One process per solve is what makes a solve
cancellable: HiGHS cannot be stopped from outside its callbacks, and those can be seconds apart, so
`cancel()` terminates the process (SIGTERM, then SIGKILL after `TERMINATE_GRACE` seconds) and the
pool spawns a fresh one in its slot. A worker that dies on its own (out of memory, a crash, a kill
from outside) fails its job with `WorkerLost` (a `WorkerError` the service answers UNAVAILABLE: a
retry runs on the replacement) and is replaced the same way.

Two kinds of job: a `SolveJob` plans or replans (its result a `Plan` or `ReplanResult`), an
`ExportJob` builds a model and writes it as MPS or LP text (an `ExportedModel`, refused in the
worker when longer than `max_bytes`). Both queue, cancel and time out alike.

A job's time limit is a budget for all of it in the worker (`solver.planner` gives each solve what
is left after building), and the pool holds it to that: a job still running `overrun_grace(limit)`
seconds past its limit (a slow phase before or after the solve, which the solver's own limit
cannot stop) ends with `TimeLimitExceeded` and its worker is replaced.

Workers die with their server. Each sets Linux's parent-death signal to SIGKILL, and a watchdog
thread in it exits the process within `PARENT_CHECK_INTERVAL` seconds once its parent has gone
(this also covers a parent that died before the signal was set, and other systems). The kernel
sends that signal when the *thread* that started the process ends, so every worker is started by
the dispatcher thread, which lives as long as the pool.

One dispatcher thread in the parent does all the pipe traffic. It blocks in
`multiprocessing.connection.wait` over every worker's pipe, every worker's process sentinel and a
wake-up socket pair that `submit`, `cancel` and `close` poke; it hands queued jobs to ready idle
workers (FIFO), delivers progress to `on_progress` and settles each `JobHandle`. Callers only take a lock, append to
the queue and wait on an event, so `submit` returns at once and `QueueFull` is raised at once when
`workers + queue_size` jobs are already running or queued.

Messages are tuples. Parent to worker: ("job", job_id, pickled job) and ("stop",). Worker to
parent: ("ready", pid), ("progress", job_id, Progress), ("result", job_id, pickled result) and
("error", job_id, _ErrorReport). Jobs are pickled in `submit` (so an unpicklable job fails in the
caller) and results are unpickled in `JobHandle.result` (so a large plan never stalls the
dispatcher).
Exceptions travel as an `_ErrorReport`, not pickled: `ValidationError` does not survive pickling,
and a `ConcertoError` is rebuilt in the parent as the same class with the same fields; anything else
becomes `WorkerError`. Either way the worker's traceback is chained as the cause.

A worker reports `Progress` in three phases, "building", "solving" and "extracting", and during a
MIP solve with the incumbent, bound and gap from the backend's callbacks (`solve(progress=)`, for
HiGHS and the OR-Tools backends that declare PROGRESS),
at most one update every `PROGRESS_INTERVAL` seconds: an update that arrives too soon is held and a
small thread in the worker sends the latest one when the interval has passed, so a new incumbent is
never delayed by more than the interval even when HiGHS's callbacks fall silent for seconds.
`on_progress` runs on the dispatcher thread: it must return quickly (hand the event to a queue),
and every event of a job is delivered before its handle is settled.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import enum
import importlib
import itertools
import logging
import math
import multiprocessing
import os
import pickle
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.errors import ConcertoError, ValidationError
from models.network import NetworkSpec
from models.plan import Plan
from models.protocols import ProtocolSet
from models.replanning import ReplanOptions
from models.signals import Signal
from models.solution import Solution
from solver.backends.base import MipProgress, SolverBackend, WrappedBackend
from solver.backends.registry import DEFAULT_BACKEND, backend_by_name
from solver.errors import PoolClosed, QueueFull, SolveCancelled, TimeLimitExceeded, WorkerError, WorkerLost
from solver.export import export_model
from solver.lp_first import WARM_STATES
from solver.options import SolveOptions
from solver.planner import ReplanResult, compile_model, plan_network, replan
from solver.records import ExportedModel

__all__ = [
    "ExportJob",
    "JobHandle",
    "Phase",
    "PoolStats",
    "Progress",
    "QueueFull",
    "SolveCancelled",
    "SolveJob",
    "TimeLimitExceeded",
    "WorkerError",
    "WorkerLost",
    "WorkerPool",
]

_log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25
"""Least seconds between two solver updates a worker sends (at most four a second)."""
TERMINATE_GRACE = 1.0
"""Seconds a terminated worker has to exit before it is killed."""
MAX_START_FAILURES = 3
"""Workers in a row that may die before they are ready before the pool gives up spawning them."""
OVERRUN_GRACE_SECONDS = 10.0
OVERRUN_GRACE_SHARE = 0.5
"""A job may run max(OVERRUN_GRACE_SECONDS, OVERRUN_GRACE_SHARE x its time limit) past its time
limit before the pool stops it (`overrun_grace`). The solver gets what the build left of the limit,
but the work after it (extracting, checking and sending the plan: a second or two at M on a busy
machine) and the solver's own coarse time checks are not budgeted; the grace is the backstop
against a phase that never ends, not the budget."""
PARENT_CHECK_INTERVAL = 0.2
"""Seconds between a worker's checks that the process that started it is still its parent."""
_PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal this process gets when its parent thread ends (linux/prctl.h)."""

R = TypeVar("R")


def overrun_grace(time_limit: float) -> float:
    """Seconds a job may run past `time_limit` before the pool stops it."""
    return max(OVERRUN_GRACE_SECONDS, OVERRUN_GRACE_SHARE * time_limit)


class Phase(enum.StrEnum):
    """Where a job is in its worker."""

    BUILDING = "building"
    """Validating the network, applying the signals and building the model."""
    SOLVING = "solving"
    """The backend is solving; MIP updates carry the incumbent, bound and gap."""
    EXTRACTING = "extracting"
    """The solve is over (its final objective, bound and gap attached); the plan is being read off."""
    FIRST_PLAN = "first_plan"
    """A replan's first coordinated plan is ready (attached as `Progress.first`); the full replan
    goes on."""


@dataclass(frozen=True)
class Progress:
    """One progress event of a job. NaN means not known (yet)."""

    elapsed_seconds: float
    """Seconds since the worker took the job."""
    objective: float
    """Objective of the best plan found so far."""
    best_bound: float
    """Best proven lower bound on the objective."""
    gap: float
    """Relative gap between `objective` and `best_bound`."""
    phase: Phase
    first: ReplanResult | None = None
    """The first coordinated plan of a replan (phase FIRST_PLAN only)."""


@dataclass(frozen=True)
class SolveJob:
    """Everything a worker needs to plan a network, as `plan_network` takes it; picklable."""

    spec: NetworkSpec
    protocols: ProtocolSet | None = None
    signals: tuple[Signal, ...] = ()
    options: SolveOptions = field(default_factory=SolveOptions)
    baseline: Plan | None = None
    """With a baseline the job is a replan: `result()` is the final `ReplanResult`, and the first
    coordinated plan arrives earlier as a FIRST_PLAN progress event."""
    replan: ReplanOptions | None = None
    first_answer: bool = True
    """For a replan: solve the first answer from the signals' reach before the full replan."""
    backend: str = DEFAULT_BACKEND
    """The registry name of the backend that solves it; the server checks the name and `options`
    against the backend's capabilities before it queues the job."""
    warm_key: str | None = None
    """The network's key for LP-first's warm state: the pool sends the job to a worker that last
    solved it where one is free, and the worker re-solves that network's live model in place."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "signals", tuple(self.signals))


@dataclass(frozen=True)
class ExportJob:
    """Build a network's model, under its protocols and signals, and write it as MPS or LP text
    (`solver.export.export_model`); `result()` is an `ExportedModel`. Picklable."""

    spec: NetworkSpec
    fmt: str
    """"mps" or "lp"."""
    protocols: ProtocolSet | None = None
    signals: tuple[Signal, ...] = ()
    max_bytes: int | None = None
    """The longest text the caller takes: longer text is refused in the worker, before it is sent
    (a `ValidationError` on field "response" that names the limit)."""
    time_limit: float = math.inf
    """Seconds the export may take in its worker; past it (and `overrun_grace`) the pool stops it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "signals", tuple(self.signals))


Job = SolveJob | ExportJob


def _time_limit(job: Job) -> float:
    return job.options.time_limit if isinstance(job, SolveJob) else job.time_limit


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of the pool."""

    workers: int
    """Worker slots the pool keeps filled."""
    workers_alive: int
    """Worker processes running (starting, idle or solving), not counting ones being replaced."""
    running: int
    """Jobs a worker is solving."""
    queued: int
    """Jobs waiting for a worker."""
    worker_pids: tuple[int, ...]
    """Process ids of the live workers, in slot order."""


class JobHandle(Generic[R]):
    """A submitted job: wait for its result (a plan for a `SolveJob`, an `ExportedModel` for an
    `ExportJob`), cancel it, or ask whether it is done."""

    def __init__(self, pool: WorkerPool, record: _Record) -> None:
        self._pool = pool
        self._record = record

    @property
    def job_id(self) -> int:
        return self._record.job_id

    def done(self) -> bool:
        """Whether the job has finished: with a plan, an error, or cancelled."""
        return self._record.finished.is_set()

    def cancelled(self) -> bool:
        return self._record.cancelled

    def cancel(self) -> bool:
        """Stop the job: a queued job is dropped, a running one ends with its worker process (the pool
        spawns a replacement). False when the job had already finished."""
        return self._pool._cancel(self._record)

    def result(self, timeout: float | None = None) -> R:
        """The job's result, waiting up to `timeout` seconds (forever when None).

        Raises the worker's `ConcertoError` as the same type with the same fields (a
        `ValidationError` names the same entity and field), `WorkerLost` when its worker process
        died, `TimeLimitExceeded` when it overran its time limit, `WorkerError` for any other
        failure, `SolveCancelled` after `cancel()`, and `TimeoutError` when the job is still running.
        """
        if not self._record.finished.wait(timeout):
            raise TimeoutError(
                f"job {self.job_id} has not finished after {timeout} s; call result() again or cancel() it"
            )
        result: R = self._record.outcome()
        return result

    def add_done_callback(self, fn: Callable[[JobHandle[R]], None]) -> None:
        """Call `fn(handle)` once the job finishes (at once if it has); it runs on the thread that
        finishes the job, so it must return quickly."""
        with self._pool._lock:
            if not self._record.finished.is_set():
                self._record.callbacks.append(lambda: fn(self))
                return
        fn(self)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled() else "done" if self.done() else "pending"
        return f"<JobHandle {self.job_id} {state}>"


class WorkerPool:
    """`workers` solver processes and a queue of at most `queue_size` waiting jobs (see the module
    docstring for the design). Use it as a context manager, or call `close()`."""

    def __init__(self, workers: int, queue_size: int, *, start_method: str = "spawn") -> None:
        if workers < 1:
            raise ValidationError("worker pool", "", "workers", f"is {workers}; give 1 or more processes")
        if queue_size < 0:
            raise ValidationError("worker pool", "", "queue_size", f"is {queue_size}; give 0 or more")
        self._size = workers
        self._capacity = workers + queue_size
        self._context = multiprocessing.get_context(start_method)
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._queue: deque[_Record] = deque()
        self._workers: list[_Worker] = []
        self._job_ids = itertools.count(1)
        self._closed = False
        self._broken = ""
        self._start_failures = 0
        # A socket pair, not os.pipe: a closed socket object refuses writes, where a closed fd number
        # could already belong to another file when a late cancel() pokes it.
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._spawned = threading.Event()
        self._dispatcher = threading.Thread(target=self._dispatch, name="concerto-worker-dispatcher", daemon=True)
        self._dispatcher.start()
        self._spawned.wait()  # the dispatcher starts every worker (see the module docstring)
        if self._broken:
            self.close()
            raise WorkerError(self._broken)
        # Close before multiprocessing's own exit hook terminates the workers, so that the dispatcher
        # does not take their deaths for crashes and spawn replacements during interpreter shutdown.
        atexit.register(self.close)

    # -- the callers' side -----------------------------------------------------------------------

    @overload
    def submit(
        self, job: SolveJob, *, on_progress: Callable[[Progress], None] | None = None
    ) -> JobHandle[Plan | ReplanResult]: ...

    @overload
    def submit(
        self, job: ExportJob, *, on_progress: Callable[[Progress], None] | None = None
    ) -> JobHandle[ExportedModel]: ...

    def submit(self, job: Job, *, on_progress: Callable[[Progress], None] | None = None) -> JobHandle[Any]:
        """Queue `job` for the next free worker. Raises `QueueFull` at once when `workers +
        queue_size` jobs are already running or queued; `on_progress` gets the job's `Progress`
        events on the pool's dispatcher thread."""
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._broken:
                raise WorkerError(self._broken)
            if self._closed:
                raise PoolClosed("the worker pool is closed (the server is shutting down); retry the request")
            self._refuse_when_full()
            record = _Record(next(self._job_ids), payload, on_progress, _time_limit(job))
            record.warm_key = job.warm_key if isinstance(job, SolveJob) else None
            self._queue.append(record)
        self._wake()
        return JobHandle(self, record)

    def check_room(self) -> None:
        """Raise `QueueFull` now if a job submitted now would be refused, so a caller can refuse a
        request before the work of preparing its job (a later `submit` still checks again)."""
        with self._lock:
            self._refuse_when_full()

    def _refuse_when_full(self) -> None:
        running = sum(w.record is not None for w in self._workers)
        if running + len(self._queue) >= self._capacity:
            raise QueueFull(
                f"the solver pool is full: {running} jobs running and {len(self._queue)} queued "
                f"(capacity {self._capacity} = workers + queue_size); retry later or raise queue_size"
            )

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every worker has started (imported its modules) and is ready for a job; False
        if that took longer than `timeout` seconds. A server calls this before it takes traffic."""
        with self._ready:
            return self._ready.wait_for(
                lambda: (
                    self._closed
                    or bool(self._broken)
                    or all(w.ready and w.retiring_since is None for w in self._workers)
                ),
                timeout,
            )

    def stats(self) -> PoolStats:
        with self._lock:
            live = [w for w in self._workers if w.retiring_since is None and w.process.is_alive()]
            return PoolStats(
                workers=self._size,
                workers_alive=len(live),
                running=sum(w.record is not None for w in self._workers),
                queued=len(self._queue),
                worker_pids=tuple(w.process.pid or 0 for w in live),
            )

    def close(self) -> None:
        """Stop every worker: queued and running jobs end as cancelled, busy workers are
        terminated, idle ones exit. Idempotent."""
        finished: list[Callable[[], None]] = []
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._ready.notify_all()
            atexit.unregister(self.close)
            while self._queue:
                finished += self._finish(self._queue.popleft(), error=_closed_before_done(), cancelled=True)
            for worker in self._workers:
                if worker.record is not None:
                    finished += self._finish(worker.record, error=_closed_before_done(), cancelled=True)
                    worker.record = None
                    worker.retire()
                else:
                    worker.stop()
        _run_all(finished)
        self._wake()
        if threading.current_thread() is not self._dispatcher:  # close() called from on_progress
            self._dispatcher.join(timeout=4 * TERMINATE_GRACE)
        with self._lock:
            leftover, self._workers = self._workers, []
        for worker in leftover:
            worker.kill_and_reap()
        if not self._dispatcher.is_alive():
            self._wake_read.close()
            self._wake_write.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _cancel(self, record: _Record) -> bool:
        with self._lock:
            if record.finished.is_set():
                return False
            if record in self._queue:
                self._queue.remove(record)
            else:
                worker = next(w for w in self._workers if w.record is record)
                worker.record = None
                worker.retire()
            finished = self._finish(
                record, error=SolveCancelled(f"job {record.job_id} was cancelled before it finished"), cancelled=True
            )
        _run_all(finished)
        self._wake()
        return True

    def _wake(self) -> None:
        # A full pipe means a wake-up is pending anyway; a closed one, that the pool is closed.
        with contextlib.suppress(OSError):
            self._wake_write.send(b"\0")

    # -- the dispatcher thread -------------------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            self._spawn_workers()
            self._spawned.set()
            while self._dispatch_once():
                pass
        except Exception:  # pragma: no cover - a bug here would hang every caller, so fail them instead
            _log.exception("the worker pool dispatcher failed")
            with self._lock:
                self._broken = "the worker pool dispatcher failed (see the log); create a new WorkerPool"
                finished = self._fail_all(WorkerError(self._broken))
            _run_all(finished)
        finally:
            self._spawned.set()  # also when spawning failed: __init__ then raises the broken pool's error

    def _spawn_workers(self) -> None:
        with self._lock:
            for slot in range(self._size):
                self._workers.append(_Worker(self._context, slot))

    def _dispatch_once(self) -> bool:
        """Assign jobs, wait for one event, handle it. False once the pool is closed and empty."""
        with self._lock:
            if self._closed and not self._workers:
                return False
            sends = self._assign()
            owners: dict[Any, _Worker] = {}
            for worker in self._workers:
                owners[worker.conn] = worker
                owners[worker.process.sentinel] = worker
            timeout = self._next_check()
        for worker, record, payload in sends:
            with contextlib.suppress(OSError):  # the worker died meanwhile: its sentinel fails the job
                worker.conn.send(("job", record.job_id, payload))
        ready = wait([self._wake_read, *owners], timeout=timeout)
        for source in ready:
            if source is self._wake_read:
                _drain(self._wake_read)
                continue
            worker = owners[source]
            if worker not in self._workers:
                continue  # reaped earlier in this round
            if source is worker.conn:
                self._receive(worker)
            else:
                self._reap(worker)
        self._expire()
        self._escalate()
        return True

    def _next_check(self) -> float | None:
        """Seconds until the dispatcher must look again without an event (None: not before one):
        soon while a worker is retiring, and when the first running job reaches its overrun."""
        checks = [TERMINATE_GRACE / 4] if any(w.retiring_since is not None for w in self._workers) else []
        now = time.monotonic()
        checks += [
            max(w.record.overrun_at - now, 0.0)
            for w in self._workers
            if w.record is not None and math.isfinite(w.record.overrun_at)
        ]
        return min(checks, default=None)

    def _assign(self) -> list[tuple[_Worker, _Record, bytes]]:
        """Hand queued jobs to idle workers, in queue order; among the jobs that go out now, a job
        goes to an idle worker that last solved its network (its `warm_key`) where one does, so that
        LP-first re-solves that network's live model warm (`solver.lp_first.WARM_STATES`)."""
        idle = [w for w in self._workers if w.ready and w.record is None and w.retiring_since is None]
        going = [self._queue.popleft() for _ in range(min(len(idle), len(self._queue)))]
        pairs: list[tuple[_Worker, _Record]] = []
        for record in list(going):
            warm = next((w for w in idle if record.warm_key is not None and record.warm_key in w.warm), None)
            if warm is not None:
                idle.remove(warm)
                going.remove(record)
                pairs.append((warm, record))
        pairs += zip(idle, going)
        sends = []
        for worker, record in pairs:
            worker.record = record
            if record.warm_key is not None:
                if record.warm_key in worker.warm:
                    worker.warm.remove(record.warm_key)
                worker.warm.append(record.warm_key)
            record.started = time.monotonic()
            payload, record.payload = record.payload, b""
            sends.append((worker, record, payload))
        return sends

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            self._reap(worker)
            return
        kind = message[0]
        finished: list[Callable[[], None]] = []
        with self._lock:
            record = worker.record
            current = record is not None and len(message) > 1 and message[1] == record.job_id
            if kind == "ready":
                worker.ready = True
                self._start_failures = 0
                self._ready.notify_all()
            elif kind == "result" and current and record is not None:
                worker.record = None
                finished = self._finish(record, result=message[2])
            elif kind == "error" and current and record is not None:
                worker.record = None
                report: _ErrorReport = message[2]
                finished = self._finish(record, error=report.rebuild())
        if kind == "progress" and current and record is not None and record.on_progress is not None:
            try:
                record.on_progress(message[2])
            except Exception:
                _log.exception("on_progress of job %d raised; the job goes on", record.job_id)
        _run_all(finished)

    def _reap(self, worker: _Worker) -> None:
        """The worker's process has exited: fail its job unless it was cancelled, and replace it."""
        worker.kill_and_reap()
        with self._lock:
            slot = self._workers.index(worker)
            record, worker.record = worker.record, None
            finished: list[Callable[[], None]] = []
            if record is not None:
                finished = self._finish(
                    record,
                    error=WorkerLost(
                        f"worker process {worker.process.pid} {_exit_reason(worker.process.exitcode)} while "
                        f"running job {record.job_id}; the pool replaced it. Resubmit the job; if it dies "
                        "again, the model may need more memory than the worker has"
                    ),
                )
            if not worker.ready and worker.retiring_since is None and not self._closed:
                self._start_failures += 1
                if self._start_failures >= MAX_START_FAILURES:
                    self._broken = (
                        f"{MAX_START_FAILURES} worker processes in a row {_exit_reason(worker.process.exitcode)} "
                        "before they were ready; check that solver.workers imports in a fresh interpreter"
                    )
                    finished += self._fail_all(WorkerError(self._broken))
            if self._broken:
                self._ready.notify_all()
            if self._closed or self._broken:
                del self._workers[slot]
            else:
                self._workers[slot] = _Worker(self._context, slot)
        _run_all(finished)

    def _expire(self) -> None:
        """Stop the jobs that ran `overrun_grace` past their time limit: each ends with
        `TimeLimitExceeded`, and its worker is terminated and replaced."""
        now = time.monotonic()
        finished: list[Callable[[], None]] = []
        with self._lock:
            for worker in self._workers:
                record = worker.record
                if record is None or now < record.overrun_at:
                    continue
                worker.record = None
                worker.retire()
                limit, grace = record.time_limit, overrun_grace(record.time_limit)
                finished += self._finish(
                    record,
                    error=TimeLimitExceeded(
                        f"job {record.job_id} ran {now - record.started:.1f} s in its worker, past its time limit "
                        f"of {limit:g} s and the grace of {grace:g} s; its worker was stopped. Raise the time "
                        "limit, or make the network, horizon or reach smaller"
                    ),
                )
        _run_all(finished)

    def _escalate(self) -> None:
        """SIGKILL workers that ignored SIGTERM for `TERMINATE_GRACE` seconds."""
        now = time.monotonic()
        with self._lock:
            for worker in self._workers:
                if worker.retiring_since is not None and now - worker.retiring_since > TERMINATE_GRACE:
                    worker.process.kill()

    # -- bookkeeping, with the lock held ---------------------------------------------------------

    def _finish(
        self,
        record: _Record,
        *,
        result: bytes | None = None,
        error: ConcertoError | None = None,
        cancelled: bool = False,
    ) -> list[Callable[[], None]]:
        """Settle `record`; returns its done callbacks, to be run once the lock is released."""
        record.result_bytes, record.error, record.cancelled = result, error, cancelled
        record.payload = b""
        record.finished.set()
        callbacks, record.callbacks = record.callbacks, []
        return callbacks

    def _fail_all(self, error: ConcertoError) -> list[Callable[[], None]]:
        finished: list[Callable[[], None]] = []
        while self._queue:
            finished += self._finish(self._queue.popleft(), error=error)
        for worker in self._workers:
            if worker.record is not None:
                finished += self._finish(worker.record, error=error)
                worker.record = None
                worker.retire()
        return finished


class _Record:
    """The parent's state of one job."""

    def __init__(
        self, job_id: int, payload: bytes, on_progress: Callable[[Progress], None] | None, time_limit: float
    ) -> None:
        self.job_id = job_id
        self.payload = payload
        self.on_progress = on_progress
        self.time_limit = time_limit
        self.started = math.inf
        """When (monotonic) a worker took the job."""
        self.warm_key: str | None = None
        """The network whose warm state the job would use (`SolveJob.warm_key`)."""
        self.finished = threading.Event()
        self.cancelled = False
        self.result_bytes: bytes | None = None
        self.error: ConcertoError | None = None
        self.callbacks: list[Callable[[], None]] = []
        self._result: Any = None
        self._unpickle = threading.Lock()

    @property
    def overrun_at(self) -> float:
        """When (monotonic) the pool stops the job if it is still running (inf: never)."""
        return self.started + self.time_limit + overrun_grace(self.time_limit)

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        with self._unpickle:
            if self.result_bytes is not None:
                self._result = pickle.loads(self.result_bytes)
                self.result_bytes = None
            return self._result


class _Worker:
    """One worker process as the parent sees it."""

    def __init__(self, context: Any, slot: int) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=_worker_main, args=(child, os.getpid()), name=f"concerto-solver-{slot}", daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False
        self.record: _Record | None = None
        self.retiring_since: float | None = None
        self.warm: deque[str] = deque(maxlen=WARM_STATES.capacity)
        """The networks whose LP-first warm state this worker holds, oldest first."""

    def retire(self) -> None:
        """Terminate the process (its job is abandoned); the dispatcher kills it if it lingers."""
        if self.retiring_since is None:
            self.retiring_since = time.monotonic()
            self.process.terminate()

    def stop(self) -> None:
        """Ask an idle worker to exit."""
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))

    def kill_and_reap(self) -> None:
        self.process.join(timeout=TERMINATE_GRACE if self.retiring_since is None else 0.1)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
        self.conn.close()


def _run_all(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            _log.exception("a job's done callback raised")


def _drain(sock: socket.socket) -> None:
    with contextlib.suppress(BlockingIOError):
        while sock.recv(4096):
            pass


def _closed_before_done() -> SolveCancelled:
    return SolveCancelled("the worker pool was closed before the job finished; submit it to an open pool")


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


# -- errors across the pipe ----------------------------------------------------------------------


class _RemoteTraceback(Exception):
    """The worker's traceback, chained as the cause of the error re-raised in the parent."""

    def __str__(self) -> str:
        return f"\n\nin the worker process:\n{self.args[0]}"


@dataclass(frozen=True)
class _ErrorReport:
    """An exception raised in a worker, in a form that pickles whatever the exception's __init__."""

    module: str
    qualname: str
    args: tuple[Any, ...]
    state: dict[str, Any]
    text: str
    remote_traceback: str

    @classmethod
    def of(cls, exc: Exception) -> _ErrorReport:
        kind = type(exc)
        args, state = tuple(exc.args), dict(vars(exc))
        try:
            pickle.dumps((args, state))
        except Exception:
            args, state = (str(exc),), {}
        return cls(kind.__module__, kind.__qualname__, args, state, str(exc), "".join(traceback.format_exception(exc)))

    def rebuild(self) -> ConcertoError:
        """The same `ConcertoError` class with the same fields, or a `WorkerError` for anything else."""
        error: ConcertoError
        kind = _concerto_error_class(self.module, self.qualname)
        if kind is not None:
            error = kind.__new__(kind)
            error.args = self.args
            error.__dict__.update(self.state)
        else:
            error = WorkerError(f"the solver worker raised {self.module}.{self.qualname}: {self.text}")
        error.__cause__ = _RemoteTraceback(self.remote_traceback)
        return error


def _concerto_error_class(module: str, qualname: str) -> type[ConcertoError] | None:
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) and issubclass(found, ConcertoError) else None


# -- the worker process --------------------------------------------------------------------------


def _worker_main(conn: Connection, parent: int) -> None:
    """Entry point of a worker process started by process `parent`: tie its life to the parent's,
    announce readiness, then run jobs until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole group; the parent decides
    _die_with_parent(parent)
    try:
        conn.send(("ready", os.getpid()))
    except OSError:
        return  # the parent has gone
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent has gone
        if message[0] != "job":
            return
        _, job_id, payload = message
        reporter = _ProgressReporter(conn, job_id)
        reply: tuple[str, int, Any]
        try:
            result = _run(pickle.loads(payload), reporter)
            reply = ("result", job_id, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception as exc:
            reply = ("error", job_id, _ErrorReport.of(exc))
        finally:
            reporter.close()
        try:
            reporter.send(reply)
        except OSError:
            return


def _die_with_parent(parent: int) -> None:
    """End this process when `parent` ends: at once by the kernel's parent-death signal (Linux; a
    failure to set it is ignored), and within `PARENT_CHECK_INTERVAL` seconds by a watchdog thread
    that sees the parent change (the parent died before the signal was set, or not Linux)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    threading.Thread(target=_watch_parent, args=(parent,), name="concerto-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_INTERVAL)
    os._exit(1)  # orphaned: nobody will read the result


def _run(job: Job, reporter: _ProgressReporter) -> Plan | ReplanResult | ExportedModel:
    if isinstance(job, ExportJob):
        return _export(job, reporter)
    return _plan(job, reporter)


def _export(job: ExportJob, reporter: _ProgressReporter) -> ExportedModel:
    reporter.phase(Phase.BUILDING)
    lp = compile_model(job.spec, job.protocols, job.signals).lp
    text = export_model(lp, job.fmt, max_bytes=job.max_bytes)
    return ExportedModel(text=text, columns=lp.n_cols, rows=lp.n_rows)


def _plan(job: SolveJob, reporter: _ProgressReporter) -> Plan | ReplanResult:
    reporter.phase(Phase.BUILDING)
    backend = _ReportingBackend(_backend(job.backend), reporter)
    if job.baseline is not None:
        final: ReplanResult | None = None
        for result in replan(
            job.spec,
            job.baseline,
            job.signals,
            job.options,
            job.replan,
            protocols=job.protocols,
            first_answer=job.first_answer,
            backend=backend,
            warm_key=job.warm_key,
        ):
            if result.kind == "first":
                p = result.plan
                event = Progress(result.ready_seconds, p.objective, p.bound, p.gap, Phase.FIRST_PLAN, result)
                reporter.send(("progress", reporter.job_id, event))
            final = result
        assert final is not None
        return final
    return plan_network(
        job.spec, job.options, protocols=job.protocols, signals=job.signals, backend=backend, warm_key=job.warm_key
    )


def _backend(name: str) -> SolverBackend:
    """The backend called `name`, from the registry (HiGHS solves in this process; the OR-Tools ones
    in a fresh interpreter of their own, because ortools and highspy cannot share this one)."""
    return backend_by_name(name)


class _ReportingBackend(WrappedBackend):
    """A backend with the solve's phases, and its MIP updates where it reports them, sent to the
    parent; the name and capabilities are the wrapped backend's."""

    def __init__(self, inner: SolverBackend, reporter: _ProgressReporter) -> None:
        super().__init__(inner)
        self._reporter = reporter

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
    ) -> Solution:
        self._reporter.phase(Phase.SOLVING)
        self._reporter.start_updates()
        try:
            solution = self._inner.solve(
                lp, options, progress=progress or self._reporter.update, interrupt=interrupt, start=start
            )
        finally:
            self._reporter.close()
        self._reporter.phase(Phase.EXTRACTING, solution.objective, solution.bound, solution.gap)
        return solution

    def method_progress(self) -> Callable[[MipProgress], None] | None:
        """LP-first reports its bound after the relaxation and its plan after the repair."""
        self._reporter.phase(Phase.SOLVING)
        return self._reporter.update


class _ProgressReporter:
    """Sends a job's progress to the parent: phases at once, solver updates at most one every
    `PROGRESS_INTERVAL` seconds (the latest held back one is flushed by a thread)."""

    def __init__(self, conn: Connection, job_id: int) -> None:
        self._conn = conn
        self._job_id = job_id
        self.job_id = job_id
        self._start = time.perf_counter()
        self._lock = threading.Lock()
        self._last_update = -math.inf
        self._held: Progress | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self._conn.send(message)

    def phase(self, phase: Phase, objective: float = math.nan, bound: float = math.nan, gap: float = math.nan) -> None:
        event = Progress(time.perf_counter() - self._start, objective, bound, gap, phase)
        self.send(("progress", self._job_id, event))

    def update(self, mip: MipProgress) -> None:
        now = time.perf_counter()
        event = Progress(now - self._start, mip.objective, mip.bound, mip.gap, Phase.SOLVING)
        with self._lock:
            if now - self._last_update >= PROGRESS_INTERVAL:
                self._send_update(event, now)
            else:
                self._held = event

    def start_updates(self) -> None:
        self._thread = threading.Thread(target=self._flush_held, name="concerto-progress", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._held = None

    def _flush_held(self) -> None:
        while not self._stop.wait(PROGRESS_INTERVAL / 5):
            now = time.perf_counter()
            with self._lock:
                if self._held is not None and now - self._last_update >= PROGRESS_INTERVAL:
                    self._send_update(self._held, now)

    def _send_update(self, event: Progress, now: float) -> None:
        """Send a solver update; the caller holds the lock."""
        try:
            self._conn.send(("progress", self._job_id, event))
        except OSError:
            os._exit(1)  # the parent has gone
        self._last_update = now
        self._held = None
