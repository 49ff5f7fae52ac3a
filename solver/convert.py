"""Protobuf <-> domain conversion: the only module that turns concerto.v1 messages (networks, protocol
sets, signals, plans, solve options, plan diffs) into domain objects and back, and reads and writes
networks, protocol sets and signals as protobuf JSON files.

Each converter to the domain (`network_to_spec`, `*_to_domain`, `*_from_proto`) has an inverse to
protobuf (`spec_to_network`, `*_to_proto`) and the pair round-trips exactly (infinity <-> absent
optional; NaN travels as a proto double).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from google.protobuf import json_format
from google.protobuf.message import Message

from models.allocation import INVENTORY, LOGISTICS, PROCUREMENT, PRODUCTION, REVENUE, SERVICE
from models.errors import ValidationError
from models.kpi import Kpis
from models.network import (
    Demand,
    InTransit,
    Item,
    Lane,
    NetworkSpec,
    Node,
    NodeRole,
    Recipe,
    ServiceTarget,
    Stock,
    SupplyOffer,
)
from models.plan import Plan, SolveStats, Table
from models.protocols import (
    FINANCE,
    GOVERNANCE,
    ActionKind,
    Approver,
    AuthorityRule,
    AuthoritySpend,
    AuthorityStatus,
    Decision,
    Function,
    Predicate,
    ProtocolSet,
    Role,
    SignalRule,
    validate_protocols,
)
from models.replanning import FenceCut, ReplanOptions
from models.signals import Signal, SignalType
from models.solution import SolveStatus
from solver._proto.concerto.v1 import network_pb2, plan_pb2, protocols_pb2, service_pb2, signals_pb2
from solver.backends.registry import DEFAULT_BACKEND, backend_by_name, check_options
from solver.diff import PlanChange, PlanDiff
from solver.options import SolveOptions
from solver.store import DecisionRecord

# What an absent `optional` field means, as the .proto files document it: no bound, unlimited
# capacity, an open-ended signal.
UNLIMITED = math.inf
DEFAULT_PERIOD_HOURS = 168.0
DEFAULT_PRIORITY = 1
DEFAULT_MODE = "road"

_ROLE_FROM_PROTO: dict[network_pb2.NodeRole, NodeRole] = {
    network_pb2.NODE_ROLE_SUPPLIER: NodeRole.SUPPLIER,
    network_pb2.NODE_ROLE_PLANT: NodeRole.PLANT,
    network_pb2.NODE_ROLE_DC: NodeRole.DC,
    network_pb2.NODE_ROLE_CUSTOMER: NodeRole.CUSTOMER,
}
_ROLE_TO_PROTO: dict[NodeRole, network_pb2.NodeRole] = {role: value for value, role in _ROLE_FROM_PROTO.items()}
_ROLE_CHOICES = ", ".join(role.name.lower() for role in NodeRole)

_FUNCTION_FROM_PROTO: dict[protocols_pb2.Function, Function] = {
    protocols_pb2.FUNCTION_PROCUREMENT: Function.PROCUREMENT,
    protocols_pb2.FUNCTION_PRODUCTION: Function.PRODUCTION,
    protocols_pb2.FUNCTION_LOGISTICS: Function.LOGISTICS,
    protocols_pb2.FUNCTION_INVENTORY: Function.INVENTORY,
    protocols_pb2.FUNCTION_SALES: Function.SALES,
    protocols_pb2.FUNCTION_FINANCE: Function.FINANCE,
}
_FUNCTION_TO_PROTO: dict[Function, protocols_pb2.Function] = {f: value for value, f in _FUNCTION_FROM_PROTO.items()}
_FUNCTION_CHOICES = ", ".join(f.value for f in Function)

_ACTION_FROM_PROTO: dict[protocols_pb2.ActionKind, ActionKind] = {
    protocols_pb2.ACTION_KIND_BACKUP_ACTIVATION: ActionKind.BACKUP_ACTIVATION,
    protocols_pb2.ACTION_KIND_EXPEDITED_PURCHASE: ActionKind.EXPEDITED_PURCHASE,
    protocols_pb2.ACTION_KIND_OVERTIME: ActionKind.OVERTIME,
    protocols_pb2.ACTION_KIND_EXPEDITED_FREIGHT: ActionKind.EXPEDITED_FREIGHT,
    protocols_pb2.ACTION_KIND_REROUTING: ActionKind.REROUTING,
    protocols_pb2.ACTION_KIND_LATERAL_TRANSFER: ActionKind.LATERAL_TRANSFER,
    protocols_pb2.ACTION_KIND_RATIONING: ActionKind.RATIONING,
    protocols_pb2.ACTION_KIND_WORKING_CAPITAL_RELEASE: ActionKind.WORKING_CAPITAL_RELEASE,
}
_ACTION_TO_PROTO: dict[ActionKind, protocols_pb2.ActionKind] = {a: value for value, a in _ACTION_FROM_PROTO.items()}
_ACTION_CHOICES = ", ".join(a.value for a in ActionKind)

_SIGNAL_TYPE_FROM_PROTO: dict[signals_pb2.SignalType, SignalType] = {
    signals_pb2.SIGNAL_TYPE_SUPPLIER_OUTAGE: SignalType.SUPPLIER_OUTAGE,
    signals_pb2.SIGNAL_TYPE_DEMAND_CHANGE: SignalType.DEMAND_CHANGE,
    signals_pb2.SIGNAL_TYPE_LANE_DISRUPTION: SignalType.LANE_DISRUPTION,
    signals_pb2.SIGNAL_TYPE_CAPACITY_LOSS: SignalType.CAPACITY_LOSS,
    signals_pb2.SIGNAL_TYPE_INVENTORY_ADJUSTMENT: SignalType.INVENTORY_ADJUSTMENT,
    signals_pb2.SIGNAL_TYPE_LEAD_TIME_CHANGE: SignalType.LEAD_TIME_CHANGE,
    signals_pb2.SIGNAL_TYPE_ORDER_CHANGE: SignalType.ORDER_CHANGE,
}
_SIGNAL_TYPE_TO_PROTO: dict[SignalType, signals_pb2.SignalType] = {
    s: value for value, s in _SIGNAL_TYPE_FROM_PROTO.items()
}
_SIGNAL_TYPE_CHOICES = ", ".join(s.value for s in SignalType)

_SOLVE_STATUS_FROM_PROTO: dict[plan_pb2.SolveStatus, SolveStatus] = {
    plan_pb2.SOLVE_STATUS_OPTIMAL: SolveStatus.OPTIMAL,
    plan_pb2.SOLVE_STATUS_FEASIBLE: SolveStatus.FEASIBLE,
    plan_pb2.SOLVE_STATUS_INFEASIBLE: SolveStatus.INFEASIBLE,
    plan_pb2.SOLVE_STATUS_UNBOUNDED: SolveStatus.UNBOUNDED,
    plan_pb2.SOLVE_STATUS_INFEASIBLE_OR_UNBOUNDED: SolveStatus.INFEASIBLE_OR_UNBOUNDED,
    plan_pb2.SOLVE_STATUS_TIME_LIMIT: SolveStatus.TIME_LIMIT,
    plan_pb2.SOLVE_STATUS_INTERRUPTED: SolveStatus.INTERRUPTED,
    plan_pb2.SOLVE_STATUS_ERROR: SolveStatus.ERROR,
}
_SOLVE_STATUS_TO_PROTO: dict[SolveStatus, plan_pb2.SolveStatus] = {
    s: value for value, s in _SOLVE_STATUS_FROM_PROTO.items()
}
_SOLVE_STATUS_CHOICES = ", ".join(s.value for s in SolveStatus)

_AUTHORITY_STATUS_FROM_PROTO: dict[plan_pb2.AuthorityStatus, AuthorityStatus] = {
    plan_pb2.AUTHORITY_STATUS_WITHIN_AUTHORITY: AuthorityStatus.WITHIN_AUTHORITY,
    plan_pb2.AUTHORITY_STATUS_ESCALATED: AuthorityStatus.ESCALATED,
    plan_pb2.AUTHORITY_STATUS_UNGOVERNED: AuthorityStatus.UNGOVERNED,
}
_AUTHORITY_STATUS_TO_PROTO: dict[AuthorityStatus, plan_pb2.AuthorityStatus] = {
    s: value for value, s in _AUTHORITY_STATUS_FROM_PROTO.items()
}
_AUTHORITY_STATUS_CHOICES = ", ".join(s.value for s in AuthorityStatus)

# The columns of each plan table as `models.plan.extract_plan` lays them out; the row message has a
# field of the same name for every column.
_TABLE_COLUMNS: dict[type[Message], tuple[tuple[str, type[np.generic]], ...]] = {
    plan_pb2.Purchase: (
        ("offer", np.str_),
        ("supplier", np.str_),
        ("item", np.str_),
        ("period", np.int64),
        ("quantity", np.float64),
    ),
    plan_pb2.Activation: (("offer", np.str_), ("supplier", np.str_), ("item", np.str_), ("cost", np.float64)),
    plan_pb2.Production: (
        ("recipe", np.str_),
        ("node", np.str_),
        ("item", np.str_),
        ("period", np.int64),
        ("quantity", np.float64),
    ),
    plan_pb2.Overtime: (("node", np.str_), ("period", np.int64), ("hours", np.float64)),
    plan_pb2.Shipment: (
        ("lane", np.str_),
        ("origin", np.str_),
        ("destination", np.str_),
        ("item", np.str_),
        ("period", np.int64),
        ("arrival", np.int64),
        ("quantity", np.float64),
    ),
    plan_pb2.TruckLoad: (("lane", np.str_), ("period", np.int64), ("trucks", np.float64)),
    plan_pb2.StockLevel: (("node", np.str_), ("item", np.str_), ("period", np.int64), ("quantity", np.float64)),
    plan_pb2.ServiceLevel: (
        ("customer", np.str_),
        ("item", np.str_),
        ("period", np.int64),
        ("quantity", np.float64),
    ),
}

# Proto maps have no order; cost components come back in the order `models.allocation.build_model`
# books them, so a plan's summary reads the same after a round trip. Others follow by name.
_COMPONENT_ORDER = (PROCUREMENT, PRODUCTION, LOGISTICS, SERVICE, REVENUE, INVENTORY, FINANCE, GOVERNANCE)

# SolveOptions' field -> the SolveOptions message's field, for errors that must name the latter.
_OPTION_FIELDS = {
    "time_limit": "time_limit_seconds",
    "mip_rel_gap": "mip_rel_gap",
    "threads": "threads",
    "seed": "seed",
}
_DEFAULT_OPTIONS = SolveOptions()

ProtoEnumT = TypeVar("ProtoEnumT", bound=int)
DomainEnumT = TypeVar("DomainEnumT", bound=Enum)
MessageT = TypeVar("MessageT", bound=Message)


def _limit(value: float) -> float | None:
    """The optional field for a limit: unset (None) when unlimited."""
    return None if value == UNLIMITED else value


def _floor(value: float) -> float | None:
    """The optional field for a lower bound: unset (None) when there is none (-inf)."""
    return None if value == -UNLIMITED else value


def _enum_to_domain(
    table: Mapping[ProtoEnumT, DomainEnumT],
    value: ProtoEnumT,
    choices: str,
    *,
    entity: str,
    ident: str,
    field: str,
    kind: str,
) -> DomainEnumT:
    """The domain member of a proto enum number; 0 (unset) and numbers this server does not know
    (proto3 enums are open: a newer client may send them) raise `ValidationError`."""
    if value == 0:
        raise ValidationError(entity, ident, field, f"is unspecified; set one of {choices}")
    if value not in table:
        raise ValidationError(entity, ident, field, f"is {value}, not a known {kind}; set one of {choices}")
    return table[value]


def _enum_to_proto(
    table: Mapping[DomainEnumT, ProtoEnumT], member: DomainEnumT, *, entity: str, ident: str, field: str, kind: str
) -> ProtoEnumT:
    """The proto enum number of a domain member; anything else raises `ValidationError`."""
    if member not in table:
        raise ValidationError(entity, ident, field, f"is {member!r}; use a {kind}")
    return table[member]


# -- network -----------------------------------------------------------------------------------


def network_to_spec(msg: network_pb2.Network) -> NetworkSpec:
    """The spec a `Network` message describes; raises `ValidationError` for an unset or unknown node role."""
    return NetworkSpec(
        name=msg.name,
        horizon=int(msg.horizon),
        period_hours=msg.period_hours if msg.HasField("period_hours") else DEFAULT_PERIOD_HOURS,
        items=tuple(_item_to_spec(m) for m in msg.items),
        nodes=tuple(_node_to_spec(m) for m in msg.nodes),
        offers=tuple(_offer_to_spec(m) for m in msg.offers),
        recipes=tuple(_recipe_to_spec(m) for m in msg.recipes),
        lanes=tuple(_lane_to_spec(m) for m in msg.lanes),
        demands=tuple(_demand_to_spec(m) for m in msg.demands),
        stocks=tuple(_stock_to_spec(m) for m in msg.stocks),
        in_transit=tuple(_in_transit_to_spec(m) for m in msg.in_transit),
        service_targets=tuple(_service_target_to_spec(m) for m in msg.service_targets),
        working_capital_cap=msg.working_capital_cap if msg.HasField("working_capital_cap") else UNLIMITED,
        capital_cost_rate=msg.capital_cost_rate,
    )


def spec_to_network(spec: NetworkSpec) -> network_pb2.Network:
    """The `Network` message of a spec; `network_to_spec` gives the same spec back."""
    return network_pb2.Network(
        name=spec.name,
        horizon=spec.horizon,
        period_hours=spec.period_hours,
        items=[_item_to_proto(x) for x in spec.items],
        nodes=[_node_to_proto(x) for x in spec.nodes],
        offers=[_offer_to_proto(x) for x in spec.offers],
        recipes=[_recipe_to_proto(x) for x in spec.recipes],
        lanes=[_lane_to_proto(x) for x in spec.lanes],
        demands=[_demand_to_proto(x) for x in spec.demands],
        stocks=[_stock_to_proto(x) for x in spec.stocks],
        in_transit=[_in_transit_to_proto(x) for x in spec.in_transit],
        service_targets=[_service_target_to_proto(x) for x in spec.service_targets],
        working_capital_cap=_limit(spec.working_capital_cap),
        capital_cost_rate=spec.capital_cost_rate,
    )


# -- protocols and signals ---------------------------------------------------------------------


def protocols_to_domain(msg: protocols_pb2.ProtocolSet) -> ProtocolSet:
    """The protocol set a `ProtocolSet` message describes; raises `ValidationError` for an unset or
    unknown function, action kind or signal type. Whether the rules fit together (roles exist, limits
    below caps, ...) is `validate_protocols`'s to check."""
    return ProtocolSet(
        name=msg.name,
        roles=tuple(_role_to_domain(m) for m in msg.roles),
        authority_rules=tuple(_authority_rule_to_domain(m) for m in msg.authority_rules),
        signal_rules=tuple(_signal_rule_to_domain(m) for m in msg.signal_rules),
    )


