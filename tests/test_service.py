"""End-to-end tests over a real gRPC server on 127.0.0.1:0 with spawned solver workers: every RPC,
health and reflection, status codes, idempotency, admission, deadlines, durability and bad input.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty, Queue

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from benchmarks.generator import generate
from models.network import Demand, Item, Lane, NetworkSpec, Node, NodeRole, ServiceTarget, SupplyOffer
from models.protocols import AuthorityStatus, ProtocolSet
from models.signals import Signal, SignalType
from models.solution import SolveStatus
from solver import convert
from solver._proto.concerto.v1 import network_pb2, plan_pb2, service_pb2, service_pb2_grpc, signals_pb2
from solver.backends.base import BackendFeature
from solver.backends.registry import available_backends
from solver.errors import SOLVE_STATUS_METADATA
from solver.limits import RequestLimits
from solver.options import SolveOptions
from solver.records import DecisionState, StoredDecision
from solver.server import SERVICE_NAME, ServerConfig
from solver.usecases import _DecodedVersions
from tests.service_harness import RunningServer, ServerProcess, running_server, store_snapshot
from tests.test_known_answers import backup_network
from tests.test_protocols import OUTAGE_DAY_0, outage_network, short_outage_protocols

TIMEOUT = 30.0
"""Deadline of every call that should answer: a broken server fails the test instead of hanging it."""

EXACT = convert.options_to_proto(SolveOptions(mip_rel_gap=1e-9))
OUTAGE = convert.signal_to_proto(OUTAGE_DAY_0)
SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Two solver workers and room for one queued job: small enough that admission is testable."""
    config = ServerConfig(store_path=tmp_path_factory.mktemp("service") / "concerto.db", workers=2, queue_size=1)
    with running_server(config) as running:
        yield running


def refused(call: Callable[[], object]) -> grpc.RpcError:
    """The error a call fails with (the test fails if it succeeds)."""
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def put_outage(service: RunningServer, network_id: str, protocols: ProtocolSet | None = None) -> None:
    """Store the short-outage network; by default with a spend limit of 50, so that the outage's
    response escalates one purchase (see test_short_outage_escalation_pays)."""
    service.client.put_network(
        network_id, outage_network(), protocols or short_outage_protocols(limit=50), timeout=TIMEOUT
    )


def plan(service: RunningServer, network_id: str, *, idempotency_key: str = "") -> service_pb2.PlanVersion:
    request = service_pb2.PlanRequest(network_id=network_id, options=EXACT, idempotency_key=idempotency_key)
    return service.stub.Plan(request, timeout=TIMEOUT)


def replan_request(
    network_id: str, baseline_version: int = 0, *, idempotency_key: str = "", allow_stale_baseline: bool = False
) -> service_pb2.ReplanRequest:
    """The day-0 outage against `baseline_version`, solved cold (no stability penalty, no first
    answer), so that the replan's optimum is the known answer of the disrupted network."""
    return service_pb2.ReplanRequest(
        network_id=network_id,
        baseline_version=baseline_version,
        signals=[OUTAGE],
        options=EXACT,
        settings=service_pb2.ReplanSettings(stability_weight=0.0, skip_first_answer=True),
        idempotency_key=idempotency_key,
        allow_stale_baseline=allow_stale_baseline,
    )


def replan(
    service: RunningServer,
    network_id: str,
    baseline_version: int = 0,
    *,
    idempotency_key: str = "",
    allow_stale_baseline: bool = False,
) -> service_pb2.PlanVersion:
    request = replan_request(
        network_id, baseline_version, idempotency_key=idempotency_key, allow_stale_baseline=allow_stale_baseline
    )
    return service.stub.Replan(request, timeout=TIMEOUT)


def versions(service: RunningServer, network_id: str) -> list[int]:
    return [p.version for p in service.client.list_plans(network_id)]


def solve_request(
    spec: NetworkSpec, protocols: ProtocolSet | None = None, signals: tuple[Signal, ...] = ()
) -> service_pb2.SolveRequest:
    request = service_pb2.SolveRequest(
        network=convert.spec_to_network(spec), signals=[convert.signal_to_proto(s) for s in signals], options=EXACT
    )
    if protocols is not None:
        request.protocols.CopyFrom(convert.protocols_to_proto(protocols))
    return request


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    stop_at = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > stop_at:
            return False
        time.sleep(0.05)
    return True


# -- gRPC conventions ------------------------------------------------------------------------------


def test_health_check_serves_the_server_and_concerto(service: RunningServer) -> None:
    health = health_pb2_grpc.HealthStub(service.channel)
    for name in ("", SERVICE_NAME):
        assert health.Check(health_pb2.HealthCheckRequest(service=name), timeout=TIMEOUT).status == SERVING


def test_reflection_lists_the_services_and_resolves_concerto(service: RunningServer) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(service.channel)
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE_NAME),
    ]
    listing, found = reflection.ServerReflectionInfo(iter(requests), timeout=TIMEOUT)
    names = {s.name for s in listing.list_services_response.service}
    assert {SERVICE_NAME, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(blob)
        for blob in found.file_descriptor_response.file_descriptor_proto
    ]
    service_file = next(f for f in files if f.name == "concerto/v1/service.proto")
    [concerto] = [s for s in service_file.service if s.name == "Concerto"]
    assert [m.name for m in concerto.method] == [
        m.name for m in service_pb2.DESCRIPTOR.services_by_name["Concerto"].methods
    ]


# -- networks --------------------------------------------------------------------------------------


