"""Why a network has no plan (or leaves demand unserved), and why the plan it has looks as it does:
elastic diagnosis of infeasibility and shortfall, and shadow prices of capacities and authority.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import numpy as np

from models.builder import ConstraintBlock, LinearProgram, VariableBlock
from models.diagnosis import ALL_FAMILIES, ON_TIME_DEMAND, ElasticProgram, define_elastic, setup_hours_used
from models.network import NetworkSpec
from models.protocols import OWNER, AuthorityRule, Function, ProtocolSet
from models.signals import Signal
from models.solution import SolveStatus
from solver.backends.base import BackendFeature, SolverBackend
from solver.backends.registry import backend_with, default_backend
from solver.options import SolveOptions
from solver.planner import CompiledModel, compile_model

_EXACT = SolveOptions(mip_rel_gap=1e-9)
_TOL = 1e-6


class DiagnosisStatus(Enum):
    """What the diagnosis found."""

    FEASIBLE = "feasible"
    """A plan exists and serves all demand: nothing to relax."""
    INFEASIBLE = "infeasible"
    """No plan meets every hard constraint; `relaxations` is the smallest set that would."""
    SHORT = "short"
    """A plan exists but leaves demand unserved; `relaxations` would serve it (empty when serving
    it is possible but dearer than losing it)."""
    UNKNOWN = "unknown"
    """Even the elastic model found no answer (time limit, or a structural impossibility)."""


@dataclass(frozen=True)
class Relaxation:
    """How much one resource's capacity, limit or target must give, in business terms."""

    function: str
    family: str
    resource: str
    amount: float
    unit: str
    periods: tuple[int, ...]
    approving_rule: str = ""
    """An authority rule whose action kind acts on this resource (its approver could sanction it)."""
    approver: str = ""
    message: str = ""
    amounts: tuple[float, ...] = ()
    """The amount in each of `periods`, in the same order (sums to `amount`)."""
    needs: tuple[Relaxation, ...] = ()
    """For an on-time demand stream that cannot be served on time: the smallest relaxation of
    capacities and limits that serves this stream on time while the other late streams may wait
    (which resource, which periods, how much); empty when none would."""


@dataclass(frozen=True)
class Diagnosis:
    status: DiagnosisStatus
    relaxations: tuple[Relaxation, ...] = ()
    unserved: float = 0.0
    """Units of demand the diagnosed plan (original, or elastic for SHORT) leaves unserved."""
    message: str = ""
    conflict: tuple[str, ...] = ()
    """For INFEASIBLE: the rows of the backend's (HiGHS's) irreducible infeasible subsystem (IIS) of the LP
    relaxation, by name (`capacity_hours[node=P,t=0]`); empty if the relaxation is feasible or no
    IIS could be computed (`conflict_message` says which)."""
    conflict_bounds: tuple[str, ...] = ()
    """The column bounds in that IIS, with the bound that takes part: `ship[arc=L/A,t=0] <= 6`."""
    conflict_message: str = ""

    def by_function(self) -> dict[str, list[Relaxation]]:
        out: dict[str, list[Relaxation]] = {}
        for r in self.relaxations:
            out.setdefault(r.function, []).append(r)
        return out


def _periods(periods: Sequence[int]) -> str:
    ps = sorted(p for p in periods if p >= 0)
    if not ps:
        return ""
    if len(ps) == 1:
        return f" in period {ps[0]}"
    if ps == list(range(ps[0], ps[-1] + 1)):
        return f" in periods {ps[0]}-{ps[-1]}"
    return " in periods " + ", ".join(map(str, ps))


