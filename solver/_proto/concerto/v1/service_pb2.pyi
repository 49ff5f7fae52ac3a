import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from solver._proto.concerto.v1 import network_pb2 as _network_pb2
from solver._proto.concerto.v1 import plan_pb2 as _plan_pb2
from solver._proto.concerto.v1 import protocols_pb2 as _protocols_pb2
from solver._proto.concerto.v1 import signals_pb2 as _signals_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DecisionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_STATE_UNSPECIFIED: _ClassVar[DecisionState]
    DECISION_STATE_NOT_REQUIRED: _ClassVar[DecisionState]
    DECISION_STATE_PENDING: _ClassVar[DecisionState]
    DECISION_STATE_APPROVED: _ClassVar[DecisionState]
    DECISION_STATE_REJECTED: _ClassVar[DecisionState]
    DECISION_STATE_EXPIRED: _ClassVar[DecisionState]

class ModelFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_FORMAT_UNSPECIFIED: _ClassVar[ModelFormat]
    MODEL_FORMAT_MPS: _ClassVar[ModelFormat]
    MODEL_FORMAT_LP: _ClassVar[ModelFormat]

class SignalChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_CHANGE_UNSPECIFIED: _ClassVar[SignalChange]
    SIGNAL_CHANGE_NEW: _ClassVar[SignalChange]
    SIGNAL_CHANGE_UPDATE: _ClassVar[SignalChange]
    SIGNAL_CHANGE_CANCEL: _ClassVar[SignalChange]
DECISION_STATE_UNSPECIFIED: DecisionState
DECISION_STATE_NOT_REQUIRED: DecisionState
DECISION_STATE_PENDING: DecisionState
DECISION_STATE_APPROVED: DecisionState
DECISION_STATE_REJECTED: DecisionState
DECISION_STATE_EXPIRED: DecisionState
MODEL_FORMAT_UNSPECIFIED: ModelFormat
MODEL_FORMAT_MPS: ModelFormat
MODEL_FORMAT_LP: ModelFormat
SIGNAL_CHANGE_UNSPECIFIED: SignalChange
SIGNAL_CHANGE_NEW: SignalChange
SIGNAL_CHANGE_UPDATE: SignalChange
SIGNAL_CHANGE_CANCEL: SignalChange

class SolveOptions(_message.Message):
    __slots__ = ("time_limit_seconds", "mip_rel_gap", "threads", "seed", "backend", "method")
    TIME_LIMIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MIP_REL_GAP_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    time_limit_seconds: float
    mip_rel_gap: float
    threads: int
    seed: int
    backend: str
    method: str
    def __init__(self, time_limit_seconds: _Optional[float] = ..., mip_rel_gap: _Optional[float] = ..., threads: _Optional[int] = ..., seed: _Optional[int] = ..., backend: _Optional[str] = ..., method: _Optional[str] = ...) -> None: ...

class PutNetworkRequest(_message.Message):
    __slots__ = ("network_id", "network", "protocols", "clear_protocols")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    CLEAR_PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    network: _network_pb2.Network
    protocols: _protocols_pb2.ProtocolSet
    clear_protocols: bool
    def __init__(self, network_id: _Optional[str] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., protocols: _Optional[_Union[_protocols_pb2.ProtocolSet, _Mapping]] = ..., clear_protocols: _Optional[bool] = ...) -> None: ...

class NetworkVersion(_message.Message):
    __slots__ = ("network_id", "version", "network", "protocols", "has_protocols", "created_at", "created_by")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    HAS_PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    version: int
    network: _network_pb2.Network
    protocols: _protocols_pb2.ProtocolSet
    has_protocols: bool
    created_at: _timestamp_pb2.Timestamp
    created_by: str
    def __init__(self, network_id: _Optional[str] = ..., version: _Optional[int] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., protocols: _Optional[_Union[_protocols_pb2.ProtocolSet, _Mapping]] = ..., has_protocols: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ...) -> None: ...

