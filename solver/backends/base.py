"""The one interface every solver backend implements, with its capabilities declared as data:
solving, and the capabilities beyond it (duals, ranging, IIS, model files, in-place updates).
"""

from __future__ import annotations

import enum
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.errors import ValidationError
from models.solution import Solution
from solver.options import SolveOptions

if TYPE_CHECKING:
    from solver.backends.analysis import Conflict, LpDuals
    from solver.backends.in_place import InPlaceModel


class BackendFeature(enum.Enum):
    """What a backend can do; the planner checks these before it hands a model over."""

    LP = "lp"
    """Continuous linear programs."""
    MIP = "mip"
    """Integer and binary variables."""
    TIME_LIMIT = "time_limit"
    MIP_GAP = "mip_gap"
    THREADS = "threads"
    SEED = "seed"
    MIP_START = "mip_start"
    """Takes a MIP start (`solve(start=)`) and says in `Solution.info["mip_start_accepted"]` whether
    the solver accepted it as feasible; a backend without it ignores the start."""
    PROGRESS = "progress"
    """Reports the incumbent, bound and gap while it solves (`solve(progress=)`)."""
    INTERRUPT = "interrupt"
    """Polls `solve(interrupt=)` while it solves and stops with the best plan so far once it is True."""
    DUALS = "duals"
    """Solves a continuous LP and returns its row duals and reduced costs (`duals(lp, options)`)."""
    RANGING = "ranging"
    """Adds cost and bound ranging to those duals (`duals(lp, options, ranging=True)`): how far each
    cost and bound can move before the optimal basis changes."""
    IIS = "iis"
    """Finds an irreducible infeasible subsystem of a model's LP relaxation (`conflict(lp, options)`)."""
    WRITE_MODEL = "write_model"
    """Writes a model as an MPS or LP file (`write_model(lp, path)`)."""
    IN_PLACE_UPDATE = "in_place_update"
    """Keeps a model loaded whose bounds, right-hand sides, costs and coefficient values can be
    changed and re-solved warm (`live(lp, options)`); a change it cannot apply in place raises
    `RebuildRequired`."""


BEYOND_SOLVING = frozenset(
    {
        BackendFeature.DUALS,
        BackendFeature.RANGING,
        BackendFeature.IIS,
        BackendFeature.WRITE_MODEL,
        BackendFeature.IN_PLACE_UPDATE,
    }
)
"""The capabilities that are methods of their own rather than options or hints of `solve`."""

MODEL_FORMATS = ("mps", "lp")
"""The model file formats `write_model` may be asked for, named by the file's extension."""


class UnsupportedFeature(ValidationError):
    """A backend was asked for a capability it does not declare; the message names the capability
    and the backends that have it (`concerto backends` lists what each declares)."""

    def __init__(self, backend: str, feature: BackendFeature, what: str, *, declaring: Sequence[str] = ()) -> None:
        self.feature = feature
        instead = f": {', '.join(declaring)}" if declaring else " (`concerto backends` lists what each declares)"
        super().__init__(
            "solve options",
            backend,
            "backend",
            f"does not support {what} ({feature.value}); use a backend that declares {feature.value}{instead}",
        )


@dataclass(frozen=True)
class MipProgress:
    """The state of a running MIP solve, as a backend's callback reports it. NaN means not known yet."""

    running_seconds: float
    """Seconds since the solver started this solve."""
    objective: float
    """Objective of the best plan found so far (the incumbent)."""
    bound: float
    """Best proven lower bound on the objective (minimization)."""
    gap: float
    """Relative gap between `objective` and `bound`."""
    nodes: int
    """Branch-and-bound nodes explored so far."""
    improved: bool
    """Whether this update is a new incumbent (otherwise a periodic check)."""


