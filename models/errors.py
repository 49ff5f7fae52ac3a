"""Errors raised by the models: what was wrong, where (entity, id, field), and how to fix it.

The service maps these to gRPC status codes in one place (`solver/errors.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

MAX_ECHOED_CHARS = 80
"""How much of an id or other input an error message repeats; longer input is cut and its length
given, so that no error message grows with the request."""


def echo(text: str, limit: int = MAX_ECHOED_CHARS) -> str:
    """`text` quoted for an error message: whole when short, else its first `limit` characters and
    its length (`'abc...' (1,048,576 characters)`)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


class ConcertoError(Exception):
    """Base of every error Concerto raises on purpose."""


class ValidationError(ConcertoError, ValueError):
    """Input that cannot be planned: names the entity kind, its id and the offending field."""

    def __init__(self, entity: str, ident: str, field: str, message: str) -> None:
        self.entity = entity
        self.ident = ident
        self.field = field
        self.message = message
        super().__init__(f"{entity} {echo(ident)}: {field} {message}")

    def each(self) -> list[ValidationError]:
        """Every violation this error reports: itself (`ValidationErrors` reports several)."""
        return [self]


MAX_REPORTED_VIOLATIONS = 20
"""How many violations the text of a `ValidationErrors` lists; the rest are counted."""


class ValidationErrors(ValidationError):
    """Several violations found in one pass over the input. It reads as the first violation (its
    entity, id and field), and its text lists up to `MAX_REPORTED_VIOLATIONS` and counts the rest;
    `each()` gives every one."""

    def __init__(self, violations: list[ValidationError]) -> None:
        if not violations:
            raise ValueError("ValidationErrors needs at least one violation")
        # Plain strings, not the errors themselves, so the exception crosses process boundaries.
        self.violations = tuple((v.entity, v.ident, v.field, v.message) for v in violations)
        first = violations[0]
        super().__init__(first.entity, first.ident, first.field, first.message)
        if len(violations) > 1:
            shown = [str(v) for v in violations[:MAX_REPORTED_VIOLATIONS]]
            more = len(violations) - len(shown)
            text = f"{len(violations)} violations: " + "; ".join(shown) + (f"; and {more} more" if more else "")
            self.args = (text,)

    def each(self) -> list[ValidationError]:
        """Every violation, in the order found."""
        return [ValidationError(*v) for v in self.violations]


class ViolationCollector:
    """Gathers the violations of a validation pass so that one bad entity does not hide the next.

    Each entity's checks run inside `entity()`: the first violation of that entity is recorded and
    its remaining checks are skipped (they may depend on what was wrong, e.g. an unknown node),
    then the next entity is checked. `raise_if_any()` ends the pass."""

    def __init__(self) -> None:
        self.found: list[ValidationError] = []

    @contextlib.contextmanager
    def entity(self) -> Iterator[None]:
        """The checks of one entity: its first `ValidationError` is recorded, not raised."""
        try:
            yield
        except ValidationError as error:
            self.add(error)

    def add(self, error: ValidationError) -> None:
        self.found.extend(error.each())

    def raise_if_any(self) -> None:
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise ValidationErrors(self.found)
