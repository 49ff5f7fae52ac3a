"""The one place where Concerto's errors become gRPC status codes.

Every servicer method runs inside `grpc_errors`, so an error raised anywhere below the servicer
reaches the client with the right code and a message that names the entity and field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import grpc

from models.errors import ConcertoError, ValidationError
from solver.store import InvalidTransition, NotFound, StaleBaseline

__all__ = ["InvalidTransition", "NotFound", "StaleBaseline"]  # the store's errors, mapped below


class QueueFull(ConcertoError):
    """Every solver worker is busy and the queue is full: retry later."""


class WorkerError(ConcertoError):
    """A solver worker failed for a reason that is not the request's fault."""


class SolveCancelled(ConcertoError):
    """The solve was cancelled (client cancellation or server shutdown)."""


class DeadlineExceeded(ConcertoError):
    """The client's deadline passed before the solve finished; the solve was stopped."""


def status_for(err: Exception) -> tuple[grpc.StatusCode, str]:
    """The gRPC status code and message for an error: one explicit table."""
    if isinstance(err, ValidationError):
        return grpc.StatusCode.INVALID_ARGUMENT, str(err)
    table: list[tuple[type[Exception], grpc.StatusCode]] = [
        (NotFound, grpc.StatusCode.NOT_FOUND),
        (StaleBaseline, grpc.StatusCode.FAILED_PRECONDITION),
        (InvalidTransition, grpc.StatusCode.FAILED_PRECONDITION),
        (QueueFull, grpc.StatusCode.RESOURCE_EXHAUSTED),
        (DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
        (SolveCancelled, grpc.StatusCode.CANCELLED),
        (WorkerError, grpc.StatusCode.INTERNAL),
    ]
    for kind, code in table:
        if isinstance(err, kind):
            return code, str(err)
    return grpc.StatusCode.INTERNAL, f"internal error: {type(err).__name__}: {err}"


def abort(context: grpc.ServicerContext, err: Exception) -> NoReturn:
    code, message = status_for(err)
    context.abort(code, message)
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


@contextmanager
def grpc_errors(context: grpc.ServicerContext) -> Iterator[None]:
    """Turn any error raised inside into the matching gRPC status on `context`."""
    try:
        yield
    except ConcertoError as err:
        abort(context, err)
