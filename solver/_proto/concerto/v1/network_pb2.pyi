from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NODE_ROLE_UNSPECIFIED: _ClassVar[NodeRole]
    NODE_ROLE_SUPPLIER: _ClassVar[NodeRole]
    NODE_ROLE_PLANT: _ClassVar[NodeRole]
    NODE_ROLE_DC: _ClassVar[NodeRole]
    NODE_ROLE_CUSTOMER: _ClassVar[NodeRole]
NODE_ROLE_UNSPECIFIED: NodeRole
NODE_ROLE_SUPPLIER: NodeRole
NODE_ROLE_PLANT: NodeRole
NODE_ROLE_DC: NodeRole
NODE_ROLE_CUSTOMER: NodeRole

class Network(_message.Message):
    __slots__ = ("name", "horizon", "period_hours", "items", "nodes", "offers", "recipes", "lanes", "demands", "stocks", "in_transit", "service_targets", "working_capital_cap", "capital_cost_rate")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    PERIOD_HOURS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    RECIPES_FIELD_NUMBER: _ClassVar[int]
    LANES_FIELD_NUMBER: _ClassVar[int]
    DEMANDS_FIELD_NUMBER: _ClassVar[int]
    STOCKS_FIELD_NUMBER: _ClassVar[int]
    IN_TRANSIT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_TARGETS_FIELD_NUMBER: _ClassVar[int]
    WORKING_CAPITAL_CAP_FIELD_NUMBER: _ClassVar[int]
    CAPITAL_COST_RATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    horizon: int
    period_hours: float
    items: _containers.RepeatedCompositeFieldContainer[Item]
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    offers: _containers.RepeatedCompositeFieldContainer[SupplyOffer]
    recipes: _containers.RepeatedCompositeFieldContainer[Recipe]
    lanes: _containers.RepeatedCompositeFieldContainer[Lane]
    demands: _containers.RepeatedCompositeFieldContainer[Demand]
    stocks: _containers.RepeatedCompositeFieldContainer[Stock]
    in_transit: _containers.RepeatedCompositeFieldContainer[InTransit]
    service_targets: _containers.RepeatedCompositeFieldContainer[ServiceTarget]
    working_capital_cap: float
    capital_cost_rate: float
    def __init__(self, name: _Optional[str] = ..., horizon: _Optional[int] = ..., period_hours: _Optional[float] = ..., items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., offers: _Optional[_Iterable[_Union[SupplyOffer, _Mapping]]] = ..., recipes: _Optional[_Iterable[_Union[Recipe, _Mapping]]] = ..., lanes: _Optional[_Iterable[_Union[Lane, _Mapping]]] = ..., demands: _Optional[_Iterable[_Union[Demand, _Mapping]]] = ..., stocks: _Optional[_Iterable[_Union[Stock, _Mapping]]] = ..., in_transit: _Optional[_Iterable[_Union[InTransit, _Mapping]]] = ..., service_targets: _Optional[_Iterable[_Union[ServiceTarget, _Mapping]]] = ..., working_capital_cap: _Optional[float] = ..., capital_cost_rate: _Optional[float] = ...) -> None: ...

class Item(_message.Message):
    __slots__ = ("id", "unit_value", "holding_cost")
    ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_VALUE_FIELD_NUMBER: _ClassVar[int]
    HOLDING_COST_FIELD_NUMBER: _ClassVar[int]
    id: str
    unit_value: float
    holding_cost: float
    def __init__(self, id: _Optional[str] = ..., unit_value: _Optional[float] = ..., holding_cost: _Optional[float] = ...) -> None: ...

