"""The canonical linear program and the builder that stacks whole variable blocks and constraint
families, given as numpy arrays, into one sparse matrix that every backend reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Axis:
    """One dimension of a block: what it ranges over, which entities its positions are, and how
    each reads.

    `index[k]` is the position-k entity's index into the network's arrays for `name` (offer k of
    `Network.offer_*`, lane k of `Network.lane_*`, period k for "t"); the builder's selection is
    kept here so that readers of a block never recompute it. `labels[k]` is that entity's id.
    Axes of rows with no entity behind them (rules, approvals) index their own labels.
    """

    name: str
    index: IntArray
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.index) != len(self.labels):
            raise ValueError(f"axis {self.name!r}: {len(self.index)} indices for {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def of(cls, name: str, ids: Sequence[str], index: npt.ArrayLike | None = None) -> Axis:
        """The entities `ids[index]` (every one of `ids` when `index` is None)."""
        if index is None:
            return cls(name, np.arange(len(ids), dtype=np.int64), tuple(map(str, ids)))
        chosen = np.asarray(index, dtype=np.int64).ravel()
        return cls(name, chosen, tuple(str(ids[k]) for k in chosen.tolist()))

    @classmethod
    def periods(cls, horizon: int) -> Axis:
        """The periods 0..H-1, axis "t"."""
        return cls("t", np.arange(horizon, dtype=np.int64), tuple(str(t) for t in range(horizon)))

    @classmethod
    def labelled(cls, name: str, labels: Sequence[str]) -> Axis:
        """An axis whose positions are only their labels (rules, approvals, violations)."""
        return cls(name, np.arange(len(labels), dtype=np.int64), tuple(str(v) for v in labels))


Axes = tuple[Axis, ...]


class _Block:
    """What variable blocks and constraint families share: a C-order layout over named axes."""

    name: str
    start: int
    shape: tuple[int, ...]
    axes: Axes

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def slice(self) -> slice:
        return slice(self.start, self.start + self.size)

    def entities(self, axis: int | str = 0) -> IntArray:
        """The entity index of an axis (by position or name): what the builder selected."""
        return self._axis(axis).index

    def position_of(self, n_entities: int, axis: int | str = 0) -> IntArray:
        """For each of `n_entities` entities, its position along `axis`, or -1 if the block skips it."""
        out = np.full(n_entities, -1, dtype=np.int64)
        index = self.entities(axis)
        out[index] = np.arange(len(index))
        return out

    def names(self, positions: npt.ArrayLike | None = None) -> list[str]:
        """Readable names such as `ship[arc=L7/A,t=3]` of the given flat positions (all by default):
        the one way a row or column is labelled, for export, conflicts and debugging."""
        flat = np.arange(self.size) if positions is None else np.asarray(positions, dtype=np.int64).ravel()
        if flat.size == 0:
            return []
        idx = np.unravel_index(flat, self.shape) if self.shape else ()
        parts = [np.char.add(f"{ax.name}=", np.asarray(ax.labels, dtype=str)[i]) for ax, i in zip(self.axes, idx)]
        joined = parts[0] if parts else np.full(flat.size, "", dtype=str)
        for part in parts[1:]:
            joined = np.char.add(np.char.add(joined, ","), part)
        return np.char.add(np.char.add(f"{self.name}[", joined), "]").tolist()

    def resource_period(self) -> tuple[list[str], list[int]]:
        """The first axis's label and the period (axis "t", else -1) of every flat position."""
        if self.size == 0:
            return [], []
        idx = np.unravel_index(np.arange(self.size), self.shape)
        resource = [self.axes[0].labels[i] for i in idx[0]] if self.axes else [""] * self.size
        names = [ax.name for ax in self.axes]
        period = [int(v) for v in idx[names.index("t")]] if "t" in names else [-1] * self.size
        return resource, period

    def _axis(self, axis: int | str) -> Axis:
        if isinstance(axis, int):
            return self.axes[axis]
        for ax in self.axes:
            if ax.name == axis:
                return ax
        raise KeyError(f"block {self.name!r} has no axis {axis!r}; its axes are {[a.name for a in self.axes]}")


