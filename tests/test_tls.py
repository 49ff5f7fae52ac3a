"""Transport security end to end over real servers on 127.0.0.1:0 with a throwaway PKI: TLS and
mutual TLS accept the right clients and refuse the others, the exposure rule, reflection on and off,
the bearer token on every call, the TLS flags of `concerto`, and the ledger's owner-only mode.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from models.errors import ValidationError
from solver._proto.concerto.v1 import service_pb2
from solver.cli import main
from solver.client import AUTHORIZATION, ClientCredentials, ConcertoClient
from solver.convert import write_network
from solver.server import (
    SERVICE_NAME,
    ServerConfig,
    create_server,
    describe_exposure,
    reflection_enabled,
    shutdown,
)
from solver.store import SqlitePlanStore
from solver.tls import is_loopback
from tests.service_harness import REPO_ROOT, STARTUP_SECONDS, RunningServer, running_server
from tests.test_known_answers import backup_network
from tests.tls_certs import ThrowawayPki, pki

__all__ = ["pki"]  # the session fixture, imported so that pytest finds it here

TIMEOUT = 30.0
"""Deadline of every call: a broken server fails the test instead of hanging it."""

BACKUP_OPTIMUM = 100.0
"""`backup_network(lost_sale_penalty=100)`: 10 units from the main offer at 5 and 5 from the
backup at 6 after its activation cost of 20, 50 + 30 + 20 = 100."""


def tls_config(pki: ThrowawayPki, store: Path, *, client_ca: Path | None = None) -> ServerConfig:
    return ServerConfig(
        store_path=store,
        workers=1,
        queue_size=1,
        tls_cert=pki.server.cert,
        tls_key=pki.server.key,
        client_ca=client_ca,
    )


@pytest.fixture(scope="module")
def tls_server(pki: ThrowawayPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Server TLS, no client certificates asked; its client trusts the test CA."""
    store = tmp_path_factory.mktemp("tls") / "ledger.db"
    with running_server(tls_config(pki, store), credentials=ClientCredentials(tls_ca=pki.ca)) as running:
        yield running


