"""The one place where Concerto's errors become gRPC status codes.

Every servicer method runs inside `grpc_errors`, so an error raised anywhere below the servicer
reaches the client with the right code and a message that names the entity and field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import grpc

from models.errors import ConcertoError, ValidationError
from models.solution import SolveStatus
from solver.auth import NetworkHidden, PermissionDenied, Unauthenticated
from solver.store import (
    AlreadySigned,
    IdempotencyConflict,
    InboxFull,
    InvalidTransition,
    NetworkTaken,
    NotFound,
    StaleBaseline,
    StoreUnavailable,
    SupersededPlan,
)

# the store's and authorization's errors, mapped below
__all__ = [
    "AlreadySigned",
    "IdempotencyConflict",
    "InboxFull",
    "InvalidTransition",
    "NetworkHidden",
    "NetworkTaken",
    "NotFound",
    "PermissionDenied",
    "StaleBaseline",
    "SupersededPlan",
    "Unauthenticated",
]

log = logging.getLogger("concerto.server")


class QueueFull(ConcertoError):
    """Every solver worker is busy and the queue is full: retry later."""


class WorkerError(ConcertoError):
    """A solver worker failed for a reason that is not the request's fault."""


class WorkerLost(WorkerError):
    """The worker process running the job died (killed, out of memory, a crash) before it answered;
    the pool has replaced it, so the same request may well succeed when retried."""


class SolveCancelled(ConcertoError):
    """The solve was cancelled (client cancellation or server shutdown)."""


class DeadlineExceeded(ConcertoError):
    """The client's deadline passed before the solve finished; the solve was stopped."""


class PoolClosed(WorkerError):
    """The worker pool is closed (the server is shutting down): another server, or this one once it
    is back, can take the request."""


class TimeLimitExceeded(DeadlineExceeded):
    """The job ran past its own time limit by more than the pool's grace margin (a slow phase before
    or after the solve, which the solver's own limit cannot stop); its worker was stopped."""


class NoPlan(ConcertoError):
    """A `Plan` or `Replan` whose solve ended without a plan (infeasible, no plan within the time
    limit, a solver error): nothing is stored, and the client learns how the solve ended from the
    status code and the `SOLVE_STATUS_METADATA` trailer. Only plans become plan versions."""

    def __init__(self, network_id: str, status: SolveStatus, detail: str) -> None:
        self.network_id = network_id
        self.status = status
        self.detail = detail
        hint = _NO_PLAN_HINTS.get(status, "")
        super().__init__(
            f"network {network_id!r}: the solve ended {status.value}"
            + (f" ({detail})" if detail else "")
            + f"; no plan version was stored{hint}"
        )


class NoBaselinePlan(ConcertoError):
    """A replan asked for a baseline version that holds no plan (a ledger written before only plans
    were stored could hold one)."""

    def __init__(self, network_id: str, version: int, status: str) -> None:
        self.network_id, self.version, self.status = network_id, version, status
        super().__init__(
            f"network {network_id!r}: plan version {version} ended {status} and holds no plan; "
            "give baseline_version of a version with a plan, or Plan the network again"
        )


_NO_PLAN_HINTS = {
    SolveStatus.INFEASIBLE: "; `concerto diagnose` names the smallest relaxation that restores a plan",
    SolveStatus.INFEASIBLE_OR_UNBOUNDED: "; `concerto diagnose` names what conflicts",
    SolveStatus.UNBOUNDED: "; some cost or capacity is missing from the data",
    SolveStatus.TIME_LIMIT: "; raise options.time_limit_seconds",
}

SOLVE_STATUS_METADATA = "concerto-solve-status"
"""Trailing metadata of a `NoPlan` error: the `SolveStatus` value the solve ended with."""

_NO_PLAN_CODES = {
    SolveStatus.INFEASIBLE: grpc.StatusCode.FAILED_PRECONDITION,
    SolveStatus.UNBOUNDED: grpc.StatusCode.FAILED_PRECONDITION,
    SolveStatus.INFEASIBLE_OR_UNBOUNDED: grpc.StatusCode.FAILED_PRECONDITION,
    SolveStatus.TIME_LIMIT: grpc.StatusCode.DEADLINE_EXCEEDED,
    SolveStatus.INTERRUPTED: grpc.StatusCode.CANCELLED,
    SolveStatus.ERROR: grpc.StatusCode.INTERNAL,
}
"""How a solve without a plan ended -> the status code of the `Plan` or `Replan` that asked for it."""


