"""Errors raised by the models: what was wrong, where (entity, id, field), and how to fix it.

The service maps these to gRPC status codes in one place (`solver/errors.py`).
"""

from __future__ import annotations


class ConcertoError(Exception):
    """Base of every error Concerto raises on purpose."""


class ValidationError(ConcertoError, ValueError):
    """Input that cannot be planned: names the entity kind, its id and the offending field."""

    def __init__(self, entity: str, ident: str, field: str, message: str) -> None:
        self.entity = entity
        self.ident = ident
        self.field = field
        self.message = message
        super().__init__(f"{entity} {ident!r}: {field} {message}")
