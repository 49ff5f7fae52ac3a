from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignalType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_TYPE_UNSPECIFIED: _ClassVar[SignalType]
    SIGNAL_TYPE_SUPPLIER_OUTAGE: _ClassVar[SignalType]
    SIGNAL_TYPE_DEMAND_CHANGE: _ClassVar[SignalType]
    SIGNAL_TYPE_LANE_DISRUPTION: _ClassVar[SignalType]
    SIGNAL_TYPE_CAPACITY_LOSS: _ClassVar[SignalType]
    SIGNAL_TYPE_INVENTORY_ADJUSTMENT: _ClassVar[SignalType]
    SIGNAL_TYPE_LEAD_TIME_CHANGE: _ClassVar[SignalType]
    SIGNAL_TYPE_ORDER_CHANGE: _ClassVar[SignalType]
SIGNAL_TYPE_UNSPECIFIED: SignalType
SIGNAL_TYPE_SUPPLIER_OUTAGE: SignalType
SIGNAL_TYPE_DEMAND_CHANGE: SignalType
SIGNAL_TYPE_LANE_DISRUPTION: SignalType
SIGNAL_TYPE_CAPACITY_LOSS: SignalType
SIGNAL_TYPE_INVENTORY_ADJUSTMENT: SignalType
SIGNAL_TYPE_LEAD_TIME_CHANGE: SignalType
SIGNAL_TYPE_ORDER_CHANGE: SignalType

class Signal(_message.Message):
    __slots__ = ("id", "type", "detected_hours", "start_hours", "duration_hours", "magnitude", "supplier", "node", "item", "lane", "customer", "delay_hours")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DETECTED_HOURS_FIELD_NUMBER: _ClassVar[int]
    START_HOURS_FIELD_NUMBER: _ClassVar[int]
    DURATION_HOURS_FIELD_NUMBER: _ClassVar[int]
    MAGNITUDE_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    DELAY_HOURS_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: SignalType
    detected_hours: float
    start_hours: float
    duration_hours: float
    magnitude: float
    supplier: str
    node: str
    item: str
    lane: str
    customer: str
    delay_hours: float
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[SignalType, str]] = ..., detected_hours: _Optional[float] = ..., start_hours: _Optional[float] = ..., duration_hours: _Optional[float] = ..., magnitude: _Optional[float] = ..., supplier: _Optional[str] = ..., node: _Optional[str] = ..., item: _Optional[str] = ..., lane: _Optional[str] = ..., customer: _Optional[str] = ..., delay_hours: _Optional[float] = ...) -> None: ...

class SignalBatch(_message.Message):
    __slots__ = ("signals",)
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    signals: _containers.RepeatedCompositeFieldContainer[Signal]
    def __init__(self, signals: _Optional[_Iterable[_Union[Signal, _Mapping]]] = ...) -> None: ...
