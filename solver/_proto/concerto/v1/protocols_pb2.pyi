from solver._proto.concerto.v1 import signals_pb2 as _signals_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Function(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FUNCTION_UNSPECIFIED: _ClassVar[Function]
    FUNCTION_PROCUREMENT: _ClassVar[Function]
    FUNCTION_PRODUCTION: _ClassVar[Function]
    FUNCTION_LOGISTICS: _ClassVar[Function]
    FUNCTION_INVENTORY: _ClassVar[Function]
    FUNCTION_SALES: _ClassVar[Function]
    FUNCTION_FINANCE: _ClassVar[Function]

class ActionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_KIND_UNSPECIFIED: _ClassVar[ActionKind]
    ACTION_KIND_BACKUP_ACTIVATION: _ClassVar[ActionKind]
    ACTION_KIND_EXPEDITED_PURCHASE: _ClassVar[ActionKind]
    ACTION_KIND_OVERTIME: _ClassVar[ActionKind]
    ACTION_KIND_EXPEDITED_FREIGHT: _ClassVar[ActionKind]
    ACTION_KIND_REROUTING: _ClassVar[ActionKind]
    ACTION_KIND_LATERAL_TRANSFER: _ClassVar[ActionKind]
    ACTION_KIND_RATIONING: _ClassVar[ActionKind]
    ACTION_KIND_WORKING_CAPITAL_RELEASE: _ClassVar[ActionKind]

class RejectionEffect(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECTION_EFFECT_UNSPECIFIED: _ClassVar[RejectionEffect]
    REJECTION_EFFECT_HOLD_TO_LIMIT: _ClassVar[RejectionEffect]
    REJECTION_EFFECT_FORBID: _ClassVar[RejectionEffect]

class ExpiryEffect(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPIRY_EFFECT_UNSPECIFIED: _ClassVar[ExpiryEffect]
    EXPIRY_EFFECT_KEEP_WAITING: _ClassVar[ExpiryEffect]
    EXPIRY_EFFECT_WITHIN_AUTHORITY: _ClassVar[ExpiryEffect]
FUNCTION_UNSPECIFIED: Function
FUNCTION_PROCUREMENT: Function
FUNCTION_PRODUCTION: Function
FUNCTION_LOGISTICS: Function
FUNCTION_INVENTORY: Function
FUNCTION_SALES: Function
FUNCTION_FINANCE: Function
ACTION_KIND_UNSPECIFIED: ActionKind
ACTION_KIND_BACKUP_ACTIVATION: ActionKind
ACTION_KIND_EXPEDITED_PURCHASE: ActionKind
ACTION_KIND_OVERTIME: ActionKind
ACTION_KIND_EXPEDITED_FREIGHT: ActionKind
ACTION_KIND_REROUTING: ActionKind
ACTION_KIND_LATERAL_TRANSFER: ActionKind
ACTION_KIND_RATIONING: ActionKind
ACTION_KIND_WORKING_CAPITAL_RELEASE: ActionKind
REJECTION_EFFECT_UNSPECIFIED: RejectionEffect
REJECTION_EFFECT_HOLD_TO_LIMIT: RejectionEffect
REJECTION_EFFECT_FORBID: RejectionEffect
EXPIRY_EFFECT_UNSPECIFIED: ExpiryEffect
EXPIRY_EFFECT_KEEP_WAITING: ExpiryEffect
EXPIRY_EFFECT_WITHIN_AUTHORITY: ExpiryEffect

class Role(_message.Message):
    __slots__ = ("id", "escalates_to")
    ID_FIELD_NUMBER: _ClassVar[int]
    ESCALATES_TO_FIELD_NUMBER: _ClassVar[int]
    id: str
    escalates_to: str
    def __init__(self, id: _Optional[str] = ..., escalates_to: _Optional[str] = ...) -> None: ...

class Approver(_message.Message):
    __slots__ = ("role", "joint")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    JOINT_FIELD_NUMBER: _ClassVar[int]
    role: str
    joint: _containers.RepeatedScalarFieldContainer[Function]
    def __init__(self, role: _Optional[str] = ..., joint: _Optional[_Iterable[_Union[Function, str]]] = ...) -> None: ...

class AuthorityRule(_message.Message):
    __slots__ = ("id", "function", "action", "spend_limit", "hard_cap", "approver", "escalation_delay_hours", "governance_cost", "standing", "resources", "items", "on_reject", "on_expiry")
    ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SPEND_LIMIT_FIELD_NUMBER: _ClassVar[int]
    HARD_CAP_FIELD_NUMBER: _ClassVar[int]
    APPROVER_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_DELAY_HOURS_FIELD_NUMBER: _ClassVar[int]
    GOVERNANCE_COST_FIELD_NUMBER: _ClassVar[int]
    STANDING_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ON_REJECT_FIELD_NUMBER: _ClassVar[int]
    ON_EXPIRY_FIELD_NUMBER: _ClassVar[int]
    id: str
    function: Function
    action: ActionKind
    spend_limit: float
    hard_cap: float
    approver: Approver
    escalation_delay_hours: float
    governance_cost: float
    standing: bool
    resources: _containers.RepeatedScalarFieldContainer[str]
    items: _containers.RepeatedScalarFieldContainer[str]
    on_reject: RejectionEffect
    on_expiry: ExpiryEffect
    def __init__(self, id: _Optional[str] = ..., function: _Optional[_Union[Function, str]] = ..., action: _Optional[_Union[ActionKind, str]] = ..., spend_limit: _Optional[float] = ..., hard_cap: _Optional[float] = ..., approver: _Optional[_Union[Approver, _Mapping]] = ..., escalation_delay_hours: _Optional[float] = ..., governance_cost: _Optional[float] = ..., standing: _Optional[bool] = ..., resources: _Optional[_Iterable[str]] = ..., items: _Optional[_Iterable[str]] = ..., on_reject: _Optional[_Union[RejectionEffect, str]] = ..., on_expiry: _Optional[_Union[ExpiryEffect, str]] = ...) -> None: ...

class Predicate(_message.Message):
    __slots__ = ("min_duration_hours", "max_duration_hours", "min_magnitude", "max_magnitude", "supplier_tier", "nodes", "items")
    MIN_DURATION_HOURS_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_HOURS_FIELD_NUMBER: _ClassVar[int]
    MIN_MAGNITUDE_FIELD_NUMBER: _ClassVar[int]
    MAX_MAGNITUDE_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_TIER_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    min_duration_hours: float
    max_duration_hours: float
    min_magnitude: float
    max_magnitude: float
    supplier_tier: int
    nodes: _containers.RepeatedScalarFieldContainer[str]
    items: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, min_duration_hours: _Optional[float] = ..., max_duration_hours: _Optional[float] = ..., min_magnitude: _Optional[float] = ..., max_magnitude: _Optional[float] = ..., supplier_tier: _Optional[int] = ..., nodes: _Optional[_Iterable[str]] = ..., items: _Optional[_Iterable[str]] = ...) -> None: ...

class SignalRule(_message.Message):
    __slots__ = ("id", "signal_type", "activates", "predicate")
    ID_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTIVATES_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    signal_type: _signals_pb2.SignalType
    activates: _containers.RepeatedScalarFieldContainer[str]
    predicate: Predicate
    def __init__(self, id: _Optional[str] = ..., signal_type: _Optional[_Union[_signals_pb2.SignalType, str]] = ..., activates: _Optional[_Iterable[str]] = ..., predicate: _Optional[_Union[Predicate, _Mapping]] = ...) -> None: ...

class ProtocolSet(_message.Message):
    __slots__ = ("name", "roles", "authority_rules", "signal_rules")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    AUTHORITY_RULES_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_RULES_FIELD_NUMBER: _ClassVar[int]
    name: str
    roles: _containers.RepeatedCompositeFieldContainer[Role]
    authority_rules: _containers.RepeatedCompositeFieldContainer[AuthorityRule]
    signal_rules: _containers.RepeatedCompositeFieldContainer[SignalRule]
    def __init__(self, name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[Role, _Mapping]]] = ..., authority_rules: _Optional[_Iterable[_Union[AuthorityRule, _Mapping]]] = ..., signal_rules: _Optional[_Iterable[_Union[SignalRule, _Mapping]]] = ...) -> None: ...