class SolverBackend(ABC):
    """Solves a canonical `LinearProgram`; infeasible, unbounded and limits come back as results."""

    name: ClassVar[str]
    features: ClassVar[frozenset[BackendFeature]]

    @classmethod
    @abstractmethod
    def available(cls) -> bool:
        """Whether the backend's solver can be used in this process."""

    def usable(self) -> bool:
        """Whether this backend can solve here: its class is `available` (a backend whose instances
        wrap different solvers also checks its own)."""
        return type(self).available()

    @abstractmethod
    def version(self) -> str:
        """The underlying solver's version string."""

    def install_hint(self) -> str:
        """What to install to make this backend usable, for the error an unavailable one raises."""
        return ""

    @abstractmethod
    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
    ) -> Solution:
        """Solve `lp` (minimization) and return the solution with its status. `progress`,
        `interrupt` and the MIP start `start` (a full column vector) are hints: a backend uses each
        only if it declares the matching feature (PROGRESS, INTERRUPT, MIP_START) and ignores it
        otherwise, so a caller gets the same optimum either way."""

    def require(self, feature: BackendFeature, what: str) -> None:
        """Raise `UnsupportedFeature` unless this backend declares `feature` (`what` says it in words)."""
        if feature not in self.features:
            raise UnsupportedFeature(self.name, feature, what)

    # The capabilities beyond solving: each public method checks the declared feature, so a backend
    # without it raises `UnsupportedFeature`, and hands over to the `_` method a backend implements.

    def duals(self, lp: LinearProgram, options: SolveOptions, *, ranging: bool = False) -> LpDuals:
        """Solve the continuous LP `lp` and return its row duals and reduced costs, with cost and
        bound ranging if `ranging` is set (features DUALS, and RANGING for `ranging`)."""
        self.require(BackendFeature.DUALS, "row duals and reduced costs")
        if ranging:
            self.require(BackendFeature.RANGING, "cost and bound ranging")
        return self._duals(lp, options, ranging=ranging)

    def conflict(self, lp: LinearProgram, options: SolveOptions) -> Conflict | None:
        """An irreducible infeasible subsystem of `lp`'s LP relaxation, or None when the relaxation
        is feasible (feature IIS)."""
        self.require(BackendFeature.IIS, "an irreducible infeasible subsystem (IIS)")
        return self._conflict(lp, options)

    def write_model(
        self,
        lp: LinearProgram,
        path: str | os.PathLike[str],
        *,
        column_names: Sequence[str] = (),
        row_names: Sequence[str] = (),
    ) -> None:
        """Write `lp` to `path` in the format its extension names (".mps" or ".lp"), with the given
        column and row names (none given: the solver's own), feature WRITE_MODEL."""
        self.require(BackendFeature.WRITE_MODEL, "writing MPS or LP model files")
        model_format(path)
        self._write_model(lp, path, column_names=column_names, row_names=row_names)

    def method_progress(self) -> Callable[[MipProgress], None] | None:
        """Where a method that drives this backend through its live models (LP-first) reports its
        bounds and plans: nowhere here; a wrapper that reports progress returns its sink."""
        return None

    def live(self, lp: LinearProgram, options: SolveOptions) -> InPlaceModel:
        """`lp` loaded into the solver and kept there, to be updated in place and re-solved warm
        (feature IN_PLACE_UPDATE; `solver.live.LiveModel` rebuilds when an update cannot be applied)."""
        self.require(BackendFeature.IN_PLACE_UPDATE, "in-place updates of a loaded model")
        return self._live(lp, options)

    def _duals(self, lp: LinearProgram, options: SolveOptions, *, ranging: bool) -> LpDuals:
        raise NotImplementedError(f"the {self.name} backend declares duals but does not implement them")

    def _conflict(self, lp: LinearProgram, options: SolveOptions) -> Conflict | None:
        raise NotImplementedError(f"the {self.name} backend declares an IIS but does not implement it")

    def _write_model(
        self, lp: LinearProgram, path: str | os.PathLike[str], *, column_names: Sequence[str], row_names: Sequence[str]
    ) -> None:
        raise NotImplementedError(f"the {self.name} backend declares model writing but does not implement it")

    def _live(self, lp: LinearProgram, options: SolveOptions) -> InPlaceModel:
        raise NotImplementedError(f"the {self.name} backend declares in-place updates but does not implement them")


def model_format(path: str | os.PathLike[str]) -> str:
    """The model file format a path's extension names ("mps" or "lp"); a ValueError otherwise."""
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    if fmt not in MODEL_FORMATS:
        raise ValueError(f"{os.fspath(path)}: a model file must end in {' or '.join('.' + f for f in MODEL_FORMATS)}")
    return fmt


class WrappedBackend(SolverBackend):
    """A backend that passes its solves on to `inner` (to watch or report them), with the inner
    backend's name, capabilities, version and availability; a subclass overrides `solve`. The
    capabilities beyond solving go to `inner` unwatched."""

    def __init__(self, inner: SolverBackend) -> None:
        self._inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.features = inner.features  # type: ignore[misc]

    @classmethod
    def available(cls) -> bool:
        return True

    def usable(self) -> bool:
        return self._inner.usable()

    def version(self) -> str:
        return self._inner.version()

    def _duals(self, lp: LinearProgram, options: SolveOptions, *, ranging: bool) -> LpDuals:
        return self._inner.duals(lp, options, ranging=ranging)

    def _conflict(self, lp: LinearProgram, options: SolveOptions) -> Conflict | None:
        return self._inner.conflict(lp, options)

    def _write_model(
        self, lp: LinearProgram, path: str | os.PathLike[str], *, column_names: Sequence[str], row_names: Sequence[str]
    ) -> None:
        self._inner.write_model(lp, path, column_names=column_names, row_names=row_names)

    def _live(self, lp: LinearProgram, options: SolveOptions) -> InPlaceModel:
        return self._inner.live(lp, options)

    def method_progress(self) -> Callable[[MipProgress], None] | None:
        return self._inner.method_progress()