def protocols_to_proto(protocols: ProtocolSet) -> protocols_pb2.ProtocolSet:
    """The `ProtocolSet` message of a protocol set; `protocols_to_domain` gives the same set back."""
    return protocols_pb2.ProtocolSet(
        name=protocols.name,
        roles=[_role_to_proto(x) for x in protocols.roles],
        authority_rules=[_authority_rule_to_proto(x) for x in protocols.authority_rules],
        signal_rules=[_signal_rule_to_proto(x) for x in protocols.signal_rules],
    )


def signal_to_domain(msg: signals_pb2.Signal) -> Signal:
    """The signal a `Signal` message describes; raises `ValidationError` for an unset or unknown type."""
    return Signal(
        id=msg.id,
        type=_enum_to_domain(
            _SIGNAL_TYPE_FROM_PROTO,
            msg.type,
            _SIGNAL_TYPE_CHOICES,
            entity="signal",
            ident=msg.id,
            field="type",
            kind="signal type",
        ),
        detected_hours=msg.detected_hours,
        start_hours=msg.start_hours,
        duration_hours=msg.duration_hours if msg.HasField("duration_hours") else UNLIMITED,
        magnitude=msg.magnitude,
        supplier=msg.supplier,
        node=msg.node,
        item=msg.item,
        lane=msg.lane,
        customer=msg.customer,
        delay_hours=msg.delay_hours,
    )


