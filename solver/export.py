"""Writes a model as MPS or LP text with readable names, such as `ship[arc=L7/A,t=3]`, through
HiGHS's own writers, so any solver or a person can read exactly what Concerto solves.
"""

from __future__ import annotations

import os
import string
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
    for j, name in enumerate(_safe(lp.column_names(), fmt)):
        h.passColName(j, name)
    for i, name in enumerate(_safe(lp.row_names(), fmt)):
        h.passRowName(i, name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"model.{fmt}"
        h.writeModel(os.fspath(path))
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
