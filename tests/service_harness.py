"""Real Concerto servers for end-to-end tests: one in this process on 127.0.0.1:0, or one in a
separate process (so a test can SIGKILL it), both with their spawned solver workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from solver._proto.concerto.v1 import service_pb2, service_pb2_grpc
from solver.client import ClientCredentials, ConcertoClient
from solver.server import ConcertoServicer, ServerConfig, create_server, shutdown

STARTUP_SECONDS = 60.0
"""How long a server and its workers may take to start before the test fails instead of hanging."""

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RunningServer:
    """A started in-process server and a client connected to it."""

    port: int
    servicer: ConcertoServicer
    client: ConcertoClient

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def channel(self) -> grpc.Channel:
        return self.client.channel

    @property
    def stub(self) -> service_pb2_grpc.ConcertoStub:
        return self.client.stub


@contextlib.contextmanager
def running_server(config: ServerConfig, *, credentials: ClientCredentials | None = None) -> Iterator[RunningServer]:
    """A server on 127.0.0.1:0 whose workers are ready; stopped (workers and store closed) on exit.
    Its client connects with `credentials` (plaintext without): a server with `tls_cert` needs them."""
    server, port, servicer = create_server("127.0.0.1:0", config)
    server.start()
    try:
        client = ConcertoClient.connect(f"127.0.0.1:{port}", credentials or ClientCredentials())
    except BaseException:
        shutdown(server, servicer, grace=0)
        raise
    try:
        client.wait_ready(STARTUP_SECONDS)
        assert servicer.pool.wait_ready(STARTUP_SECONDS), "the solver workers did not start"
        yield RunningServer(port, servicer, client)
    finally:
        client.close()
        shutdown(server, servicer, grace=0)


def store_snapshot(stub: service_pb2_grpc.ConcertoStub) -> list[tuple[service_pb2.NetworkSummary, list[bytes]]]:
    """Every stored network with its plan summaries, to show that a refused request changed nothing."""
    networks = stub.ListNetworks(service_pb2.ListNetworksRequest(), timeout=10).networks
    return [
        (
            summary,
            [
                p.SerializeToString(deterministic=True)
                for p in stub.ListPlans(service_pb2.ListPlansRequest(network_id=summary.network_id), timeout=10).plans
            ],
        )
        for summary in networks
    ]


_SERVE = """
import json
import sys
from pathlib import Path

from solver.server import ServerConfig, serve

port_file, store_path = Path(sys.argv[1]), sys.argv[2]
extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}


def announce(port: int) -> None:
    # Written whole, then renamed, so the test never reads half a number.
    partial = port_file.with_suffix(".partial")
    partial.write_text(str(port))
    partial.replace(port_file)


config = {"workers": 1, "queue_size": 1} | extra
serve("127.0.0.1:0", ServerConfig(store=store_path, **config), on_ready=announce)
"""


class ServerProcess:
    """`solver.server.serve` on a ledger (a SQLite file, or any store URL) in a child Python process;
    `port` is known once it serves. `config` sets other `ServerConfig` fields (JSON values)."""

    def __init__(self, store_path: Path | str, workdir: Path, **config: object) -> None:
        self.port_file = workdir / f"port-{time.monotonic_ns()}"
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(self.port_file), str(store_path), json.dumps(config)],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        self.port = self._wait_for_port()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _wait_for_port(self) -> int:
        stop_at = time.monotonic() + STARTUP_SECONDS
        while not self.port_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"the server process exited with code {self.process.returncode} before serving")
            if time.monotonic() > stop_at:
                self.kill()
                raise TimeoutError(f"the server process did not serve within {STARTUP_SECONDS} s")
            time.sleep(0.05)
        return int(self.port_file.read_text())

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed or closed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STARTUP_SECONDS)

    def terminate(self) -> int:
        """SIGTERM: the graceful shutdown `serve` installs; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STARTUP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
