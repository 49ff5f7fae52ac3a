"""A foreign client: `examples/node/client.mjs`, on the Node.js gRPC stack, calls a real Concerto
server over TLS with a bearer token and reads what Python wrote, and lists and describes the service
through server reflection with the same credentials, as grpcurl would.

Needs node and npm; the packages are installed once (`npm ci`, from the example's lock file) into a
cache under ~/.cache (or $CONCERTO_NODE_CACHE), or taken from examples/node/node_modules when
`npm ci --prefix examples/node` has been run. Without node, npm or the registry the tests skip.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from models.protocols.spec import Approver
from solver._proto.concerto.v1 import plan_pb2, service_pb2
from solver.client import ClientCredentials
from solver.server import SERVICE_NAME, ServerConfig
from tests.service_harness import REPO_ROOT, RunningServer, running_server
from tests.test_auth import TOKENS, as_, late_backup_protocols, plan_and_replan, principals_doc, put
from tests.tls_certs import ThrowawayPki, pki

__all__ = ["pki"]  # the session fixture, imported so that pytest finds it here

EXAMPLE = REPO_ROOT / "examples" / "node"
CLIENT = EXAMPLE / "client.mjs"
NETWORK = "node-outage"
TIMEOUT = 60.0
NODE_SECONDS = 60.0
"""Deadline of one run of the Node client (its calls have 30 s deadlines of their own)."""
NPM_SECONDS = 300.0
"""Deadline of `npm ci`: a registry that does not answer skips the tests instead of hanging them."""
NPM_RETRIES = ("--fetch-retries=1", "--fetch-retry-mintimeout=2000", "--fetch-retry-maxtimeout=10000")
"""One retry after a short wait: a flaky registry still installs, an unreachable one skips soon."""
ENABLE = "run `npm ci --prefix examples/node` (Node.js 18+ and npm) to enable the foreign-client tests"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed; {ENABLE}")
    return found


def _has_packages(prefix: Path) -> bool:
    modules = prefix / "node_modules" / "@grpc"
    return (modules / "grpc-js" / "package.json").is_file() and (modules / "proto-loader" / "package.json").is_file()


def _cache_root() -> Path:
    configured = os.environ.get("CONCERTO_NODE_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "concerto-node-example"


def _install(npm: str, lock: bytes) -> Path:
    """`npm ci` of the example's lock file into a cache directory named by the lock's hash, so a
    changed lock file gets a fresh install and an unchanged one is reused. The install runs in a
    scratch directory renamed into place when complete, so an interrupted one is never reused. The
    tests skip, saying why, when it fails (no registry) or does not finish in `NPM_SECONDS`."""
    prefix = _cache_root() / hashlib.sha256(lock).hexdigest()[:16]
    if _has_packages(prefix):
        return prefix
    shutil.rmtree(prefix, ignore_errors=True)  # an install that did not complete
    prefix.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{prefix.name}.partial-", dir=prefix.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(EXAMPLE / name, scratch / name)
        command = [npm, "ci", "--prefix", str(scratch), "--no-audit", "--no-fund", "--ignore-scripts", *NPM_RETRIES]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=NPM_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm ci did not finish within {NPM_SECONDS:.0f} s (is the npm registry reachable?); {ENABLE}")
        if done.returncode != 0 or not _has_packages(scratch):
            said = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()][:2]
            pytest.skip(f"npm ci failed (is the npm registry reachable?): {' / '.join(said)[:300]}; {ENABLE}")
        try:
            scratch.rename(prefix)
        except OSError:  # another session installed it meanwhile
            if not _has_packages(prefix):
                raise
        return prefix
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The node_modules directory holding @grpc/grpc-js and @grpc/proto-loader."""
    _tool("node")
    if _has_packages(EXAMPLE):
        return EXAMPLE / "node_modules"
    npm = _tool("npm")
    return _install(npm, (EXAMPLE / "package-lock.json").read_bytes()) / "node_modules"