def test_put_network_adds_versions_and_get_network_reads_each(service: RunningServer) -> None:
    stub = service.stub
    first = stub.PutNetwork(
        service_pb2.PutNetworkRequest(network_id="versions", network=convert.spec_to_network(outage_network())),
        timeout=TIMEOUT,
    )
    assert (first.network_id, first.version, first.has_protocols) == ("versions", 1, False)
    changed, protocols = outage_network(backlog=20.0), short_outage_protocols(limit=100)
    assert service.client.put_network("versions", changed, protocols, timeout=TIMEOUT) == 2

    latest = stub.GetNetwork(service_pb2.GetNetworkRequest(network_id="versions"), timeout=TIMEOUT)
    assert (latest.version, latest.has_protocols) == (2, True)
    assert convert.network_to_spec(latest.network) == changed
    assert convert.protocols_to_domain(latest.protocols) == protocols
    assert service.client.get_network("versions", 1, timeout=TIMEOUT) == outage_network()

    [summary] = [n for n in service.client.list_networks() if n.network_id == "versions"]
    assert (summary.latest_version, summary.name, summary.plan_versions) == (2, "short-outage", 0)
    assert summary.updated_at == latest.created_at.ToDatetime(tzinfo=UTC)


def test_validate_network_accepts_a_good_network_and_names_a_violation(service: RunningServer) -> None:
    before = store_snapshot(service.stub)
    assert service.client.validate(outage_network(), short_outage_protocols(limit=50), [OUTAGE_DAY_0]) == []

    bad = convert.spec_to_network(outage_network())
    bad.lanes[0].lead_time = 3
    response = service.stub.ValidateNetwork(service_pb2.ValidateNetworkRequest(network=bad), timeout=TIMEOUT)
    assert not response.valid
    [violation] = response.violations
    assert (violation.entity, violation.id, violation.field) == ("lane", "L1", "lead_time")
    assert "horizon" in violation.message

    # Two bad entities: both are listed (validation used to stop at the first).
    bad.offers[0].capacity = -1.0
    response = service.stub.ValidateNetwork(service_pb2.ValidateNetworkRequest(network=bad), timeout=TIMEOUT)
    found = {(v.entity, v.id, v.field) for v in response.violations}
    assert found == {("lane", "L1", "lead_time"), ("supply offer", bad.offers[0].id, "capacity")}

    unknown_supplier = signals_pb2.Signal()
    unknown_supplier.CopyFrom(OUTAGE)
    unknown_supplier.supplier = "S9"
    response = service.stub.ValidateNetwork(
        service_pb2.ValidateNetworkRequest(
            network=convert.spec_to_network(outage_network()), signals=[unknown_supplier]
        ),
        timeout=TIMEOUT,
    )
    assert not response.valid
    [violation] = response.violations
    assert (violation.entity, violation.id) == ("signal", "S1-down")
    assert store_snapshot(service.stub) == before


# -- solving ---------------------------------------------------------------------------------------


def test_solve_returns_the_known_optimum_and_stores_nothing(service: RunningServer) -> None:
    """The short outage within a spend limit of 100 (test_short_outage_backup_within_authority): 180."""
    before = store_snapshot(service.stub)
    response = service.stub.Solve(
        solve_request(outage_network(), short_outage_protocols(limit=100), (OUTAGE_DAY_0,)), timeout=TIMEOUT
    )
    assert response.plan.status == plan_pb2.SOLVE_STATUS_OPTIMAL
    assert response.plan.objective == pytest.approx(180)
    assert store_snapshot(service.stub) == before


PHASES = ["queued", "building", "solving", "extracting"]


def assert_progress_then_result(events: list[service_pb2.SolveEvent], result: str) -> None:
    *progress, last = events
    assert last.WhichOneof("event") == result
    assert progress and all(e.WhichOneof("event") == "progress" for e in progress)
    phases = [e.progress.phase for e in progress]
    assert phases[0] == "queued" and phases[-1] == "extracting" and "building" in phases
    assert [PHASES.index(p) for p in phases] == sorted(PHASES.index(p) for p in phases)


def test_solve_stream_sends_progress_then_the_plan(service: RunningServer) -> None:
    request = solve_request(outage_network(), short_outage_protocols(limit=100), (OUTAGE_DAY_0,))
    events = list(service.stub.SolveStream(request, timeout=TIMEOUT))
    assert_progress_then_result(events, "plan")
    assert events[-1].plan.objective == pytest.approx(180)


def no_supply_network() -> NetworkSpec:
    """A fill-rate target of 1 with no supply at all (test_infeasible_is_a_result_not_an_exception)."""
    return NetworkSpec(
        name="infeasible",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S", NodeRole.SUPPLIER, tier=1), Node("C", NodeRole.CUSTOMER)),
        offers=(SupplyOffer("o", "S", "A", capacity=0),),
        lanes=(Lane("L", "S", "C", ("A",)),),
        demands=(Demand("C", "A", (4,)),),
        service_targets=(ServiceTarget(1, 1.0),),
    )


def trailer(err: grpc.RpcError) -> str | None:
    """The `concerto-solve-status` trailer of a Plan or Replan that stored no plan."""
    return dict(err.trailing_metadata() or ()).get(SOLVE_STATUS_METADATA)


