"""Identities, tenants and approvals bound to the protocol: the principals file, the one table of
what each RPC needs, and end-to-end calls with bearer tokens against a real server."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from models.errors import ValidationError
from models.protocols import ProtocolSet
from models.protocols.spec import Approver, Function
from models.signals import Signal, SignalType
from solver import convert
from solver._proto.concerto.v1 import service_pb2, service_pb2_grpc
from solver.auth import (
    METHOD_NEEDS,
    OPEN,
    GrantRole,
    PrincipalRegistry,
    authenticate,
    parse_principals,
    token_hash,
)
from solver.auth import (
    Unauthenticated as UnauthenticatedError,
)
from solver.server import SERVICE_NAME, ServerConfig
from solver.store import (
    DEFAULT_TENANT,
    SCHEMA_VERSION,
    Actor,
    DecisionInput,
    DecisionState,
    InvalidTransition,
    NetworkTaken,
    SqlitePlanStore,
)
from tests.service_harness import RunningServer, running_server, store_snapshot
from tests.test_ledger_semantics import _old_ledger
from tests.test_protocols import OUTAGE_DAY_0, outage_network, short_outage_protocols

TIMEOUT = 60.0
EXACT = service_pb2.SolveOptions(mip_rel_gap=0.0, time_limit_seconds=30.0)

# One token per principal; the principals file keeps only their hashes.
TOKENS = {
    "planner": "tok-planner-acme",
    "viewer": "tok-viewer-acme",
    "director": "tok-director-acme",
    "buyer": "tok-procurement-acme",
    "maker": "tok-production-acme",
    "admin": "tok-admin-acme",
    "partner": "tok-partner-s1",
    "intruder": "tok-planner-globex",
}


def principals_doc() -> dict[str, object]:
    """acme: a planner, a viewer, the procurement director (a protocol role), a procurement and a
    production approver (joint-decision member functions), an admin, and supplier S1 as a partner;
    globex: a planner of another tenant."""

    def p(pid: str, tenant: str, *grants: dict[str, object]) -> dict[str, object]:
        return {
            "id": pid,
            "tenant": tenant,
            "tokens": [{"sha256": token_hash(TOKENS[pid]), "label": f"{pid}-key"}],
            "grants": list(grants),
        }

    return {
        "principals": [
            p("planner", "acme", {"role": "planner"}),
            p("viewer", "acme", {"role": "viewer"}),
            p("director", "acme", {"role": "approver", "roles": ["procurement director"]}),
            p("buyer", "acme", {"role": "approver", "functions": ["procurement"]}),
            p("maker", "acme", {"role": "approver", "functions": ["production"]}),
            p("admin", "acme", {"role": "admin"}),
            p("partner", "acme", {"role": "partner", "nodes": ["S1"]}),
            p("intruder", "globex", {"role": "planner"}),
        ]
    }


def as_(who: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {TOKENS[who]}"),)


def refused(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("auth")
    (root / "principals.json").write_text(json.dumps(principals_doc()))
    config = ServerConfig(store=root / "ledger.db", workers=1, queue_size=2, principals=root / "principals.json")
    with running_server(config) as running:
        yield running


def put(stub: service_pb2_grpc.ConcertoStub, network_id: str, who: str, protocols: ProtocolSet | None) -> int:
    request = service_pb2.PutNetworkRequest(network_id=network_id, network=convert.spec_to_network(outage_network()))
    if protocols is not None:
        request.protocols.CopyFrom(convert.protocols_to_proto(protocols))
    return int(stub.PutNetwork(request, metadata=as_(who), timeout=TIMEOUT).version)


def plan_and_replan(stub: service_pb2_grpc.ConcertoStub, network_id: str, who: str = "planner") -> int:
    stub.Plan(service_pb2.PlanRequest(network_id=network_id, options=EXACT), metadata=as_(who), timeout=TIMEOUT)
    replanned = stub.Replan(
        service_pb2.ReplanRequest(
            network_id=network_id,
            signals=[convert.signal_to_proto(OUTAGE_DAY_0)],
            options=EXACT,
            settings=service_pb2.ReplanSettings(stability_weight=0.0, skip_first_answer=True),
        ),
        metadata=as_(who),
        timeout=TIMEOUT,
    )
    return int(replanned.version)


def late_backup_protocols(approver: Approver) -> ProtocolSet:
    """The short outage with a spend limit of 10, below the backup's activation cost of 20.

    Within authority nothing can be bought on the backup: day 0's 10 units are lost (1000) on top
    of S1's 100 = 1100. Escalating: the activation (20) and 10 units (60) on day 2, once the 48 h
    approval is in; day 0's 10 units wait two days (10 * 2 * 10 = 200); governance 30:
    100 + 80 + 200 + 30 = 410. So the plan escalates, and both the activation and the day-2
    purchase wait on the one escalation of rule backup-under-48h.
    """
    base = short_outage_protocols(limit=10)
    rule = replace(base.authority_rules[0], approver=approver)
    return replace(base, authority_rules=(rule,))


def pending(stub: service_pb2_grpc.ConcertoStub, network_id: str, who: str) -> list[service_pb2.DecisionRecord]:
    request = service_pb2.ListDecisionsRequest(network_id=network_id, state=service_pb2.DECISION_STATE_PENDING)
    return list(stub.ListDecisions(request, metadata=as_(who), timeout=TIMEOUT).decisions)


def decide(
    stub: service_pb2_grpc.ConcertoStub, network_id: str, version: int, index: int, who: str, *, approve: bool = True
) -> service_pb2.DecisionRecord:
    request = service_pb2.DecideRequest(network_id=network_id, plan_version=version, index=index, note=who)
    call = stub.ApproveDecision if approve else stub.RejectDecision
    return call(request, metadata=as_(who), timeout=TIMEOUT)


# ---------------------------------------------------------------------------------- the file


def test_the_principals_file_names_the_principal_and_field_of_every_mistake() -> None:
    good = principals_doc()
    parsed = parse_principals(good)
    assert parsed.count == len(TOKENS)
    principal, label = parsed.by_token[token_hash(TOKENS["director"])]
    assert (principal.id, principal.tenant, label) == ("director", "acme", "director-key")

    def broken(change: Callable[[dict[str, object]], None]) -> ValidationError:
        doc = json.loads(json.dumps(good))
        change(doc["principals"][0])
        with pytest.raises(ValidationError) as info:
            parse_principals(doc)
        return info.value

    err = broken(lambda p: p["tokens"][0].update(sha256=TOKENS["planner"]))  # type: ignore[index]
    assert (err.ident, err.field) == ("planner", "tokens[0].sha256") and "never write the token" in str(err)
    err = broken(lambda p: p["grants"][0].update(role="superuser"))  # type: ignore[index]
    assert err.field == "grants[0].role" and "viewer" in str(err)
    err = broken(lambda p: p["grants"].append({"role": "approver"}))  # type: ignore[attr-defined]
    assert err.field == "grants[1]" and "without roles or functions" in str(err)
    err = broken(lambda p: p["grants"].append({"role": "approver", "functions": ["legal"]}))  # type: ignore[attr-defined]
    assert err.field == "grants[1].functions" and "procurement" in str(err)
    err = broken(lambda p: p.update(tokens=[{"sha256": token_hash(TOKENS["viewer"])}]))
    assert err.field == "tokens[0].sha256" and "'viewer'" in str(err)
    err = broken(lambda p: p.update(tenant=""))
    assert err.field == "tenant"
    err = broken(lambda p: p.update(role="planner"))
    assert err.field == "role" and "is not a field" in str(err)


def test_a_token_decides_and_unknown_credentials_are_refused() -> None:
    parsed = parse_principals(principals_doc())
    assert authenticate(None, ()) is OPEN
    who = authenticate(parsed, [("authorization", f"Bearer {TOKENS['viewer']}")], ["ignored"])
    assert (who.id, who.credential) == ("viewer", "token:viewer-key")
    for metadata in ([], [("authorization", "Bearer nope")], [("authorization", "Basic abc")]):
        with pytest.raises(UnauthenticatedError):
            authenticate(parsed, metadata)


def test_every_rpc_of_the_service_has_its_need_declared() -> None:
    methods = {m.name for m in service_pb2.DESCRIPTOR.services_by_name["Concerto"].methods}
    assert set(METHOD_NEEDS) == methods
    assert METHOD_NEEDS["ApproveDecision"].role == GrantRole.APPROVER
    assert METHOD_NEEDS["ListAudit"].role == GrantRole.ADMIN


def test_the_registry_reloads_a_changed_file_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "principals.json"
    doc = principals_doc()
    path.write_text(json.dumps(doc))
    registry = PrincipalRegistry(path)
    assert token_hash("fresh") not in registry.current().by_token
    doc["principals"][0]["tokens"].append({"sha256": token_hash("fresh")})  # type: ignore[index]
    path.write_text(json.dumps(doc))
    registry.reload()
    assert token_hash("fresh") in registry.current().by_token
    path.write_text("{not json")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    registry.reload()
    assert token_hash("fresh") in registry.current().by_token  # the bad file changed nothing


# --------------------------------------------------------------------------------- end to end


def test_no_credential_is_unauthenticated_but_health_answers_anyone(secured: RunningServer) -> None:
    stub = secured.stub
    err = refused(lambda: stub.ListNetworks(service_pb2.ListNetworksRequest(), timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED and "Bearer" in err.details()
    bogus = (("authorization", "Bearer not-a-token"),)
    err = refused(lambda: stub.ListNetworks(service_pb2.ListNetworksRequest(), metadata=bogus, timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    health = health_pb2_grpc.HealthStub(secured.channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
    assert health.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_answers_a_signed_in_caller_only(secured: RunningServer) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(secured.channel)
    ask = reflection_pb2.ServerReflectionRequest(list_services="")
    err = refused(lambda: list(stub.ServerReflectionInfo(iter([ask]), timeout=TIMEOUT)))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    [answer] = stub.ServerReflectionInfo(iter([ask]), metadata=as_("viewer"), timeout=TIMEOUT)
    assert SERVICE_NAME in {s.name for s in answer.list_services_response.service}


def test_tenants_do_not_see_or_overwrite_each_others_networks(secured: RunningServer) -> None:
    stub = secured.stub
    put(stub, "acme-tenancy", "planner", late_backup_protocols(Approver(role="procurement director")))
    plan_and_replan(stub, "acme-tenancy")
    before = store_snapshot_as(secured, "admin")

    listed = stub.ListNetworks(service_pb2.ListNetworksRequest(), metadata=as_("intruder"), timeout=TIMEOUT)
    assert "acme-tenancy" not in {n.network_id for n in listed.networks}
    missing = refused(
        lambda: stub.GetPlan(
            service_pb2.GetPlanRequest(network_id="no-such-network"), metadata=as_("intruder"), timeout=TIMEOUT
        )
    )
    hidden = refused(
        lambda: stub.GetPlan(
            service_pb2.GetPlanRequest(network_id="acme-tenancy"), metadata=as_("intruder"), timeout=TIMEOUT
        )
    )
    assert hidden.code() == missing.code() == grpc.StatusCode.NOT_FOUND
    assert hidden.details() == missing.details().replace("no-such-network", "acme-tenancy")
    taken = refused(lambda: put(stub, "acme-tenancy", "intruder", None))
    assert taken.code() == grpc.StatusCode.ALREADY_EXISTS
    assert store_snapshot_as(secured, "admin") == before
    kept = stub.GetNetwork(service_pb2.GetNetworkRequest(network_id="acme-tenancy"), metadata=as_("viewer"))
    assert (kept.version, kept.has_protocols, kept.created_by) == (1, True, "planner")


def store_snapshot_as(server: RunningServer, who: str) -> object:
    """The ledger as `who` sees it (networks and plan summaries)."""
    channel = server.channel
    intercepted = grpc.intercept_channel(channel, _Metadata(as_(who)))
    return store_snapshot(service_pb2_grpc.ConcertoStub(intercepted))


class _Metadata(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        details = client_call_details._replace(metadata=self.metadata)
        return continuation(details, request)


def test_a_missing_grant_is_permission_denied_naming_the_grant(secured: RunningServer) -> None:
    stub = secured.stub
    err = refused(lambda: put(stub, "viewer-try", "viewer", None))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "planner grant" in err.details() and "'viewer'" in err.details()
    solve = service_pb2.SolveRequest(network=convert.spec_to_network(outage_network()), options=EXACT)
    err = refused(lambda: stub.Solve(solve, metadata=as_("director"), timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "planner grant on any network" in err.details()
    assert stub.Solve(solve, metadata=as_("planner"), timeout=TIMEOUT).plan.objective == pytest.approx(150)


def test_a_role_escalation_is_decided_only_by_that_role_and_once_for_all_its_decisions(
    secured: RunningServer,
) -> None:
    stub = secured.stub
    put(stub, "role-approval", "planner", late_backup_protocols(Approver(role="procurement director")))
    version = plan_and_replan(stub, "role-approval")
    waiting = pending(stub, "role-approval", "viewer")
    assert len(waiting) == 2 and {d.escalation for d in waiting} == {"rule:backup-under-48h"}
    assert {d.approver for d in waiting} == {"role:procurement director"}
    first = waiting[0].index

    err = refused(lambda: decide(stub, "role-approval", version, first, "planner"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "approver grant" in err.details()
    err = refused(lambda: decide(stub, "role-approval", version, first, "buyer"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "role 'procurement director'" in err.details()
    named = service_pb2.DecideRequest(network_id="role-approval", plan_version=version, index=first, decided_by="CFO")
    err = refused(lambda: stub.ApproveDecision(named, metadata=as_("director"), timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "decided_by" in err.details()
    assert len(pending(stub, "role-approval", "viewer")) == 2  # nothing was decided by the refusals

    approved = decide(stub, "role-approval", version, first, "director")
    assert approved.state == service_pb2.DECISION_STATE_APPROVED
    assert (approved.decided_by, approved.decided_credential) == ("director", "token:director-key")
    every = stub.ListDecisions(
        service_pb2.ListDecisionsRequest(network_id="role-approval"), metadata=as_("viewer"), timeout=TIMEOUT
    ).decisions
    assert {d.index for d in every if d.state == service_pb2.DECISION_STATE_APPROVED} == {d.index for d in waiting}
    assert pending(stub, "role-approval", "viewer") == []

    audit = stub.ListAudit(
        service_pb2.ListAuditRequest(network_id="role-approval"), metadata=as_("admin"), timeout=TIMEOUT
    )
    assert [(e.principal, e.action) for e in audit.entries] == [
        ("planner", "put_network"),
        ("planner", "plan"),
        ("planner", "replan"),
        ("director", "approve"),
    ]
    assert all(e.credential.startswith("token:") for e in audit.entries)
    err = refused(
        lambda: stub.ListAudit(
            service_pb2.ListAuditRequest(network_id="role-approval"), metadata=as_("viewer"), timeout=TIMEOUT
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "admin grant" in err.details()


def test_a_joint_decision_takes_effect_when_every_member_function_signed(secured: RunningServer) -> None:
    stub = secured.stub
    joint = Approver(joint=(Function.PROCUREMENT, Function.PRODUCTION))
    put(stub, "joint-approval", "planner", late_backup_protocols(joint))
    version = plan_and_replan(stub, "joint-approval")
    waiting = pending(stub, "joint-approval", "viewer")
    assert len(waiting) == 2 and {d.approver for d in waiting} == {"joint:procurement+production"}
    index = waiting[1].index

    err = refused(lambda: decide(stub, "joint-approval", version, index, "director"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "procurement or production" in err.details()
    signed = decide(stub, "joint-approval", version, index, "buyer")
    assert signed.state == service_pb2.DECISION_STATE_PENDING
    assert [(s.function, s.principal, s.approve) for s in signed.signoffs] == [("procurement", "buyer", True)]
    again = refused(lambda: decide(stub, "joint-approval", version, index, "buyer"))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION and "signed off already" in again.details()

    done = decide(stub, "joint-approval", version, waiting[0].index, "maker")
    assert done.state == service_pb2.DECISION_STATE_APPROVED
    assert done.decided_by == "buyer (procurement), maker (production)"
    assert pending(stub, "joint-approval", "viewer") == []


def test_a_joint_decision_is_rejected_by_its_first_rejection(secured: RunningServer) -> None:
    stub = secured.stub
    put(
        stub,
        "joint-reject",
        "planner",
        late_backup_protocols(Approver(joint=(Function.PROCUREMENT, Function.PRODUCTION))),
    )
    version = plan_and_replan(stub, "joint-reject")
    waiting = pending(stub, "joint-reject", "viewer")
    rejected = decide(stub, "joint-reject", version, waiting[0].index, "maker", approve=False)
    assert rejected.state == service_pb2.DECISION_STATE_REJECTED
    assert pending(stub, "joint-reject", "viewer") == []


def test_a_partner_speaks_for_its_nodes_only(secured: RunningServer) -> None:
    """Partner S1 (the main supplier) sees the decisions on its offer `main` and lane L1, never the
    backup's at S2, and may replan only with signals about S1."""
    stub = secured.stub
    put(stub, "partnered", "planner", late_backup_protocols(Approver(role="procurement director")))
    plan_and_replan(stub, "partnered")
    everything = stub.ListDecisions(
        service_pb2.ListDecisionsRequest(network_id="partnered"), metadata=as_("viewer"), timeout=TIMEOUT
    ).decisions
    seen = stub.ListDecisions(
        service_pb2.ListDecisionsRequest(network_id="partnered"), metadata=as_("partner"), timeout=TIMEOUT
    ).decisions
    assert {d.decision.resource for d in everything} - {d.decision.resource for d in seen}
    assert all(d.decision.resource in {"main", "L1", "S1"} for d in seen)
    err = refused(lambda: stub.GetPlan(service_pb2.GetPlanRequest(network_id="partnered"), metadata=as_("partner")))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED

    def replan_about(supplier: str) -> service_pb2.PlanVersion:
        signal = Signal(f"{supplier}-slow", SignalType.SUPPLIER_OUTAGE, supplier=supplier, duration_hours=24)
        request = service_pb2.ReplanRequest(
            network_id="partnered", signals=[convert.signal_to_proto(signal)], options=EXACT
        )
        return stub.Replan(request, metadata=as_("partner"), timeout=TIMEOUT)

    err = refused(lambda: replan_about("S2"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED and "supplier 'S2'" in err.details()
    assert replan_about("S1").version == 3


def test_a_new_network_version_keeps_its_protocols_unless_asked_to_clear(secured: RunningServer) -> None:
    stub = secured.stub
    put(stub, "kept", "planner", short_outage_protocols(limit=50))
    assert put(stub, "kept", "planner", None) == 2
    second = stub.GetNetwork(service_pb2.GetNetworkRequest(network_id="kept"), metadata=as_("viewer"))
    assert second.has_protocols and second.protocols.name == "playbook"
    cleared = service_pb2.PutNetworkRequest(
        network_id="kept", network=convert.spec_to_network(outage_network()), clear_protocols=True
    )
    assert stub.PutNetwork(cleared, metadata=as_("planner"), timeout=TIMEOUT).has_protocols is False


# ----------------------------------------------------------------------------------- the ledger


def test_a_schema_3_ledger_gains_tenants_audit_and_escalations(tmp_path: Path) -> None:
    """An older file (made by the schema-2 fixture, migrated through 3) opens at schema 4: its
    network belongs to the default tenant, its pending decision has no escalation and is decided
    alone, and every write from then on is in the audit trail with its principal."""
    path = tmp_path / "old.db"
    _old_ledger(path)
    with SqlitePlanStore(path) as s:
        assert s.network_tenant("acme") == DEFAULT_TENANT and s.network_tenant("nope") is None
        [old] = s.list_decisions("acme", 2)
        assert (old.escalation, old.approver) == ("", "")
        decided = s.decide("acme", 2, 0, approve=True, decided_by="coo", credential="token:coo-key")
        assert (decided.state, decided.decided_credential) == (DecisionState.APPROVED, "token:coo-key")
        with pytest.raises(NetworkTaken):
            s.put_network("acme", "Acme", b"\x01", None, actor=Actor("mallory", "token:m", "globex"))
        s.put_network("acme", "Acme", b"\x02", None, actor=Actor("ana", "token:ana-key", DEFAULT_TENANT))
        assert [n.network_id for n in s.list_networks("globex")] == []
        assert [n.latest_version for n in s.list_networks(DEFAULT_TENANT)] == [2]
        assert [(a.principal, a.action) for a in s.list_audit("acme")] == [("coo", "approve"), ("ana", "put_network")]
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_an_escalation_is_decided_once_for_all_its_pending_decisions_in_the_store() -> None:
    """Three decisions: two wait on escalation "rule:r" (role "role:director"), one on "rule:q".
    Approving decision 0 approves 0 and 1 and leaves 2 pending."""
    with SqlitePlanStore(":memory:") as s:
        s.put_network("acme", "Acme", b"\x01", None)
        s.add_plan(
            "acme",
            network_version=1,
            baseline_version=0,
            signals=b"",
            plan=b"p",
            status="optimal",
            objective=1.0,
            decisions=[
                DecisionInput(0, True, b"", "rule:r", "role:director"),
                DecisionInput(1, True, b"", "rule:r", "role:director"),
                DecisionInput(2, True, b"", "rule:q", "role:director"),
            ],
        )
        s.decide("acme", 1, 0, approve=True, decided_by="dora")
        states = [d.state for d in s.list_decisions("acme", 1)]
        assert states == [DecisionState.APPROVED, DecisionState.APPROVED, DecisionState.PENDING]
        with pytest.raises(InvalidTransition):
            s.decide("acme", 1, 1, approve=False, decided_by="dora")
