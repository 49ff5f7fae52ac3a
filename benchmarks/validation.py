"""The validation benchmark: how the time to validate a request grows with its size, for the three
inputs that once made validation quadratic or worse (issue 14, finding 8).

Each case builds a `ValidateNetworkRequest` programmatically and times what the servicer does with
it on its own thread: protobuf -> domain conversion (`solver.convert`) and `solver.usecases.validate`
(`Network.from_spec`, `validate_protocols`, `validate_against_network`, `apply_signals`). Each case
runs at n, 2n and 4n; the report gives the median of the repeats per size and the ratios t(2n)/t(n)
and t(4n)/t(n): linear work reads ~2 and ~4, quadratic ~4 and ~16.

  escalation chain   n roles r0 -> r1 -> ... -> r(n-1) on a small network (valid)
  service targets    n service targets, one per priority tier 1..n (valid)
  signals            n signals with distinct ids, every kind in turn, on a small network (valid)
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from benchmarks.generator import generate
from benchmarks.jsonout import write_json
from models.network import Network, NetworkSpec, NodeRole, ServiceTarget
from models.protocols import ProtocolSet, Role
from models.signals import Signal, SignalType
from solver import convert
from solver._proto.concerto.v1 import service_pb2
from solver.usecases import validate

DEFAULT_SIZES: dict[str, int] = {"escalation_chain": 1_500, "service_targets": 25_000, "signals": 15_000}
"""n per case: the sizes of the reported inputs (a chain of 1,500 roles, 25,000 targets, 15,000 signals)."""

DEFAULT_FACTORS: tuple[int, ...] = (1, 2, 4)
DEFAULT_REPEATS = 3

_NETWORK_SIZE = "demo"
"""The generator size the cases' network is drawn from: small, so the case's own input dominates."""


def base_spec() -> NetworkSpec:
    """The small network every case is validated against (`benchmarks.generator`, size demo, seed 0)."""
    return generate(_NETWORK_SIZE, seed=0)


def escalation_chain_request(n: int, spec: NetworkSpec | None = None) -> service_pb2.ValidateNetworkRequest:
    """n roles escalating in one chain, r00000 -> r00001 -> ... -> the last (which escalates to no one)."""
    spec = spec or base_spec()
    ids = [f"r{k:05d}" for k in range(n)]
    roles = tuple(Role(ident, ids[k + 1] if k + 1 < n else "") for k, ident in enumerate(ids))
    return service_pb2.ValidateNetworkRequest(
        network=convert.spec_to_network(spec),
        protocols=convert.protocols_to_proto(ProtocolSet(name="chain", roles=roles)),
    )


def service_targets_request(n: int, spec: NetworkSpec | None = None) -> service_pb2.ValidateNetworkRequest:
    """n service targets, one for each priority tier 1..n, each asking for half the tier's demand."""
    targets = tuple(ServiceTarget(priority=p, fill_rate=0.5) for p in range(1, n + 1))
    network = convert.spec_to_network(replace(spec or base_spec(), service_targets=targets))
    return service_pb2.ValidateNetworkRequest(network=network)


def valid_signals(spec: NetworkSpec, n: int) -> list[Signal]:
    """n valid signals with distinct ids, cycling over every signal kind and, within a kind, over the
    entities of the network it can land on (suppliers, customers' demand streams, lanes, plants and
    stocked positions), each over the first two days."""
    net = Network.from_spec(spec)
    suppliers = [nd.id for nd in spec.nodes if nd.role == NodeRole.SUPPLIER]
    plants = [nd.id for nd in spec.nodes if nd.role == NodeRole.PLANT]
    lanes = [ln.id for ln in spec.lanes]
    streams = [(d.customer, d.item) for d in spec.demands]
    positions = [(net.node_ids[p], net.item_ids[i]) for p, i in zip(net.position_node, net.position_item)]
    makers: list[Callable[[int], Signal]] = [
        lambda k: Signal(f"s{k}", SignalType.SUPPLIER_OUTAGE, supplier=suppliers[k % len(suppliers)], magnitude=0.5),
        lambda k: Signal(f"s{k}", SignalType.DEMAND_CHANGE, customer=streams[k % len(streams)][0], magnitude=1.1),
        lambda k: Signal(f"s{k}", SignalType.LANE_DISRUPTION, lane=lanes[k % len(lanes)], magnitude=0.8),
        lambda k: Signal(f"s{k}", SignalType.CAPACITY_LOSS, node=plants[k % len(plants)], magnitude=0.9),
        lambda k: Signal(
            f"s{k}",
            SignalType.INVENTORY_ADJUSTMENT,
            node=positions[k % len(positions)][0],
            item=positions[k % len(positions)][1],
            magnitude=-1.0,
        ),
        lambda k: Signal(f"s{k}", SignalType.LEAD_TIME_CHANGE, lane=lanes[k % len(lanes)], delay_hours=24.0),
        lambda k: Signal(
            f"s{k}",
            SignalType.ORDER_CHANGE,
            customer=streams[k % len(streams)][0],
            item=streams[k % len(streams)][1],
            magnitude=5.0,
        ),
    ]
    return [
        Signal(**{**asdict(makers[k % len(makers)](k)), "start_hours": 0.0, "duration_hours": 48.0}) for k in range(n)
    ]