def signal_to_proto(signal: Signal) -> signals_pb2.Signal:
    """The `Signal` message of a signal; `signal_to_domain` gives the same signal back."""
    return signals_pb2.Signal(
        id=signal.id,
        type=_enum_to_proto(
            _SIGNAL_TYPE_TO_PROTO, signal.type, entity="signal", ident=signal.id, field="type", kind="SignalType"
        ),
        detected_hours=signal.detected_hours,
        start_hours=signal.start_hours,
        duration_hours=_limit(signal.duration_hours),
        magnitude=signal.magnitude,
        supplier=signal.supplier,
        node=signal.node,
        item=signal.item,
        lane=signal.lane,
        customer=signal.customer,
        delay_hours=signal.delay_hours,
    )


# -- plans -------------------------------------------------------------------------------------


def plan_to_proto(plan: Plan) -> plan_pb2.PlanResult:
    """The `PlanResult` message of a plan; `plan_from_proto` gives the same plan back, but for
    `values` (the dense solution stays on the server). Kpis travel without their cost by component,
    which is the plan's."""
    where = {"entity": "plan", "ident": plan.network}
    return plan_pb2.PlanResult(
        network=plan.network,
        horizon=plan.horizon,
        period_hours=plan.period_hours,
        status=_enum_to_proto(_SOLVE_STATUS_TO_PROTO, plan.status, field="status", kind="SolveStatus", **where),
        objective=plan.objective,
        bound=plan.bound,
        gap=plan.gap,
        cost_by_component=plan.cost_by_component,
        purchases=_table_to_proto(plan.purchases, plan_pb2.Purchase),
        activations=_table_to_proto(plan.activations, plan_pb2.Activation),
        production=_table_to_proto(plan.production, plan_pb2.Production),
        overtime=_table_to_proto(plan.overtime, plan_pb2.Overtime),
        shipments=_table_to_proto(plan.shipments, plan_pb2.Shipment),
        trucks=_table_to_proto(plan.trucks, plan_pb2.TruckLoad),
        inventory=_table_to_proto(plan.inventory, plan_pb2.StockLevel),
        safety_shortfall=_table_to_proto(plan.safety_shortfall, plan_pb2.StockLevel),
        deliveries=_table_to_proto(plan.deliveries, plan_pb2.ServiceLevel),
        backlog=_table_to_proto(plan.backlog, plan_pb2.ServiceLevel),
        lost_sales=_table_to_proto(plan.lost_sales, plan_pb2.ServiceLevel),
        decisions=[_decision_to_proto(d, k, plan.network) for k, d in enumerate(plan.decisions)],
        authority=[_authority_spend_to_proto(a, k, plan.network) for k, a in enumerate(plan.authority)],
        kpis=_kpis_to_proto(plan.kpis) if plan.kpis is not None else None,
        stats=_stats_to_proto(plan.stats),
        message=plan.message,
    )


def plan_from_proto(msg: plan_pb2.PlanResult) -> Plan:
    """The plan a `PlanResult` message describes, its tables laid out as `extract_plan` lays them out
    (an empty table keeps its named columns), `values` empty. Raises `ValidationError` on entity
    "plan" (id: the network) for an unset or unknown status, function or action kind, naming the
    field, e.g. "decisions[3].status"."""
    where = {"entity": "plan", "ident": msg.network}
    status = _enum_to_domain(
        _SOLVE_STATUS_FROM_PROTO, msg.status, _SOLVE_STATUS_CHOICES, field="status", kind="solve status", **where
    )
    cost_by_component = _components(msg.cost_by_component)
    return Plan(
        network=msg.network,
        horizon=int(msg.horizon),
        period_hours=msg.period_hours,
        status=status,
        objective=msg.objective,
        bound=msg.bound,
        gap=msg.gap,
        cost_by_component=cost_by_component,
        purchases=_table_to_domain(msg.purchases, plan_pb2.Purchase),
        activations=_table_to_domain(msg.activations, plan_pb2.Activation),
        production=_table_to_domain(msg.production, plan_pb2.Production),
        overtime=_table_to_domain(msg.overtime, plan_pb2.Overtime),
        shipments=_table_to_domain(msg.shipments, plan_pb2.Shipment),
        trucks=_table_to_domain(msg.trucks, plan_pb2.TruckLoad),
        inventory=_table_to_domain(msg.inventory, plan_pb2.StockLevel),
        safety_shortfall=_table_to_domain(msg.safety_shortfall, plan_pb2.StockLevel),
        deliveries=_table_to_domain(msg.deliveries, plan_pb2.ServiceLevel),
        backlog=_table_to_domain(msg.backlog, plan_pb2.ServiceLevel),
        lost_sales=_table_to_domain(msg.lost_sales, plan_pb2.ServiceLevel),
        kpis=_kpis_to_domain(msg.kpis, cost_by_component) if msg.HasField("kpis") else None,
        stats=_stats_to_domain(msg.stats),
        message=msg.message,
        decisions=tuple(_decision_to_domain(m, k, msg.network) for k, m in enumerate(msg.decisions)),
        authority=tuple(_authority_spend_to_domain(m, k, msg.network) for k, m in enumerate(msg.authority)),
    )