def test_infeasible_network_is_an_answer_not_an_error(service: RunningServer) -> None:
    """Solve answers an infeasible network with status INFEASIBLE. Plan stores only plans: the
    same network is FAILED_PRECONDITION, with how the solve ended in the trailer, and no version
    (before, an infeasible "plan" became version 1 and the next Replan's baseline)."""
    response = service.stub.Solve(solve_request(no_supply_network()), timeout=TIMEOUT)
    assert response.plan.status == plan_pb2.SOLVE_STATUS_INFEASIBLE
    assert math.isnan(response.plan.objective)

    service.client.put_network("infeasible", no_supply_network(), timeout=TIMEOUT)
    err = refused(lambda: plan(service, "infeasible"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "'infeasible': the solve ended infeasible" in err.details() and "concerto diagnose" in err.details()
    assert trailer(err) == "infeasible"
    assert service.client.list_plans("infeasible") == []
    err = refused(lambda: replan(service, "infeasible"))
    assert err.code() == grpc.StatusCode.NOT_FOUND  # there is no baseline to replan from


def test_a_time_limit_without_a_plan_stores_nothing(service: RunningServer) -> None:
    """Network "M" stopped after 0.2 s of HiGHS has no incumbent yet (its root LP takes 15-20 s):
    Plan answers DEADLINE_EXCEEDED saying the time limit ended it, and stores no version."""
    service.client.put_network("too-short", generate("M", seed=0), timeout=TIMEOUT)
    request = service_pb2.PlanRequest(network_id="too-short", options=service_pb2.SolveOptions(time_limit_seconds=0.2))
    err = refused(lambda: service.stub.Plan(request, timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "the solve ended time_limit" in err.details() and "time_limit_seconds" in err.details()
    assert trailer(err) == "time_limit"
    assert service.client.list_plans("too-short") == []


def test_a_stored_version_without_a_plan_is_never_a_baseline(service: RunningServer) -> None:
    """A ledger written before only plans were stored may hold an error version: Replan from it
    (named, or as the latest) is FAILED_PRECONDITION naming the version, and stores nothing."""
    put_outage(service, "legacy-error")
    first = plan(service, "legacy-error")
    service.servicer.store.add_plan(
        "legacy-error",
        network_version=first.network_version,
        baseline_version=first.version,
        signals=b"",
        plan=plan_pb2.PlanResult(status=plan_pb2.SOLVE_STATUS_ERROR, objective=math.nan).SerializeToString(),
        status="error",
        objective=math.nan,
        decisions=[],
    )
    assert versions(service, "legacy-error") == [1, 2]
    for baseline in (0, 2):
        err = refused(lambda baseline=baseline: replan(service, "legacy-error", baseline))
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "plan version 2 ended error and holds no plan" in err.details()
    assert replan(service, "legacy-error", 1, allow_stale_baseline=True).version == 3


# -- choosing the backend ----------------------------------------------------------------------------


def with_backend(options: service_pb2.SolveOptions, backend: str, **fields: int | str) -> service_pb2.SolveOptions:
    """A copy of `options` naming `backend` (and any other option set, e.g. threads=2)."""
    chosen = service_pb2.SolveOptions()
    chosen.CopyFrom(options)
    chosen.backend = backend
    for name, value in fields.items():
        setattr(chosen, name, value)
    return chosen


def needs(backend: str) -> None:
    if backend not in available_backends():
        pytest.skip(f"{backend} is not available here (ortools missing?)")


def test_solve_and_plan_with_ortools_scip_reach_the_highs_optimum(service: RunningServer) -> None:
    """The short outage within a limit of 100 is 180 whichever solver answers (Solve), and the
    outage network without signals is 150 (Plan); each plan's stats name the backend that solved it."""
    needs("ortools-scip")
    request = solve_request(outage_network(), short_outage_protocols(limit=100), (OUTAGE_DAY_0,))
    highs = service.stub.Solve(request, timeout=TIMEOUT).plan
    request.options.CopyFrom(with_backend(EXACT, "ortools-scip"))
    scip = service.stub.Solve(request, timeout=TIMEOUT).plan
    assert scip.status == plan_pb2.SOLVE_STATUS_OPTIMAL
    assert scip.objective == pytest.approx(highs.objective) == pytest.approx(180)
    assert (highs.stats.backend, scip.stats.backend) == ("highs", "ortools-scip")

    put_outage(service, "scip-plan")
    stored = service.stub.Plan(
        service_pb2.PlanRequest(network_id="scip-plan", options=with_backend(EXACT, "ortools-scip")), timeout=TIMEOUT
    )
    assert stored.version == 1 and stored.plan.objective == pytest.approx(150)
    assert stored.plan.stats.backend == "ortools-scip"
    assert service.client.get_plan("scip-plan").plan.stats.backend == "ortools-scip"


def test_solve_with_pyomo_highs_in_a_worker(service: RunningServer) -> None:
    """Pyomo's HiGHS, run in a worker process like every solve, answers the short outage within a
    limit of 100 with the same 180 as highspy, and the plan's stats name it."""
    request = solve_request(outage_network(), short_outage_protocols(limit=100), (OUTAGE_DAY_0,))
    request.options.CopyFrom(with_backend(EXACT, "pyomo-highs"))
    plan = service.stub.Solve(request, timeout=TIMEOUT).plan
    assert plan.status == plan_pb2.SOLVE_STATUS_OPTIMAL
    assert plan.objective == pytest.approx(180)
    assert plan.stats.backend == "pyomo-highs"


def test_list_backends_says_what_each_backend_can_do(
    service: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """ListBackends lists every backend the registry knows, in its order: highs is the default,
    available, and declares every feature; a backend is available exactly when this process's
    registry says so (server and test share one installation), and an unavailable one has no
    version. `concerto backends --server` prints the same list."""
    from solver.backends.registry import BACKENDS
    from solver.cli import main as cli

    listed = service.client.list_backends()
    assert [b.name for b in listed] == list(BACKENDS)
    highs = listed[0]
    assert (highs.name, highs.available, highs.is_default) == ("highs", True, True)
    assert set(highs.features) == set(BackendFeature)
    assert {b.name for b in listed if b.available} == set(available_backends())
    assert all(b.version == "" for b in listed if not b.available)
    assert [b.name for b in listed if b.is_default] == ["highs"]

    assert cli(["backends", "--server", f"127.0.0.1:{service.port}"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split()[:3] == ["highs", "available", highs.version]
    assert "(default)" in printed.splitlines()[0]
    assert sum(line.startswith("pyomo-") for line in printed.splitlines()) == sum(
        b.name.startswith("pyomo-") for b in listed
    )


def test_replan_with_ortools_scip_returns_a_plan(service: RunningServer) -> None:
    """The day-0 outage against the HiGHS plan, replanned by SCIP with its first answer: the
    first plan from the signals' reach is SCIP's MIP start for the full replan, which ends at the
    disrupted network's optimum, 310 (the stability weight is 0)."""
    needs("ortools-scip")
    put_outage(service, "scip-replan")
    plan(service, "scip-replan")
    stored = service.client.replan(
        "scip-replan",
        [OUTAGE_DAY_0],
        baseline_version=1,
        options=SolveOptions(mip_rel_gap=1e-9),
        settings=service_pb2.ReplanSettings(stability_weight=0.0),
        backend="ortools-scip",
        timeout=TIMEOUT,
    )
    assert stored.version == 2 and stored.plan.objective == pytest.approx(310)
    assert stored.plan.stats.backend == "ortools-scip"
    assert stored.replan is not None and stored.replan.kind == "optimal"
    assert stored.replan.first_plan_seconds > 0 and stored.replan.mip_start_accepted


@pytest.mark.parametrize(
    ("backend", "fields", "field"),
    [
        ("gurobi", {}, "options.backend"),
        ("ortools-highs", {"threads": 2}, "options.threads"),
        ("ortools-scip", {"method": "lp_first"}, "options.method"),
        ("highs", {"method": "simplex"}, "options.method"),
    ],
    ids=["unknown-backend", "unsupported-option", "lp-first-without-in-place-updates", "unknown-method"],
)
def test_bad_backend_choice_is_invalid_argument_and_stores_nothing(
    service: RunningServer, ledger: Ledger, backend: str, fields: dict[str, int | str], field: str
) -> None:
    """An unknown backend, or an option the backend cannot honour (MathOpt's HiGHS takes no
    thread count; LP-first needs in-place updates, which only HiGHS declares), or an unknown method,
    is refused before anything is queued, by Solve, Plan and Replan alike."""
    if backend.startswith("ortools-"):
        needs(backend)
    options = with_backend(EXACT, backend, **fields)
    before = store_snapshot(service.stub)
    inline = solve_request(outage_network(), short_outage_protocols(limit=100), (OUTAGE_DAY_0,))
    inline.options.CopyFrom(options)
    planned = service_pb2.PlanRequest(network_id="ledger", options=options)
    replanned = replan_request("ledger", allow_stale_baseline=True)
    replanned.options.CopyFrom(options)
    for call in (
        lambda: service.stub.Solve(inline, timeout=TIMEOUT),
        lambda: service.stub.Plan(planned, timeout=TIMEOUT),
        lambda: service.stub.Replan(replanned, timeout=TIMEOUT),
    ):
        err = refused(call)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
        assert field in err.details()
        assert backend in err.details() or fields.get("method") == "simplex"
    assert store_snapshot(service.stub) == before


# -- the plan ledger -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """Network "ledger": plan version 1 without signals, version 2 answering the day-0 outage."""

    first: service_pb2.PlanVersion
    second: service_pb2.PlanVersion


@pytest.fixture(scope="module")
def ledger(service: RunningServer) -> Ledger:
    put_outage(service, "ledger")
    return Ledger(first=plan(service, "ledger"), second=replan(service, "ledger", baseline_version=1))


def test_plan_stores_the_first_version(ledger: Ledger) -> None:
    """Without the outage S1 serves 10 a day at 5 for 3 days: 150, nothing governed is decided."""
    first = ledger.first
    assert (first.network_id, first.version, first.network_version, first.baseline_version) == ("ledger", 1, 1, 0)
    assert list(first.signals) == []
    assert first.plan.status == plan_pb2.SOLVE_STATUS_OPTIMAL
    assert first.plan.objective == pytest.approx(150)


def test_replan_stores_a_new_version_with_the_signals(ledger: Ledger) -> None:
    """The outage under a limit of 50 escalates (test_short_outage_escalation_pays): 310, and the
    day-2 purchase waits for the procurement director."""
    second = ledger.second
    assert (second.version, second.network_version, second.baseline_version) == (2, 1, 1)
    assert [s.id for s in second.signals] == ["S1-down"]
    assert second.plan.objective == pytest.approx(310)
    statuses = [d.status for d in second.plan.decisions]
    assert statuses.count(plan_pb2.AUTHORITY_STATUS_ESCALATED) == 1 and len(statuses) == 3


def test_get_plan_reads_the_latest_and_any_version(service: RunningServer, ledger: Ledger) -> None:
    get = service.stub.GetPlan
    assert get(service_pb2.GetPlanRequest(network_id="ledger"), timeout=TIMEOUT) == ledger.second
    assert get(service_pb2.GetPlanRequest(network_id="ledger", version=1), timeout=TIMEOUT) == ledger.first
    assert service.client.get_plan("ledger", 2).plan.objective == pytest.approx(310)


def test_list_plans_summarises_versions_oldest_first(service: RunningServer, ledger: Ledger) -> None:
    plans = service.client.list_plans("ledger")
    assert [(p.version, p.network_version, p.baseline_version) for p in plans] == [(1, 1, 0), (2, 1, 1)]
    assert [list(p.signals) for p in plans] == [[], ["S1-down"]]
    assert [p.objective for p in plans] == pytest.approx([150, 310])
    assert [(p.decisions, p.needs_approval) for p in plans] == [(0, 0), (3, 1)]
    assert all(p.status == SolveStatus.OPTIMAL for p in plans)
    assert [p.created_at for p in plans] == [
        ledger.first.created_at.ToDatetime(tzinfo=UTC),
        ledger.second.created_at.ToDatetime(tzinfo=UTC),
    ]
    [summary] = [n for n in service.client.list_networks() if n.network_id == "ledger"]
    assert summary.plan_versions == 2


def test_diff_plans_reports_what_the_replan_changed(service: RunningServer, ledger: Ledger) -> None:
    diff = service.stub.DiffPlans(
        service_pb2.DiffPlansRequest(network_id="ledger", from_version=1, to_version=2), timeout=TIMEOUT
    )
    assert (diff.objective_before, diff.objective_after) == pytest.approx((150, 310))
    kinds = {c.kind for c in diff.changes}
    assert {"activation", "purchase"} <= kinds
    assert 0 < diff.changed <= diff.total
    assert sum(diff.cost_change_by_component.values()) == pytest.approx(160)


def test_list_decisions_filters_by_state(service: RunningServer, ledger: Ledger) -> None:
    def listed(state: DecisionState | None, plan_version: int = 0) -> list[StoredDecision]:
        return service.client.decisions("ledger", plan_version, state)

    every = listed(None)
    assert [d.index for d in every] == [0, 1, 2]
    assert all(d.plan_version == 2 for d in every)
    [pending] = listed(DecisionState.PENDING)
    assert pending.decision.status == AuthorityStatus.ESCALATED
    assert pending.decision.approver == "procurement director"
    assert not pending.decided_by and pending.decided_at is None
    assert len(listed(DecisionState.NOT_REQUIRED)) == 2
    assert listed(DecisionState.APPROVED) == []
    assert listed(None, plan_version=1) == []


def test_approve_and_reject_record_who_and_when(service: RunningServer) -> None:
    put_outage(service, "approvals")
    plan(service, "approvals")
    second = replan(service, "approvals", baseline_version=1)
    [pending] = service.client.decisions("approvals", second.version, DecisionState.PENDING)

    start = datetime.now(UTC)
    approved = service.client.approve("approvals", second.version, pending.index, "procurement director", "go")
    assert approved.state == DecisionState.APPROVED
    assert (approved.decided_by, approved.note, approved.index) == ("procurement director", "go", pending.index)
    decided_at = approved.decided_at
    assert decided_at is not None
    assert start - timedelta(seconds=1) <= decided_at <= datetime.now(UTC) + timedelta(seconds=1)
    [listed] = service.client.decisions("approvals", second.version, DecisionState.APPROVED)
    assert listed == approved

    for err in (
        refused(lambda: service.client.approve("approvals", second.version, pending.index, "coo")),
        refused(lambda: service.client.reject("approvals", second.version, pending.index, "coo")),
    ):
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
        assert "approved" in err.details()
    [not_required, *_] = service.client.decisions("approvals", second.version, DecisionState.NOT_REQUIRED)
    err = refused(lambda: service.client.approve("approvals", second.version, not_required.index, "coo"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    err = refused(lambda: service.client.approve("approvals", second.version, pending.index, ""))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "decided_by" in err.details()

    # The next replan carries the approval while the outage is answered: nothing waits again.
    carried = service.stub.Replan(service_pb2.ReplanRequest(network_id="approvals", options=EXACT), timeout=TIMEOUT)
    assert service.client.decisions("approvals", carried.version, DecisionState.PENDING) == []
    # The outage reported again under a new id (the old one withdrawn) escalates anew; the answer is no.
    again = convert.signal_to_proto(replace(OUTAGE_DAY_0, id="S1-down-again"))
    third = service.stub.Replan(
        service_pb2.ReplanRequest(
            network_id="approvals", signals=[again], withdrawn_signals=["S1-down"], options=EXACT
        ),
        timeout=TIMEOUT,
    )
    [pending] = service.client.decisions("approvals", third.version, DecisionState.PENDING)
    rejected = service.client.reject("approvals", third.version, pending.index, "coo", "too dear")
    assert (rejected.state, rejected.decided_by, rejected.note) == (
        DecisionState.REJECTED,
        "coo",
        "too dear",
    )
    assert rejected.decided_at is not None and rejected.decided_at >= decided_at
    err = refused(lambda: service.client.approve("approvals", third.version, pending.index, "coo"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "rejected" in err.details()


def test_replan_stream_sends_progress_then_the_new_version(service: RunningServer) -> None:
    put_outage(service, "streamed")
    plan(service, "streamed")
    events = list(service.stub.ReplanStream(replan_request("streamed", 1), timeout=TIMEOUT))
    assert_progress_then_result(events, "version")
    version = events[-1].version
    assert (version.version, version.baseline_version) == (2, 1)
    assert [s.id for s in version.signals] == ["S1-down"]
    assert version.plan.objective == pytest.approx(310)
    assert versions(service, "streamed") == [1, 2]


def test_watch_plans_delivers_versions_stored_after_it_started(service: RunningServer) -> None:
    put_outage(service, "watched")
    plan(service, "watched")
    # One watcher asks for what follows the version it has; the other for "from now on" (0).
    after_first = service.stub.WatchPlans(
        service_pb2.WatchPlansRequest(network_id="watched", after_version=1), timeout=TIMEOUT
    )
    from_now = service.stub.WatchPlans(service_pb2.WatchPlansRequest(network_id="watched"), timeout=TIMEOUT)
    seen: dict[str, Queue[service_pb2.PlanVersion | grpc.RpcError]] = {"after_first": Queue(), "from_now": Queue()}

    def watch(name: str, call: Iterator[service_pb2.PlanVersion]) -> None:
        try:
            for version in call:
                seen[name].put(version)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                seen[name].put(err)

    threads = [
        threading.Thread(target=watch, args=("after_first", after_first), daemon=True),
        threading.Thread(target=watch, args=("from_now", from_now), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        # "From now on" starts whenever the server gets to it: store versions until it has seen one.
        stored: list[service_pb2.PlanVersion] = []
        first_seen: service_pb2.PlanVersion | grpc.RpcError | None = None
        while first_seen is None and len(stored) < 10:
            stored.append(replan(service, "watched"))
            with contextlib.suppress(Empty):
                first_seen = seen["from_now"].get(timeout=1.0)
        assert isinstance(first_seen, service_pb2.PlanVersion), first_seen
        assert first_seen in stored and first_seen.version > 1
        assert [s.id for s in first_seen.signals] == ["S1-down"]
        delivered = [seen["after_first"].get(timeout=TIMEOUT) for _ in stored]
        assert delivered == stored
    finally:
        after_first.cancel()
        from_now.cancel()
        for thread in threads:
            thread.join(timeout=TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert seen["after_first"].empty()


def test_export_model_as_mps_and_lp_inline_and_stored(service: RunningServer, ledger: Ledger) -> None:
    inline = solve_request(outage_network(), short_outage_protocols(limit=50), (OUTAGE_DAY_0,))
    export = service.stub.ExportModel
    mps = export(service_pb2.ExportModelRequest(inline=inline, format=service_pb2.MODEL_FORMAT_MPS), timeout=TIMEOUT)
    lp = export(service_pb2.ExportModelRequest(inline=inline, format=service_pb2.MODEL_FORMAT_LP), timeout=TIMEOUT)
    assert mps.columns > 0 and mps.rows > 0
    assert (lp.columns, lp.rows) == (mps.columns, mps.rows)
    # Readable names: the row of the backup's activation in period 0, in each format's spelling.
    assert "ROWS" in mps.text and "COLUMNS" in mps.text and "backup_activation[offer=backup,t=0]" in mps.text
    assert "\nst\n" in lp.text and "backup_activation(offer.backup,t.0)" in lp.text

    stored = export(
        service_pb2.ExportModelRequest(network_id="ledger", signals=[OUTAGE], format=service_pb2.MODEL_FORMAT_MPS),
        timeout=TIMEOUT,
    )
    assert stored.text == mps.text
    err = refused(lambda: export(service_pb2.ExportModelRequest(inline=inline), timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "format" in err.details()


# -- status codes ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unplanned(service: RunningServer) -> str:
    """A stored network without plans."""
    put_outage(service, "unplanned")
    return "unplanned"


NOT_FOUND_CALLS: dict[str, Callable[[service_pb2_grpc.ConcertoStub], object]] = {
    "GetNetwork of an unknown network": lambda s: s.GetNetwork(
        service_pb2.GetNetworkRequest(network_id="nowhere"), timeout=TIMEOUT
    ),
    "GetNetwork of an unknown version": lambda s: s.GetNetwork(
        service_pb2.GetNetworkRequest(network_id="ledger", version=9), timeout=TIMEOUT
    ),
    "GetPlan of an unknown network": lambda s: s.GetPlan(
        service_pb2.GetPlanRequest(network_id="nowhere"), timeout=TIMEOUT
    ),
    "GetPlan of an unknown version": lambda s: s.GetPlan(
        service_pb2.GetPlanRequest(network_id="ledger", version=9), timeout=TIMEOUT
    ),
    "ListPlans of an unknown network": lambda s: s.ListPlans(
        service_pb2.ListPlansRequest(network_id="nowhere"), timeout=TIMEOUT
    ),
    "Plan of an unknown network": lambda s: s.Plan(service_pb2.PlanRequest(network_id="nowhere"), timeout=TIMEOUT),
    "Plan of an unknown network version": lambda s: s.Plan(
        service_pb2.PlanRequest(network_id="ledger", network_version=9), timeout=TIMEOUT
    ),
    "Replan of an unknown baseline": lambda s: s.Replan(replan_request("ledger", baseline_version=9), timeout=TIMEOUT),
    "Replan of a network without plans": lambda s: s.Replan(replan_request("unplanned"), timeout=TIMEOUT),
    "ReplanStream of an unknown network": lambda s: list(s.ReplanStream(replan_request("nowhere"), timeout=TIMEOUT)),
    "DiffPlans to an unknown version": lambda s: s.DiffPlans(
        service_pb2.DiffPlansRequest(network_id="ledger", from_version=1, to_version=9), timeout=TIMEOUT
    ),
    "WatchPlans of an unknown network": lambda s: next(
        iter(s.WatchPlans(service_pb2.WatchPlansRequest(network_id="nowhere"), timeout=TIMEOUT))
    ),
    "ListDecisions of an unknown version": lambda s: s.ListDecisions(
        service_pb2.ListDecisionsRequest(network_id="ledger", plan_version=9), timeout=TIMEOUT
    ),
    "ApproveDecision of an unknown index": lambda s: s.ApproveDecision(
        service_pb2.DecideRequest(network_id="ledger", plan_version=2, index=99, decided_by="coo"), timeout=TIMEOUT
    ),
    "ExportModel of an unknown network": lambda s: s.ExportModel(
        service_pb2.ExportModelRequest(network_id="nowhere", format=service_pb2.MODEL_FORMAT_LP), timeout=TIMEOUT
    ),
}


@pytest.mark.parametrize("call", NOT_FOUND_CALLS.values(), ids=NOT_FOUND_CALLS.keys())
def test_unknown_network_or_version_is_not_found(
    service: RunningServer, ledger: Ledger, unplanned: str, call: Callable[[service_pb2_grpc.ConcertoStub], object]
) -> None:
    before = store_snapshot(service.stub)
    err = refused(lambda: call(service.stub))
    assert err.code() == grpc.StatusCode.NOT_FOUND, err.details()
    assert "not found" in err.details()
    assert store_snapshot(service.stub) == before


def test_stale_baseline_is_failed_precondition_unless_allowed(service: RunningServer) -> None:
    put_outage(service, "stale")
    plan(service, "stale")
    replan(service, "stale", baseline_version=1)
    before = store_snapshot(service.stub)
    stale = replan_request("stale", baseline_version=1)
    for err in (
        refused(lambda: service.stub.Replan(stale, timeout=TIMEOUT)),
        refused(lambda: list(service.stub.ReplanStream(stale, timeout=TIMEOUT))),
    ):
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
        assert "version 2" in err.details()
    assert store_snapshot(service.stub) == before

    allowed = replan(service, "stale", baseline_version=1, allow_stale_baseline=True)
    assert (allowed.version, allowed.baseline_version) == (3, 1)
    assert versions(service, "stale") == [1, 2, 3]


def test_retried_plan_and_replan_return_the_same_version(service: RunningServer) -> None:
    put_outage(service, "idempotent")
    first = plan(service, "idempotent", idempotency_key="plan-1")
    assert plan(service, "idempotent", idempotency_key="plan-1") == first
    assert first.idempotency_key == "plan-1"

    replanned = replan(service, "idempotent", baseline_version=1, idempotency_key="replan-1")
    assert (replanned.version, replanned.idempotency_key) == (2, "replan-1")
    # The retry names baseline 1, no longer the latest: the stored answer wins over the stale check.
    assert replan(service, "idempotent", baseline_version=1, idempotency_key="replan-1") == replanned
    events = list(
        service.stub.ReplanStream(replan_request("idempotent", 1, idempotency_key="replan-1"), timeout=TIMEOUT)
    )
    assert [e.version for e in events] == [replanned]
    assert versions(service, "idempotent") == [1, 2]


# -- load, deadlines, restarts ---------------------------------------------------------------------


def test_concurrent_replans_succeed_or_are_refused_and_never_hang(service: RunningServer) -> None:
    """8 replans at once against 2 workers and a queue of 1: at most 3 are admitted at a time, the
    others are told RESOURCE_EXHAUSTED at once; every refused one succeeds when retried."""
    service.client.put_network("busy", generate("S", seed=0), timeout=TIMEOUT)
    options = service_pb2.SolveOptions(mip_rel_gap=0.01)  # about 0.2 s each; the default gap takes 7 s
    service.stub.Plan(service_pb2.PlanRequest(network_id="busy", options=options), timeout=TIMEOUT)
    requests = [
        service_pb2.ReplanRequest(
            network_id="busy",
            baseline_version=1,
            options=options,
            idempotency_key=f"busy-{k}",
            allow_stale_baseline=True,
        )
        for k in range(8)
    ]
    answered: dict[int, service_pb2.PlanVersion] = {}
    errors: dict[int, grpc.RpcError] = {}
    start = threading.Barrier(len(requests))

    def send(k: int) -> None:
        start.wait()
        try:
            answered[k] = service.stub.Replan(requests[k], timeout=TIMEOUT)
        except grpc.RpcError as err:
            errors[k] = err

    threads = [threading.Thread(target=send, args=(k,), daemon=True) for k in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT + 5)
    assert not any(thread.is_alive() for thread in threads), "a replan hung"

    assert sorted([*answered, *errors]) == list(range(len(requests)))
    assert {err.code() for err in errors.values()} <= {grpc.StatusCode.RESOURCE_EXHAUSTED}, errors
    assert errors, "8 simultaneous replans never filled 2 workers and a queue of 1"
    assert answered, "every replan was refused"

    for k in errors:
        answered[k] = service.stub.Replan(requests[k], timeout=TIMEOUT)
    assert sorted(a.version for a in answered.values()) == list(range(2, 10))
    assert versions(service, "busy") == list(range(1, 10))

    health = health_pb2_grpc.HealthStub(service.channel)
    assert health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=TIMEOUT).status == SERVING
    stats = service.servicer.pool.stats()
    assert (stats.workers_alive, stats.running, stats.queued) == (2, 0, 0)


@functools.cache
def slow_solve_request() -> service_pb2.SolveRequest:
    """Benchmark network "M": about 20 s of HiGHS, far longer than any deadline here."""
    return service_pb2.SolveRequest(network=convert.spec_to_network(generate("M", seed=0)))


def test_deadline_stops_the_solve_and_frees_the_worker(service: RunningServer) -> None:
    """Both workers take a 20 s solve under a 1 s deadline (one unary, one streamed); both answer
    DEADLINE_EXCEEDED within 2 s, and a small solve then gets a worker: the stopped solves freed them."""
    calls: dict[str, Callable[[float], object]] = {
        "Solve": lambda deadline: service.stub.Solve(slow_solve_request(), timeout=deadline),
        "SolveStream": lambda deadline: list(service.stub.SolveStream(slow_solve_request(), timeout=deadline)),
    }
    answers: dict[str, tuple[grpc.StatusCode, float]] = {}

    def run(name: str) -> None:
        started = time.monotonic()
        try:
            calls[name](1.0)
            answers[name] = (grpc.StatusCode.OK, time.monotonic() - started)
        except grpc.RpcError as err:
            answers[name] = (err.code(), time.monotonic() - started)

    threads = [threading.Thread(target=run, args=(name,), daemon=True) for name in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    for name in calls:
        code, seconds = answers[name]
        assert code == grpc.StatusCode.DEADLINE_EXCEEDED, name
        assert seconds < 2.0, f"{name} answered after {seconds:.2f} s"

    assert wait_until(lambda: service.servicer.pool.stats().running == 0, 5.0), service.servicer.pool.stats()
    small = service.stub.Solve(solve_request(backup_network(lost_sale_penalty=100)), timeout=10.0)
    assert small.plan.status == plan_pb2.SOLVE_STATUS_OPTIMAL
    assert small.plan.objective == pytest.approx(100)


def service_stub(channel: grpc.Channel) -> service_pb2_grpc.ConcertoStub:
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
    return service_pb2_grpc.ConcertoStub(channel)


def test_plans_survive_a_killed_server_and_a_retried_replan_commits_once(tmp_path: Path) -> None:
    """SIGKILL the server while it solves a replan: a new server on the same file has exactly the
    versions committed before, and the retried replan (same idempotency key) adds exactly one.

    The baseline is a real plan of "M" (to a 5% gap; only plans become versions), which takes the
    root LP's 15-20 s. The replan answers a quality hold of the smallest stock position: its first
    answer (1% of the decisions in reach) takes about a second, and the full replan, warm-started
    from it, stops after 2 s of HiGHS, so the retry still ends promptly with a plan."""
    store = tmp_path / "durable.db"
    baseline = service_pb2.SolveOptions(time_limit_seconds=120, mip_rel_gap=0.05)
    network = slow_solve_request().network
    held = min((s for s in network.stocks if s.on_hand > 0), key=lambda s: (s.on_hand, s.node, s.item))
    hold = Signal(
        "durable-hold", SignalType.INVENTORY_ADJUSTMENT, node=held.node, item=held.item, magnitude=-held.on_hand
    )
    killed = service_pb2.ReplanRequest(
        network_id="durable",
        baseline_version=1,
        signals=[convert.signal_to_proto(hold)],
        idempotency_key="after-the-kill",
        options=service_pb2.SolveOptions(time_limit_seconds=2.0),
    )
    first = ServerProcess(store, tmp_path)
    second: ServerProcess | None = None
    try:
        with grpc.insecure_channel(first.target) as channel:
            stub = service_stub(channel)
            stub.PutNetwork(
                service_pb2.PutNetworkRequest(network_id="durable", network=network),
                timeout=TIMEOUT,
            )
            stub.Plan(service_pb2.PlanRequest(network_id="durable", options=baseline), timeout=180)
            events = stub.ReplanStream(killed, timeout=TIMEOUT)
            phase = ""
            for event in events:
                phase = event.progress.phase
                if phase == "solving":
                    first.kill()
                    break
            assert phase == "solving" and first.process.returncode is not None
            events.cancel()

        second = ServerProcess(store, tmp_path)
        with grpc.insecure_channel(second.target) as channel:
            stub = service_stub(channel)

            def listed() -> list[int]:
                plans = stub.ListPlans(service_pb2.ListPlansRequest(network_id="durable"), timeout=TIMEOUT).plans
                return [p.version for p in plans]

            assert listed() == [1]
            retried = stub.Replan(killed, timeout=TIMEOUT)
            assert (retried.version, retried.baseline_version, retried.idempotency_key) == (2, 1, "after-the-kill")
            assert listed() == [1, 2]
            assert stub.Replan(killed, timeout=TIMEOUT) == retried
            assert listed() == [1, 2]
        assert second.terminate() == 0
    finally:
        first.kill()
        if second is not None:
            second.kill()


# -- bad input -------------------------------------------------------------------------------------


def garbage(_request: object) -> bytes:
    """Not a protobuf message: a field tag whose varint never ends."""
    return b"\xff\xff\xff"


def test_malformed_bytes_are_invalid_argument(service: RunningServer, ledger: Ledger) -> None:
    before = store_snapshot(service.stub)
    put = service.channel.unary_unary(
        "/concerto.v1.Concerto/PutNetwork",
        request_serializer=garbage,
        response_deserializer=service_pb2.NetworkVersion.FromString,
    )
    err = refused(lambda: put(None, timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert "concerto.v1.PutNetworkRequest" in err.details()

    stream = service.channel.unary_stream(
        "/concerto.v1.Concerto/ReplanStream",
        request_serializer=garbage,
        response_deserializer=service_pb2.SolveEvent.FromString,
    )
    err = refused(lambda: list(stream(None, timeout=TIMEOUT)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert "concerto.v1.ReplanRequest" in err.details()
    assert store_snapshot(service.stub) == before


def test_unknown_id_inside_a_network_is_invalid_argument(service: RunningServer) -> None:
    before = store_snapshot(service.stub)
    network = convert.spec_to_network(outage_network())
    network.lanes[0].destination = "NOWHERE"
    put = service_pb2.PutNetworkRequest(network_id="bad-input", network=network)
    for call in (
        lambda: service.stub.PutNetwork(put, timeout=TIMEOUT),
        lambda: service.stub.Solve(service_pb2.SolveRequest(network=network), timeout=TIMEOUT),
    ):
        err = refused(call)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
        assert "lane 'L1'" in err.details() and "destination" in err.details() and "NOWHERE" in err.details()
    assert store_snapshot(service.stub) == before


def test_unset_enum_is_invalid_argument(service: RunningServer, ledger: Ledger) -> None:
    before = store_snapshot(service.stub)
    network = convert.spec_to_network(outage_network())
    network.nodes[0].role = network_pb2.NODE_ROLE_UNSPECIFIED
    err = refused(
        lambda: service.stub.PutNetwork(
            service_pb2.PutNetworkRequest(network_id="bad-input", network=network), timeout=TIMEOUT
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert "node 'S1'" in err.details() and "role" in err.details() and "unspecified" in err.details()

    untyped = signals_pb2.Signal()
    untyped.CopyFrom(OUTAGE)
    untyped.type = signals_pb2.SIGNAL_TYPE_UNSPECIFIED
    request = service_pb2.ReplanRequest(network_id="ledger", signals=[untyped])
    err = refused(lambda: service.stub.Replan(request, timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert "signal 'S1-down'" in err.details() and "type" in err.details()
    assert store_snapshot(service.stub) == before


def test_oversized_request_is_invalid_argument(tmp_path: Path) -> None:
    """A limit of 4,000 bytes: the short-outage network (about 400 with its protocols) is stored,
    the 5,800-byte demo network is refused by the server (gRPC itself would take up to 8,000)."""
    big = convert.spec_to_network(generate("demo", seed=0))
    limit = 4000
    assert limit < big.ByteSize() < 2 * limit
    config = ServerConfig(
        store_path=tmp_path / "small.db", workers=1, queue_size=0, limits=RequestLimits(request_bytes=limit)
    )
    with running_server(config) as small:
        put_outage(small, "fits")
        before = store_snapshot(small.stub)
        for call in (
            lambda: small.stub.PutNetwork(
                service_pb2.PutNetworkRequest(network_id="big", network=big), timeout=TIMEOUT
            ),
            lambda: small.stub.Solve(service_pb2.SolveRequest(network=big), timeout=TIMEOUT),
        ):
            err = refused(call)
            assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
            assert "limit of 4,000" in err.details()
        assert store_snapshot(small.stub) == before


def test_decoded_versions_decode_each_key_once_and_drop_the_least_recently_used() -> None:
    """With room for two, reading a, b, a, c keeps a and c: b was used least recently, so it is
    decoded again when asked for; a and c are not."""
    decoded = _DecodedVersions(2)
    calls: list[str] = []

    def get(key: str) -> str:
        return decoded.get(key, lambda: calls.append(key) or key.upper())

    assert [get(k) for k in ("a", "b", "a", "c")] == ["A", "B", "A", "C"]
    assert calls == ["a", "b", "c"]
    assert [get(k) for k in ("a", "c", "b")] == ["A", "C", "B"]
    assert calls == ["a", "b", "c", "b"]
