from solver._proto.concerto.v1 import protocols_pb2 as _protocols_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SolveStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOLVE_STATUS_UNSPECIFIED: _ClassVar[SolveStatus]
    SOLVE_STATUS_OPTIMAL: _ClassVar[SolveStatus]
    SOLVE_STATUS_FEASIBLE: _ClassVar[SolveStatus]
    SOLVE_STATUS_INFEASIBLE: _ClassVar[SolveStatus]
    SOLVE_STATUS_UNBOUNDED: _ClassVar[SolveStatus]
    SOLVE_STATUS_INFEASIBLE_OR_UNBOUNDED: _ClassVar[SolveStatus]
    SOLVE_STATUS_TIME_LIMIT: _ClassVar[SolveStatus]
    SOLVE_STATUS_INTERRUPTED: _ClassVar[SolveStatus]
    SOLVE_STATUS_ERROR: _ClassVar[SolveStatus]

class AuthorityStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTHORITY_STATUS_UNSPECIFIED: _ClassVar[AuthorityStatus]
    AUTHORITY_STATUS_WITHIN_AUTHORITY: _ClassVar[AuthorityStatus]
    AUTHORITY_STATUS_ESCALATED: _ClassVar[AuthorityStatus]
    AUTHORITY_STATUS_UNGOVERNED: _ClassVar[AuthorityStatus]
SOLVE_STATUS_UNSPECIFIED: SolveStatus
SOLVE_STATUS_OPTIMAL: SolveStatus
SOLVE_STATUS_FEASIBLE: SolveStatus
SOLVE_STATUS_INFEASIBLE: SolveStatus
SOLVE_STATUS_UNBOUNDED: SolveStatus
SOLVE_STATUS_INFEASIBLE_OR_UNBOUNDED: SolveStatus
SOLVE_STATUS_TIME_LIMIT: SolveStatus
SOLVE_STATUS_INTERRUPTED: SolveStatus
SOLVE_STATUS_ERROR: SolveStatus
AUTHORITY_STATUS_UNSPECIFIED: AuthorityStatus
AUTHORITY_STATUS_WITHIN_AUTHORITY: AuthorityStatus
AUTHORITY_STATUS_ESCALATED: AuthorityStatus
AUTHORITY_STATUS_UNGOVERNED: AuthorityStatus

class Purchase(_message.Message):
    __slots__ = ("offer", "supplier", "item", "period", "quantity")
    OFFER_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    offer: str
    supplier: str
    item: str
    period: int
    quantity: float
    def __init__(self, offer: _Optional[str] = ..., supplier: _Optional[str] = ..., item: _Optional[str] = ..., period: _Optional[int] = ..., quantity: _Optional[float] = ...) -> None: ...

class Activation(_message.Message):
    __slots__ = ("offer", "supplier", "item", "cost")
    OFFER_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    offer: str
    supplier: str
    item: str
    cost: float
    def __init__(self, offer: _Optional[str] = ..., supplier: _Optional[str] = ..., item: _Optional[str] = ..., cost: _Optional[float] = ...) -> None: ...

class Production(_message.Message):
    __slots__ = ("recipe", "node", "item", "period", "quantity")
    RECIPE_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    recipe: str
    node: str
    item: str
    period: int
    quantity: float
    def __init__(self, recipe: _Optional[str] = ..., node: _Optional[str] = ..., item: _Optional[str] = ..., period: _Optional[int] = ..., quantity: _Optional[float] = ...) -> None: ...

class Overtime(_message.Message):
    __slots__ = ("node", "period", "hours")
    NODE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    node: str
    period: int
    hours: float
    def __init__(self, node: _Optional[str] = ..., period: _Optional[int] = ..., hours: _Optional[float] = ...) -> None: ...

class Shipment(_message.Message):
    __slots__ = ("lane", "origin", "destination", "item", "period", "arrival", "quantity")
    LANE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    lane: str
    origin: str
    destination: str
    item: str
    period: int
    arrival: int
    quantity: float
    def __init__(self, lane: _Optional[str] = ..., origin: _Optional[str] = ..., destination: _Optional[str] = ..., item: _Optional[str] = ..., period: _Optional[int] = ..., arrival: _Optional[int] = ..., quantity: _Optional[float] = ...) -> None: ...

class TruckLoad(_message.Message):
    __slots__ = ("lane", "period", "trucks")
    LANE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TRUCKS_FIELD_NUMBER: _ClassVar[int]
    lane: str
    period: int
    trucks: float
    def __init__(self, lane: _Optional[str] = ..., period: _Optional[int] = ..., trucks: _Optional[float] = ...) -> None: ...