def _table_to_proto(table: Table, row: type[MessageT]) -> list[MessageT]:
    """One `row` message per table row; a table without rows (with or without columns) gives none."""
    if not len(table):
        return []
    names = [name for name, _ in _TABLE_COLUMNS[row]]
    values = zip(*(table.columns[name].tolist() for name in names))
    return [row(**dict(zip(names, v))) for v in values]


def _table_to_domain(messages: Iterable[Message], row: type[Message]) -> Table:
    """The table of `row` messages, every column present (zero-length when there are no rows)."""
    rows = list(messages)
    columns: dict[str, npt.NDArray[Any]] = {
        name: np.array([getattr(m, name) for m in rows], dtype=dtype) for name, dtype in _TABLE_COLUMNS[row]
    }
    return Table(columns)


def _components(costs: Mapping[str, float]) -> dict[str, float]:
    """Cost components in the model's booking order, then any others by name."""
    rank = {name: k for k, name in enumerate(_COMPONENT_ORDER)}
    return {k: costs[k] for k in sorted(costs, key=lambda k: (rank.get(k, len(rank)), k))}


def _decision_to_proto(decision: Decision, k: int, network: str) -> plan_pb2.Decision:
    where = {"entity": "plan", "ident": network}
    return plan_pb2.Decision(
        function=_enum_to_proto(
            _FUNCTION_TO_PROTO, decision.function, field=f"decisions[{k}].function", kind="Function", **where
        ),
        action=_enum_to_proto(
            _ACTION_TO_PROTO, decision.action, field=f"decisions[{k}].action", kind="ActionKind", **where
        ),
        resource=decision.resource,
        item=decision.item,
        period=decision.period,
        quantity=decision.quantity,
        unit=decision.unit,
        cost=decision.cost,
        status=_enum_to_proto(
            _AUTHORITY_STATUS_TO_PROTO, decision.status, field=f"decisions[{k}].status", kind="AuthorityStatus", **where
        ),
        approver=decision.approver,
        effective_hours=decision.effective_hours,
        rule=decision.rule,
        signals=list(decision.signals),
    )


def _decision_to_domain(msg: plan_pb2.Decision, k: int, network: str) -> Decision:
    where = {"entity": "plan", "ident": network}
    return Decision(
        function=_enum_to_domain(
            _FUNCTION_FROM_PROTO,
            msg.function,
            _FUNCTION_CHOICES,
            field=f"decisions[{k}].function",
            kind="function",
            **where,
        ),
        action=_enum_to_domain(
            _ACTION_FROM_PROTO, msg.action, _ACTION_CHOICES, field=f"decisions[{k}].action", kind="action kind", **where
        ),
        resource=msg.resource,
        item=msg.item,
        period=int(msg.period),
        quantity=msg.quantity,
        unit=msg.unit,
        cost=msg.cost,
        status=_enum_to_domain(
            _AUTHORITY_STATUS_FROM_PROTO,
            msg.status,
            _AUTHORITY_STATUS_CHOICES,
            field=f"decisions[{k}].status",
            kind="authority status",
            **where,
        ),
        approver=msg.approver,
        effective_hours=msg.effective_hours,
        rule=msg.rule,
        signals=tuple(msg.signals),
    )


def _authority_spend_to_proto(spend: AuthoritySpend, k: int, network: str) -> plan_pb2.AuthoritySpend:
    where = {"entity": "plan", "ident": network}
    return plan_pb2.AuthoritySpend(
        rule=spend.rule,
        function=_enum_to_proto(
            _FUNCTION_TO_PROTO, spend.function, field=f"authority[{k}].function", kind="Function", **where
        ),
        action=_enum_to_proto(
            _ACTION_TO_PROTO, spend.action, field=f"authority[{k}].action", kind="ActionKind", **where
        ),
        spend=spend.spend,
        limit=spend.limit,
        cap=spend.cap,
        escalated=spend.escalated,
        approver=spend.approver,
        effective_hours=spend.effective_hours,
        signals=list(spend.signals),
    )


def _authority_spend_to_domain(msg: plan_pb2.AuthoritySpend, k: int, network: str) -> AuthoritySpend:
    where = {"entity": "plan", "ident": network}
    return AuthoritySpend(
        rule=msg.rule,
        function=_enum_to_domain(
            _FUNCTION_FROM_PROTO,
            msg.function,
            _FUNCTION_CHOICES,
            field=f"authority[{k}].function",
            kind="function",
            **where,
        ),
        action=_enum_to_domain(
            _ACTION_FROM_PROTO, msg.action, _ACTION_CHOICES, field=f"authority[{k}].action", kind="action kind", **where
        ),
        spend=msg.spend,
        limit=msg.limit,
        cap=msg.cap,
        escalated=msg.escalated,
        approver=msg.approver,
        effective_hours=msg.effective_hours,
        signals=tuple(msg.signals),
    )


def _kpis_to_proto(kpis: Kpis) -> plan_pb2.Kpis:
    return plan_pb2.Kpis(
        total_cost=kpis.total_cost,
        revenue=kpis.revenue,
        demand=kpis.demand,
        delivered=kpis.delivered,
        fill_rate=kpis.fill_rate,
        fill_rate_by_priority=kpis.fill_rate_by_priority,
        perfect_order_rate=kpis.perfect_order_rate,
        order_fulfilment_cycle_time_hours=kpis.order_fulfilment_cycle_time_hours,
        inventory_turnover=kpis.inventory_turnover,
        cash_to_cash_days=kpis.cash_to_cash_days,
        days_inventory=kpis.days_inventory,
        days_receivable=kpis.days_receivable,
        days_payable=kpis.days_payable,
    )


def _kpis_to_domain(msg: plan_pb2.Kpis, cost_by_component: dict[str, float]) -> Kpis:
    """The plan's metrics; their cost by component is the plan's (`compute_kpis` copies it)."""
    return Kpis(
        total_cost=msg.total_cost,
        revenue=msg.revenue,
        cost_by_component=dict(cost_by_component),
        demand=msg.demand,
        delivered=msg.delivered,
        fill_rate=msg.fill_rate,
        fill_rate_by_priority={int(k): msg.fill_rate_by_priority[k] for k in sorted(msg.fill_rate_by_priority)},
        perfect_order_rate=msg.perfect_order_rate,
        order_fulfilment_cycle_time_hours=msg.order_fulfilment_cycle_time_hours,
        inventory_turnover=msg.inventory_turnover,
        cash_to_cash_days=msg.cash_to_cash_days,
        days_inventory=msg.days_inventory,
        days_receivable=msg.days_receivable,
        days_payable=msg.days_payable,
    )