_SUBJECT = {
    "capacity_hours": "plant {r} capacity short by {a} {u}",
    "lane_capacity": "lane {r} capacity short by {a} {u}",
    "shipment_capacity": "lane {r} capacity short by {a} {u}",
    "supplier_capacity": "supplier {r} capacity short by {a} {u}",
    "truck_limit": "lane {r} truck limit short by {a} {u}",
    "recipe_rate": "recipe {r} rate short by {a} {u}",
    "on_time_demand": "demand {r} cannot be served on time: {a} {u} short",
    "minimum_order": "supplier {r} order below its minimum by {a} {u}",
    "single_source": "demand {r} needs {a} more inbound {u} than single sourcing allows",
    "storage_capacity": "node {r} storage short by {a} {u}",
    "working_capital": "working capital over its cap by {a}",
    "service_target": "service target of priority {r} short by {a} {u}",
    "authority_limit": "authority rule {r}: {a} over its hard cap",
    "authority_before_escalation": "authority rule {r}: {a} over its limit before the escalation takes effect",
}
"""The message of each relaxed family: {r} resource, {a} amount, {u} unit (singular for 1)."""

_FUNCTION_OF_FAMILY = {
    "capacity_hours": Function.PRODUCTION,
    "lane_capacity": Function.LOGISTICS,
    "shipment_capacity": Function.LOGISTICS,
    "supplier_capacity": Function.PROCUREMENT,
    "truck_limit": Function.LOGISTICS,
    "recipe_rate": Function.PRODUCTION,
    "on_time_demand": Function.SALES,
    "minimum_order": Function.PROCUREMENT,
    "single_source": Function.LOGISTICS,
    "storage_capacity": Function.INVENTORY,
    "working_capital": Function.FINANCE,
    "service_target": Function.SALES,
}


def _approving_rule(protocols: ProtocolSet | None, family: str, resource: str) -> AuthorityRule | None:
    """The first rule naming this resource (an authority row's own rule), else the first rule whose
    action kind belongs to the family's function and whose scope covers the resource."""
    if protocols is None:
        return None
    if family.startswith("authority"):
        return next((r for r in protocols.authority_rules if r.id == resource), None)
    function = _FUNCTION_OF_FAMILY.get(family)
    names = set(resource.split("/"))
    for rule in protocols.authority_rules:
        if OWNER[rule.action] == function and (not rule.resources or names & set(rule.resources)):
            return rule
    return None


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-6 else f"{x:,.2f}"


def diagnose(
    spec: NetworkSpec,
    protocols: ProtocolSet | None = None,
    signals: Sequence[Signal] = (),
    *,
    options: SolveOptions = _EXACT,
    families: frozenset[str] = ALL_FAMILIES,
    iis: bool = True,
    backend: SolverBackend | None = None,
) -> Diagnosis:
    """Solve the network; when no plan exists (or demand goes unserved) solve the elastic model
    (`models.diagnosis.define_elastic`) and report its violations grouped by function and resource.
    `families` limits which capacities, limits and targets may be relaxed. When no plan exists and
    `iis` is set, the backend's IIS of the LP relaxation names the rows and bounds that conflict
    (the diagnosis stands without it if the backend cannot compute one, or does not declare IIS:
    `conflict_message` says why). `backend` solves everything (default: the registry's default,
    HiGHS). Never raises for an infeasible model.
    """
    model = compile_model(spec, protocols, signals)
    backend = backend if backend is not None else default_backend()
    solution = backend.solve(model.lp, options)
    conflict = _ConflictReport()
    late: tuple[Relaxation, ...] = ()
    if solution.status.has_solution and solution.x is not None:
        unserved = float(model.lp.values(solution.x, "lost").sum()) if "lost" in model.lp.variables else 0.0
        if unserved <= _TOL:
            return Diagnosis(DiagnosisStatus.FEASIBLE, message="a plan meets every constraint and serves all demand")
        status = DiagnosisStatus.SHORT
        elastic = define_elastic(model.lp, model.net, model.groups, families=families, unserved_weight=1000.0)
    elif solution.status in (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE_OR_UNBOUNDED):
        status = DiagnosisStatus.INFEASIBLE
        conflict = (
            _conflict(backend, model.lp, options) if iis else _ConflictReport(message="conflict: IIS not requested")
        )
        late = _late_demand(model, options, families, backend)
        elastic = define_elastic(model.lp, model.net, model.groups, families=families - {ON_TIME_DEMAND})
    else:
        return Diagnosis(DiagnosisStatus.UNKNOWN, message=f"the plan could not be solved: {solution.message}")
    relaxed = backend.solve(elastic.lp, options)
    if not relaxed.status.has_solution or relaxed.x is None:
        if late:
            return conflict.into(Diagnosis(status, late, 0.0, "; ".join(r.message for r in late)))
        message = f"even the elastic model has no solution: {relaxed.message}"
        return conflict.into(Diagnosis(DiagnosisStatus.UNKNOWN, message=message))
    setups = setup_hours_used(elastic.lp, model.net, relaxed.x)
    relaxations = late + _relaxations(elastic, relaxed.x, protocols, setups)
    lost = float(elastic.lp.values(relaxed.x, "lost").sum()) if "lost" in elastic.lp.variables else 0.0
    if status == DiagnosisStatus.SHORT and not relaxations:
        message = "demand is left unserved because serving it costs more than losing it; nothing must be relaxed"
    else:
        message = "; ".join(r.message for r in relaxations)
    return conflict.into(Diagnosis(status, relaxations, lost, message))


