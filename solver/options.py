"""Solve options shared by every backend: keyword-only, frozen, checked on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.errors import ValidationError

DEFAULT_MIP_REL_GAP = 1e-3
"""The relative MIP gap of every solve that does not set one: the CLI's `--gap`, a request whose
`SolveOptions.mip_rel_gap` is absent, and `SolveOptions()` (0.1%)."""

DEFAULT_TIME_LIMIT = 60.0
"""Seconds a solve may take when the request does not say: the CLI's `--time-limit` and the
server's `--time-limit` default."""

AUTO = "auto"
MILP = "milp"
LP_FIRST = "lp_first"
METHODS = (AUTO, MILP, LP_FIRST)
"""How a model is solved. "milp": the backend's branch and bound on the whole model (the monolithic
path). "lp_first": the LP relaxation with the coupling rows added where violated, integers
repaired, the gap certified by the relaxation, branch and bound only if that gap is too wide
(`solver.lp_first`). "auto": LP-first for large models at a gap it can certify (or too large for
the MILP) on a backend with in-place updates, the MILP otherwise
(`solver.lp_first.chosen_method`)."""


@dataclass(frozen=True, kw_only=True)
class SolveOptions:
    """How long and how hard a backend may work on one model."""

    time_limit: float = math.inf
    """Seconds of wall time; at the limit the best plan found so far is returned."""
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP
    """Stop once (incumbent - bound) / |incumbent| is below this."""
    threads: int = 0
    """Solver threads; 0 lets the backend choose."""
    seed: int = 0
    """Random seed of the solver, for repeatable runs."""
    verbose: bool = False
    """Print the solver's log to stdout."""
    method: str = AUTO
    """One of `METHODS`: "auto", "milp" or "lp_first"."""

    def __post_init__(self) -> None:
        if math.isnan(self.time_limit) or self.time_limit <= 0:
            raise ValidationError("solve options", "options", "time_limit", f"is {self.time_limit}; give seconds > 0")
        if math.isnan(self.mip_rel_gap) or not 0 <= self.mip_rel_gap < 1:
            raise ValidationError(
                "solve options", "options", "mip_rel_gap", f"is {self.mip_rel_gap}; it must lie in [0, 1)"
            )
        if self.threads < 0:
            raise ValidationError("solve options", "options", "threads", f"is {self.threads}; use 0 or more")
        if self.seed < 0:
            raise ValidationError("solve options", "options", "seed", f"is {self.seed}; use 0 or more")
        if self.method not in METHODS:
            raise ValidationError(
                "solve options", "options", "method", f"is {self.method!r}; use one of {', '.join(METHODS)}"
            )
