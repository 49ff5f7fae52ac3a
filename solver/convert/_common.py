"""What every converter shares: what an absent optional field means, the enum tables between
proto numbers and domain members, and the helpers that check them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from google.protobuf.message import Message

from models.allocation import INVENTORY, LOGISTICS, PROCUREMENT, PRODUCTION, REVENUE, SERVICE
from models.errors import ValidationError
from models.network import (
    NodeRole,
)
from models.protocols import (
    FINANCE,
    GOVERNANCE,
    ActionKind,
    AuthorityStatus,
    Function,
)
from models.signals import SignalType
from models.solution import SolveStatus
from solver._proto.concerto.v1 import network_pb2, plan_pb2, protocols_pb2, signals_pb2

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

# Proto maps have no order; cost components come back in the order `models.allocation.build_model`
# books them, so a plan's summary reads the same after a round trip. Others follow by name.
_COMPONENT_ORDER = (PROCUREMENT, PRODUCTION, LOGISTICS, SERVICE, REVENUE, INVENTORY, FINANCE, GOVERNANCE)

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


def _components(costs: Mapping[str, float]) -> dict[str, float]:
    """Cost components in the model's booking order, then any others by name."""
    rank: dict[str, int] = {name: k for k, name in enumerate(_COMPONENT_ORDER)}
    return {k: costs[k] for k in sorted(costs, key=lambda k: (rank.get(k, len(rank)), k))}