@pytest.fixture(scope="module")
def mtls_server(pki: ThrowawayPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Mutual TLS: clients must present a certificate the test CA signed."""
    store = tmp_path_factory.mktemp("mtls") / "ledger.db"
    credentials = ClientCredentials(tls_ca=pki.ca, tls_cert=pki.client.cert, tls_key=pki.client.key)
    with running_server(tls_config(pki, store, client_ca=pki.ca), credentials=credentials) as running:
        yield running


def refused_code(client: ConcertoClient) -> grpc.StatusCode:
    """The status a cheap call ends with (the test fails if it is answered)."""
    with client, pytest.raises(grpc.RpcError) as info:
        client.stub.ListNetworks(service_pb2.ListNetworksRequest(), timeout=TIMEOUT)
    return info.value.code()


def reflected_services(channel: grpc.Channel) -> set[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    (answer,) = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
    return {s.name for s in answer.list_services_response.service}


def reflection_code(channel: grpc.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        reflected_services(channel)
    return info.value.code()


# -- TLS -------------------------------------------------------------------------------------------


def test_a_tls_client_stores_and_plans_a_network(tls_server: RunningServer) -> None:
    client = tls_server.client
    assert client.put_network("tiny", backup_network(lost_sale_penalty=100), timeout=TIMEOUT) == 1
    stored = client.plan("tiny", timeout=TIMEOUT)
    assert stored.version == 1
    assert stored.plan.objective == pytest.approx(BACKUP_OPTIMUM)


def test_the_server_name_can_differ_from_the_host(pki: ThrowawayPki, tls_server: RunningServer) -> None:
    """The certificate names localhost and 127.0.0.1; a client dialling 127.0.0.1 can check the
    certificate against "localhost" instead, and a name it does not carry is refused."""
    with ConcertoClient(tls_server.target, tls_ca=pki.ca, tls_server_name="localhost") as client:
        assert client.stub.ListNetworks(service_pb2.ListNetworksRequest(), timeout=TIMEOUT) is not None
    wrong = ConcertoClient(tls_server.target, tls_ca=pki.ca, tls_server_name="plans.example")
    assert refused_code(wrong) == grpc.StatusCode.UNAVAILABLE


def test_a_plaintext_client_gets_no_answer_from_a_tls_server(tls_server: RunningServer) -> None:
    assert refused_code(ConcertoClient(tls_server.target)) == grpc.StatusCode.UNAVAILABLE


def test_a_client_trusting_another_ca_refuses_the_server(pki: ThrowawayPki, tls_server: RunningServer) -> None:
    assert refused_code(ConcertoClient(tls_server.target, tls_ca=pki.untrusted_ca)) == grpc.StatusCode.UNAVAILABLE


def test_reflection_is_served_over_tls_on_loopback_by_default(tls_server: RunningServer) -> None:
    assert SERVICE_NAME in reflected_services(tls_server.channel)


def test_mutual_tls_accepts_only_certificates_the_ca_signed(pki: ThrowawayPki, mtls_server: RunningServer) -> None:
    target = mtls_server.target
    assert refused_code(ConcertoClient(target, tls_ca=pki.ca)) == grpc.StatusCode.UNAVAILABLE
    untrusted = ConcertoClient(
        target, tls_ca=pki.ca, tls_cert=pki.untrusted_client.cert, tls_key=pki.untrusted_client.key
    )
    assert refused_code(untrusted) == grpc.StatusCode.UNAVAILABLE
    with ConcertoClient(target, tls_ca=pki.ca, tls_cert=pki.other_client.cert, tls_key=pki.other_client.key) as client:
        client.put_network("tiny", backup_network(lost_sale_penalty=100), timeout=TIMEOUT)
        assert [n.network_id for n in client.list_networks()] == ["tiny"]
    assert mtls_server.client.plan("tiny", timeout=TIMEOUT).plan.objective == pytest.approx(BACKUP_OPTIMUM)


# -- bad TLS settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"tls_key": "server.key"}, "--tls-key is given without --tls-cert"),
        ({"tls_cert": "server.crt"}, "--tls-cert is given without --tls-key"),
        ({"client_ca": "ca.crt"}, "--client-ca needs TLS"),
        ({"tls_cert": "missing.crt", "tls_key": "server.key"}, "--tls-cert does not exist"),
        ({"tls_cert": "server.crt", "tls_key": "server.crt"}, "--tls-key holds no PEM private key"),
        ({"tls_cert": "server.crt", "tls_key": "client.key"}, "--tls-key does not go with --tls-cert"),
        ({"tls_cert": "server.crt", "tls_key": "server.key", "client_ca": "server.key"}, "--client-ca holds no PEM"),
    ],
)
def test_bad_tls_settings_name_the_flag_before_anything_binds(
    pki: ThrowawayPki, tmp_path: Path, settings: dict[str, str], says: str
) -> None:
    folder = pki.ca.parent
    store = tmp_path / "ledger.db"
    files = {setting: folder / name for setting, name in settings.items()}
    config = ServerConfig(store_path=store, workers=1, **files)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        create_server("127.0.0.1:0", config)
    assert says in str(info.value)
    assert not store.exists(), "the ledger was opened before the settings were checked"


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"tls_key": "client.key"}, "--tls-key is given without --tls-cert"),
        ({"tls_ca": "missing.crt"}, "--tls-ca does not exist"),
        ({"tls_cert": "client.crt", "tls_key": "other-client.key"}, "--tls-key does not go with --tls-cert"),
        ({"tls_server_name": "localhost"}, "--tls-server-name needs TLS"),
    ],
)
def test_bad_client_settings_exit_2_naming_the_flag(
    pki: ThrowawayPki, capsys: pytest.CaptureFixture[str], settings: dict[str, str], says: str
) -> None:
    argv = ["backends", "--server", "127.0.0.1:1"]
    for setting, value in settings.items():
        argv += [
            "--" + setting.replace("_", "-"),
            value if setting == "tls_server_name" else str(pki.ca.parent / value),
        ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("concerto: client ") and says in err, err


def test_the_client_flags_default_from_the_environment(
    pki: ThrowawayPki, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """$CONCERTO_TLS_CA stands for --tls-ca (a missing file names the flag); $CONCERTO_TOKEN for
    --token, which is refused in clear to a server that is not on loopback."""
    monkeypatch.setenv("CONCERTO_TLS_CA", str(pki.ca.parent / "missing.crt"))
    monkeypatch.setenv("CONCERTO_SERVER", "127.0.0.1:1")
    assert main(["plan", "tiny"]) == 2
    assert f"concerto: client '{pki.ca.parent / 'missing.crt'}': --tls-ca does not exist" in capsys.readouterr().err
    monkeypatch.delenv("CONCERTO_TLS_CA")
    monkeypatch.setenv("CONCERTO_TOKEN", "s3cret")
    monkeypatch.setenv("CONCERTO_SERVER", "10.1.2.3:50051")
    assert main(["plan", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "--token would be sent in clear" in err and "s3cret" not in err


def test_a_token_is_never_sent_in_clear_beyond_loopback_nor_shown() -> None:
    with pytest.raises(ValidationError) as info:
        ConcertoClient("10.1.2.3:50051", token="s3cret")
    assert info.value.field == "token" and "tls_ca" in str(info.value) and "s3cret" not in str(info.value)
    assert "s3cret" not in repr(ClientCredentials(token="s3cret"))


# -- the exposure rule and reflection --------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:0", True),
        ("127.3.2.1:50051", True),
        ("[::1]:50051", True),
        ("localhost:50051", True),
        ("dns:///localhost:443", True),
        ("unix:/tmp/concerto.sock", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        (":50051", False),
        ("10.0.0.5:50051", False),
        ("plans.example:443", False),
    ],
)
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


@pytest.mark.parametrize(
    ("principals", "tls", "says"),
    [
        (None, False, "--principals FILE and --tls-cert/--tls-key are missing"),
        ("principals.json", False, "--tls-cert/--tls-key is missing"),
        (None, True, "--principals FILE is missing"),
    ],
)
def test_binding_beyond_loopback_needs_principals_and_tls(
    pki: ThrowawayPki, tmp_path: Path, principals: str | None, tls: bool, says: str
) -> None:
    store = tmp_path / "ledger.db"
    config = ServerConfig(
        store_path=store,
        principals=principals,
        tls_cert=pki.server.cert if tls else None,
        tls_key=pki.server.key if tls else None,
    )
    with pytest.raises(ValidationError) as info:
        create_server("0.0.0.0:0", config)
    assert info.value.field == "--address"
    assert says in str(info.value) and "--insecure" in str(info.value)
    assert not store.exists()


def test_serve_refuses_an_open_plaintext_server_beyond_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--address", "0.0.0.0:0", "--store", str(tmp_path / "ledger.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("concerto: server config '0.0.0.0:0': --address is not loopback")
    assert "--principals FILE and --tls-cert/--tls-key are missing" in err and "pass --insecure" in err


def test_insecure_serves_beyond_loopback_without_reflection(tmp_path: Path) -> None:
    """--insecure lifts the rule; an open server beyond loopback does not describe itself."""
    config = ServerConfig(store_path=tmp_path / "ledger.db", workers=1, insecure=True)
    server, port, servicer = create_server("0.0.0.0:0", config)
    server.start()
    try:
        with ConcertoClient(f"127.0.0.1:{port}") as client:
            assert client.list_networks() == []
            assert reflection_code(client.channel) == grpc.StatusCode.UNIMPLEMENTED
    finally:
        shutdown(server, servicer, grace=0)
    assert describe_exposure("0.0.0.0:0", config) == "plaintext, open to any caller (--insecure), reflection off"


def test_no_reflection_leaves_reflection_unimplemented(tmp_path: Path) -> None:
    config = ServerConfig(store_path=tmp_path / "ledger.db", workers=1, reflection=False)
    with running_server(config) as running:
        assert reflection_code(running.channel) == grpc.StatusCode.UNIMPLEMENTED
        assert running.client.list_networks() == []


@pytest.mark.parametrize(
    ("address", "principals", "forced", "on"),
    [
        ("127.0.0.1:0", None, None, True),
        ("0.0.0.0:0", None, None, False),
        ("0.0.0.0:0", "principals.json", None, True),
        ("127.0.0.1:0", None, False, False),
        ("0.0.0.0:0", None, True, True),
    ],
)
def test_reflection_default(address: str, principals: str | None, forced: bool | None, on: bool) -> None:
    """On by default only where authentication is on or the address is loopback; the flag forces it."""
    assert reflection_enabled(address, ServerConfig(principals=principals, reflection=forced)) is on


def test_the_start_line_says_what_the_server_is(pki: ThrowawayPki) -> None:
    open_local = ServerConfig()
    assert describe_exposure("127.0.0.1:0", open_local) == (
        "plaintext, open to any local caller; loopback only, reflection on"
    )
    mutual = ServerConfig(
        tls_cert=pki.server.cert, tls_key=pki.server.key, client_ca=pki.ca, principals="p.json", reflection=False
    )
    assert describe_exposure("0.0.0.0:443", mutual) == (
        f"mutual TLS (client certificates signed by {pki.ca}), authenticated (principals p.json), reflection off"
    )


# -- the bearer token ------------------------------------------------------------------------------


class _Recorder:
    """A stand-in Concerto server that records each call's metadata and answers empty."""

    def __init__(self) -> None:
        self.metadata: dict[str, dict[str, str | bytes]] = {}

    def record(self, name: str, context: grpc.ServicerContext) -> None:
        self.metadata[name] = dict(context.invocation_metadata())

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        def list_backends(request: object, context: grpc.ServicerContext) -> service_pb2.ListBackendsResponse:
            self.record("ListBackends", context)
            return service_pb2.ListBackendsResponse()

        def watch_plans(request: object, context: grpc.ServicerContext) -> Iterator[service_pb2.PlanVersion]:
            self.record("WatchPlans", context)
            return iter(())

        def reflect(requests: Iterator[object], context: grpc.ServicerContext) -> Iterator[object]:
            self.record("ServerReflectionInfo", context)
            return iter(())

        concerto = grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "ListBackends": grpc.unary_unary_rpc_method_handler(
                    list_backends,
                    service_pb2.ListBackendsRequest.FromString,
                    service_pb2.ListBackendsResponse.SerializeToString,
                ),
                "WatchPlans": grpc.unary_stream_rpc_method_handler(
                    watch_plans, service_pb2.WatchPlansRequest.FromString, service_pb2.PlanVersion.SerializeToString
                ),
            },
        )
        reflection = grpc.method_handlers_generic_handler(
            "grpc.reflection.v1alpha.ServerReflection",
            {
                "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                    reflect,
                    reflection_pb2.ServerReflectionRequest.FromString,
                    reflection_pb2.ServerReflectionResponse.SerializeToString,
                )
            },
        )
        return [concerto, reflection]


