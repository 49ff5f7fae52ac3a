"""`python -m benchmarks limits`: what refusing a request over the limits costs the server.

Two figures per hostile request: the CPU time of `solver.limits.check_request` on the raw request
(the server's whole work before it answers INVALID_ARGUMENT; median of `repeat` runs), and the
wall time of the call through a real server on 127.0.0.1 (median), which adds parsing and the
round trip. The catalogue holds the requests that once crashed or exhausted the server (#14) and
the worst case the limits allow: a request just under `request_bytes`, made of the smallest
entities at the `entities` limit, with its one bad value in the last entity the walk reaches.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf.message import Message

from benchmarks.generator import generate
from benchmarks.jsonout import write_json
from models.errors import ValidationError
from solver import convert
from solver._proto.concerto.v1 import service_pb2, signals_pb2
from solver.client import ConcertoClient
from solver.limits import RequestLimits, check_request
from solver.server import ServerConfig, create_server, shutdown


@dataclass(frozen=True)
class HostileRequest:
    name: str
    rpc: str
    build: Callable[[], Message]


def _network(size: str) -> service_pb2.SolveRequest:
    return service_pb2.SolveRequest(network=convert.spec_to_network(generate(size)))


def _huge_delay() -> Message:
    request = _network("S")
    request.signals.add(
        id="slow", type=signals_pb2.SIGNAL_TYPE_LANE_DISRUPTION, lane=request.network.lanes[0].id, delay_hours=1e300
    )
    return request


def _huge_horizon() -> Message:
    request = _network("S")
    request.network.horizon = 10**7
    return request


def _long_signal_id() -> Message:
    return service_pb2.ReplanRequest(
        network_id="net",
        signals=[
            signals_pb2.Signal(id="s" * (9 * 1024 * 1024), type=signals_pb2.SIGNAL_TYPE_SUPPLIER_OUTAGE, supplier="S1")
        ],
    )


def _many_hops() -> Message:
    return service_pb2.ReplanRequest(network_id="net", settings=service_pb2.ReplanSettings(upstream_hops=2**31 - 1))


def _bad_last_lane_of_l() -> Message:
    request = _network("L")
    request.network.lanes[-1].capacity = float("nan")
    return request


def _largest_allowed(limits: RequestLimits) -> Callable[[], Message]:
    """As many entities as the limits allow, the most messages per byte for the walk: every
    repeated field of the network filled up to the `entities` limit with small entities whose
    every field is set, until the request is just under `request_bytes`; a NaN in the last one."""

    def build() -> Message:
        request = service_pb2.SolveRequest()
        net = request.network
        net.horizon = 4
        budget = int(limits.request_bytes * 0.97)
        last: Message | None = None
        for field in net.DESCRIPTOR.fields:
            if not (field.is_repeated and field.message_type is not None):
                continue
            entries = getattr(net, field.name)
            for k in range(limits.entities):
                last = entries.add()
                _fill(last, k)
                if k % 5_000 == 0 and request.ByteSize() > budget:
                    break
            if request.ByteSize() > budget:
                break
        assert last is not None
        number = next(f for f in last.DESCRIPTOR.fields if f.type == f.TYPE_DOUBLE and not f.is_repeated)
        setattr(last, number.name, float("nan"))
        return request

    return build


def _fill(message: Message, k: int) -> None:
    """Every field of `message` set to a small valid-looking value (one entry per repeated one)."""
    for field in message.DESCRIPTOR.fields:
        if field.message_type is not None:
            inner = getattr(message, field.name)
            _fill(inner.add() if field.is_repeated else inner, k)
            continue
        value: object = {
            field.TYPE_STRING: f"e{k}",
            field.TYPE_DOUBLE: 1.0,
            field.TYPE_INT32: 1,
            field.TYPE_BOOL: True,
            field.TYPE_ENUM: 1,
        }[field.type]
        if field.is_repeated:
            getattr(message, field.name).append(value)
        else:
            setattr(message, field.name, value)


def _with_horizon(build: Callable[[], Message]) -> Callable[[], Message]:
    def huge() -> Message:
        request = build()
        request.network.horizon = 10**7  # type: ignore[attr-defined]
        return request

    return huge


def catalogue(limits: RequestLimits) -> list[HostileRequest]:
    return [
        HostileRequest("delay_hours 1e300 (finding 1)", "Solve", _huge_delay),
        HostileRequest("horizon 10^7 (finding 3)", "Solve", _huge_horizon),
        HostileRequest("9 MiB signal id (finding 4)", "Replan", _long_signal_id),
        HostileRequest("upstream_hops 2^31-1 (finding 5)", "Replan", _many_hops),
        HostileRequest("L network, NaN in its last lane", "Solve", _bad_last_lane_of_l),
        HostileRequest("largest allowed request, NaN in its last entity", "Solve", _largest_allowed(limits)),
        HostileRequest("largest allowed request, horizon 10^7", "Solve", _with_horizon(_largest_allowed(limits))),
    ]


def run_limits_benchmark(repeat: int, out: Path) -> dict[str, object]:
    limits = RequestLimits()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server, port, servicer = create_server(
            "127.0.0.1:0", ServerConfig(store=Path(tmp) / "limits.db", workers=1, queue_size=0)
        )
        server.start()
        try:
            with ConcertoClient(f"127.0.0.1:{port}") as client:
                client.wait_ready(60.0)
                for case in catalogue(limits):
                    request = case.build()
                    cpu: list[float] = []
                    for _ in range(repeat):
                        start = time.process_time()
                        try:
                            check_request(request, limits)
                            refused = False
                        except ValidationError:
                            refused = True
                        cpu.append(time.process_time() - start)
                    call = getattr(client.stub, case.rpc)
                    wall: list[float] = []
                    code = ""
                    for _ in range(repeat):
                        start = time.perf_counter()
                        try:
                            call(request, timeout=60.0)
                            code = "OK"
                        except grpc.RpcError as err:
                            code = err.code().name
                        wall.append(time.perf_counter() - start)
                    row = {
                        "request": case.name,
                        "rpc": case.rpc,
                        "bytes": request.ByteSize(),
                        "refused_by_check": refused,
                        "status": code,
                        "check_cpu_ms": 1e3 * statistics.median(cpu),
                        "call_wall_ms": 1e3 * statistics.median(wall),
                    }
                    rows.append(row)
                    print(
                        f"{case.name:<48} {row['bytes']:>12,} B  {code:<17} "
                        f"check {row['check_cpu_ms']:8.1f} ms CPU   call {row['call_wall_ms']:8.1f} ms",
                        flush=True,
                    )
        finally:
            shutdown(server, servicer)
    report = {"repeat": repeat, "limits": {f: str(v) for f, v, _ in RequestLimits.describe()}, "cases": rows}
    write_json(out, report)
    print(f"wrote {out}")
    return report
