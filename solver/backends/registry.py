"""Backends by name: the one place that maps a name such as "ortools-scip" to a `SolverBackend`
and checks that the backend exists, is installed and can honour the requested options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from models.errors import ValidationError
from solver.backends.base import BackendFeature, SolverBackend, UnsupportedFeature
from solver.backends.highs import HighsBackend
from solver.backends.ortools import OrToolsBackend
from solver.backends.pyomo import SOLVERS as PYOMO_SOLVERS
from solver.backends.pyomo import PyomoBackend
from solver.options import LP_FIRST, SolveOptions

DEFAULT_BACKEND = "highs"

BACKENDS: dict[str, Callable[[], SolverBackend]] = {
    "highs": HighsBackend,
    "ortools-scip": lambda: OrToolsBackend("scip"),
    "ortools-cpsat": lambda: OrToolsBackend("cp_sat"),
    "ortools-highs": lambda: OrToolsBackend("highs"),
    **{f"pyomo-{solver}": partial(PyomoBackend, solver) for solver in PYOMO_SOLVERS},
}
"""Every backend Concerto knows, by the name clients and the command line use; the `pyomo-*` ones
other than `pyomo-highs` are usable once their solver is installed."""

_OPTION_FEATURES: dict[str, BackendFeature] = {
    "time_limit": BackendFeature.TIME_LIMIT,
    "mip_rel_gap": BackendFeature.MIP_GAP,
    "threads": BackendFeature.THREADS,
    "seed": BackendFeature.SEED,
}
"""Which feature a backend must declare to honour an option set away from its default."""


def backend_by_name(name: str = DEFAULT_BACKEND) -> SolverBackend:
    """The backend called `name`; a `ValidationError` naming the option for an unknown or
    unavailable one."""
    if name not in BACKENDS:
        raise ValidationError("solve options", name, "backend", f"is unknown; Concerto knows {', '.join(BACKENDS)}")
    backend = BACKENDS[name]()
    if not backend.usable():
        others = ", ".join(n for n in available_backends() if n != name) or "none"
        hint = backend.install_hint()
        raise ValidationError(
            "solve options",
            name,
            "backend",
            "is not available in this installation"
            + (f" (to use it: {hint})" if hint else "")
            + f"; available here: {others}",
        )
    return backend


def default_backend() -> SolverBackend:
    """The backend used when a caller names none: `DEFAULT_BACKEND`, checked like any other."""
    return backend_by_name(DEFAULT_BACKEND)


def backend_with(feature: BackendFeature, what: str, backend: SolverBackend | None = None) -> SolverBackend:
    """`backend` (the default one if None), checked to declare `feature` (`what` says it in words):
    an `UnsupportedFeature` naming the backends that do, otherwise."""
    chosen = backend if backend is not None else default_backend()
    if feature not in chosen.features:
        declaring = [name for name, make in BACKENDS.items() if feature in make().features]
        raise UnsupportedFeature(chosen.name, feature, what, declaring=declaring)
    return chosen


def available_backends() -> list[str]:
    """Names of the backends that can be used here (ortools ones need ortools importable in a worker)."""
    return [name for name, make in BACKENDS.items() if make().usable()]


@dataclass(frozen=True)
class BackendInfo:
    """What `describe_backends` says about one backend."""

    name: str
    available: bool
    version: str
    """Empty when the backend is not available."""
    features: tuple[BackendFeature, ...]
    """In the order `BackendFeature` lists them."""
    is_default: bool


def describe_backends() -> list[BackendInfo]:
    """Every backend Concerto knows, in `BACKENDS` order, with whether it can solve here."""
    out = []
    for name, make in BACKENDS.items():
        backend = make()
        usable = backend.usable()
        out.append(
            BackendInfo(
                name=name,
                available=usable,
                version=backend.version() if usable else "",
                features=tuple(f for f in BackendFeature if f in backend.features),
                is_default=name == DEFAULT_BACKEND,
            )
        )
    return out


def check_options(backend: SolverBackend, options: SolveOptions) -> None:
    """Raise a `ValidationError` naming the first option set away from its default that `backend`
    does not declare it can honour."""
    defaults = SolveOptions()
    for option, feature in _OPTION_FEATURES.items():
        if getattr(options, option) != getattr(defaults, option) and feature not in backend.features:
            raise ValidationError(
                "solve options",
                backend.name,
                option,
                f"is not supported by the {backend.name} backend; leave it at its default or pick a backend "
                f"with {feature.value}",
            )
    if options.method == LP_FIRST and BackendFeature.IN_PLACE_UPDATE not in backend.features:
        raise ValidationError(
            "solve options",
            backend.name,
            "method",
            f"lp_first is not supported by the {backend.name} backend (it re-solves a loaded model in "
            f"place, which needs {BackendFeature.IN_PLACE_UPDATE.value}); use auto or milp, or the highs backend",
        )