class StockLevel(_message.Message):
    __slots__ = ("node", "item", "period", "quantity")
    NODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    node: str
    item: str
    period: int
    quantity: float
    def __init__(self, node: _Optional[str] = ..., item: _Optional[str] = ..., period: _Optional[int] = ..., quantity: _Optional[float] = ...) -> None: ...

class ServiceLevel(_message.Message):
    __slots__ = ("customer", "item", "period", "quantity")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    customer: str
    item: str
    period: int
    quantity: float
    def __init__(self, customer: _Optional[str] = ..., item: _Optional[str] = ..., period: _Optional[int] = ..., quantity: _Optional[float] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("function", "action", "resource", "item", "period", "quantity", "unit", "cost", "status", "approver", "effective_hours", "rule", "signals")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    APPROVER_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_HOURS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    function: _protocols_pb2.Function
    action: _protocols_pb2.ActionKind
    resource: str
    item: str
    period: int
    quantity: float
    unit: str
    cost: float
    status: AuthorityStatus
    approver: str
    effective_hours: float
    rule: str
    signals: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, function: _Optional[_Union[_protocols_pb2.Function, str]] = ..., action: _Optional[_Union[_protocols_pb2.ActionKind, str]] = ..., resource: _Optional[str] = ..., item: _Optional[str] = ..., period: _Optional[int] = ..., quantity: _Optional[float] = ..., unit: _Optional[str] = ..., cost: _Optional[float] = ..., status: _Optional[_Union[AuthorityStatus, str]] = ..., approver: _Optional[str] = ..., effective_hours: _Optional[float] = ..., rule: _Optional[str] = ..., signals: _Optional[_Iterable[str]] = ...) -> None: ...

class AuthoritySpend(_message.Message):
    __slots__ = ("rule", "function", "action", "spend", "limit", "cap", "escalated", "approver", "effective_hours", "signals")
    RULE_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SPEND_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CAP_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    APPROVER_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_HOURS_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    rule: str
    function: _protocols_pb2.Function
    action: _protocols_pb2.ActionKind
    spend: float
    limit: float
    cap: float
    escalated: bool
    approver: str
    effective_hours: float
    signals: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, rule: _Optional[str] = ..., function: _Optional[_Union[_protocols_pb2.Function, str]] = ..., action: _Optional[_Union[_protocols_pb2.ActionKind, str]] = ..., spend: _Optional[float] = ..., limit: _Optional[float] = ..., cap: _Optional[float] = ..., escalated: _Optional[bool] = ..., approver: _Optional[str] = ..., effective_hours: _Optional[float] = ..., signals: _Optional[_Iterable[str]] = ...) -> None: ...