@pytest.fixture(scope="module")
def secured_tls(pki: ThrowawayPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with TLS and the principals of `tests.test_auth`, holding one planned and replanned
    network whose plan waits on the procurement director's approval."""
    root = tmp_path_factory.mktemp("foreign")
    (root / "principals.json").write_text(json.dumps(principals_doc()))
    config = ServerConfig(
        store=root / "ledger.db",
        workers=1,
        queue_size=2,
        principals=root / "principals.json",
        tls_cert=pki.server.cert,
        tls_key=pki.server.key,
    )
    with running_server(config, credentials=ClientCredentials(tls_ca=pki.ca)) as running:
        put(running.stub, NETWORK, "planner", late_backup_protocols(Approver(role="procurement director")))
        plan_and_replan(running.stub, NETWORK)
        yield running


def run_node(
    node_modules: Path, server: RunningServer, pki: ThrowawayPki, token: str, network: str = NETWORK
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NODE_PATH": str(node_modules),
        "CONCERTO_SERVER": server.target,
        "CONCERTO_TLS_CA": str(pki.ca),
        "CONCERTO_TOKEN": token,
    }
    return subprocess.run(
        [_tool("node"), str(CLIENT), network],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=NODE_SECONDS,
        check=False,
    )


def summary_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, f"the Node client failed ({done.returncode}): {done.stderr}"
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


@pytest.fixture(scope="module")
def viewer_summary(node_modules: Path, secured_tls: RunningServer, pki: ThrowawayPki) -> dict[str, Any]:
    """What the Node client prints with the viewer's token."""
    return summary_of(run_node(node_modules, secured_tls, pki, TOKENS["viewer"]))


def test_the_node_client_reads_what_python_wrote_over_tls_with_a_viewer_token(
    viewer_summary: dict[str, Any], secured_tls: RunningServer
) -> None:
    summary = viewer_summary
    viewer = as_("viewer")
    stub = secured_tls.stub

    listed = stub.ListNetworks(service_pb2.ListNetworksRequest(), metadata=viewer, timeout=TIMEOUT).networks
    assert [(n["network_id"], n["latest_version"], n["plan_versions"]) for n in summary["networks"]] == [
        (n.network_id, n.latest_version, n.plan_versions) for n in listed
    ]
    assert NETWORK in {n["network_id"] for n in summary["networks"]}

    network = stub.GetNetwork(service_pb2.GetNetworkRequest(network_id=NETWORK), metadata=viewer, timeout=TIMEOUT)
    assert summary["network"] == {
        "network_id": NETWORK,
        "version": network.version,
        "name": network.network.name,
        "has_protocols": True,
        "created_by": "planner",
    }

    plan = stub.GetPlan(service_pb2.GetPlanRequest(network_id=NETWORK), metadata=viewer, timeout=TIMEOUT)
    assert plan.version == 2 and plan.baseline_version == 1  # the replan
    node_plan = summary["plan"]
    assert (node_plan["version"], node_plan["baseline_version"]) == (plan.version, plan.baseline_version)
    assert node_plan["status"] == plan_pb2.SolveStatus.Name(plan.plan.status)
    assert math.isfinite(plan.plan.objective) and node_plan["objective"] == plan.plan.objective
    assert node_plan["decisions"] == len(plan.plan.decisions)
    assert node_plan["signals"] == [s.id for s in plan.signals]

    decisions = stub.ListDecisions(
        service_pb2.ListDecisionsRequest(network_id=NETWORK, plan_version=plan.version),
        metadata=viewer,
        timeout=TIMEOUT,
    ).decisions
    assert [(d["index"], d["state"], d["approver"], d["escalation"]) for d in summary["decisions"]] == [
        (d.index, service_pb2.DecisionState.Name(d.state), d.approver, d.escalation) for d in decisions
    ]
    pending = [d for d in summary["decisions"] if d["state"] == "DECISION_STATE_PENDING"]
    assert pending and {d["approver"] for d in pending} == {"role:procurement director"}


def test_reflection_lists_and_describes_the_service_for_a_token_holder(viewer_summary: dict[str, Any]) -> None:
    reflection = viewer_summary["reflection"]
    assert SERVICE_NAME == "concerto.v1.Concerto"
    assert SERVICE_NAME in reflection["services"]
    assert "grpc.reflection.v1alpha.ServerReflection" in reflection["services"]
    methods = service_pb2.DESCRIPTOR.services_by_name["Concerto"].methods_by_name
    assert reflection["methods"] == sorted(methods)
    assert "concerto/v1/service.proto" in reflection["files"]


@pytest.mark.parametrize("token", ["tok-nobody", ""], ids=["unknown-token", "no-token"])
def test_a_wrong_token_fails_naming_unauthenticated(
    node_modules: Path, secured_tls: RunningServer, pki: ThrowawayPki, token: str
) -> None:
    done = run_node(node_modules, secured_tls, pki, token)
    if token:
        assert done.returncode == 1
        assert "ListNetworks failed: UNAUTHENTICATED" in done.stderr
    else:  # the client refuses to run without one
        assert done.returncode == 2
        assert "CONCERTO_TOKEN" in done.stderr
    assert done.stdout == ""


def test_a_network_of_another_tenant_is_not_found(
    node_modules: Path, secured_tls: RunningServer, pki: ThrowawayPki
) -> None:
    done = run_node(node_modules, secured_tls, pki, TOKENS["intruder"])
    assert done.returncode == 1
    assert "GetNetwork failed: NOT_FOUND" in done.stderr


def test_a_client_trusting_another_ca_refuses_the_server(
    node_modules: Path, secured_tls: RunningServer, pki: ThrowawayPki
) -> None:
    untrusting = replace(pki, ca=pki.untrusted_ca)
    done = run_node(node_modules, secured_tls, untrusting, TOKENS["viewer"])
    assert done.returncode == 1
    assert "ListNetworks failed: UNAVAILABLE" in done.stderr