def _late_demand(
    model: CompiledModel, options: SolveOptions, families: frozenset[str], backend: SolverBackend
) -> tuple[Relaxation, ...]:
    """Which on-time demand cannot be served on time, and by how much, when nothing else may give:
    the elastic model relaxing only the on-time streams' zero lost sales. Empty when the network
    has no on-time demand, or serving it on time is not what makes the network infeasible."""
    if ON_TIME_DEMAND not in families or not model.net.demand_on_time.any():
        return ()
    elastic = define_elastic(model.lp, model.net, model.groups, families=frozenset({ON_TIME_DEMAND}))
    relaxed = backend.solve(elastic.lp, options)
    if not relaxed.status.has_solution or relaxed.x is None:
        return ()
    late = _relaxations(elastic, relaxed.x, None)
    out = []
    for k, stream in enumerate(late):
        needs = _serving_on_time(model, options, families, backend, stream.resource) if k < _LISTED else ()
        if needs:
            message = f"{stream.message}; to serve it on time: " + "; ".join(r.message for r in needs)
            stream = dataclasses.replace(stream, needs=needs, message=message)
        out.append(stream)
    return tuple(out)


def _serving_on_time(
    model: CompiledModel, options: SolveOptions, families: frozenset[str], backend: SolverBackend, stream: str
) -> tuple[Relaxation, ...]:
    """The smallest relaxation of `families` (capacities and limits) that serves on-time demand
    `stream` on time, while every other on-time stream may be late at no cost: the elastic model with
    `stream`'s on-time violations fixed at 0 and the other streams' free. Empty when even that has
    no solution (what `stream` lacks cannot be relaxed within `families`)."""
    elastic = define_elastic(model.lp, model.net, model.groups, families=families | {ON_TIME_DEMAND})
    on_time = np.array([v.family == ON_TIME_DEMAND for v in elastic.violations], dtype=bool)
    own = on_time & np.array([v.resource == stream for v in elastic.violations], dtype=bool)
    lp = elastic.lp
    upper, cost = lp.col_upper.copy(), lp.c.copy()
    upper[elastic.columns[own]] = 0.0
    cost[elastic.columns[on_time & ~own]] = 0.0
    lp = dataclasses.replace(lp, col_upper=upper, c=cost)
    relaxed = backend.solve(lp, options)
    if not relaxed.status.has_solution or relaxed.x is None:
        return ()
    setups = setup_hours_used(lp, model.net, relaxed.x)
    found = _relaxations(dataclasses.replace(elastic, lp=lp), relaxed.x, None, setups)
    return tuple(r for r in found if r.family != ON_TIME_DEMAND)


_LISTED = 12
"""An IIS with more members than this is summarized by family."""


class _ConflictReport(NamedTuple):
    """`Diagnosis.conflict`, `conflict_bounds` and `conflict_message`."""

    rows: tuple[str, ...] = ()
    bounds: tuple[str, ...] = ()
    message: str = ""

    def into(self, diagnosis: Diagnosis) -> Diagnosis:
        return dataclasses.replace(
            diagnosis, conflict=self.rows, conflict_bounds=self.bounds, conflict_message=self.message
        )