class Kpis(_message.Message):
    __slots__ = ("total_cost", "revenue", "demand", "delivered", "fill_rate", "fill_rate_by_priority", "perfect_order_rate", "order_fulfilment_cycle_time_hours", "inventory_turnover", "cash_to_cash_days", "days_inventory", "days_receivable", "days_payable")
    class FillRateByPriorityEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: float
        def __init__(self, key: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    FILL_RATE_FIELD_NUMBER: _ClassVar[int]
    FILL_RATE_BY_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PERFECT_ORDER_RATE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FULFILMENT_CYCLE_TIME_HOURS_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_TURNOVER_FIELD_NUMBER: _ClassVar[int]
    CASH_TO_CASH_DAYS_FIELD_NUMBER: _ClassVar[int]
    DAYS_INVENTORY_FIELD_NUMBER: _ClassVar[int]
    DAYS_RECEIVABLE_FIELD_NUMBER: _ClassVar[int]
    DAYS_PAYABLE_FIELD_NUMBER: _ClassVar[int]
    total_cost: float
    revenue: float
    demand: float
    delivered: float
    fill_rate: float
    fill_rate_by_priority: _containers.ScalarMap[int, float]
    perfect_order_rate: float
    order_fulfilment_cycle_time_hours: float
    inventory_turnover: float
    cash_to_cash_days: float
    days_inventory: float
    days_receivable: float
    days_payable: float
    def __init__(self, total_cost: _Optional[float] = ..., revenue: _Optional[float] = ..., demand: _Optional[float] = ..., delivered: _Optional[float] = ..., fill_rate: _Optional[float] = ..., fill_rate_by_priority: _Optional[_Mapping[int, float]] = ..., perfect_order_rate: _Optional[float] = ..., order_fulfilment_cycle_time_hours: _Optional[float] = ..., inventory_turnover: _Optional[float] = ..., cash_to_cash_days: _Optional[float] = ..., days_inventory: _Optional[float] = ..., days_receivable: _Optional[float] = ..., days_payable: _Optional[float] = ...) -> None: ...

class SolveStats(_message.Message):
    __slots__ = ("columns", "rows", "nonzeros", "integer_columns", "build_seconds", "handoff_seconds", "solve_seconds", "backend", "backend_version", "method", "method_stats")
    class MethodStatsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    NONZEROS_FIELD_NUMBER: _ClassVar[int]
    INTEGER_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    BUILD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SOLVE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    BACKEND_VERSION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    METHOD_STATS_FIELD_NUMBER: _ClassVar[int]
    columns: int
    rows: int
    nonzeros: int
    integer_columns: int
    build_seconds: float
    handoff_seconds: float
    solve_seconds: float
    backend: str
    backend_version: str
    method: str
    method_stats: _containers.ScalarMap[str, float]
    def __init__(self, columns: _Optional[int] = ..., rows: _Optional[int] = ..., nonzeros: _Optional[int] = ..., integer_columns: _Optional[int] = ..., build_seconds: _Optional[float] = ..., handoff_seconds: _Optional[float] = ..., solve_seconds: _Optional[float] = ..., backend: _Optional[str] = ..., backend_version: _Optional[str] = ..., method: _Optional[str] = ..., method_stats: _Optional[_Mapping[str, float]] = ...) -> None: ...

class PlanResult(_message.Message):
    __slots__ = ("network", "horizon", "period_hours", "status", "objective", "bound", "gap", "cost_by_component", "purchases", "activations", "production", "overtime", "shipments", "trucks", "inventory", "safety_shortfall", "deliveries", "backlog", "lost_sales", "decisions", "authority", "kpis", "stats", "message")
    class CostByComponentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    PERIOD_HOURS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    BOUND_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    COST_BY_COMPONENT_FIELD_NUMBER: _ClassVar[int]
    PURCHASES_FIELD_NUMBER: _ClassVar[int]
    ACTIVATIONS_FIELD_NUMBER: _ClassVar[int]
    PRODUCTION_FIELD_NUMBER: _ClassVar[int]
    OVERTIME_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    TRUCKS_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_FIELD_NUMBER: _ClassVar[int]
    SAFETY_SHORTFALL_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    LOST_SALES_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    KPIS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    network: str
    horizon: int
    period_hours: float
    status: SolveStatus
    objective: float
    bound: float
    gap: float
    cost_by_component: _containers.ScalarMap[str, float]
    purchases: _containers.RepeatedCompositeFieldContainer[Purchase]
    activations: _containers.RepeatedCompositeFieldContainer[Activation]
    production: _containers.RepeatedCompositeFieldContainer[Production]
    overtime: _containers.RepeatedCompositeFieldContainer[Overtime]
    shipments: _containers.RepeatedCompositeFieldContainer[Shipment]
    trucks: _containers.RepeatedCompositeFieldContainer[TruckLoad]
    inventory: _containers.RepeatedCompositeFieldContainer[StockLevel]
    safety_shortfall: _containers.RepeatedCompositeFieldContainer[StockLevel]
    deliveries: _containers.RepeatedCompositeFieldContainer[ServiceLevel]
    backlog: _containers.RepeatedCompositeFieldContainer[ServiceLevel]
    lost_sales: _containers.RepeatedCompositeFieldContainer[ServiceLevel]
    decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    authority: _containers.RepeatedCompositeFieldContainer[AuthoritySpend]
    kpis: Kpis
    stats: SolveStats
    message: str
    def __init__(self, network: _Optional[str] = ..., horizon: _Optional[int] = ..., period_hours: _Optional[float] = ..., status: _Optional[_Union[SolveStatus, str]] = ..., objective: _Optional[float] = ..., bound: _Optional[float] = ..., gap: _Optional[float] = ..., cost_by_component: _Optional[_Mapping[str, float]] = ..., purchases: _Optional[_Iterable[_Union[Purchase, _Mapping]]] = ..., activations: _Optional[_Iterable[_Union[Activation, _Mapping]]] = ..., production: _Optional[_Iterable[_Union[Production, _Mapping]]] = ..., overtime: _Optional[_Iterable[_Union[Overtime, _Mapping]]] = ..., shipments: _Optional[_Iterable[_Union[Shipment, _Mapping]]] = ..., trucks: _Optional[_Iterable[_Union[TruckLoad, _Mapping]]] = ..., inventory: _Optional[_Iterable[_Union[StockLevel, _Mapping]]] = ..., safety_shortfall: _Optional[_Iterable[_Union[StockLevel, _Mapping]]] = ..., deliveries: _Optional[_Iterable[_Union[ServiceLevel, _Mapping]]] = ..., backlog: _Optional[_Iterable[_Union[ServiceLevel, _Mapping]]] = ..., lost_sales: _Optional[_Iterable[_Union[ServiceLevel, _Mapping]]] = ..., decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ..., authority: _Optional[_Iterable[_Union[AuthoritySpend, _Mapping]]] = ..., kpis: _Optional[_Union[Kpis, _Mapping]] = ..., stats: _Optional[_Union[SolveStats, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...
