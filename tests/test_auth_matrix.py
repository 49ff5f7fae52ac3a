"""The authorization matrix of issue 15, end to end over TLS with real certificates: for every RPC of
`concerto.v1.Concerto`, each caller (no credential, another tenant's planner, viewer, planner,
approver of another role, the right approver, admin) gets the documented status code, and a call
that ends in an error leaves the ledger file exactly as it was (row counts per table, decisions per
state and a digest of every table's rows, read through a separate read-only SQLite connection).
Mutual TLS identifies a principal by its client certificate's common name.

The expected codes follow `solver.auth` (`METHOD_NEEDS`, `IMPLIES`, `authorize`) and
`solver.usecases` (`decide`, `_approver_functions`, `list_networks`): an approver grant includes a
viewer's, an admin's a planner's but never an approver's; another tenant's network is NOT_FOUND,
PutNetwork onto its id ALREADY_EXISTS.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import cast

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from google.protobuf.message import Message

from benchmarks.fuzz import Ledger
from models.protocols.spec import Approver
from solver import convert
from solver._proto.concerto.v1 import network_pb2, protocols_pb2, service_pb2, service_pb2_grpc, signals_pb2
from solver.auth import METHOD_NEEDS, token_hash
from solver.client import ClientCredentials, ConcertoClient
from solver.server import ServerConfig
from tests.service_harness import RunningServer, running_server
from tests.test_auth import TOKENS, late_backup_protocols, pending, plan_and_replan, principals_doc, put
from tests.test_protocols import OUTAGE_DAY_0, outage_network
from tests.tls_certs import ThrowawayPki, pki

__all__ = ["pki"]  # the session fixture, imported so that pytest finds it here

TIMEOUT = 60.0
"""Deadline of every call: a broken server fails the test instead of hanging it."""
FAST = service_pb2.SolveOptions(time_limit_seconds=5.0, mip_rel_gap=0.0, threads=1)
"""The matrix's solves: the networks are tiny, the limit is only a ceiling."""

NETWORK = "acme-matrix"
"""acme's seeded network, whose replan escalates to role "procurement director"."""
GLOBEX_NETWORK = "globex-own"
"""The wrong tenant's own network, so that its ListNetworks is not empty by accident."""
MISSING = "no-such-network"
"""An id nobody stored: another tenant's network must be answered exactly like it."""
ESCALATED_TO = "procurement director"

SERVICE = service_pb2.DESCRIPTOR.services_by_name["Concerto"]
RPCS = [m.name for m in SERVICE.methods]
"""Every RPC of the service, from its descriptor: a new RPC is a row of the matrix or a failure."""
STREAMING = {m.name for m in SERVICE.methods if m.server_streaming}

EXTRA_TOKENS = {"coo": "tok-coo-acme"}
"""Tokens of the principals this module adds to `tests.test_auth.principals_doc`."""
CERT_PRINCIPAL = "robot"
"""The acme planner known by the common name of the pki's `client` certificate (mutual TLS)."""


class Caller(Enum):
    """The matrix's columns: the principal id a caller's token belongs to ("": no credential)."""

    NO_CREDENTIAL = ""
    WRONG_TENANT = "intruder"  # a globex planner
    VIEWER = "viewer"
    PLANNER = "planner"
    OTHER_APPROVER = "coo"  # approver for protocol role "coo"
    RIGHT_APPROVER = "director"  # approver for protocol role "procurement director"
    ADMIN = "admin"


def metadata(caller: Caller) -> tuple[tuple[str, str], ...]:
    if caller is Caller.NO_CREDENTIAL:
        return ()
    token = {**TOKENS, **EXTRA_TOKENS}[caller.value]
    return (("authorization", f"Bearer {token}"),)


# --------------------------------------------------------------------------------------- the table

OK = grpc.StatusCode.OK
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
HIDDEN = grpc.StatusCode.NOT_FOUND
TAKEN = grpc.StatusCode.ALREADY_EXISTS
DENIED = grpc.StatusCode.PERMISSION_DENIED


@dataclass(frozen=True)
class Row:
    reason: str
    codes: tuple[grpc.StatusCode, ...]
    """One code per `Caller`, in its order."""
    writes: bool
    """Whether an allowed call stores something (then the ledger must change)."""


def row(reason: str, *codes: grpc.StatusCode, writes: bool = False) -> Row:
    assert len(codes) == len(Caller), reason
    return Row(reason, codes, writes)