def _conflict(backend: SolverBackend, lp: LinearProgram, options: SolveOptions) -> _ConflictReport:
    """The backend's IIS of the LP relaxation of `lp`, named. Whatever goes wrong in the solver or in
    naming (a backend without IIS included) is reported in the message, never raised: the elastic
    diagnosis stands without it."""
    try:
        return _named_conflict(backend, lp, options)
    # An IIS is a bonus: its failure, whatever the cause, must not fail the diagnosis.
    except Exception as exc:
        return _ConflictReport(message=f"conflict: no IIS ({type(exc).__name__}: {exc})")


def _named_conflict(backend: SolverBackend, lp: LinearProgram, options: SolveOptions) -> _ConflictReport:
    found = backend.conflict(lp, options)
    if found is None:
        return _ConflictReport(
            message="conflict: the LP relaxation is feasible; no plan exists only because of whole units "
            "(trucks, orders, activations, setups or single sources), so there is no IIS"
        )
    rows = lp.row_name(found.rows)
    cols = lp.column_name(found.columns)
    row_text = [_bounded(n, s, lp.row_lower[i], lp.row_upper[i]) for n, s, i in zip(rows, found.row_sides, found.rows)]
    col_text = [
        _bounded(n, s, lp.col_lower[j], lp.col_upper[j]) for n, s, j in zip(cols, found.column_sides, found.columns)
    ]
    kind = "IIS" if found.irreducible else "infeasible subsystem (not proven irreducible)"
    if len(rows) + len(cols) <= _LISTED:
        members = f"rows {', '.join(row_text)}" + (f"; bounds {', '.join(col_text)}" if col_text else "")
    else:
        members = f"{len(rows)} rows ({_by_family(rows)})" + (
            f"; {len(cols)} bounds ({_by_family(cols)})" if cols else ""
        )
    return _ConflictReport(tuple(rows), tuple(col_text), f"conflict ({kind} of the LP relaxation): {members}")


def _bounded(name: str, side: str, lower: float, upper: float) -> str:
    """`name >= l`, `name <= u`, `name = v` or `name in [l, u]`: the bound of an IIS member that
    takes part (an infinite side of a boxed member does not)."""
    if side == "lower" or (side == "both" and not np.isfinite(upper)):
        return f"{name} >= {_fmt(lower)}"
    if side == "upper" or not np.isfinite(lower):
        return f"{name} <= {_fmt(upper)}"
    return f"{name} = {_fmt(lower)}" if lower == upper else f"{name} in [{_fmt(lower)}, {_fmt(upper)}]"