@pytest.mark.parametrize("tls", [False, True], ids=["plaintext-loopback", "tls"])
def test_the_token_rides_on_unary_and_streaming_calls(pki: ThrowawayPki, tls: bool) -> None:
    recorder = _Recorder()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=recorder.handlers())
    if tls:
        credentials = grpc.ssl_server_credentials([(pki.server.key.read_bytes(), pki.server.cert.read_bytes())])
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with ConcertoClient(f"127.0.0.1:{port}", token="t0ken", tls_ca=pki.ca if tls else None) as client:
            assert client.list_backends() == []
            assert list(client.watch("tiny")) == []
            stub = reflection_pb2_grpc.ServerReflectionStub(client.channel)
            assert list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest()]), timeout=10)) == []
    finally:
        server.stop(0).wait()
    assert set(recorder.metadata) == {"ListBackends", "WatchPlans", "ServerReflectionInfo"}
    for name, metadata in recorder.metadata.items():
        assert metadata.get(AUTHORIZATION) == "Bearer t0ken", name


def test_without_a_token_no_authorization_is_sent() -> None:
    recorder = _Recorder()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=recorder.handlers())
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with ConcertoClient(f"127.0.0.1:{port}") as client:
            assert client.list_backends() == []
    finally:
        server.stop(0).wait()
    assert AUTHORIZATION not in recorder.metadata["ListBackends"]