def status_for(err: Exception) -> tuple[grpc.StatusCode, str]:
    """The gRPC status code and message for an error: one explicit table."""
    if isinstance(err, ValidationError):
        return grpc.StatusCode.INVALID_ARGUMENT, str(err)
    if isinstance(err, NoPlan):
        return _NO_PLAN_CODES.get(err.status, grpc.StatusCode.INTERNAL), str(err)
    table: list[tuple[type[Exception], grpc.StatusCode]] = [
        (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
        (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
        (NotFound, grpc.StatusCode.NOT_FOUND),
        (NetworkHidden, grpc.StatusCode.NOT_FOUND),
        (NetworkTaken, grpc.StatusCode.ALREADY_EXISTS),
        (AlreadySigned, grpc.StatusCode.FAILED_PRECONDITION),
        (StaleBaseline, grpc.StatusCode.FAILED_PRECONDITION),
        (NoBaselinePlan, grpc.StatusCode.FAILED_PRECONDITION),
        (InvalidTransition, grpc.StatusCode.FAILED_PRECONDITION),
        (SupersededPlan, grpc.StatusCode.FAILED_PRECONDITION),
        (IdempotencyConflict, grpc.StatusCode.ALREADY_EXISTS),
        (QueueFull, grpc.StatusCode.RESOURCE_EXHAUSTED),
        (InboxFull, grpc.StatusCode.RESOURCE_EXHAUSTED),
        (TimeLimitExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
        (DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
        (SolveCancelled, grpc.StatusCode.CANCELLED),
        (WorkerLost, grpc.StatusCode.UNAVAILABLE),
        (PoolClosed, grpc.StatusCode.UNAVAILABLE),
        (StoreUnavailable, grpc.StatusCode.UNAVAILABLE),
        (WorkerError, grpc.StatusCode.INTERNAL),
    ]
    for kind, code in table:
        if isinstance(err, kind):
            return code, str(err)
    return grpc.StatusCode.INTERNAL, f"internal error: {type(err).__name__}: {err}"


MAX_MESSAGE_CHARS = 1000
"""The longest status message a client receives. Messages are made ASCII (other characters are
escaped) and cut to this length, so that with gRPC's percent-encoding a message never comes near the
8 KiB metadata limit that would turn the answer into RESOURCE_EXHAUSTED."""


def bounded_message(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`message` in ASCII and at most `limit` characters (cut ones end in "... (N characters)")."""
    text = message.encode("ascii", "backslashreplace").decode("ascii")
    if len(text) <= limit:
        return text
    tail = f"... ({len(text):,} characters)"
    return text[: limit - len(tail)] + tail


def abort(context: grpc.ServicerContext, err: Exception) -> NoReturn:
    code, message = status_for(err)
    message = bounded_message(message)
    if isinstance(err, NoPlan):
        context.set_trailing_metadata(((SOLVE_STATUS_METADATA, err.status.value),))
    context.abort(code, message)
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


@contextmanager
def grpc_errors(context: grpc.ServicerContext) -> Iterator[None]:
    """Turn any error raised inside into the matching gRPC status on `context`."""
    try:
        yield
    except ConcertoError as err:
        abort(context, err)
    except MemoryError:
        log.exception("out of memory answering a call")
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "the server ran out of memory answering this call")
    except Exception as err:
        if context.code() is not None:  # `context.abort` raises a bare Exception: already answered
            raise
        log.exception("unexpected error answering a call")
        context.abort(grpc.StatusCode.INTERNAL, bounded_message(f"internal error: {type(err).__name__}: {err}"))


DOCUMENTED_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)
"""The status codes a Concerto call may end with besides OK, for any request a client can send.
INTERNAL is reserved for a solver that fails on a valid model (`SolveStatus.ERROR`) and UNKNOWN is
never sent: both mean a defect, and the fuzz suite fails on them."""