def _stats_to_proto(stats: SolveStats) -> plan_pb2.SolveStats:
    return plan_pb2.SolveStats(
        columns=stats.n_cols,
        rows=stats.n_rows,
        nonzeros=stats.nnz,
        integer_columns=stats.n_integer,
        build_seconds=stats.build_seconds,
        handoff_seconds=stats.handoff_seconds,
        solve_seconds=stats.solve_seconds,
        backend=stats.backend,
        backend_version=stats.backend_version,
    )


def _stats_to_domain(msg: plan_pb2.SolveStats) -> SolveStats:
    return SolveStats(
        n_cols=int(msg.columns),
        n_rows=int(msg.rows),
        nnz=int(msg.nonzeros),
        n_integer=int(msg.integer_columns),
        build_seconds=msg.build_seconds,
        handoff_seconds=msg.handoff_seconds,
        solve_seconds=msg.solve_seconds,
        backend=msg.backend,
        backend_version=msg.backend_version,
    )


# -- solve options, violations, diffs ----------------------------------------------------------


def options_from_proto(msg: service_pb2.SolveOptions, *, default_time_limit: float) -> SolveOptions:
    """The solve options a request asks for: an absent time limit is the server's
    `default_time_limit`, an absent gap `SolveOptions`' default; threads and seed 0 mean the solver's
    choice. A value `SolveOptions` rejects raises its `ValidationError` with the message's field
    prefixed, e.g. "options.mip_rel_gap" or "options.time_limit_seconds"."""
    try:
        return SolveOptions(
            time_limit=msg.time_limit_seconds if msg.HasField("time_limit_seconds") else default_time_limit,
            mip_rel_gap=msg.mip_rel_gap if msg.HasField("mip_rel_gap") else _DEFAULT_OPTIONS.mip_rel_gap,
            threads=int(msg.threads),
            seed=int(msg.seed),
        )
    except ValidationError as exc:
        field = "options." + _OPTION_FIELDS.get(exc.field, exc.field)
        raise ValidationError(exc.entity, exc.ident, field, exc.message) from exc


def options_to_proto(options: SolveOptions, *, backend: str = DEFAULT_BACKEND) -> service_pb2.SolveOptions:
    """The `SolveOptions` message of solve options and a backend name; no time limit (infinity) is
    an absent field, the default backend an empty one, and `verbose`, a server-side switch, is not
    sent. `options_from_proto` with `default_time_limit=inf` gives the same options back (with
    `verbose` off), and `backend_from_proto` the same backend."""
    return service_pb2.SolveOptions(
        time_limit_seconds=_limit(options.time_limit),
        mip_rel_gap=options.mip_rel_gap,
        threads=options.threads,
        seed=options.seed,
        backend="" if backend == DEFAULT_BACKEND else backend,
    )


def backend_from_proto(msg: service_pb2.SolveOptions, options: SolveOptions) -> str:
    """The backend a request names (empty: "highs"), checked before anything is queued: it must be
    known, usable in this installation and able to honour `options` (the request's, as
    `options_from_proto` read them). Otherwise the registry's `ValidationError` is raised with the
    message's field, "options.backend" or the option it cannot honour, e.g. "options.threads"."""
    name = msg.backend or DEFAULT_BACKEND
    try:
        check_options(backend_by_name(name), options)
    except ValidationError as exc:
        field = "options." + _OPTION_FIELDS.get(exc.field, exc.field)
        raise ValidationError(exc.entity, exc.ident, field, exc.message) from exc
    return name


def violation_to_proto(err: ValidationError) -> service_pb2.FieldViolation:
    """The `FieldViolation` of a validation error: entity, id, field, and the message without them."""
    return service_pb2.FieldViolation(entity=err.entity, id=err.ident, field=err.field, message=err.message)


def violation_to_domain(msg: service_pb2.FieldViolation) -> ValidationError:
    """The validation error a `FieldViolation` reports (for clients that raise it)."""
    return ValidationError(msg.entity, msg.id, msg.field, msg.message)


def diff_to_proto(diff: PlanDiff) -> service_pb2.DiffPlansResponse:
    """The `DiffPlansResponse` of a plan diff; `diff_from_proto` gives the same diff back."""
    return service_pb2.DiffPlansResponse(
        changes=[
            service_pb2.PlanChange(
                kind=c.kind,
                key=c.key,
                function=_enum_to_proto(
                    _FUNCTION_TO_PROTO,
                    c.function,
                    entity="plan diff",
                    ident="",
                    field=f"changes[{k}].function",
                    kind="Function",
                ),
                before=c.before,
                after=c.after,
            )
            for k, c in enumerate(diff.changes)
        ],
        objective_before=diff.objective_before,
        objective_after=diff.objective_after,
        cost_change_by_component=diff.cost_change_by_component,
        changed=diff.changed,
        total=diff.total,
        fill_rate_before=diff.fill_rate_before,
        fill_rate_after=diff.fill_rate_after,
    )


def diff_from_proto(msg: service_pb2.DiffPlansResponse) -> PlanDiff:
    """The plan diff a `DiffPlansResponse` describes; raises `ValidationError` for an unset or unknown
    function, naming the change, e.g. "changes[2].function"."""
    return PlanDiff(
        changes=[
            PlanChange(
                kind=m.kind,
                key=m.key,
                function=_enum_to_domain(
                    _FUNCTION_FROM_PROTO,
                    m.function,
                    _FUNCTION_CHOICES,
                    entity="plan diff",
                    ident="",
                    field=f"changes[{k}].function",
                    kind="function",
                ),
                before=m.before,
                after=m.after,
            )
            for k, m in enumerate(msg.changes)
        ],
        objective_before=msg.objective_before,
        objective_after=msg.objective_after,
        cost_change_by_component=_components(msg.cost_change_by_component),
        changed=int(msg.changed),
        total=int(msg.total),
        fill_rate_before=msg.fill_rate_before,
        fill_rate_after=msg.fill_rate_after,
    )


# -- JSON --------------------------------------------------------------------------------------


def replan_options_from_proto(msg: service_pb2.ReplanSettings) -> ReplanOptions:
    """Replan settings of a request; absent fields take `ReplanOptions`'s defaults. The inverse of
    `replan_options_to_proto`."""
    defaults = ReplanOptions()

    def real(name: str) -> float:
        return float(getattr(msg if msg.HasField(name) else defaults, name))

    def whole(name: str) -> int:
        return int(getattr(msg if msg.HasField(name) else defaults, name))

    try:
        return ReplanOptions(
            stability_weight=real("stability_weight"),
            decay=real("decay"),
            fence_periods=msg.fence_periods,
            fence_penalty=real("fence_penalty"),
            procurement_weight=real("procurement_weight"),
            production_weight=real("production_weight"),
            logistics_weight=real("logistics_weight"),
            upstream_hops=whole("upstream_hops"),
            recovery_periods=whole("recovery_periods"),
            first_answer_gap=real("first_answer_gap"),
        )
    except ValidationError as err:
        raise ValidationError("request", "replan", f"settings.{err.field}", err.message) from None