def signals_request(n: int, spec: NetworkSpec | None = None) -> service_pb2.ValidateNetworkRequest:
    """n valid signals (`valid_signals`) on the small network."""
    spec = spec or base_spec()
    return service_pb2.ValidateNetworkRequest(
        network=convert.spec_to_network(spec), signals=[convert.signal_to_proto(s) for s in valid_signals(spec, n)]
    )


CASES: dict[str, Callable[[int], service_pb2.ValidateNetworkRequest]] = {
    "escalation_chain": escalation_chain_request,
    "service_targets": service_targets_request,
    "signals": signals_request,
}


def validate_request(msg: service_pb2.ValidateNetworkRequest) -> list[str]:
    """What `ValidateNetwork` does with a request on the servicer's thread: convert, then validate;
    the violations' texts (empty for a valid request)."""
    spec = convert.network_to_spec(msg.network)
    protocols = convert.protocols_to_domain(msg.protocols) if msg.HasField("protocols") else None
    signals = [convert.signal_to_domain(s) for s in msg.signals]
    return [str(v) for v in validate(spec, protocols, signals)]


@dataclass
class SizeResult:
    """One case at one size: the request's size and the median seconds to convert and validate it."""

    n: int
    request_bytes: int
    seconds: list[float]
    median: float
    violations: int


@dataclass
class CaseResult:
    """One case at every size, and the growth of its median time relative to the smallest size."""

    case: str
    sizes: list[SizeResult] = field(default_factory=list)
    ratios: dict[str, float] = field(default_factory=dict)
    """"2n/n", "4n/n", ...: median(k n) / median(n)."""


def run_case(case: str, n: int, factors: Sequence[int], repeat: int) -> CaseResult:
    """Time `case` at n * f for each factor f, `repeat` times each."""
    result = CaseResult(case)
    for f in factors:
        msg = CASES[case](n * f)
        seconds = []
        violations: list[str] = []
        for _ in range(repeat):
            start = time.perf_counter()
            violations = validate_request(msg)
            seconds.append(time.perf_counter() - start)
        size = SizeResult(n * f, msg.ByteSize(), seconds, statistics.median(seconds), len(violations))
        result.sizes.append(size)
        label = f"{n * f:,}" + (f" ({len(violations)} violations: {violations[0][:120]})" if violations else "")
        print(f"  {case:17s} n={label:>10s}  {size.request_bytes:>12,} bytes  median {size.median:8.3f} s", flush=True)
    first = result.sizes[0].median
    for f, size in zip(factors[1:], result.sizes[1:]):
        result.ratios[f"{f}n/{factors[0]}n" if factors[0] != 1 else f"{f}n/n"] = size.median / first
    if result.ratios:
        print("  " + " " * 17 + "  ".join(f"{k} {v:.2f}" for k, v in result.ratios.items()), flush=True)
    return result


def run_validation_benchmark(sizes: dict[str, int], factors: Sequence[int], repeat: int, out: Path) -> list[CaseResult]:
    """Every case in `sizes` at n * each factor; prints the medians and ratios and writes them to `out`."""
    print(f"validation benchmark: convert + validate, median of {repeat}, factors {list(factors)}", flush=True)
    results = [run_case(case, n, factors, repeat) for case, n in sizes.items()]
    write_json(
        out,
        {
            "benchmark": "validation",
            "python": sys.version.split()[0],
            "machine": platform.machine(),
            "repeat": repeat,
            "factors": list(factors),
            "cases": [asdict(r) for r in results],
        },
    )
    print(f"wrote {out}")
    return results
