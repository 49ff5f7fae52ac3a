"""The service's own messages <-> domain objects: solve options, field violations, plan diffs,
replan settings and answers, decisions with their approval records, progress, stored versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from google.protobuf.timestamp_pb2 import Timestamp

from models.errors import ValidationError
from models.replanning import FenceCut, ReplanOptions
from solver._proto.concerto.v1 import plan_pb2, service_pb2
from solver.backends.base import BackendFeature
from solver.backends.registry import DEFAULT_BACKEND, BackendInfo
from solver.convert._common import (
    _FUNCTION_CHOICES,
    _FUNCTION_FROM_PROTO,
    _FUNCTION_TO_PROTO,
    _components,
    _enum_to_domain,
    _enum_to_proto,
    _limit,
)
from solver.convert.network import network_to_spec, spec_to_network
from solver.convert.plan import (
    decision_from_proto,
    decision_to_proto,
    plan_from_proto,
    plan_to_proto,
    solve_status_from_proto,
    solve_status_to_proto,
)
from solver.convert.protocols import protocols_to_domain, protocols_to_proto
from solver.convert.signals import signal_to_domain, signal_to_proto
from solver.diff import PlanChange, PlanDiff
from solver.options import SolveOptions
from solver.records import (
    ExportedModel,
    NetworkSummary,
    PlanSummary,
    ReplanInfo,
    SolveProgress,
    StoredDecision,
    StoredNetwork,
    StoredPlan,
)
from solver.store import AuditRecord, DecisionState, SignOff

# SolveOptions' field -> the SolveOptions message's field, for errors that must name the latter.
_OPTION_FIELDS = {
    "time_limit": "time_limit_seconds",
    "mip_rel_gap": "mip_rel_gap",
    "threads": "threads",
    "seed": "seed",
    "method": "method",
}
_DEFAULT_OPTIONS = SolveOptions()


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
            method=msg.method or _DEFAULT_OPTIONS.method,
        )
    except ValidationError as exc:
        raise ValidationError(exc.entity, exc.ident, option_message_field(exc.field), exc.message) from exc


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
        method="" if options.method == _DEFAULT_OPTIONS.method else options.method,
    )


def backend_from_proto(msg: service_pb2.SolveOptions) -> str:
    """The backend a request names (empty: the default, "highs"); `options_to_proto` is the inverse.
    Whether it is known, usable here and able to honour the request's options is the use case's
    check (`solver.usecases.check_backend`), made before anything is queued."""
    return msg.backend or DEFAULT_BACKEND


def option_message_field(field: str) -> str:
    """The `SolveOptions` message's field, prefixed "options.", for a `SolveOptions` field named in
    an error (time_limit -> options.time_limit_seconds)."""
    return "options." + _OPTION_FIELDS.get(field, field)


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


# -- replans ----------------------------------------------------------------------------------


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


def replan_info_to_proto(info: ReplanInfo) -> service_pb2.ReplanInfo:
    """The `ReplanInfo` message of how a replan answered; `replan_info_from_proto` gives it back."""
    return service_pb2.ReplanInfo(
        kind=info.kind,
        business_objective=info.business_objective,
        first_plan_seconds=info.first_plan_seconds,
        ready_seconds=info.ready_seconds,
        execute_after_hours=info.execute_after_hours,
        mip_start_accepted=info.mip_start_accepted,
        fence_cuts=[fence_cut_to_proto(c) for c in info.fence_cuts],
        changed=info.changed,
        total=info.total,
    )


def replan_info_from_proto(msg: service_pb2.ReplanInfo) -> ReplanInfo:
    """How a replan answered, as its `ReplanInfo` message says."""
    return ReplanInfo(
        kind=msg.kind,
        business_objective=msg.business_objective,
        first_plan_seconds=msg.first_plan_seconds,
        ready_seconds=msg.ready_seconds,
        execute_after_hours=msg.execute_after_hours,
        mip_start_accepted=msg.mip_start_accepted,
        fence_cuts=tuple(fence_cut_from_proto(m) for m in msg.fence_cuts),
        changed=int(msg.changed),
        total=int(msg.total),
    )


def fence_cut_to_proto(cut: FenceCut) -> service_pb2.FenceCut:
    """The `FenceCut` message of a fenced decision a signal forced down; `fence_cut_from_proto` inverts it."""
    return service_pb2.FenceCut(
        block=cut.block,
        resource=cut.resource,
        period=cut.period,
        baseline=cut.baseline,
        replanned=cut.replanned,
        reason=cut.reason,
    )


def fence_cut_from_proto(msg: service_pb2.FenceCut) -> FenceCut:
    return FenceCut(
        block=msg.block,
        resource=msg.resource,
        period=int(msg.period),
        baseline=msg.baseline,
        replanned=msg.replanned,
        reason=msg.reason,
    )


_DECISION_STATE_FROM_PROTO: dict[service_pb2.DecisionState, DecisionState] = {
    service_pb2.DECISION_STATE_NOT_REQUIRED: DecisionState.NOT_REQUIRED,
    service_pb2.DECISION_STATE_PENDING: DecisionState.PENDING,
    service_pb2.DECISION_STATE_APPROVED: DecisionState.APPROVED,
    service_pb2.DECISION_STATE_REJECTED: DecisionState.REJECTED,
    service_pb2.DECISION_STATE_EXPIRED: DecisionState.EXPIRED,
}
_DECISION_STATE_TO_PROTO: dict[DecisionState, service_pb2.DecisionState] = {
    v: k for k, v in _DECISION_STATE_FROM_PROTO.items()
}


def decision_state_from_proto(state: service_pb2.DecisionState) -> DecisionState:
    """A requested decision state (set: UNSPECIFIED means every state, which the caller handles)."""
    if state not in _DECISION_STATE_FROM_PROTO:
        choices = ", ".join(_DECISION_STATE_FROM_PROTO.values())
        raise ValidationError("request", "decisions", "state", f"is {state}, not a decision state; use {choices}")
    return _DECISION_STATE_FROM_PROTO[state]


def decision_state_to_proto(state: DecisionState | None) -> service_pb2.DecisionState:
    """The proto enum of a decision state; None (every state) is UNSPECIFIED."""
    return service_pb2.DECISION_STATE_UNSPECIFIED if state is None else _DECISION_STATE_TO_PROTO[DecisionState(state)]


def decision_record_to_proto(record: StoredDecision) -> service_pb2.DecisionRecord:
    """A stored decision with its approval record; `decision_record_from_proto` gives it back."""
    msg = service_pb2.DecisionRecord(
        network_id=record.network_id,
        plan_version=record.plan_version,
        index=record.index,
        decision=decision_to_proto(record.decision, index=record.index, network=record.network_id),
        state=_DECISION_STATE_TO_PROTO[record.state],
        decided_by=record.decided_by,
        decided_at=timestamp_to_proto(record.decided_at) if record.decided_at is not None else None,
        note=record.note,
        escalation=record.escalation,
        approver=record.approver,
        decided_credential=record.decided_credential,
        executable=record.state.executable,
        signoffs=[
            service_pb2.SignOff(
                function=s.function,
                principal=s.principal,
                credential=s.credential,
                approve=s.approve,
                at=timestamp_to_proto(s.at),
                note=s.note,
            )
            for s in record.signoffs
        ],
    )
    return msg


def decision_record_from_proto(msg: service_pb2.DecisionRecord) -> StoredDecision:
    """The stored decision a `DecisionRecord` message describes."""
    return StoredDecision(
        network_id=msg.network_id,
        plan_version=int(msg.plan_version),
        index=int(msg.index),
        decision=decision_from_proto(msg.decision, index=int(msg.index), network=msg.network_id),
        state=decision_state_from_proto(msg.state),
        decided_by=msg.decided_by,
        decided_at=timestamp_from_proto(msg.decided_at) if msg.HasField("decided_at") else None,
        note=msg.note,
        escalation=msg.escalation,
        approver=msg.approver,
        decided_credential=msg.decided_credential,
        signoffs=tuple(
            SignOff(
                function=s.function,
                principal=s.principal,
                credential=s.credential,
                approve=s.approve,
                at=timestamp_from_proto(s.at),
                note=s.note,
            )
            for s in msg.signoffs
        ),
    )


def audit_entry_to_proto(r: AuditRecord) -> service_pb2.AuditEntry:
    return service_pb2.AuditEntry(
        seq=r.seq,
        network_id=r.network_id,
        at=timestamp_to_proto(r.at),
        principal=r.principal,
        credential=r.credential,
        action=r.action,
        detail=r.detail,
    )


def audit_entry_from_proto(e: service_pb2.AuditEntry) -> AuditRecord:
    return AuditRecord(
        seq=int(e.seq),
        network_id=e.network_id,
        at=timestamp_from_proto(e.at),
        principal=e.principal,
        credential=e.credential,
        action=e.action,
        detail=e.detail,
    )


def audit_list_to_proto(records: Sequence[AuditRecord]) -> service_pb2.ListAuditResponse:
    """A network's audit trail; `audit_list_from_proto` gives it back."""
    return service_pb2.ListAuditResponse(entries=[audit_entry_to_proto(r) for r in records])