def _by_family(names: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for name in names:
        family = name.split("[", 1)[0]
        counts[family] = counts.get(family, 0) + 1
    return ", ".join(f"{family} {n}" for family, n in counts.items())


def _relaxations(
    elastic: ElasticProgram,
    x: np.ndarray,
    protocols: ProtocolSet | None,
    setups: dict[tuple[str, int], tuple[float, float]] | None = None,
) -> tuple[Relaxation, ...]:
    """The violations of the elastic solution `x`, grouped by (function, family, resource); a short
    capacity in hours also says what its setups take (`setups`, from `setup_hours_used`)."""
    values = x[elastic.columns]
    grouped: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    units: dict[tuple[str, str, str], str] = {}
    for v, amount in zip(elastic.violations, values):
        if amount <= _TOL:
            continue
        key = (v.function, v.family, v.resource)
        grouped.setdefault(key, []).append((v.period, float(amount)))
        units[key] = v.unit
    out: list[Relaxation] = []
    for (function, family, resource), cells in sorted(grouped.items()):
        amount = sum(a for _, a in cells)
        by_period: dict[int, float] = {}
        for p, a in cells:
            if p >= 0:
                by_period[p] = by_period.get(p, 0.0) + a
        periods = tuple(sorted(by_period))
        amounts = tuple(by_period[p] for p in periods)
        rule = _approving_rule(protocols, family, resource)
        unit = units[(function, family, resource)]
        word = unit[:-1] if unit.endswith("s") and _fmt(amount) == "1" else unit
        subject = _SUBJECT.get(family, family + " {r} short by {a} {u}").format(r=resource, a=_fmt(amount), u=word)
        approval = ""
        if rule is not None:
            who = rule.approver.label
            approval = f", approver {who}" if family.startswith("authority") else f", rule {rule.id} ({who})"
        if family == ON_TIME_DEMAND and len(periods) > 1:
            each = ", ".join(f"{_fmt(a)} in period {p}" for p, a in zip(periods, amounts))
            message = f"{subject} ({each}) ({function}{approval})"
        else:
            message = f"{subject}{_periods(periods)} ({function}{approval})"
        if family == "capacity_hours" and setups:
            message += "".join(
                f"; setups on plant {resource} use {_fmt(setups[(resource, p)][0])} of its "
                f"{_fmt(setups[(resource, p)][1])} hours in period {p}"
                for p in periods
                if (resource, p) in setups
            )
        out.append(
            Relaxation(
                function=function,
                family=family,
                resource=resource,
                amount=amount,
                unit=unit,
                periods=periods,
                approving_rule=rule.id if rule is not None else "",
                approver=rule.approver.label if rule is not None else "",
                message=message,
                amounts=amounts,
            )
        )
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Shadow prices
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShadowPrice:
    """A binding capacity or limit and what one more unit of it would save."""

    family: str
    resource: str
    period: int
    bound: float
    saving_per_unit: float
    """-dual: objective decrease per unit the limit is raised."""
    valid_up_to: float
    """Value of the limit up to which the saving per unit holds (the backend's ranging; inf if unknown)."""


@dataclass(frozen=True)
class AuthorityValue:
    """What raising one authority rule's binding limit (spend limit, or hard cap once escalated) by
    `step` would save, and what a one-period shorter escalation window is worth."""

    rule: str
    function: str
    limit: str
    """"spend limit" when the plan does not escalate, "hard cap" when it does."""
    step: float
    saving: float
    valid_up_to: float
    shorter_window_saving: float | None
    message: str


@dataclass(frozen=True)
class Explanation:
    status: SolveStatus
    objective: float
    binding: tuple[ShadowPrice, ...] = ()
    authority: tuple[AuthorityValue, ...] = ()


def _fixed_lp(lp: LinearProgram, x: np.ndarray) -> LinearProgram:
    """`lp` with its integer columns fixed at their (rounded) values in `x`, as a pure LP."""
    lower, upper = lp.col_lower.copy(), lp.col_upper.copy()
    ints = lp.integrality
    lower[ints] = upper[ints] = np.round(x[ints])
    return dataclasses.replace(lp, col_lower=lower, col_upper=upper, integrality=np.zeros_like(ints))


def explain(
    spec: NetworkSpec,
    protocols: ProtocolSet | None = None,
    signals: Sequence[Signal] = (),
    *,
    options: SolveOptions = _EXACT,
    step: float = 10_000.0,
    escalation_windows: bool = True,
    backend: SolverBackend | None = None,
) -> Explanation:
    """Solve the MILP, fix its integer decisions, re-solve the LP and read the row and column duals:
    every binding capacity and limit with its saving per unit, and for each authority rule the
    saving of raising its binding limit by `step` (dual x step; exact within the ranging interval,
    an overestimate beyond it) and of an escalation window one period shorter (re-solved).
    `backend` must declare DUALS (default: the registry's default, HiGHS); without RANGING every
    `valid_up_to` is inf."""
    backend = backend_with(BackendFeature.DUALS, "row duals and reduced costs", backend)
    model = compile_model(spec, protocols, signals)
    solution = backend.solve(model.lp, options)
    if not solution.status.has_solution or solution.x is None:
        return Explanation(solution.status, float("nan"))
    lp = _fixed_lp(model.lp, solution.x)
    # The fixed LP goes to `duals`, not `solve`: the base MILP and the shorter windows are the solves.
    fixed = backend.duals(lp, options, ranging=BackendFeature.RANGING in backend.features)
    row_dual, col_dual = fixed.row_dual, fixed.reduced_cost
    row_up = fixed.ranging.row_bound_up.value if fixed.ranging is not None else None
    col_up = fixed.ranging.col_bound_up.value if fixed.ranging is not None else None

    binding: list[ShadowPrice] = []
    for family, blk in lp.constraints.items():
        if blk.size == 0 or family in ("flow_balance", "demand_balance"):
            continue
        duals = row_dual[blk.slice]
        labels = _labels_of(blk)
        for k in np.flatnonzero(np.abs(duals) > _TOL):
            r = blk.start + k
            up = float(row_up[r]) if row_up is not None else float("inf")
            binding.append(
                ShadowPrice(family, labels[k][0], labels[k][1], float(lp.row_upper[r]), -float(duals[k]), up)
            )
    for block in ("buy", "ship"):
        vblk = lp.variables.get(block)
        if vblk is None or vblk.size == 0:
            continue
        duals = col_dual[vblk.slice]
        labels = _labels_of(vblk)
        for k in np.flatnonzero(duals < -_TOL):
            c = vblk.start + k
            up = float(col_up[c]) if col_up is not None else float("inf")
            family = "supplier_capacity" if block == "buy" else "shipment_capacity"
            binding.append(
                ShadowPrice(family, labels[k][0], labels[k][1], float(lp.col_upper[c]), -float(duals[k]), up)
            )

    authority = _authority_values(
        model, solution.x, solution.objective, binding, step, options, spec, signals, escalation_windows, backend
    )
    return Explanation(solution.status, solution.objective, tuple(binding), authority)


def _labels_of(blk: ConstraintBlock | VariableBlock) -> list[tuple[str, int]]:
    resource, period = blk.resource_period()
    return list(zip(resource, period))


def _authority_values(
    model: CompiledModel,
    x: np.ndarray,
    objective: float,
    binding: Sequence[ShadowPrice],
    step: float,
    options: SolveOptions,
    spec: NetworkSpec,
    signals: Sequence[Signal],
    escalation_windows: bool,
    backend: SolverBackend,
) -> tuple[AuthorityValue, ...]:
    protocols = model.protocols
    if protocols is None:
        return ()
    escalate = model.lp.values(x, "escalate") if "escalate" in model.lp.variables else np.zeros(0)
    out: list[AuthorityValue] = []
    seen: set[str] = set()
    for g in model.groups:
        rule = g.rule
        if rule.id in seen:
            continue
        seen.add(rule.id)
        escalated = bool(len(escalate) and escalate[g.escalation] > 0.5)
        limit = "hard cap" if escalated else "spend limit"
        price = next((b for b in binding if b.family == "authority_limit" and b.resource == rule.id), None)
        per_unit = price.saving_per_unit if price is not None else 0.0
        # The row's bound is the spend limit L; escalated, the effective cap is U = L + (U - L).
        valid = float("inf")
        if price is not None:
            valid = price.valid_up_to + (rule.hard_cap - rule.spend_limit if escalated else 0.0)
        shorter: float | None = None
        if escalation_windows and rule.escalation_delay_hours > 0:
            faster = dataclasses.replace(
                rule, escalation_delay_hours=max(0.0, rule.escalation_delay_hours - spec.period_hours)
            )
            rules = tuple(faster if r.id == rule.id else r for r in protocols.authority_rules)
            again = backend.solve(
                compile_model(spec, dataclasses.replace(protocols, authority_rules=rules), signals).lp, options
            )
            # `objective` is the base MILP's optimum, already solved: only the shorter window re-solves.
            shorter = objective - again.objective if again.status.has_solution else None
        saving = per_unit * step
        message = f"raising {rule.function.value}'s {rule.id} {limit} by {_fmt(step)} would save {_fmt(saving)}" + (
            f" (exact up to a {limit} of {_fmt(valid)})" if np.isfinite(valid) else ""
        )
        if shorter is not None:
            message += f"; an escalation window one period shorter would save {_fmt(shorter)}"
        out.append(AuthorityValue(rule.id, rule.function.value, limit, step, saving, valid, shorter, message))
    return tuple(out)