class Node(_message.Message):
    __slots__ = ("id", "role", "tier", "storage_capacity", "regular_hours", "overtime_hours", "overtime_cost", "storage_capacity_by_period", "regular_hours_by_period", "overtime_hours_by_period")
    ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    REGULAR_HOURS_FIELD_NUMBER: _ClassVar[int]
    OVERTIME_HOURS_FIELD_NUMBER: _ClassVar[int]
    OVERTIME_COST_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CAPACITY_BY_PERIOD_FIELD_NUMBER: _ClassVar[int]
    REGULAR_HOURS_BY_PERIOD_FIELD_NUMBER: _ClassVar[int]
    OVERTIME_HOURS_BY_PERIOD_FIELD_NUMBER: _ClassVar[int]
    id: str
    role: NodeRole
    tier: int
    storage_capacity: float
    regular_hours: float
    overtime_hours: float
    overtime_cost: float
    storage_capacity_by_period: PerPeriod
    regular_hours_by_period: PerPeriod
    overtime_hours_by_period: PerPeriod
    def __init__(self, id: _Optional[str] = ..., role: _Optional[_Union[NodeRole, str]] = ..., tier: _Optional[int] = ..., storage_capacity: _Optional[float] = ..., regular_hours: _Optional[float] = ..., overtime_hours: _Optional[float] = ..., overtime_cost: _Optional[float] = ..., storage_capacity_by_period: _Optional[_Union[PerPeriod, _Mapping]] = ..., regular_hours_by_period: _Optional[_Union[PerPeriod, _Mapping]] = ..., overtime_hours_by_period: _Optional[_Union[PerPeriod, _Mapping]] = ...) -> None: ...

class PerPeriod(_message.Message):
    __slots__ = ("values", "exceptions")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    EXCEPTIONS_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    exceptions: _containers.RepeatedCompositeFieldContainer[CalendarException]
    def __init__(self, values: _Optional[_Iterable[float]] = ..., exceptions: _Optional[_Iterable[_Union[CalendarException, _Mapping]]] = ...) -> None: ...

class CalendarException(_message.Message):
    __slots__ = ("start_period", "end_period", "value")
    START_PERIOD_FIELD_NUMBER: _ClassVar[int]
    END_PERIOD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    start_period: int
    end_period: int
    value: float
    def __init__(self, start_period: _Optional[int] = ..., end_period: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...

class SupplyOffer(_message.Message):
    __slots__ = ("id", "supplier", "item", "unit_cost", "capacity", "min_order", "backup", "activation_cost", "payment_days", "expedited", "capacity_by_period")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    UNIT_COST_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    MIN_ORDER_FIELD_NUMBER: _ClassVar[int]
    BACKUP_FIELD_NUMBER: _ClassVar[int]
    ACTIVATION_COST_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_DAYS_FIELD_NUMBER: _ClassVar[int]
    EXPEDITED_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_BY_PERIOD_FIELD_NUMBER: _ClassVar[int]
    id: str
    supplier: str
    item: str
    unit_cost: float
    capacity: float
    min_order: float
    backup: bool
    activation_cost: float
    payment_days: float
    expedited: bool
    capacity_by_period: PerPeriod
    def __init__(self, id: _Optional[str] = ..., supplier: _Optional[str] = ..., item: _Optional[str] = ..., unit_cost: _Optional[float] = ..., capacity: _Optional[float] = ..., min_order: _Optional[float] = ..., backup: _Optional[bool] = ..., activation_cost: _Optional[float] = ..., payment_days: _Optional[float] = ..., expedited: _Optional[bool] = ..., capacity_by_period: _Optional[_Union[PerPeriod, _Mapping]] = ...) -> None: ...

class RecipeInput(_message.Message):
    __slots__ = ("item", "quantity")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    item: str
    quantity: float
    def __init__(self, item: _Optional[str] = ..., quantity: _Optional[float] = ...) -> None: ...

class Recipe(_message.Message):
    __slots__ = ("id", "node", "item", "inputs", "hours_per_unit", "unit_cost", "setup_cost", "max_rate", "setup_hours", "max_rate_by_period")
    ID_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    HOURS_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    UNIT_COST_FIELD_NUMBER: _ClassVar[int]
    SETUP_COST_FIELD_NUMBER: _ClassVar[int]
    MAX_RATE_FIELD_NUMBER: _ClassVar[int]
    SETUP_HOURS_FIELD_NUMBER: _ClassVar[int]
    MAX_RATE_BY_PERIOD_FIELD_NUMBER: _ClassVar[int]
    id: str
    node: str
    item: str
    inputs: _containers.RepeatedCompositeFieldContainer[RecipeInput]
    hours_per_unit: float
    unit_cost: float
    setup_cost: float
    max_rate: float
    setup_hours: float
    max_rate_by_period: PerPeriod
    def __init__(self, id: _Optional[str] = ..., node: _Optional[str] = ..., item: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[RecipeInput, _Mapping]]] = ..., hours_per_unit: _Optional[float] = ..., unit_cost: _Optional[float] = ..., setup_cost: _Optional[float] = ..., max_rate: _Optional[float] = ..., setup_hours: _Optional[float] = ..., max_rate_by_period: _Optional[_Union[PerPeriod, _Mapping]] = ...) -> None: ...