@dataclass(frozen=True)
class VariableBlock(_Block):
    """A block of columns `start : start + size` laid out in C order over `shape`, one axis per
    dimension, e.g. (Axis.of("arc", arc_ids), Axis.periods(H))."""

    name: str
    start: int
    shape: tuple[int, ...]
    integer: bool
    axes: Axes


@dataclass(frozen=True)
class ConstraintBlock(_Block):
    """A family of rows `start : start + size` laid out in C order over `shape`."""

    name: str
    start: int
    shape: tuple[int, ...]
    axes: Axes


@dataclass(frozen=True)
class CostTerm:
    """Part of the objective charged to one cost component (procurement, logistics, ...)."""

    component: str
    columns: IntArray
    coefficients: FloatArray
    constant: float = 0.0


@dataclass(frozen=True, eq=False)
class LinearProgram:
    """min c.x + offset  s.t.  row_lower <= A x <= row_upper,  col_lower <= x <= col_upper,
    x_j integer where `integrality[j]`.

    A is CSR with duplicates summed and explicit zeros removed. `variables` and `constraints` map
    block names to their column and row ranges; `cost_terms` split the objective by component.
    """

    c: FloatArray
    offset: float
    A: sp.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    integrality: BoolArray
    variables: dict[str, VariableBlock]
    constraints: dict[str, ConstraintBlock]
    cost_terms: tuple[CostTerm, ...] = ()

    @property
    def n_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.A.nnz)

    @property
    def n_integer(self) -> int:
        return int(self.integrality.sum())

    def values(self, x: FloatArray, block: str) -> FloatArray:
        """The solution values of one variable block, shaped like the block."""
        blk = self.variables[block]
        return np.asarray(x[blk.slice]).reshape(blk.shape)

    def columns(self, block: str) -> IntArray:
        """Column indices of a block, shaped like the block."""
        blk = self.variables[block]
        return np.arange(blk.start, blk.start + blk.size, dtype=np.int64).reshape(blk.shape)

    def cost_by_component(self, x: FloatArray) -> dict[str, float]:
        """The objective split by cost component; the parts sum to c.x + offset."""
        out: dict[str, float] = {}
        for term in self.cost_terms:
            value = float(term.coefficients @ x[term.columns]) + term.constant
            out[term.component] = out.get(term.component, 0.0) + value
        return out

    def objective(self, x: FloatArray) -> float:
        return float(self.c @ x) + self.offset

    def column_names(self) -> list[str]:
        """Readable names such as `ship[arc=L7/A,t=3]`, for export and debugging."""
        return _names(self.variables.values(), self.n_cols)

    def row_names(self) -> list[str]:
        return _names(self.constraints.values(), self.n_rows)

    def column_name(self, columns: npt.ArrayLike) -> list[str]:
        """The names of a few columns, as `column_names` gives them, without naming every column."""
        return _names_of(self.variables.values(), np.asarray(columns, dtype=np.int64))

    def row_name(self, rows: npt.ArrayLike) -> list[str]:
        """The names of a few rows, as `row_names` gives them."""
        return _names_of(self.constraints.values(), np.asarray(rows, dtype=np.int64))


def _names(blocks: Iterable[VariableBlock | ConstraintBlock], total: int) -> list[str]:
    names: list[str] = [""] * total
    for blk in blocks:
        if blk.size:
            names[blk.slice] = blk.names()
    return names


def _names_of(blocks: Iterable[VariableBlock | ConstraintBlock], index: IntArray) -> list[str]:
    ordered = sorted((b for b in blocks if b.size), key=lambda b: b.start)
    starts = np.array([b.start for b in ordered], dtype=np.int64)
    owner = np.searchsorted(starts, index, side="right") - 1
    out = [""] * len(index)
    for k in np.unique(owner):
        blk, mine = ordered[int(k)], np.flatnonzero(owner == k)
        for position, name in zip(mine, blk.names(index[mine] - blk.start)):
            out[int(position)] = name
    return out