class GetNetworkRequest(_message.Message):
    __slots__ = ("network_id", "version")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    version: int
    def __init__(self, network_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ValidateNetworkRequest(_message.Message):
    __slots__ = ("network", "protocols", "signals")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    network: _network_pb2.Network
    protocols: _protocols_pb2.ProtocolSet
    signals: _containers.RepeatedCompositeFieldContainer[_signals_pb2.Signal]
    def __init__(self, network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., protocols: _Optional[_Union[_protocols_pb2.ProtocolSet, _Mapping]] = ..., signals: _Optional[_Iterable[_Union[_signals_pb2.Signal, _Mapping]]] = ...) -> None: ...

class FieldViolation(_message.Message):
    __slots__ = ("entity", "id", "field", "message")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    entity: str
    id: str
    field: str
    message: str
    def __init__(self, entity: _Optional[str] = ..., id: _Optional[str] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ValidateNetworkResponse(_message.Message):
    __slots__ = ("valid", "violations")
    VALID_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    violations: _containers.RepeatedCompositeFieldContainer[FieldViolation]
    def __init__(self, valid: _Optional[bool] = ..., violations: _Optional[_Iterable[_Union[FieldViolation, _Mapping]]] = ...) -> None: ...

class ListNetworksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NetworkSummary(_message.Message):
    __slots__ = ("network_id", "latest_version", "name", "plan_versions", "updated_at")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    latest_version: int
    name: str
    plan_versions: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, network_id: _Optional[str] = ..., latest_version: _Optional[int] = ..., name: _Optional[str] = ..., plan_versions: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListNetworksResponse(_message.Message):
    __slots__ = ("networks",)
    NETWORKS_FIELD_NUMBER: _ClassVar[int]
    networks: _containers.RepeatedCompositeFieldContainer[NetworkSummary]
    def __init__(self, networks: _Optional[_Iterable[_Union[NetworkSummary, _Mapping]]] = ...) -> None: ...

class SolveRequest(_message.Message):
    __slots__ = ("network", "protocols", "signals", "options")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    network: _network_pb2.Network
    protocols: _protocols_pb2.ProtocolSet
    signals: _containers.RepeatedCompositeFieldContainer[_signals_pb2.Signal]
    options: SolveOptions
    def __init__(self, network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., protocols: _Optional[_Union[_protocols_pb2.ProtocolSet, _Mapping]] = ..., signals: _Optional[_Iterable[_Union[_signals_pb2.Signal, _Mapping]]] = ..., options: _Optional[_Union[SolveOptions, _Mapping]] = ...) -> None: ...

class SolveResponse(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: _plan_pb2.PlanResult
    def __init__(self, plan: _Optional[_Union[_plan_pb2.PlanResult, _Mapping]] = ...) -> None: ...

class PlanRequest(_message.Message):
    __slots__ = ("network_id", "network_version", "options", "idempotency_key")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    network_version: int
    options: SolveOptions
    idempotency_key: str
    def __init__(self, network_id: _Optional[str] = ..., network_version: _Optional[int] = ..., options: _Optional[_Union[SolveOptions, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReplanRequest(_message.Message):
    __slots__ = ("network_id", "baseline_version", "signals", "options", "idempotency_key", "allow_stale_baseline", "settings", "withdrawn_signals")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    BASELINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_STALE_BASELINE_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_SIGNALS_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    baseline_version: int
    signals: _containers.RepeatedCompositeFieldContainer[_signals_pb2.Signal]
    options: SolveOptions
    idempotency_key: str
    allow_stale_baseline: bool
    settings: ReplanSettings
    withdrawn_signals: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, network_id: _Optional[str] = ..., baseline_version: _Optional[int] = ..., signals: _Optional[_Iterable[_Union[_signals_pb2.Signal, _Mapping]]] = ..., options: _Optional[_Union[SolveOptions, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., allow_stale_baseline: _Optional[bool] = ..., settings: _Optional[_Union[ReplanSettings, _Mapping]] = ..., withdrawn_signals: _Optional[_Iterable[str]] = ...) -> None: ...

class ReplanSettings(_message.Message):
    __slots__ = ("stability_weight", "decay", "fence_periods", "procurement_weight", "production_weight", "logistics_weight", "skip_first_answer", "upstream_hops", "recovery_periods", "fence_penalty", "first_answer_gap")
    STABILITY_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    DECAY_FIELD_NUMBER: _ClassVar[int]
    FENCE_PERIODS_FIELD_NUMBER: _ClassVar[int]
    PROCUREMENT_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    PRODUCTION_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    LOGISTICS_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SKIP_FIRST_ANSWER_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_HOPS_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_PERIODS_FIELD_NUMBER: _ClassVar[int]
    FENCE_PENALTY_FIELD_NUMBER: _ClassVar[int]
    FIRST_ANSWER_GAP_FIELD_NUMBER: _ClassVar[int]
    stability_weight: float
    decay: float
    fence_periods: int
    procurement_weight: float
    production_weight: float
    logistics_weight: float
    skip_first_answer: bool
    upstream_hops: int
    recovery_periods: int
    fence_penalty: float
    first_answer_gap: float
    def __init__(self, stability_weight: _Optional[float] = ..., decay: _Optional[float] = ..., fence_periods: _Optional[int] = ..., procurement_weight: _Optional[float] = ..., production_weight: _Optional[float] = ..., logistics_weight: _Optional[float] = ..., skip_first_answer: _Optional[bool] = ..., upstream_hops: _Optional[int] = ..., recovery_periods: _Optional[int] = ..., fence_penalty: _Optional[float] = ..., first_answer_gap: _Optional[float] = ...) -> None: ...

class FenceCut(_message.Message):
    __slots__ = ("block", "resource", "period", "baseline", "replanned", "reason")
    BLOCK_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    REPLANNED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    block: str
    resource: str
    period: int
    baseline: float
    replanned: float
    reason: str
    def __init__(self, block: _Optional[str] = ..., resource: _Optional[str] = ..., period: _Optional[int] = ..., baseline: _Optional[float] = ..., replanned: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class ReplanInfo(_message.Message):
    __slots__ = ("kind", "business_objective", "first_plan_seconds", "ready_seconds", "execute_after_hours", "mip_start_accepted", "fence_cuts", "changed", "total")
    KIND_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    FIRST_PLAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    READY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_AFTER_HOURS_FIELD_NUMBER: _ClassVar[int]
    MIP_START_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    FENCE_CUTS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    business_objective: float
    first_plan_seconds: float
    ready_seconds: float
    execute_after_hours: float
    mip_start_accepted: bool
    fence_cuts: _containers.RepeatedCompositeFieldContainer[FenceCut]
    changed: int
    total: int
    def __init__(self, kind: _Optional[str] = ..., business_objective: _Optional[float] = ..., first_plan_seconds: _Optional[float] = ..., ready_seconds: _Optional[float] = ..., execute_after_hours: _Optional[float] = ..., mip_start_accepted: _Optional[bool] = ..., fence_cuts: _Optional[_Iterable[_Union[FenceCut, _Mapping]]] = ..., changed: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class PlanVersion(_message.Message):
    __slots__ = ("network_id", "version", "network_version", "baseline_version", "signals", "plan", "created_at", "idempotency_key", "replan", "trigger")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NETWORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    BASELINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REPLAN_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    version: int
    network_version: int
    baseline_version: int
    signals: _containers.RepeatedCompositeFieldContainer[_signals_pb2.Signal]
    plan: _plan_pb2.PlanResult
    created_at: _timestamp_pb2.Timestamp
    idempotency_key: str
    replan: ReplanInfo
    trigger: str
    def __init__(self, network_id: _Optional[str] = ..., version: _Optional[int] = ..., network_version: _Optional[int] = ..., baseline_version: _Optional[int] = ..., signals: _Optional[_Iterable[_Union[_signals_pb2.Signal, _Mapping]]] = ..., plan: _Optional[_Union[_plan_pb2.PlanResult, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., replan: _Optional[_Union[ReplanInfo, _Mapping]] = ..., trigger: _Optional[str] = ...) -> None: ...

class SolveProgress(_message.Message):
    __slots__ = ("elapsed_seconds", "objective", "best_bound", "gap", "phase")
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    BEST_BOUND_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    elapsed_seconds: float
    objective: float
    best_bound: float
    gap: float
    phase: str
    def __init__(self, elapsed_seconds: _Optional[float] = ..., objective: _Optional[float] = ..., best_bound: _Optional[float] = ..., gap: _Optional[float] = ..., phase: _Optional[str] = ...) -> None: ...

class SolveEvent(_message.Message):
    __slots__ = ("progress", "plan", "version", "first")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FIRST_FIELD_NUMBER: _ClassVar[int]
    progress: SolveProgress
    plan: _plan_pb2.PlanResult
    version: PlanVersion
    first: _plan_pb2.PlanResult
    def __init__(self, progress: _Optional[_Union[SolveProgress, _Mapping]] = ..., plan: _Optional[_Union[_plan_pb2.PlanResult, _Mapping]] = ..., version: _Optional[_Union[PlanVersion, _Mapping]] = ..., first: _Optional[_Union[_plan_pb2.PlanResult, _Mapping]] = ...) -> None: ...

class GetPlanRequest(_message.Message):
    __slots__ = ("network_id", "version")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    version: int
    def __init__(self, network_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class PlanSummary(_message.Message):
    __slots__ = ("version", "network_version", "baseline_version", "status", "objective", "decisions", "needs_approval", "signals", "created_at")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NETWORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    BASELINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    NEEDS_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    version: int
    network_version: int
    baseline_version: int
    status: _plan_pb2.SolveStatus
    objective: float
    decisions: int
    needs_approval: int
    signals: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, version: _Optional[int] = ..., network_version: _Optional[int] = ..., baseline_version: _Optional[int] = ..., status: _Optional[_Union[_plan_pb2.SolveStatus, str]] = ..., objective: _Optional[float] = ..., decisions: _Optional[int] = ..., needs_approval: _Optional[int] = ..., signals: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ("network_id",)
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    def __init__(self, network_id: _Optional[str] = ...) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans",)
    PLANS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[PlanSummary]
    def __init__(self, plans: _Optional[_Iterable[_Union[PlanSummary, _Mapping]]] = ...) -> None: ...

class DiffPlansRequest(_message.Message):
    __slots__ = ("network_id", "from_version", "to_version")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    from_version: int
    to_version: int
    def __init__(self, network_id: _Optional[str] = ..., from_version: _Optional[int] = ..., to_version: _Optional[int] = ...) -> None: ...

class PlanChange(_message.Message):
    __slots__ = ("kind", "key", "function", "before", "after")
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    kind: str
    key: str
    function: _protocols_pb2.Function
    before: float
    after: float
    def __init__(self, kind: _Optional[str] = ..., key: _Optional[str] = ..., function: _Optional[_Union[_protocols_pb2.Function, str]] = ..., before: _Optional[float] = ..., after: _Optional[float] = ...) -> None: ...

class DiffPlansResponse(_message.Message):
    __slots__ = ("changes", "objective_before", "objective_after", "cost_change_by_component", "changed", "total", "fill_rate_before", "fill_rate_after")
    class CostChangeByComponentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_AFTER_FIELD_NUMBER: _ClassVar[int]
    COST_CHANGE_BY_COMPONENT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    FILL_RATE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    FILL_RATE_AFTER_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[PlanChange]
    objective_before: float
    objective_after: float
    cost_change_by_component: _containers.ScalarMap[str, float]
    changed: int
    total: int
    fill_rate_before: float
    fill_rate_after: float
    def __init__(self, changes: _Optional[_Iterable[_Union[PlanChange, _Mapping]]] = ..., objective_before: _Optional[float] = ..., objective_after: _Optional[float] = ..., cost_change_by_component: _Optional[_Mapping[str, float]] = ..., changed: _Optional[int] = ..., total: _Optional[int] = ..., fill_rate_before: _Optional[float] = ..., fill_rate_after: _Optional[float] = ...) -> None: ...

class WatchPlansRequest(_message.Message):
    __slots__ = ("network_id", "after_version")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    after_version: int
    def __init__(self, network_id: _Optional[str] = ..., after_version: _Optional[int] = ...) -> None: ...

class ListDecisionsRequest(_message.Message):
    __slots__ = ("network_id", "plan_version", "state")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    plan_version: int
    state: DecisionState
    def __init__(self, network_id: _Optional[str] = ..., plan_version: _Optional[int] = ..., state: _Optional[_Union[DecisionState, str]] = ...) -> None: ...

class DecisionRecord(_message.Message):
    __slots__ = ("network_id", "plan_version", "index", "decision", "state", "decided_by", "decided_at", "note", "escalation", "approver", "decided_credential", "signoffs", "executable")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    APPROVER_FIELD_NUMBER: _ClassVar[int]
    DECIDED_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    SIGNOFFS_FIELD_NUMBER: _ClassVar[int]
    EXECUTABLE_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    plan_version: int
    index: int
    decision: _plan_pb2.Decision
    state: DecisionState
    decided_by: str
    decided_at: _timestamp_pb2.Timestamp
    note: str
    escalation: str
    approver: str
    decided_credential: str
    signoffs: _containers.RepeatedCompositeFieldContainer[SignOff]
    executable: bool
    def __init__(self, network_id: _Optional[str] = ..., plan_version: _Optional[int] = ..., index: _Optional[int] = ..., decision: _Optional[_Union[_plan_pb2.Decision, _Mapping]] = ..., state: _Optional[_Union[DecisionState, str]] = ..., decided_by: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ..., escalation: _Optional[str] = ..., approver: _Optional[str] = ..., decided_credential: _Optional[str] = ..., signoffs: _Optional[_Iterable[_Union[SignOff, _Mapping]]] = ..., executable: _Optional[bool] = ...) -> None: ...

class SignOff(_message.Message):
    __slots__ = ("function", "principal", "credential", "approve", "at", "note")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    function: str
    principal: str
    credential: str
    approve: bool
    at: _timestamp_pb2.Timestamp
    note: str
    def __init__(self, function: _Optional[str] = ..., principal: _Optional[str] = ..., credential: _Optional[str] = ..., approve: _Optional[bool] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...

class ListDecisionsResponse(_message.Message):
    __slots__ = ("decisions",)
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    decisions: _containers.RepeatedCompositeFieldContainer[DecisionRecord]
    def __init__(self, decisions: _Optional[_Iterable[_Union[DecisionRecord, _Mapping]]] = ...) -> None: ...

class DecideRequest(_message.Message):
    __slots__ = ("network_id", "plan_version", "index", "decided_by", "note")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    plan_version: int
    index: int
    decided_by: str
    note: str
    def __init__(self, network_id: _Optional[str] = ..., plan_version: _Optional[int] = ..., index: _Optional[int] = ..., decided_by: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ListAuditRequest(_message.Message):
    __slots__ = ("network_id",)
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    def __init__(self, network_id: _Optional[str] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("seq", "network_id", "at", "principal", "credential", "action", "detail")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    seq: int
    network_id: str
    at: _timestamp_pb2.Timestamp
    principal: str
    credential: str
    action: str
    detail: str
    def __init__(self, seq: _Optional[int] = ..., network_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., principal: _Optional[str] = ..., credential: _Optional[str] = ..., action: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class ListAuditResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ...) -> None: ...

class ExportModelRequest(_message.Message):
    __slots__ = ("inline", "network_id", "network_version", "signals", "format")
    INLINE_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_VERSION_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    inline: SolveRequest
    network_id: str
    network_version: int
    signals: _containers.RepeatedCompositeFieldContainer[_signals_pb2.Signal]
    format: ModelFormat
    def __init__(self, inline: _Optional[_Union[SolveRequest, _Mapping]] = ..., network_id: _Optional[str] = ..., network_version: _Optional[int] = ..., signals: _Optional[_Iterable[_Union[_signals_pb2.Signal, _Mapping]]] = ..., format: _Optional[_Union[ModelFormat, str]] = ...) -> None: ...

class ExportModelResponse(_message.Message):
    __slots__ = ("text", "columns", "rows")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    text: str
    columns: int
    rows: int
    def __init__(self, text: _Optional[str] = ..., columns: _Optional[int] = ..., rows: _Optional[int] = ...) -> None: ...

class ListBackendsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Backend(_message.Message):
    __slots__ = ("name", "available", "version", "features", "is_default")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    name: str
    available: bool
    version: str
    features: _containers.RepeatedScalarFieldContainer[str]
    is_default: bool
    def __init__(self, name: _Optional[str] = ..., available: _Optional[bool] = ..., version: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., is_default: _Optional[bool] = ...) -> None: ...

class ListBackendsResponse(_message.Message):
    __slots__ = ("backends",)
    BACKENDS_FIELD_NUMBER: _ClassVar[int]
    backends: _containers.RepeatedCompositeFieldContainer[Backend]
    def __init__(self, backends: _Optional[_Iterable[_Union[Backend, _Mapping]]] = ...) -> None: ...

class PublishedSignal(_message.Message):
    __slots__ = ("source", "source_id", "change", "signal", "detected_at")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    source: str
    source_id: str
    change: SignalChange
    signal: _signals_pb2.Signal
    detected_at: _timestamp_pb2.Timestamp
    def __init__(self, source: _Optional[str] = ..., source_id: _Optional[str] = ..., change: _Optional[_Union[SignalChange, str]] = ..., signal: _Optional[_Union[_signals_pb2.Signal, _Mapping]] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PublishSignalsRequest(_message.Message):
    __slots__ = ("network_id", "signals")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    signals: _containers.RepeatedCompositeFieldContainer[PublishedSignal]
    def __init__(self, network_id: _Optional[str] = ..., signals: _Optional[_Iterable[_Union[PublishedSignal, _Mapping]]] = ...) -> None: ...

class ReceivedSignal(_message.Message):
    __slots__ = ("source", "source_id", "revision", "duplicate", "seq", "received_at")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    source: str
    source_id: str
    revision: int
    duplicate: bool
    seq: int
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, source: _Optional[str] = ..., source_id: _Optional[str] = ..., revision: _Optional[int] = ..., duplicate: _Optional[bool] = ..., seq: _Optional[int] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PublishSignalsResponse(_message.Message):
    __slots__ = ("signals",)
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    signals: _containers.RepeatedCompositeFieldContainer[ReceivedSignal]
    def __init__(self, signals: _Optional[_Iterable[_Union[ReceivedSignal, _Mapping]]] = ...) -> None: ...

class GetNetworkSettingsRequest(_message.Message):
    __slots__ = ("network_id",)
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    def __init__(self, network_id: _Optional[str] = ...) -> None: ...

class SetNetworkSettingsRequest(_message.Message):
    __slots__ = ("network_id", "automatic", "window_seconds", "replan", "options")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REPLAN_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    automatic: bool
    window_seconds: float
    replan: ReplanSettings
    options: SolveOptions
    def __init__(self, network_id: _Optional[str] = ..., automatic: _Optional[bool] = ..., window_seconds: _Optional[float] = ..., replan: _Optional[_Union[ReplanSettings, _Mapping]] = ..., options: _Optional[_Union[SolveOptions, _Mapping]] = ...) -> None: ...

class NetworkSettings(_message.Message):
    __slots__ = ("network_id", "automatic", "window_seconds", "replan", "options", "updated_at")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REPLAN_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    automatic: bool
    window_seconds: float
    replan: ReplanSettings
    options: SolveOptions
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, network_id: _Optional[str] = ..., automatic: _Optional[bool] = ..., window_seconds: _Optional[float] = ..., replan: _Optional[_Union[ReplanSettings, _Mapping]] = ..., options: _Optional[_Union[SolveOptions, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetResponseTimelineRequest(_message.Message):
    __slots__ = ("network_id",)
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    def __init__(self, network_id: _Optional[str] = ...) -> None: ...

class TimelineEntry(_message.Message):
    __slots__ = ("source", "source_id", "revision", "change", "detected_at", "received_at", "first_plan_at", "first_plan_version", "final_plan_at", "final_plan_version", "approvals_at", "executable_at", "pending_escalations", "response_seconds")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    FIRST_PLAN_AT_FIELD_NUMBER: _ClassVar[int]
    FIRST_PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    FINAL_PLAN_AT_FIELD_NUMBER: _ClassVar[int]
    FINAL_PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_AT_FIELD_NUMBER: _ClassVar[int]
    EXECUTABLE_AT_FIELD_NUMBER: _ClassVar[int]
    PENDING_ESCALATIONS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    source: str
    source_id: str
    revision: int
    change: SignalChange
    detected_at: _timestamp_pb2.Timestamp
    received_at: _timestamp_pb2.Timestamp
    first_plan_at: _timestamp_pb2.Timestamp
    first_plan_version: int
    final_plan_at: _timestamp_pb2.Timestamp
    final_plan_version: int
    approvals_at: _timestamp_pb2.Timestamp
    executable_at: _timestamp_pb2.Timestamp
    pending_escalations: int
    response_seconds: float
    def __init__(self, source: _Optional[str] = ..., source_id: _Optional[str] = ..., revision: _Optional[int] = ..., change: _Optional[_Union[SignalChange, str]] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_plan_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_plan_version: _Optional[int] = ..., final_plan_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., final_plan_version: _Optional[int] = ..., approvals_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., executable_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pending_escalations: _Optional[int] = ..., response_seconds: _Optional[float] = ...) -> None: ...

class ResponseTimeline(_message.Message):
    __slots__ = ("network_id", "entries", "median_seconds", "worst_seconds", "answered")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WORST_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    entries: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    median_seconds: float
    worst_seconds: float
    answered: int
    def __init__(self, network_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ..., median_seconds: _Optional[float] = ..., worst_seconds: _Optional[float] = ..., answered: _Optional[int] = ...) -> None: ...

class StockCount(_message.Message):
    __slots__ = ("node", "item", "on_hand")
    NODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    node: str
    item: str
    on_hand: float
    def __init__(self, node: _Optional[str] = ..., item: _Optional[str] = ..., on_hand: _Optional[float] = ...) -> None: ...

class AdvancePeriodRequest(_message.Message):
    __slots__ = ("network_id", "periods", "counted", "options")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    periods: int
    counted: _containers.RepeatedCompositeFieldContainer[StockCount]
    options: SolveOptions
    def __init__(self, network_id: _Optional[str] = ..., periods: _Optional[int] = ..., counted: _Optional[_Iterable[_Union[StockCount, _Mapping]]] = ..., options: _Optional[_Union[SolveOptions, _Mapping]] = ...) -> None: ...

class AdvancePeriodResponse(_message.Message):
    __slots__ = ("network", "plan")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    network: NetworkVersion
    plan: PlanVersion
    def __init__(self, network: _Optional[_Union[NetworkVersion, _Mapping]] = ..., plan: _Optional[_Union[PlanVersion, _Mapping]] = ...) -> None: ...

class WatchNetworkRequest(_message.Message):
    __slots__ = ("network_id", "after_seq")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    after_seq: int
    def __init__(self, network_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...