def audit_list_from_proto(msg: service_pb2.ListAuditResponse) -> list[AuditRecord]:
    return [audit_entry_from_proto(e) for e in msg.entries]


class ProgressLike(Protocol):
    """What a progress event carries (`solver.workers.Progress`, `solver.records.SolveProgress`)."""

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
    """The `SolveProgress` message of a progress event; `progress_from_proto` gives it back."""
    return service_pb2.SolveProgress(
        elapsed_seconds=progress.elapsed_seconds,
        objective=progress.objective,
        best_bound=progress.best_bound,
        gap=progress.gap,
        phase=progress.phase,
    )


def progress_from_proto(msg: service_pb2.SolveProgress) -> SolveProgress:
    return SolveProgress(
        elapsed_seconds=msg.elapsed_seconds,
        objective=msg.objective,
        best_bound=msg.best_bound,
        gap=msg.gap,
        phase=msg.phase,
    )


def timestamp_to_proto(moment: datetime) -> Timestamp:
    """A moment as a protobuf Timestamp (a naive datetime is taken as UTC)."""
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def timestamp_from_proto(ts: Timestamp) -> datetime:
    """A protobuf Timestamp as an aware UTC datetime."""
    return ts.ToDatetime(tzinfo=UTC)


# -- stored versions and summaries -------------------------------------------------------------