def _check_axes(name: str, shape: tuple[int, ...], axes: Axes) -> None:
    """A block's axes, when given, match its shape one for one: a selection that changed in one
    place and not another fails here, at build time, instead of misaligning every reader."""
    if axes and [len(ax) for ax in axes] != [int(n) for n in shape]:
        raise ValueError(f"block {name!r} has shape {tuple(shape)} but axes of lengths {[len(ax) for ax in axes]}")


@dataclass
class _Family:
    rows: list[IntArray] = field(default_factory=list)
    cols: list[IntArray] = field(default_factory=list)
    vals: list[FloatArray] = field(default_factory=list)


class ModelBuilder:
    """Collects variable blocks and constraint families as whole arrays; `build()` stacks them.

    Each `add_*` call takes arrays for a whole family; there is no per-row call.
    """

    def __init__(self) -> None:
        self._n_cols = 0
        self._n_rows = 0
        self._variables: dict[str, VariableBlock] = {}
        self._constraints: dict[str, ConstraintBlock] = {}
        self._col_lower: list[FloatArray] = []
        self._col_upper: list[FloatArray] = []
        self._integer: list[BoolArray] = []
        self._row_lower: list[FloatArray] = []
        self._row_upper: list[FloatArray] = []
        self._terms = _Family()
        self._cost_terms: list[CostTerm] = []
        self._upper_caps: list[tuple[IntArray, FloatArray]] = []
        self._fixes: list[tuple[IntArray, FloatArray]] = []

    # -- variables ----------------------------------------------------------------------------

    def add_variables(
        self,
        name: str,
        shape: tuple[int, ...],
        *,
        lower: npt.ArrayLike = 0.0,
        upper: npt.ArrayLike = np.inf,
        integer: bool = False,
        axes: Axes = (),
    ) -> IntArray:
        """Add a block of `prod(shape)` columns; returns their indices shaped like the block."""
        if name in self._variables:
            raise ValueError(f"variable block {name!r} is defined twice")
        _check_axes(name, shape, axes)
        blk = VariableBlock(name, self._n_cols, tuple(int(n) for n in shape), integer, axes)
        self._variables[name] = blk
        self._col_lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), blk.shape).ravel())
        self._col_upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), blk.shape).ravel())
        self._integer.append(np.full(blk.size, integer, dtype=bool))
        self._n_cols += blk.size
        return np.arange(blk.start, blk.start + blk.size, dtype=np.int64).reshape(blk.shape)

    def columns(self, name: str) -> IntArray:
        blk = self._variables[name]
        return np.arange(blk.start, blk.start + blk.size, dtype=np.int64).reshape(blk.shape)

    @property
    def variables(self) -> dict[str, VariableBlock]:
        return self._variables

    @property
    def constraints(self) -> dict[str, ConstraintBlock]:
        return self._constraints

    def restrict_upper(self, columns: npt.ArrayLike, upper: npt.ArrayLike) -> None:
        """Lower the upper bound of the given columns to at most `upper` (e.g. forbid an action)."""
        cols = np.asarray(columns, dtype=np.int64).ravel()
        self._upper_caps.append((cols, np.broadcast_to(np.asarray(upper, dtype=np.float64), np.shape(columns)).ravel()))

    def fix(self, columns: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Fix columns at values, clipped into their bounds (applied after every upper restriction)."""
        cols = np.asarray(columns, dtype=np.int64).ravel()
        self._fixes.append((cols, np.broadcast_to(np.asarray(values, dtype=np.float64), np.shape(columns)).ravel()))

    def add_terms(self, family: str, rows: npt.ArrayLike, columns: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Add coefficients to rows of an existing family (e.g. a new variable in old rows)."""
        blk = self._constraints[family]
        r, c, v = np.broadcast_arrays(np.asarray(rows, dtype=np.int64), np.asarray(columns), np.asarray(values))
        if r.size and (r.min() < 0 or r.max() >= blk.size):
            raise ValueError(f"constraint family {family!r}: a row index lies outside its {blk.size} rows")
        self._terms.rows.append(r.ravel() + blk.start)
        self._terms.cols.append(c.astype(np.int64).ravel())
        self._terms.vals.append(v.astype(np.float64).ravel())

    def add_cost(
        self, component: str, columns: npt.ArrayLike, coefficients: npt.ArrayLike, *, constant: float = 0.0
    ) -> None:
        """Charge `coefficients . x[columns] + constant` to a cost component of the objective."""
        cols = np.asarray(columns, dtype=np.int64).ravel()
        coef = np.broadcast_to(np.asarray(coefficients, dtype=np.float64), np.shape(columns)).ravel()
        keep = coef != 0
        self._cost_terms.append(CostTerm(component, cols[keep], coef[keep], float(constant)))

    # -- constraints --------------------------------------------------------------------------

    def add_constraints(
        self,
        name: str,
        shape: tuple[int, ...],
        terms: Sequence[tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]],
        *,
        lower: npt.ArrayLike = -np.inf,
        upper: npt.ArrayLike = np.inf,
        axes: Axes = (),
    ) -> IntArray:
        """Add a family of rows laid out over `shape`.

        Each term is (row, column, coefficient) arrays of equal shape (broadcast), where `row` is
        the flat index within the family. Coefficients on the same (row, column) are summed.
        """
        if name in self._constraints:
            raise ValueError(f"constraint family {name!r} is defined twice")
        _check_axes(name, shape, axes)
        blk = ConstraintBlock(name, self._n_rows, tuple(int(n) for n in shape), axes)
        self._constraints[name] = blk
        for row, col, val in terms:
            self.add_terms(name, row, col, val)
        self._row_lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), blk.shape).ravel())
        self._row_upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), blk.shape).ravel())
        self._n_rows += blk.size
        return np.arange(blk.start, blk.start + blk.size, dtype=np.int64).reshape(blk.shape)

    # -- assembly -----------------------------------------------------------------------------

    def build(self) -> LinearProgram:
        """Stack every block into one CSR matrix, summing duplicates and dropping zeros once.

        Subnormal numbers (|v| < 2.2e-308, `np.finfo(float).tiny`) in the matrix, the costs and the
        bounds are flushed to zero here, once for every backend: they are zero to any solver's
        tolerance, and HiGHS 1.16 crashed the process (SIGSEGV) on a model whose costs held a few
        (tests/test_builder_properties.py found it; tests/test_highs_regressions.py replays it)."""

        def cat(parts: Sequence[npt.NDArray[Any]], dtype: type) -> npt.NDArray[Any]:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

        rows = cat(self._terms.rows, np.int64)
        cols = cat(self._terms.cols, np.int64)
        vals = cat(self._terms.vals, np.float64)
        A = sp.csr_matrix((vals, (rows, cols)), shape=(self._n_rows, self._n_cols))
        A.sum_duplicates()
        _flush_subnormal(A.data)
        A.eliminate_zeros()
        A.sort_indices()

        col_upper = cat(self._col_upper, np.float64).copy()
        col_lower = cat(self._col_lower, np.float64).copy()
        for cols, cap in self._upper_caps:
            col_upper[cols] = np.minimum(col_upper[cols], cap)
        for cols, value in self._fixes:
            fixed = np.clip(value, col_lower[cols], col_upper[cols])
            col_lower[cols] = fixed
            col_upper[cols] = fixed
        c = np.zeros(self._n_cols)
        offset = 0.0
        for term in self._cost_terms:
            c += np.bincount(term.columns, weights=term.coefficients, minlength=self._n_cols)
            offset += term.constant
        row_lower = cat(self._row_lower, np.float64).copy()
        row_upper = cat(self._row_upper, np.float64).copy()
        for values in (c, col_lower, col_upper, row_lower, row_upper):
            _flush_subnormal(values)
        return LinearProgram(
            c=c,
            offset=offset,
            A=A,
            row_lower=row_lower,
            row_upper=row_upper,
            col_lower=col_lower,
            col_upper=col_upper,
            integrality=cat(self._integer, np.bool_).copy(),
            variables=dict(self._variables),
            constraints=dict(self._constraints),
            cost_terms=tuple(self._cost_terms),
        )


_TINY = np.finfo(np.float64).tiny


def _flush_subnormal(values: npt.NDArray[np.float64]) -> None:
    """Set the subnormal numbers of `values` to zero, in place (see `ModelBuilder.build`)."""
    values[(values != 0.0) & (np.abs(values) < _TINY)] = 0.0
