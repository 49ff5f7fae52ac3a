"""Writes a model as MPS or LP text with readable names, such as `ship[arc=L7/A,t=3]`, through a
backend's own writers (HiGHS's by default), so any solver or a person can read exactly what
Concerto solves.
"""

from __future__ import annotations

import os
import string
import tempfile
from pathlib import Path

from models.builder import LinearProgram
from models.errors import ValidationError
from solver.backends.base import MODEL_FORMATS, BackendFeature, SolverBackend
from solver.backends.registry import backend_with

FORMATS = MODEL_FORMATS


def check_format(fmt: str) -> str:
    """`fmt`, once known to be a format this module writes; otherwise a `ValidationError`."""
    if fmt not in FORMATS:
        raise ValidationError("export", fmt, "format", f"is {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def export_model(
    lp: LinearProgram, fmt: str, *, backend: SolverBackend | None = None, max_bytes: int | None = None
) -> str:
    """The model as text in `fmt` ("mps" or "lp"), written by `backend`, which must declare
    WRITE_MODEL (default: the registry's default backend, HiGHS). With `max_bytes`, text longer
    than that is refused (a `ValidationError` on field "response" naming the size and the limit)
    from the written file's size, before the text is read into memory."""
    check_format(fmt)
    writer = backend_with(BackendFeature.WRITE_MODEL, "writing MPS or LP model files", backend)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"model.{fmt}"
        writer.write_model(
            lp, os.fspath(path), column_names=_safe(lp.column_names(), fmt), row_names=_safe(lp.row_names(), fmt)
        )
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise ValidationError(
                "export",
                fmt,
                "response",
                f"would be {size:,} bytes of {fmt.upper()} text ({lp.n_cols:,} columns, {lp.n_rows:,} rows), "
                f"over the limit of {max_bytes:,} bytes (`concerto serve --max-response-bytes`); "
                "export a smaller network or horizon",
            )
        return path.read_text()


_LP_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "(),._#")


def _safe(names: list[str], fmt: str) -> list[str]:
    """Names each format accepts: no spaces in MPS; in LP only the characters the format allows,
    so `ship[arc=L7/A,t=3]` reads `ship(arc.L7/A,t.3)`. Names made equal get a `#k` suffix."""
    if fmt == "mps":
        out = [n.replace(" ", "_") for n in names]
    else:
        table = str.maketrans({"[": "(", "]": ")", "=": "."})
        out = ["".join(c if c in _LP_NAME_CHARS else "_" for c in n.translate(table)) for n in names]
    seen: dict[str, int] = {}
    for k, name in enumerate(out):
        if name in seen:
            out[k] = f"{name}#{k}"
        seen[name] = k
    return out