class Lane(_message.Message):
    __slots__ = ("id", "origin", "destination", "items", "lead_time", "unit_cost", "capacity", "truck_size", "truck_cost", "mode", "expedited", "alternate", "capacity_by_period")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_FIELD_NUMBER: _ClassVar[int]
    UNIT_COST_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    TRUCK_SIZE_FIELD_NUMBER: _ClassVar[int]
    TRUCK_COST_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    EXPEDITED_FIELD_NUMBER: _ClassVar[int]
    ALTERNATE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_BY_PERIOD_FIELD_NUMBER: _ClassVar[int]
    id: str
    origin: str
    destination: str
    items: _containers.RepeatedScalarFieldContainer[str]
    lead_time: int
    unit_cost: float
    capacity: float
    truck_size: float
    truck_cost: float
    mode: str
    expedited: bool
    alternate: bool
    capacity_by_period: PerPeriod
    def __init__(self, id: _Optional[str] = ..., origin: _Optional[str] = ..., destination: _Optional[str] = ..., items: _Optional[_Iterable[str]] = ..., lead_time: _Optional[int] = ..., unit_cost: _Optional[float] = ..., capacity: _Optional[float] = ..., truck_size: _Optional[float] = ..., truck_cost: _Optional[float] = ..., mode: _Optional[str] = ..., expedited: _Optional[bool] = ..., alternate: _Optional[bool] = ..., capacity_by_period: _Optional[_Union[PerPeriod, _Mapping]] = ...) -> None: ...

class Demand(_message.Message):
    __slots__ = ("customer", "item", "quantity", "price", "priority", "backlog_penalty", "lost_sale_penalty", "single_source", "receivable_days", "on_time")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_PENALTY_FIELD_NUMBER: _ClassVar[int]
    LOST_SALE_PENALTY_FIELD_NUMBER: _ClassVar[int]
    SINGLE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECEIVABLE_DAYS_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    customer: str
    item: str
    quantity: _containers.RepeatedScalarFieldContainer[float]
    price: float
    priority: int
    backlog_penalty: float
    lost_sale_penalty: float
    single_source: bool
    receivable_days: float
    on_time: bool
    def __init__(self, customer: _Optional[str] = ..., item: _Optional[str] = ..., quantity: _Optional[_Iterable[float]] = ..., price: _Optional[float] = ..., priority: _Optional[int] = ..., backlog_penalty: _Optional[float] = ..., lost_sale_penalty: _Optional[float] = ..., single_source: _Optional[bool] = ..., receivable_days: _Optional[float] = ..., on_time: _Optional[bool] = ...) -> None: ...

class Stock(_message.Message):
    __slots__ = ("node", "item", "on_hand", "safety_stock", "safety_penalty")
    NODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    SAFETY_PENALTY_FIELD_NUMBER: _ClassVar[int]
    node: str
    item: str
    on_hand: float
    safety_stock: float
    safety_penalty: float
    def __init__(self, node: _Optional[str] = ..., item: _Optional[str] = ..., on_hand: _Optional[float] = ..., safety_stock: _Optional[float] = ..., safety_penalty: _Optional[float] = ...) -> None: ...

class InTransit(_message.Message):
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

class ServiceTarget(_message.Message):
    __slots__ = ("priority", "fill_rate", "on_time")
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    FILL_RATE_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    priority: int
    fill_rate: float
    on_time: bool
    def __init__(self, priority: _Optional[int] = ..., fill_rate: _Optional[float] = ..., on_time: _Optional[bool] = ...) -> None: ...
