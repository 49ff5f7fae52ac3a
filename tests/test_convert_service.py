"""The service's records survive protobuf unchanged (domain -> proto -> domain equals the original):
replan answers, decisions with their approval records, progress, stored versions, summaries,
backends, requests and streamed events; the plan-table registry matches the plans and messages;
the ledger opens by URL."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models.errors import ValidationError
from models.plan import PLAN_TABLES, Plan
from models.protocols import ActionKind, AuthorityStatus, Decision, Function
from models.replanning import FenceCut, ReplanOptions
from models.solution import SolveStatus
from solver import convert
from solver._proto.concerto.v1 import plan_pb2, service_pb2
from solver.backends.base import BackendFeature
from solver.backends.registry import BackendInfo
from solver.diff import _FAMILIES
from solver.options import SolveOptions
from solver.planner import plan_network
from solver.records import (
    QUEUED,
    DecisionState,
    ExportedModel,
    NetworkSummary,
    PlanRequest,
    PlanSummary,
    ReplanInfo,
    ReplanRequest,
    SolveProgress,
    SolveRequest,
    StoredDecision,
    StoredNetwork,
    StoredPlan,
)
from solver.store import SqlitePlanStore, open_store
from tests.test_protocols import OUTAGE_DAY_0, outage_network, short_outage_protocols

MOMENT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
CUT = FenceCut(block="buy", resource="main", period=1, baseline=10.0, replanned=4.0, reason="S1-down")
DECISION = Decision(
    function=Function.PROCUREMENT,
    action=ActionKind.BACKUP_ACTIVATION,
    resource="backup",
    item="A",
    period=2,
    quantity=5.0,
    unit="units",
    cost=60.0,
    status=AuthorityStatus.ESCALATED,
    approver="procurement director",
    effective_hours=48.0,
    rule="backup-limit",
    signals=("S1-down",),
)


def solved_plan() -> Plan:
    return plan_network(
        outage_network(),
        SolveOptions(mip_rel_gap=0.0),
        protocols=short_outage_protocols(limit=50),
        signals=[OUTAGE_DAY_0],
    )


def same_plan(a: Plan, b: Plan) -> bool:
    """Plans compare by identity; their messages compare by value."""
    return convert.plan_to_proto(a) == convert.plan_to_proto(b)


def test_replan_info_round_trips_with_keyword_only_construction() -> None:
    info = ReplanInfo(
        kind="improved",
        business_objective=310.5,
        first_plan_seconds=0.25,
        ready_seconds=1.5,
        execute_after_hours=48.0,
        mip_start_accepted=True,
        fence_cuts=(CUT, dataclasses.replace(CUT, block="ship", resource="L1/A")),
        changed=3,
        total=7,
    )
    assert convert.replan_info_from_proto(convert.replan_info_to_proto(info)) == info
    assert convert.fence_cut_from_proto(convert.fence_cut_to_proto(CUT)) == CUT
    with pytest.raises(TypeError):
        ReplanInfo("optimal", 1.0, 0.0, 1.0, 0.0, False)  # type: ignore[misc]


@pytest.mark.parametrize("decided_at", [None, MOMENT], ids=["pending", "decided"])
def test_decision_record_round_trips(decided_at: datetime | None) -> None:
    record = StoredDecision(
        network_id="acme",
        plan_version=2,
        index=1,
        decision=DECISION,
        state=DecisionState.PENDING if decided_at is None else DecisionState.APPROVED,
        decided_by="" if decided_at is None else "procurement director",
        decided_at=decided_at,
        note="" if decided_at is None else "go",
    )
    message = convert.decision_record_to_proto(record)
    assert message.HasField("decided_at") == (decided_at is not None)
    assert convert.decision_record_from_proto(message) == record
    assert convert.decision_list_from_proto(convert.decision_list_to_proto([record, record])) == [record, record]


def test_decision_states_round_trip_and_none_is_every_state() -> None:
    for state in DecisionState:
        assert convert.decision_state_from_proto(convert.decision_state_to_proto(state)) == state
    assert convert.decision_state_to_proto(None) == service_pb2.DECISION_STATE_UNSPECIFIED


def test_progress_round_trips() -> None:
    progress = SolveProgress(elapsed_seconds=1.5, objective=310.0, best_bound=300.0, gap=0.032, phase="solving")
    assert convert.progress_from_proto(convert.progress_to_proto(progress)) == progress
    queued = convert.progress_from_proto(convert.progress_to_proto(QUEUED))
    assert queued.phase == "queued" and math.isnan(queued.objective)
    assert dataclasses.replace(queued, objective=0.0) == dataclasses.replace(QUEUED, objective=0.0)


def test_network_version_round_trips() -> None:
    for protocols in (None, short_outage_protocols(limit=50)):
        stored = StoredNetwork(
            network_id="acme", version=3, spec=outage_network(), protocols=protocols, created_at=MOMENT
        )
        assert convert.network_version_from_proto(convert.network_version_to_proto(stored)) == stored


def test_plan_version_round_trips() -> None:
    info = ReplanInfo(
        kind="optimal",
        business_objective=310.0,
        first_plan_seconds=0.0,
        ready_seconds=0.5,
        execute_after_hours=0.0,
        mip_start_accepted=False,
    )
    plan = solved_plan()
    for replan, created_at in ((None, None), (info, MOMENT)):
        stored = StoredPlan("acme", 2, 1, 1, (OUTAGE_DAY_0,), plan, "key-1", replan, created_at)
        back = convert.plan_version_from_proto(convert.plan_version_to_proto(stored))
        assert same_plan(back.plan, plan)
        assert dataclasses.replace(back, plan=plan) == stored
        event = convert.solve_event_from_proto(convert.solve_event_to_proto(version=stored))
        assert event.version is not None and dataclasses.replace(event.version, plan=plan) == stored


def test_a_version_with_the_ledgers_bytes_answers_the_same_message() -> None:
    """A version read from a ledger carries the plan's `PlanResult` bytes; its answer parses them
    instead of converting the plan, and is the same message either way."""
    plan = solved_plan()
    blob, _ = convert.ledger.encode_plan(plan)
    converted = StoredPlan("acme", 2, 1, 1, (OUTAGE_DAY_0,), plan, "key-1")
    from_bytes = dataclasses.replace(converted, plan_bytes=blob)
    assert from_bytes == converted  # the bytes are a cache of `plan`, not part of the version
    assert convert.plan_version_to_proto(from_bytes) == convert.plan_version_to_proto(converted)
    assert convert.plan_version_to_proto(from_bytes).plan.SerializeToString(deterministic=True) == blob


def test_summaries_round_trip() -> None:
    network = NetworkSummary(
        network_id="acme", latest_version=2, name="short-outage", plan_versions=3, updated_at=MOMENT
    )
    assert convert.network_list_from_proto(convert.network_list_to_proto([network])) == [network]
    plan = PlanSummary(
        version=2,
        network_version=1,
        baseline_version=1,
        status=SolveStatus.FEASIBLE,
        objective=310.0,
        decisions=3,
        needs_approval=1,
        signals=("S1-down",),
        created_at=MOMENT,
    )
    assert convert.plan_list_from_proto(convert.plan_list_to_proto([plan])) == [plan]


def test_backends_round_trip() -> None:
    info = BackendInfo(
        name="ortools-scip",
        available=True,
        version="9.12",
        features=(BackendFeature.LP, BackendFeature.MIP),
        is_default=False,
    )
    assert convert.backend_list_from_proto(convert.backend_list_to_proto([info])) == [info]


def test_model_formats_and_exported_models_round_trip() -> None:
    for fmt in ("mps", "lp"):
        assert convert.model_format_from_proto(convert.model_format_to_proto(fmt)) == fmt
    with pytest.raises(ValidationError) as err:
        convert.model_format_from_proto(service_pb2.MODEL_FORMAT_UNSPECIFIED)
    assert err.value.field == "format"
    model = ExportedModel(text="NAME x\n", columns=4, rows=2)
    assert convert.exported_model_from_proto(convert.exported_model_to_proto(model)) == model


def test_requests_round_trip() -> None:
    options = SolveOptions(time_limit=5.0, mip_rel_gap=0.01, threads=2, seed=3)
    inline = SolveRequest(
        spec=outage_network(),
        protocols=short_outage_protocols(limit=50),
        signals=(OUTAGE_DAY_0,),
        options=options,
        backend="ortools-scip",
    )
    assert (
        convert.solve_request_from_proto(convert.solve_request_to_proto(inline), default_time_limit=math.inf) == inline
    )
    planned = PlanRequest(network_id="acme", network_version=2, options=options, idempotency_key="k")
    assert (
        convert.plan_request_from_proto(convert.plan_request_to_proto(planned), default_time_limit=math.inf) == planned
    )
    replanned = ReplanRequest(
        network_id="acme",
        baseline_version=1,
        signals=(OUTAGE_DAY_0,),
        options=options,
        backend="highs",
        idempotency_key="k2",
        allow_stale_baseline=True,
        settings=ReplanOptions(stability_weight=0.5, fence_periods=2, fence_penalty=500.0, first_answer_gap=0.05),
        first_answer=False,
    )
    back = convert.replan_request_from_proto(convert.replan_request_to_proto(replanned), default_time_limit=math.inf)
    assert back == replanned


def test_absent_request_options_take_the_server_time_limit() -> None:
    request = convert.plan_request_from_proto(service_pb2.PlanRequest(network_id="acme"), default_time_limit=60.0)
    assert request.options == SolveOptions(time_limit=60.0) and request.backend == "highs"


def test_solve_events_round_trip() -> None:
    plan = solved_plan()
    for kind in ("plan", "first"):
        event = convert.solve_event_from_proto(convert.solve_event_to_proto(**{kind: plan}))
        back = getattr(event, kind)
        assert back is not None and same_plan(back, plan)
    progress = SolveProgress(elapsed_seconds=0.5, objective=1.0, best_bound=1.0, gap=0.0, phase="extracting")
    assert convert.solve_event_from_proto(convert.solve_event_to_proto(progress=progress)).progress == progress


def test_validation_round_trips() -> None:
    violations = [ValidationError("lane", "L1", "lead_time", "is 3"), ValidationError("signal", "S", "type", "is 0")]
    message = convert.validation_to_proto(violations)
    assert not message.valid
    back = convert.validation_from_proto(message)
    assert [(v.entity, v.ident, v.field, v.message) for v in back] == [
        (v.entity, v.ident, v.field, v.message) for v in violations
    ]
    assert convert.validation_to_proto([]).valid


def test_every_replan_option_is_a_replan_setting() -> None:
    """A user can tune every `ReplanOptions` field over the wire."""
    settings = set(service_pb2.ReplanSettings.DESCRIPTOR.fields_by_name)
    assert {f.name for f in dataclasses.fields(ReplanOptions)} <= settings


def test_plan_table_registry_matches_plans_and_messages() -> None:
    """Every registered table is a `Plan` field laid out as `extract_plan` lays it out, and a
    repeated field of PlanResult whose row message has a field per column."""
    plan = solved_plan()
    plan_fields = [f.name for f in dataclasses.fields(Plan)]
    assert [t.name for t in PLAN_TABLES] == [n for n in plan_fields if n in {t.name for t in PLAN_TABLES}]
    for table in PLAN_TABLES:
        extracted = table.of(plan)
        assert tuple(extracted.columns) == table.column_names, table.name
        row = plan_pb2.PlanResult.DESCRIPTOR.fields_by_name[table.name].message_type
        assert set(table.column_names) <= set(row.fields_by_name), table.name
    for table, family in _FAMILIES:
        assert set(family.key) <= set(table.column_names)
        assert family.quantity is None or family.quantity in table.column_names


def test_ledger_blobs_round_trip() -> None:
    plan = solved_plan()
    blob, decisions = convert.ledger.encode_plan(plan)
    assert same_plan(convert.ledger.decode_plan(blob), plan)
    assert [convert.ledger.decode_decision(d, index=k) for k, d in enumerate(decisions)] == list(plan.decisions)
    assert convert.ledger.decode_signals(convert.ledger.encode_signals([OUTAGE_DAY_0])) == (OUTAGE_DAY_0,)
    assert convert.ledger.decode_signals(b"") == ()
    assert convert.ledger.decode_replan_info(b"") is None


@pytest.mark.parametrize("form", ["url", "path", "plain"])
def test_open_store_takes_a_sqlite_url_or_a_path(tmp_path: Path, form: str) -> None:
    target = tmp_path / "ledger.db"
    url = {"url": f"sqlite://{target}", "path": target, "plain": str(target)}[form]
    with open_store(url) as store:
        assert isinstance(store, SqlitePlanStore) and Path(store.path) == target
    assert target.exists()
    with open_store(":memory:") as memory, open_store("sqlite://:memory:") as also:
        assert memory.list_networks() == also.list_networks() == []


def test_open_store_names_the_field_for_an_unknown_scheme() -> None:
    with pytest.raises(ValidationError) as err:
        open_store("mysql://db/concerto")
    message = str(err.value)
    assert err.value.field == "store" and "'mysql'" in message and "SQLite" in message and "postgresql://" in message
    with pytest.raises(ValidationError) as err:
        open_store("sqlite://")
    assert err.value.field == "store"