def replan_options_to_proto(options: ReplanOptions, *, skip_first_answer: bool = False) -> service_pb2.ReplanSettings:
    """The `ReplanSettings` of replan options, every field set; `replan_options_from_proto` gives
    the same options back."""
    return service_pb2.ReplanSettings(
        stability_weight=options.stability_weight,
        decay=options.decay,
        fence_periods=options.fence_periods,
        fence_penalty=options.fence_penalty,
        procurement_weight=options.procurement_weight,
        production_weight=options.production_weight,
        logistics_weight=options.logistics_weight,
        skip_first_answer=skip_first_answer,
        upstream_hops=options.upstream_hops,
        recovery_periods=options.recovery_periods,
        first_answer_gap=options.first_answer_gap,
    )


def replan_info_to_proto(
    kind: str,
    business_objective: float,
    first_plan_seconds: float,
    ready_seconds: float,
    execute_after_hours: float,
    mip_start_accepted: bool | None,
    cuts: Iterable[FenceCut],
    diff: PlanDiff | None,
) -> service_pb2.ReplanInfo:
    """How a replan answered, for its stored plan version."""
    return service_pb2.ReplanInfo(
        kind=kind,
        business_objective=business_objective,
        first_plan_seconds=first_plan_seconds,
        ready_seconds=ready_seconds,
        execute_after_hours=execute_after_hours,
        mip_start_accepted=bool(mip_start_accepted),
        fence_cuts=[
            service_pb2.FenceCut(
                block=c.block,
                resource=c.resource,
                period=c.period,
                baseline=c.baseline,
                replanned=c.replanned,
                reason=c.reason,
            )
            for c in cuts
        ],
        changed=diff.changed if diff is not None else 0,
        total=diff.total if diff is not None else 0,
    )


def solve_status_to_proto(status: str) -> plan_pb2.SolveStatus:
    """A stored status string (a `SolveStatus` value) as the proto enum."""
    return _SOLVE_STATUS_TO_PROTO[SolveStatus(status)]


_DECISION_STATE_FROM_PROTO: dict[service_pb2.DecisionState, str] = {
    service_pb2.DECISION_STATE_NOT_REQUIRED: "not_required",
    service_pb2.DECISION_STATE_PENDING: "pending",
    service_pb2.DECISION_STATE_APPROVED: "approved",
    service_pb2.DECISION_STATE_REJECTED: "rejected",
}
_DECISION_STATE_TO_PROTO: dict[str, service_pb2.DecisionState] = {v: k for k, v in _DECISION_STATE_FROM_PROTO.items()}


def decision_state_from_proto(state: service_pb2.DecisionState) -> str:
    """A requested decision state as the store's state string."""
    if state not in _DECISION_STATE_FROM_PROTO:
        choices = ", ".join(_DECISION_STATE_FROM_PROTO.values())
        raise ValidationError("request", "decisions", "state", f"is {state}, not a decision state; use {choices}")
    return _DECISION_STATE_FROM_PROTO[state]


def decision_record_to_proto(record: DecisionRecord) -> service_pb2.DecisionRecord:
    """A stored decision with its approval record."""
    msg = service_pb2.DecisionRecord(
        network_id=record.network_id,
        plan_version=record.plan_version,
        index=record.index,
        decision=plan_pb2.Decision.FromString(record.blob),
        state=_DECISION_STATE_TO_PROTO[str(record.state)],
        decided_by=record.decided_by,
        note=record.note,
    )
    if record.decided_at is not None:
        msg.decided_at.FromDatetime(record.decided_at)
    return msg


class ProgressLike(Protocol):
    """What a progress event carries (solver.workers.Progress)."""

    @property
    def elapsed_seconds(self) -> float: ...
    @property
    def objective(self) -> float: ...
    @property
    def best_bound(self) -> float: ...
    @property
    def gap(self) -> float: ...
    @property
    def phase(self) -> str: ...


def progress_to_proto(progress: ProgressLike) -> service_pb2.SolveProgress:
    return service_pb2.SolveProgress(
        elapsed_seconds=progress.elapsed_seconds,
        objective=progress.objective,
        best_bound=progress.best_bound,
        gap=progress.gap,
        phase=progress.phase,
    )


def parse_network_json(text: str, *, source: str = "<json>") -> NetworkSpec:
    """The spec of a network written as protobuf JSON (lowerCamelCase or snake_case field names).

    Malformed JSON, an unknown field or a value of the wrong type raises `ValidationError` on
    entity "network", id `source` (a file path or another name for where the text came from),
    field "json", with the parser's message.
    """
    return network_to_spec(_parse_json(text, network_pb2.Network(), entity="network", source=source))


def network_json(spec: NetworkSpec) -> str:
    """A spec as protobuf JSON with snake_case field names, indented; fields at their zero value are left out."""
    return _to_json(spec_to_network(spec))


def parse_protocols_json(text: str, *, source: str = "<json>") -> ProtocolSet:
    """The protocol set written as protobuf JSON (lowerCamelCase or snake_case field names), validated.

    Malformed JSON, an unknown field or a value of the wrong type raises `ValidationError` on entity
    "protocol set", id `source`, field "json"; an unset or unknown enum value, or rules that cannot be
    applied (`validate_protocols`), raise it naming the rule and field.
    """
    protocols = protocols_to_domain(
        _parse_json(text, protocols_pb2.ProtocolSet(), entity="protocol set", source=source)
    )
    validate_protocols(protocols)
    return protocols


def protocols_json(protocols: ProtocolSet) -> str:
    """A protocol set as protobuf JSON with snake_case field names, indented; zero values left out."""
    return _to_json(protocols_to_proto(protocols))


def parse_signals_json(text: str, *, source: str = "<json>") -> list[Signal]:
    """The signals of a `SignalBatch` written as protobuf JSON (lowerCamelCase or snake_case field names).

    Malformed JSON raises `ValidationError` on entity "signal batch", id `source`, field "json"; an
    unset or unknown type names the signal. Checking signals against a network is
    `models.signals.validate_signal`'s job.
    """
    batch = _parse_json(text, signals_pb2.SignalBatch(), entity="signal batch", source=source)
    return [signal_to_domain(m) for m in batch.signals]


def signals_json(signals: Iterable[Signal]) -> str:
    """Signals as the protobuf JSON of a `SignalBatch`, snake_case, indented; zero values left out."""
    return _to_json(signals_pb2.SignalBatch(signals=[signal_to_proto(s) for s in signals]))


def plan_json(plan: Plan) -> str:
    """A plan as the protobuf JSON of its `PlanResult` (snake_case, indented): the format the service
    speaks, with every table as a list of records (an empty table as []), the decisions, authority
    spend, metrics and solve statistics. Values JSON cannot hold (NaN, infinity) are the strings
    protobuf JSON uses ("NaN", "Infinity"), so the text is always valid JSON."""
    return json_format.MessageToJson(
        plan_to_proto(plan),
        preserving_proto_field_name=True,
        indent=2,
        ensure_ascii=False,
        always_print_fields_with_no_presence=True,
    )