# -- `concerto serve` with TLS, and its clients ------------------------------------------------------


def serve_process(*args: str) -> tuple[subprocess.Popen[str], int]:
    """`concerto serve ARGS` in a new interpreter, with the port it announced."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "solver.cli", "serve", "--address", "127.0.0.1:0", "--workers", "1", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first.startswith("concerto serving on port"):
        proc.kill()
        _, err = proc.communicate(timeout=STARTUP_SECONDS)
        raise AssertionError(f"concerto serve did not start: {first!r} {err}")
    return proc, int(first.split()[-1])


def stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM, and the server's log."""
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=STARTUP_SECONDS)
    return err


def test_concerto_serve_over_tls_answers_backends_and_plan(
    pki: ThrowawayPki, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    network = tmp_path / "tiny.json"
    write_network(backup_network(lost_sale_penalty=100), network)
    store = tmp_path / "ledger.db"
    tls = ["--tls-cert", str(pki.server.cert), "--tls-key", str(pki.server.key), "--client-ca", str(pki.ca)]
    proc, port = serve_process("--store", str(store), *tls)
    mine = ["--tls-ca", str(pki.ca), "--tls-cert", str(pki.client.cert), "--tls-key", str(pki.client.key)]
    try:
        assert main(["backends", "--server", f"localhost:{port}", *mine]) == 0
        assert "highs" in capsys.readouterr().out
        assert main(["backends", "--server", f"localhost:{port}", "--tls-ca", str(pki.ca)]) == 3
        assert "UNAVAILABLE" in capsys.readouterr().err
        monkeypatch.setenv("CONCERTO_SERVER", f"127.0.0.1:{port}")
        monkeypatch.setenv("CONCERTO_TLS_CA", str(pki.ca))
        monkeypatch.setenv("CONCERTO_TLS_CERT", str(pki.client.cert))
        monkeypatch.setenv("CONCERTO_TLS_KEY", str(pki.client.key))
        assert main(["plan", "tiny", "--file", str(network), "--gap", "0"]) == 0
        out = capsys.readouterr().out
        assert "plan version 1 of network 'tiny'" in out and "objective 100.00" in out
        assert stat.S_IMODE(store.stat().st_mode) == 0o600
    finally:
        log = stop(proc)
    assert f"Concerto serving on port {port}: mutual TLS (client certificates signed by {pki.ca}), " in log
    assert "open to any local caller; loopback only, reflection on" in log


# -- the ledger's mode -----------------------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 0, under which SQLite alone would create the ledger world-writable."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_ledger_and_its_wal_files_are_owner_only(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "ledger.db"
    with SqlitePlanStore(path) as store:
        store.put_network("tiny", "tiny", b"network", None)
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}


def test_the_served_ledger_is_owner_only(tls_server: RunningServer) -> None:
    tls_server.client.put_network("mode", backup_network(lost_sale_penalty=100), timeout=TIMEOUT)
    path = Path(tls_server.servicer.config.ledger)
    for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