def network_version_to_proto(stored: StoredNetwork) -> service_pb2.NetworkVersion:
    """The `NetworkVersion` message of a stored network; `network_version_from_proto` gives it back."""
    return service_pb2.NetworkVersion(
        network_id=stored.network_id,
        version=stored.version,
        network=spec_to_network(stored.spec),
        protocols=protocols_to_proto(stored.protocols) if stored.protocols is not None else None,
        has_protocols=stored.protocols is not None,
        created_at=timestamp_to_proto(stored.created_at),
        created_by=stored.created_by,
    )


def network_version_from_proto(msg: service_pb2.NetworkVersion) -> StoredNetwork:
    return StoredNetwork(
        network_id=msg.network_id,
        version=int(msg.version),
        spec=network_to_spec(msg.network),
        protocols=protocols_to_domain(msg.protocols) if msg.has_protocols else None,
        created_at=timestamp_from_proto(msg.created_at),
        created_by=msg.created_by,
    )


def plan_version_to_proto(stored: StoredPlan) -> service_pb2.PlanVersion:
    """The `PlanVersion` message of a stored plan; `plan_version_from_proto` gives it back."""
    return service_pb2.PlanVersion(
        network_id=stored.network_id,
        version=stored.version,
        network_version=stored.network_version,
        baseline_version=stored.baseline_version,
        signals=[signal_to_proto(s) for s in stored.signals],
        plan=plan_pb2.PlanResult.FromString(stored.plan_bytes) if stored.plan_bytes else plan_to_proto(stored.plan),
        created_at=timestamp_to_proto(stored.created_at) if stored.created_at is not None else None,
        idempotency_key=stored.idempotency_key,
        replan=replan_info_to_proto(stored.replan) if stored.replan is not None else None,
        trigger=stored.trigger,
    )


def plan_version_from_proto(msg: service_pb2.PlanVersion) -> StoredPlan:
    return StoredPlan(
        network_id=msg.network_id,
        version=int(msg.version),
        network_version=int(msg.network_version),
        baseline_version=int(msg.baseline_version),
        signals=tuple(signal_to_domain(s) for s in msg.signals),
        plan=plan_from_proto(msg.plan),
        idempotency_key=msg.idempotency_key,
        replan=replan_info_from_proto(msg.replan) if msg.HasField("replan") else None,
        created_at=timestamp_from_proto(msg.created_at) if msg.HasField("created_at") else None,
        trigger=msg.trigger,
    )