def write_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write `plan_json(plan)`; a reader sees the old file or the whole new one."""
    _write_text(path, plan_json(plan) + "\n")


def _parse_json(text: str, msg: MessageT, *, entity: str, source: str) -> MessageT:
    try:
        json_format.Parse(text, msg)
    except json_format.ParseError as exc:
        raise ValidationError(entity, source, "json", str(exc).strip()) from exc
    return msg


def _to_json(msg: Message) -> str:
    return json_format.MessageToJson(msg, preserving_proto_field_name=True, indent=2, ensure_ascii=False)


# -- files -------------------------------------------------------------------------------------


def read_network(path: str | os.PathLike[str]) -> NetworkSpec:
    """The spec in a protobuf JSON file; raises `ValidationError` (id = the path) if it cannot be parsed."""
    return parse_network_json(_read_text(path, entity="network"), source=os.fspath(path))


def write_network(spec: NetworkSpec, path: str | os.PathLike[str]) -> None:
    """Write a spec as protobuf JSON; a reader sees the old file or the whole new one, never a part."""
    _write_text(path, network_json(spec) + "\n")


def read_protocols(path: str | os.PathLike[str]) -> ProtocolSet:
    """The protocol set in a protobuf JSON file, validated with `validate_protocols`, so a bad file is
    rejected on reading; raises `ValidationError` (id = the path, or the rule at fault)."""
    return parse_protocols_json(_read_text(path, entity="protocol set"), source=os.fspath(path))


def write_protocols(protocols: ProtocolSet, path: str | os.PathLike[str]) -> None:
    """Write a protocol set as protobuf JSON; a reader sees the old file or the whole new one."""
    _write_text(path, protocols_json(protocols) + "\n")


def read_signals(path: str | os.PathLike[str]) -> list[Signal]:
    """The signals in a protobuf JSON `SignalBatch` file; raises `ValidationError` (id = the path, or the
    signal at fault) if it cannot be parsed."""
    return parse_signals_json(_read_text(path, entity="signal batch"), source=os.fspath(path))


def write_signals(signals: Iterable[Signal], path: str | os.PathLike[str]) -> None:
    """Write signals as a protobuf JSON `SignalBatch`; a reader sees the old file or the whole new one."""
    _write_text(path, signals_json(signals) + "\n")


def _read_text(path: str | os.PathLike[str], *, entity: str) -> str:
    """The text of an input file; a path that is missing, a folder or unreadable raises a
    `ValidationError` naming it and what to give instead."""
    where = os.fspath(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(entity, where, "json", f"is not UTF-8 text: {exc}") from exc
    except FileNotFoundError:
        raise ValidationError(entity, where, "path", f"does not exist; give the path of a {entity} file") from None
    except IsADirectoryError:
        raise ValidationError(entity, where, "path", f"is a folder; give the path of a {entity} file") from None
    except OSError as exc:
        message = f"cannot be read ({exc.strerror}); check the permissions"
        raise ValidationError(entity, where, "path", message) from None


def _write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace the file at once: write a temporary file in the same folder, then rename it over the target."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a network file is ordinary data
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- entities, in pairs ------------------------------------------------------------------------


def _item_to_spec(msg: network_pb2.Item) -> Item:
    return Item(id=msg.id, unit_value=msg.unit_value, holding_cost=msg.holding_cost)


def _item_to_proto(item: Item) -> network_pb2.Item:
    return network_pb2.Item(id=item.id, unit_value=item.unit_value, holding_cost=item.holding_cost)


def _node_to_spec(msg: network_pb2.Node) -> Node:
    return Node(
        id=msg.id,
        role=_enum_to_domain(
            _ROLE_FROM_PROTO, msg.role, _ROLE_CHOICES, entity="node", ident=msg.id, field="role", kind="role"
        ),
        tier=int(msg.tier),
        storage_capacity=msg.storage_capacity if msg.HasField("storage_capacity") else UNLIMITED,
        regular_hours=msg.regular_hours if msg.HasField("regular_hours") else UNLIMITED,
        overtime_hours=msg.overtime_hours,
        overtime_cost=msg.overtime_cost,
    )


def _node_to_proto(node: Node) -> network_pb2.Node:
    return network_pb2.Node(
        id=node.id,
        role=_enum_to_proto(_ROLE_TO_PROTO, node.role, entity="node", ident=node.id, field="role", kind="NodeRole"),
        tier=node.tier,
        storage_capacity=_limit(node.storage_capacity),
        regular_hours=_limit(node.regular_hours),
        overtime_hours=node.overtime_hours,
        overtime_cost=node.overtime_cost,
    )


def _offer_to_spec(msg: network_pb2.SupplyOffer) -> SupplyOffer:
    return SupplyOffer(
        id=msg.id,
        supplier=msg.supplier,
        item=msg.item,
        unit_cost=msg.unit_cost,
        capacity=msg.capacity if msg.HasField("capacity") else UNLIMITED,
        min_order=msg.min_order,
        backup=msg.backup,
        activation_cost=msg.activation_cost,
        payment_days=msg.payment_days,
        expedited=msg.expedited,
    )


def _offer_to_proto(offer: SupplyOffer) -> network_pb2.SupplyOffer:
    return network_pb2.SupplyOffer(
        id=offer.id,
        supplier=offer.supplier,
        item=offer.item,
        unit_cost=offer.unit_cost,
        capacity=_limit(offer.capacity),
        min_order=offer.min_order,
        backup=offer.backup,
        activation_cost=offer.activation_cost,
        payment_days=offer.payment_days,
        expedited=offer.expedited,
    )


def _recipe_to_spec(msg: network_pb2.Recipe) -> Recipe:
    return Recipe(
        id=msg.id,
        node=msg.node,
        item=msg.item,
        inputs=tuple((m.item, m.quantity) for m in msg.inputs),
        hours_per_unit=msg.hours_per_unit,
        unit_cost=msg.unit_cost,
        setup_cost=msg.setup_cost,
        max_rate=msg.max_rate if msg.HasField("max_rate") else UNLIMITED,
    )


def _recipe_to_proto(recipe: Recipe) -> network_pb2.Recipe:
    return network_pb2.Recipe(
        id=recipe.id,
        node=recipe.node,
        item=recipe.item,
        inputs=[network_pb2.RecipeInput(item=item, quantity=quantity) for item, quantity in recipe.inputs],
        hours_per_unit=recipe.hours_per_unit,
        unit_cost=recipe.unit_cost,
        setup_cost=recipe.setup_cost,
        max_rate=_limit(recipe.max_rate),
    )


def _lane_to_spec(msg: network_pb2.Lane) -> Lane:
    return Lane(
        id=msg.id,
        origin=msg.origin,
        destination=msg.destination,
        items=tuple(msg.items),
        lead_time=int(msg.lead_time),
        unit_cost=msg.unit_cost,
        capacity=msg.capacity if msg.HasField("capacity") else UNLIMITED,
        truck_size=msg.truck_size,
        truck_cost=msg.truck_cost,
        mode=msg.mode if msg.HasField("mode") else DEFAULT_MODE,
        expedited=msg.expedited,
        alternate=msg.alternate,
    )


def _lane_to_proto(lane: Lane) -> network_pb2.Lane:
    return network_pb2.Lane(
        id=lane.id,
        origin=lane.origin,
        destination=lane.destination,
        items=list(lane.items),
        lead_time=lane.lead_time,
        unit_cost=lane.unit_cost,
        capacity=_limit(lane.capacity),
        truck_size=lane.truck_size,
        truck_cost=lane.truck_cost,
        mode=lane.mode,
        expedited=lane.expedited,
        alternate=lane.alternate,
    )


def _demand_to_spec(msg: network_pb2.Demand) -> Demand:
    return Demand(
        customer=msg.customer,
        item=msg.item,
        quantity=tuple(msg.quantity),
        price=msg.price,
        priority=int(msg.priority) if msg.HasField("priority") else DEFAULT_PRIORITY,
        backlog_penalty=msg.backlog_penalty,
        lost_sale_penalty=msg.lost_sale_penalty,
        single_source=msg.single_source,
        receivable_days=msg.receivable_days,
    )


def _demand_to_proto(demand: Demand) -> network_pb2.Demand:
    return network_pb2.Demand(
        customer=demand.customer,
        item=demand.item,
        quantity=list(demand.quantity),
        price=demand.price,
        priority=demand.priority,
        backlog_penalty=demand.backlog_penalty,
        lost_sale_penalty=demand.lost_sale_penalty,
        single_source=demand.single_source,
        receivable_days=demand.receivable_days,
    )


def _stock_to_spec(msg: network_pb2.Stock) -> Stock:
    return Stock(
        node=msg.node,
        item=msg.item,
        on_hand=msg.on_hand,
        safety_stock=msg.safety_stock,
        safety_penalty=msg.safety_penalty,
    )


def _stock_to_proto(stock: Stock) -> network_pb2.Stock:
    return network_pb2.Stock(
        node=stock.node,
        item=stock.item,
        on_hand=stock.on_hand,
        safety_stock=stock.safety_stock,
        safety_penalty=stock.safety_penalty,
    )


def _in_transit_to_spec(msg: network_pb2.InTransit) -> InTransit:
    return InTransit(node=msg.node, item=msg.item, period=int(msg.period), quantity=msg.quantity)


def _in_transit_to_proto(receipt: InTransit) -> network_pb2.InTransit:
    return network_pb2.InTransit(node=receipt.node, item=receipt.item, period=receipt.period, quantity=receipt.quantity)


def _service_target_to_spec(msg: network_pb2.ServiceTarget) -> ServiceTarget:
    return ServiceTarget(priority=int(msg.priority), fill_rate=msg.fill_rate)


def _service_target_to_proto(target: ServiceTarget) -> network_pb2.ServiceTarget:
    return network_pb2.ServiceTarget(priority=target.priority, fill_rate=target.fill_rate)


def _role_to_domain(msg: protocols_pb2.Role) -> Role:
    return Role(id=msg.id, escalates_to=msg.escalates_to)


def _role_to_proto(role: Role) -> protocols_pb2.Role:
    return protocols_pb2.Role(id=role.id, escalates_to=role.escalates_to)


def _authority_rule_to_domain(msg: protocols_pb2.AuthorityRule) -> AuthorityRule:
    where = {"entity": "authority rule", "ident": msg.id}
    return AuthorityRule(
        id=msg.id,
        function=_enum_to_domain(
            _FUNCTION_FROM_PROTO, msg.function, _FUNCTION_CHOICES, field="function", kind="function", **where
        ),
        action=_enum_to_domain(
            _ACTION_FROM_PROTO, msg.action, _ACTION_CHOICES, field="action", kind="action kind", **where
        ),
        spend_limit=msg.spend_limit,
        hard_cap=msg.hard_cap,
        approver=Approver(
            role=msg.approver.role,
            joint=tuple(
                _enum_to_domain(
                    _FUNCTION_FROM_PROTO, f, _FUNCTION_CHOICES, field=f"approver.joint[{k}]", kind="function", **where
                )
                for k, f in enumerate(msg.approver.joint)
            ),
        ),
        escalation_delay_hours=msg.escalation_delay_hours,
        governance_cost=msg.governance_cost,
        standing=msg.standing,
        resources=tuple(msg.resources),
        items=tuple(msg.items),
    )


def _authority_rule_to_proto(rule: AuthorityRule) -> protocols_pb2.AuthorityRule:
    where = {"entity": "authority rule", "ident": rule.id}
    return protocols_pb2.AuthorityRule(
        id=rule.id,
        function=_enum_to_proto(_FUNCTION_TO_PROTO, rule.function, field="function", kind="Function", **where),
        action=_enum_to_proto(_ACTION_TO_PROTO, rule.action, field="action", kind="ActionKind", **where),
        spend_limit=rule.spend_limit,
        hard_cap=rule.hard_cap,
        approver=protocols_pb2.Approver(
            role=rule.approver.role,
            joint=[
                _enum_to_proto(_FUNCTION_TO_PROTO, f, field=f"approver.joint[{k}]", kind="Function", **where)
                for k, f in enumerate(rule.approver.joint)
            ],
        ),
        escalation_delay_hours=rule.escalation_delay_hours,
        governance_cost=rule.governance_cost,
        standing=rule.standing,
        resources=list(rule.resources),
        items=list(rule.items),
    )


def _predicate_to_domain(msg: protocols_pb2.Predicate) -> Predicate:
    return Predicate(
        min_duration_hours=msg.min_duration_hours,
        max_duration_hours=msg.max_duration_hours if msg.HasField("max_duration_hours") else UNLIMITED,
        min_magnitude=msg.min_magnitude if msg.HasField("min_magnitude") else -UNLIMITED,
        max_magnitude=msg.max_magnitude if msg.HasField("max_magnitude") else UNLIMITED,
        supplier_tier=int(msg.supplier_tier),
        nodes=tuple(msg.nodes),
        items=tuple(msg.items),
    )


def _predicate_to_proto(predicate: Predicate) -> protocols_pb2.Predicate:
    return protocols_pb2.Predicate(
        min_duration_hours=predicate.min_duration_hours,
        max_duration_hours=_limit(predicate.max_duration_hours),
        min_magnitude=_floor(predicate.min_magnitude),
        max_magnitude=_limit(predicate.max_magnitude),
        supplier_tier=predicate.supplier_tier,
        nodes=list(predicate.nodes),
        items=list(predicate.items),
    )


def _signal_rule_to_domain(msg: protocols_pb2.SignalRule) -> SignalRule:
    return SignalRule(
        id=msg.id,
        signal_type=_enum_to_domain(
            _SIGNAL_TYPE_FROM_PROTO,
            msg.signal_type,
            _SIGNAL_TYPE_CHOICES,
            entity="signal rule",
            ident=msg.id,
            field="signal_type",
            kind="signal type",
        ),
        activates=tuple(msg.activates),
        predicate=_predicate_to_domain(msg.predicate),
    )


def _signal_rule_to_proto(rule: SignalRule) -> protocols_pb2.SignalRule:
    return protocols_pb2.SignalRule(
        id=rule.id,
        signal_type=_enum_to_proto(
            _SIGNAL_TYPE_TO_PROTO,
            rule.signal_type,
            entity="signal rule",
            ident=rule.id,
            field="signal_type",
            kind="SignalType",
        ),
        activates=list(rule.activates),
        predicate=_predicate_to_proto(rule.predicate),
    )
