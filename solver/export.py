"""Writes a model as MPS or LP text with readable names, such as `ship[arc=L7/A,t=3]`, through
HiGHS's own writers, so any solver or a person can read exactly what Concerto solves.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from models.builder import LinearProgram
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions

FORMATS = ("mps", "lp")


def export_model(lp: LinearProgram, fmt: str) -> str:
    """The model as text in `fmt` ("mps" or "lp")."""
    if fmt not in FORMATS:
        from models.errors import ValidationError

        raise ValidationError("export", fmt, "format", f"is {fmt!r}; use one of {', '.join(FORMATS)}")
    h = HighsBackend().load(lp, SolveOptions())
    for j, name in enumerate(lp.column_names()):
        h.passColName(j, _safe(name))
    for i, name in enumerate(lp.row_names()):
        h.passRowName(i, _safe(name))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"model.{fmt}"
        h.writeModel(os.fspath(path))
        return path.read_text()


def _safe(name: str) -> str:
    """MPS and LP names may hold no spaces."""
    return name.replace(" ", "_")