# fmt: off
MATRIX: dict[str, Row] = {
    #                 none    tenant  viewer  planner other   right   admin
    "PutNetwork": row("planner on the network; another tenant's id is taken",
                      UNAUTH, TAKEN,  DENIED, OK,     DENIED, DENIED, OK, writes=True),
    "GetNetwork": row("viewer on the network (approvers are viewers, admins planners)",
                      UNAUTH, HIDDEN, OK,     OK,     OK,     OK,     OK),
    "ValidateNetwork": row("stateless: planner on any network of the caller's own tenant",
                      UNAUTH, OK,     DENIED, OK,     DENIED, DENIED, OK),
    "ListNetworks": row("any principal; the answer holds only its own tenant's networks",
                      UNAUTH, OK,     OK,     OK,     OK,     OK,     OK),
    "Solve": row("stateless: planner on any network of the caller's own tenant",
                      UNAUTH, OK,     DENIED, OK,     DENIED, DENIED, OK),
    "SolveStream": row("stateless: planner on any network of the caller's own tenant",
                      UNAUTH, OK,     DENIED, OK,     DENIED, DENIED, OK),
    "Plan": row("planner on the network",
                      UNAUTH, HIDDEN, DENIED, OK,     DENIED, DENIED, OK, writes=True),
    "Replan": row("planner (or partner, not a column here) on the network",
                      UNAUTH, HIDDEN, DENIED, OK,     DENIED, DENIED, OK, writes=True),
    "ReplanStream": row("planner (or partner, not a column here) on the network",
                      UNAUTH, HIDDEN, DENIED, OK,     DENIED, DENIED, OK, writes=True),
    "GetPlan": row("viewer on the network",
                      UNAUTH, HIDDEN, OK,     OK,     OK,     OK,     OK),
    "ListPlans": row("viewer on the network",
                      UNAUTH, HIDDEN, OK,     OK,     OK,     OK,     OK),
    "DiffPlans": row("viewer on the network",
                      UNAUTH, HIDDEN, OK,     OK,     OK,     OK,     OK),
    "WatchPlans": row("viewer on the network; allowed means the stream delivers a version",
                      UNAUTH, HIDDEN, OK,     OK,     OK,     OK,     OK),
    "ListDecisions": row("viewer on the network",
                      UNAUTH, HIDDEN, OK,     OK,     OK,     OK,     OK),
    "ApproveDecision": row("approver for the decision's protocol role; admin is no approver",
                      UNAUTH, HIDDEN, DENIED, DENIED, DENIED, OK,     DENIED, writes=True),
    "RejectDecision": row("approver for the decision's protocol role; admin is no approver",
                      UNAUTH, HIDDEN, DENIED, DENIED, DENIED, OK,     DENIED, writes=True),
    "ListAudit": row("admin on the network",
                      UNAUTH, HIDDEN, DENIED, DENIED, DENIED, DENIED, OK),
    "ExportModel": row("planner on the network it names",
                      UNAUTH, HIDDEN, DENIED, OK,     DENIED, DENIED, OK),
    "ListBackends": row("any principal",
                      UNAUTH, OK,     OK,     OK,     OK,     OK,     OK),
}
# fmt: on


def denial_names(rpc: str, caller: Caller) -> str:
    """What a PERMISSION_DENIED message must name: the grant the method needs, or, for an approver
    of another role, the protocol role the decision is escalated to."""
    if rpc in ("ApproveDecision", "RejectDecision") and caller is Caller.OTHER_APPROVER:
        return f"role {ESCALATED_TO!r}"
    need = METHOD_NEEDS[rpc].role
    assert need is not None, rpc
    return f"no {need.value} grant"


# ------------------------------------------------------------------------------------- the server


def principals_file(path: Path, certificate_name: str) -> Path:
    """`tests.test_auth.principals_doc` (acme's planner, viewer, "procurement director" approver,
    function approvers, admin, partner; globex's planner "intruder"), plus an approver for role
    "coo" and a planner known only by a client certificate's name."""
    principals = list(cast(list[dict[str, object]], principals_doc()["principals"]))
    principals += [
        {
            "id": "coo",
            "tenant": "acme",
            "tokens": [{"sha256": token_hash(EXTRA_TOKENS["coo"]), "label": "coo-key"}],
            "grants": [{"role": "approver", "roles": ["coo"]}],
        },
        {"id": CERT_PRINCIPAL, "tenant": "acme", "certificates": [certificate_name], "grants": [{"role": "planner"}]},
    ]
    path.write_text(json.dumps({"principals": principals}))
    return path