def network_summary_to_proto(summary: NetworkSummary) -> service_pb2.NetworkSummary:
    """The `NetworkSummary` message of a stored network's summary; `network_summary_from_proto` inverts it."""
    return service_pb2.NetworkSummary(
        network_id=summary.network_id,
        latest_version=summary.latest_version,
        name=summary.name,
        plan_versions=summary.plan_versions,
        updated_at=timestamp_to_proto(summary.updated_at),
    )


def network_summary_from_proto(msg: service_pb2.NetworkSummary) -> NetworkSummary:
    return NetworkSummary(
        network_id=msg.network_id,
        latest_version=int(msg.latest_version),
        name=msg.name,
        plan_versions=int(msg.plan_versions),
        updated_at=timestamp_from_proto(msg.updated_at),
    )


def plan_summary_to_proto(summary: PlanSummary) -> service_pb2.PlanSummary:
    """The `PlanSummary` message of a plan version's summary; `plan_summary_from_proto` inverts it."""
    return service_pb2.PlanSummary(
        version=summary.version,
        network_version=summary.network_version,
        baseline_version=summary.baseline_version,
        status=solve_status_to_proto(summary.status),
        objective=summary.objective,
        decisions=summary.decisions,
        needs_approval=summary.needs_approval,
        signals=list(summary.signals),
        created_at=timestamp_to_proto(summary.created_at),
    )


def plan_summary_from_proto(msg: service_pb2.PlanSummary) -> PlanSummary:
    return PlanSummary(
        version=int(msg.version),
        network_version=int(msg.network_version),
        baseline_version=int(msg.baseline_version),
        status=solve_status_from_proto(msg.status, entity="plan summary", ident=str(msg.version)),
        objective=msg.objective,
        decisions=int(msg.decisions),
        needs_approval=int(msg.needs_approval),
        signals=tuple(msg.signals),
        created_at=timestamp_from_proto(msg.created_at),
    )


def backend_to_proto(info: BackendInfo) -> service_pb2.Backend:
    """The `Backend` message of what the registry says about a backend; `backend_info_from_proto` inverts it."""
    return service_pb2.Backend(
        name=info.name,
        available=info.available,
        version=info.version,
        features=[f.value for f in info.features],
        is_default=info.is_default,
    )


def backend_info_from_proto(msg: service_pb2.Backend) -> BackendInfo:
    """What a `Backend` message says; a feature this client does not know is left out."""
    known = {f.value: f for f in BackendFeature}
    return BackendInfo(
        name=msg.name,
        available=msg.available,
        version=msg.version,
        features=tuple(known[f] for f in msg.features if f in known),
        is_default=msg.is_default,
    )


def model_format_from_proto(value: service_pb2.ModelFormat) -> str:
    """ "mps" or "lp" for an `ExportModelRequest.format`; unset or unknown raises `ValidationError`."""
    fmt = _MODEL_FORMATS.get(value)
    if fmt is None:
        raise ValidationError("request", "export", "format", "is unspecified; use MODEL_FORMAT_MPS or MODEL_FORMAT_LP")
    return fmt


def model_format_to_proto(fmt: str) -> service_pb2.ModelFormat:
    """The `ModelFormat` of "mps" or "lp"; the inverse of `model_format_from_proto`."""
    return {name: value for value, name in _MODEL_FORMATS.items()}[fmt]


_MODEL_FORMATS: dict[service_pb2.ModelFormat, str] = {
    service_pb2.MODEL_FORMAT_MPS: "mps",
    service_pb2.MODEL_FORMAT_LP: "lp",
}


def exported_model_to_proto(model: ExportedModel) -> service_pb2.ExportModelResponse:
    """The `ExportModelResponse` of an exported model; `exported_model_from_proto` inverts it."""
    return service_pb2.ExportModelResponse(text=model.text, columns=model.columns, rows=model.rows)


def exported_model_from_proto(msg: service_pb2.ExportModelResponse) -> ExportedModel:
    return ExportedModel(text=msg.text, columns=int(msg.columns), rows=int(msg.rows))