def common_name(cert: Path) -> str:
    subject = x509.load_pem_x509_certificate(cert.read_bytes()).subject
    return str(subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def tls_server_config(pki: ThrowawayPki, root: Path, *, client_ca: Path | None = None) -> ServerConfig:
    return ServerConfig(
        store_path=root / "ledger.db",
        workers=1,
        queue_size=2,
        default_time_limit=FAST.time_limit_seconds,
        tls_cert=pki.server.cert,
        tls_key=pki.server.key,
        client_ca=client_ca,
        principals=principals_file(root / "principals.json", common_name(pki.client.cert)),
    )


def ledger_state(ledger: Ledger) -> dict[str, object]:
    """The ledger file as a separate read-only connection sees it: row counts per table and
    decisions per state (`benchmarks.fuzz.Ledger`), and a digest of each table's rows, so that an
    update that keeps the counts shows too."""
    state: dict[str, object] = dict(ledger.counts())
    tables = ledger.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    for (table,) in tables:
        rows = sorted(repr(r) for r in ledger.conn.execute(f'SELECT * FROM "{table}"'))
        state[f"{table} rows"] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
    return state


@dataclass(frozen=True)
class Matrix:
    """The module's TLS server, seeded, and a read-only view of its ledger file."""

    server: RunningServer
    ledger: Ledger

    @property
    def stub(self) -> service_pb2_grpc.ConcertoStub:
        return self.server.stub

    def pending_decision(self) -> tuple[int, int]:
        """(plan version, index) of a pending decision of the latest plan version, which alone can
        be decided: planned and replanned again (as acme's planner) when none is left."""
        waiting = pending(self.stub, NETWORK, "viewer")
        if not waiting:
            plan_and_replan(self.stub, NETWORK)
            waiting = pending(self.stub, NETWORK, "viewer")
        assert waiting, "the replan escalated nothing"
        assert {d.approver for d in waiting} == {f"role:{ESCALATED_TO}"}
        return waiting[0].plan_version, waiting[0].index

    def wait_for_closed_watches(self) -> None:
        """A cancelled WatchPlans frees its slot when the server notices; wait for that, so that
        the next watch of this client is not refused for the per-client limit."""
        slots = self.server.servicer.watch_slots
        stop_at = time.monotonic() + TIMEOUT
        while slots.open() and time.monotonic() < stop_at:
            time.sleep(0.02)
        assert slots.open() == 0, "a cancelled watch stream was never closed on the server"


@pytest.fixture(scope="module")
def matrix(pki: ThrowawayPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """One TLS server (clients trust the test CA) with two tenants; acme's network is stored, planned
    and replanned by acme's planner, so plan versions 1 and 2 exist and version 2's decisions wait
    for the procurement director; globex holds a network of its own."""
    root = tmp_path_factory.mktemp("matrix")
    config = tls_server_config(pki, root)
    with running_server(config, credentials=ClientCredentials(tls_ca=pki.ca)) as running:
        stub = running.stub
        put(stub, NETWORK, "planner", late_backup_protocols(Approver(role=ESCALATED_TO)))
        assert plan_and_replan(stub, NETWORK) == 2
        put(stub, GLOBEX_NETWORK, "intruder", None)
        ledger = Ledger(root / "ledger.db")
        try:
            yield Matrix(running, ledger)
        finally:
            ledger.close()


# ------------------------------------------------------------------------------------ the requests


def _network() -> network_pb2.Network:
    return convert.spec_to_network(outage_network())


def _protocols() -> protocols_pb2.ProtocolSet:
    return convert.protocols_to_proto(late_backup_protocols(Approver(role=ESCALATED_TO)))


def _signals() -> list[signals_pb2.Signal]:
    return [convert.signal_to_proto(OUTAGE_DAY_0)]


def _solve() -> service_pb2.SolveRequest:
    return service_pb2.SolveRequest(network=_network(), protocols=_protocols(), signals=_signals(), options=FAST)


def _replan() -> service_pb2.ReplanRequest:
    return service_pb2.ReplanRequest(network_id=NETWORK, signals=_signals(), options=FAST)


def _decide(m: Matrix) -> service_pb2.DecideRequest:
    version, index = m.pending_decision()
    return service_pb2.DecideRequest(network_id=NETWORK, plan_version=version, index=index, note="matrix")


REQUESTS: dict[str, Callable[[Matrix], Message]] = {
    "PutNetwork": lambda m: service_pb2.PutNetworkRequest(
        network_id=NETWORK, network=_network(), protocols=_protocols()
    ),
    "GetNetwork": lambda m: service_pb2.GetNetworkRequest(network_id=NETWORK, version=1),
    "ValidateNetwork": lambda m: service_pb2.ValidateNetworkRequest(
        network=_network(), protocols=_protocols(), signals=_signals()
    ),
    "ListNetworks": lambda m: service_pb2.ListNetworksRequest(),
    "Solve": lambda m: _solve(),
    "SolveStream": lambda m: _solve(),
    "Plan": lambda m: service_pb2.PlanRequest(network_id=NETWORK, options=FAST),
    "Replan": lambda m: _replan(),
    "ReplanStream": lambda m: _replan(),
    "GetPlan": lambda m: service_pb2.GetPlanRequest(network_id=NETWORK, version=2),
    "ListPlans": lambda m: service_pb2.ListPlansRequest(network_id=NETWORK),
    "DiffPlans": lambda m: service_pb2.DiffPlansRequest(network_id=NETWORK, from_version=1, to_version=2),
    "WatchPlans": lambda m: service_pb2.WatchPlansRequest(network_id=NETWORK, after_version=1),
    "ListDecisions": lambda m: service_pb2.ListDecisionsRequest(network_id=NETWORK, plan_version=2),
    "ApproveDecision": _decide,
    "RejectDecision": _decide,
    "ListAudit": lambda m: service_pb2.ListAuditRequest(network_id=NETWORK),
    "ExportModel": lambda m: service_pb2.ExportModelRequest(
        network_id=NETWORK, signals=_signals(), format=service_pb2.ModelFormat.MODEL_FORMAT_LP
    ),
    "ListBackends": lambda m: service_pb2.ListBackendsRequest(),
}
"""One request per RPC, aimed at acme's seeded network where the RPC names a network; built anew
for each call (a decision request finds, or makes, a pending decision of the latest plan)."""


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    details: str
    response: object | None


def call(m: Matrix, rpc: str, request: Message, caller: Caller) -> Answer:
    """The RPC's outcome: a stream is read to its end, except WatchPlans, which is allowed when it
    delivers its first version (the request asks for those after version 1) and is then cancelled."""
    method = getattr(m.stub, rpc)
    try:
        if rpc == "WatchPlans":
            stream = method(request, metadata=metadata(caller), timeout=TIMEOUT)
            try:
                first = next(stream, None)
            finally:
                stream.cancel()
                m.wait_for_closed_watches()
            return Answer(OK, "", first)
        if rpc in STREAMING:
            return Answer(OK, "", list(method(request, metadata=metadata(caller), timeout=TIMEOUT)))
        return Answer(OK, "", method(request, metadata=metadata(caller), timeout=TIMEOUT))
    except grpc.RpcError as err:
        return Answer(err.code(), err.details() or "", None)


def content_problems(rpc: str, caller: Caller, answer: Answer) -> list[str]:
    """What an allowed answer must hold beyond its code."""
    if rpc == "WatchPlans" and not (
        isinstance(answer.response, service_pb2.PlanVersion) and answer.response.version > 1
    ):
        return [f"delivered {answer.response!r} instead of a plan version after version 1"]
    if rpc == "ListNetworks":
        assert isinstance(answer.response, service_pb2.ListNetworksResponse)
        listed = {n.network_id for n in answer.response.networks}
        own, other = (GLOBEX_NETWORK, NETWORK) if caller is Caller.WRONG_TENANT else (NETWORK, GLOBEX_NETWORK)
        if own not in listed or other in listed:
            return [f"lists {sorted(listed)}: {other!r} is another tenant's, {own!r} its own"]
    if rpc in ("ApproveDecision", "RejectDecision"):
        record = answer.response
        assert isinstance(record, service_pb2.DecisionRecord)
        state = service_pb2.DECISION_STATE_APPROVED if rpc == "ApproveDecision" else service_pb2.DECISION_STATE_REJECTED
        if (record.state, record.decided_by, record.decided_credential) != (state, "director", "token:director-key"):
            return [f"recorded {record.state}, {record.decided_by!r}, {record.decided_credential!r}"]
    return []


# ------------------------------------------------------------------------------------------ tests


def test_the_matrix_has_a_row_and_a_request_for_every_rpc_of_the_service() -> None:
    assert set(MATRIX) == set(RPCS) == set(REQUESTS) == set(METHOD_NEEDS)


@pytest.mark.parametrize("rpc", RPCS)
def test_every_caller_gets_the_documented_code_and_an_error_writes_nothing(matrix: Matrix, rpc: str) -> None:
    expected_row = MATRIX[rpc]
    problems: list[str] = []
    for caller, expected in zip(Caller, expected_row.codes, strict=True):
        request = REQUESTS[rpc](matrix)
        before = ledger_state(matrix.ledger)
        answer = call(matrix, rpc, request, caller)
        said = f"{caller.name}: {answer.code.name}"
        if answer.code != expected:
            problems.append(f"{said}, expected {expected.name} ({expected_row.reason}): {answer.details}")
        if answer.code == HIDDEN:
            # another tenant's network is answered exactly like one that does not exist
            probe = copy.deepcopy(request)
            probe.network_id = MISSING  # type: ignore[attr-defined]
            missing = call(matrix, rpc, probe, caller)
            if (missing.code, missing.details.replace(MISSING, NETWORK)) != (HIDDEN, answer.details):
                problems.append(f"{said} says {answer.details!r}, a missing network {missing.details!r}")
        after = ledger_state(matrix.ledger)
        if answer.code == OK and expected_row.writes:
            if after == before:
                problems.append(f"{said} but nothing was written")
        elif after != before:
            changed = {
                k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)
            }
            problems.append(f"{said} and the ledger changed: {changed}")
        if answer.code == DENIED and denial_names(rpc, caller) not in answer.details:
            problems.append(f"{said} without naming {denial_names(rpc, caller)!r}: {answer.details}")
        if answer.code == UNAUTH and "credential" not in answer.details:
            problems.append(f"{said} without saying a credential is needed: {answer.details}")
        if answer.code == OK:
            problems += [f"{said}, but it {p}" for p in content_problems(rpc, caller, answer)]
    assert not problems, f"{rpc}:\n" + "\n".join(problems)


def test_mutual_tls_identifies_a_principal_by_its_certificate_name(pki: ThrowawayPki, tmp_path: Path) -> None:
    """The pki's `client` certificate is principal "robot" (an acme planner) in the principals file:
    with it, calls need no token. The `other_client` certificate, signed by the same CA but not in
    the file, is UNAUTHENTICATED and writes nothing, unless a known token comes with it."""
    config = tls_server_config(pki, tmp_path, client_ca=pki.ca)
    registered = ClientCredentials(tls_ca=pki.ca, tls_cert=pki.client.cert, tls_key=pki.client.key)
    with running_server(config, credentials=registered) as running:
        stub = running.stub
        assert list(stub.ListNetworks(service_pb2.ListNetworksRequest(), timeout=TIMEOUT).networks) == []
        stored = stub.PutNetwork(
            service_pb2.PutNetworkRequest(network_id="by-certificate", network=_network()), timeout=TIMEOUT
        )
        assert (stored.version, stored.created_by) == (1, CERT_PRINCIPAL)
        listed = stub.ListNetworks(service_pb2.ListNetworksRequest(), timeout=TIMEOUT).networks
        assert [n.network_id for n in listed] == ["by-certificate"]

        stranger = ConcertoClient(
            running.target, tls_ca=pki.ca, tls_cert=pki.other_client.cert, tls_key=pki.other_client.key
        )
        with closing(Ledger(tmp_path / "ledger.db")) as ledger, stranger:
            before = ledger_state(ledger)
            for name, request in (
                ("ListNetworks", service_pb2.ListNetworksRequest()),
                ("PutNetwork", service_pb2.PutNetworkRequest(network_id="by-stranger", network=_network())),
            ):
                with pytest.raises(grpc.RpcError) as info:
                    getattr(stranger.stub, name)(request, timeout=TIMEOUT)
                assert info.value.code() == UNAUTH, name
                assert "certificate" in (info.value.details() or ""), name
            assert ledger_state(ledger) == before
            with_token = stranger.stub.ListNetworks(
                service_pb2.ListNetworksRequest(), metadata=metadata(Caller.VIEWER), timeout=TIMEOUT
            )
            assert [n.network_id for n in with_token.networks] == ["by-certificate"]
