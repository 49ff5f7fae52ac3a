"""Request limits (`solver.limits`): the declaration, the check of raw requests, and the regression
tests of the hostile requests that once crashed, exhausted or corrupted a real server (#14,
findings 1-7): each is now refused with INVALID_ARGUMENT (or RESOURCE_EXHAUSTED for a stream over
its slots), with a message that names the field and the limit and stays under the cap, and the
ledger unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from benchmarks.generator import generate
from models.errors import ValidationError, echo
from models.network import Network
from models.replanning.reach import signal_reach
from models.signals import Signal, SignalType
from solver import convert
from solver import limits as limits_module
from solver._proto.concerto.v1 import service_pb2, signals_pb2
from solver.cli import build_parser
from solver.errors import MAX_MESSAGE_CHARS, bounded_message
from solver.limits import FIELD_KINDS, RequestLimits, check_request
from solver.server import ServerConfig
from tests.service_harness import RunningServer, running_server, store_snapshot
from tests.test_protocols import outage_network, short_outage_protocols
from tests.test_service import EXACT, OUTAGE, TIMEOUT, plan, put_outage, refused, wait_until

REPO = Path(__file__).resolve().parent.parent
LIMITS = RequestLimits()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One worker; the short-outage network stored and planned as "net" (plan version 1)."""
    config = ServerConfig(store=tmp_path_factory.mktemp("limits") / "concerto.db", workers=1, queue_size=2)
    with running_server(config) as running:
        put_outage(running, "net")
        plan(running, "net")
        yield running


def invalid(service: RunningServer, call: str, request: object) -> grpc.RpcError:
    """The error of a call that must be refused with INVALID_ARGUMENT, its message under the cap,
    having changed nothing in the ledger."""
    before = store_snapshot(service.stub)
    err = refused(lambda: getattr(service.stub, call)(request, timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (call, err.code(), err.details())
    assert len(err.details()) <= MAX_MESSAGE_CHARS
    assert store_snapshot(service.stub) == before
    return err


def lane_disruption(delay_hours: float, **fields: float) -> signals_pb2.Signal:
    return signals_pb2.Signal(
        id="slow-lane",
        type=signals_pb2.SIGNAL_TYPE_LANE_DISRUPTION,
        lane=convert.spec_to_network(outage_network()).lanes[0].id,
        delay_hours=delay_hours,
        **fields,
    )


def rss_bytes() -> int:
    """This process's resident memory (the in-process server's too)."""
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- the declaration -------------------------------------------------------------------------------


def test_every_limit_is_a_serve_flag_in_the_readme_and_the_proto() -> None:
    """One declaration: each field of `RequestLimits` is a `concerto serve` flag whose default is
    the declared one, a row of the README's limits table, and a line of service.proto's comment
    (`python scripts/gen_limits_docs.py` rewrites both)."""
    readme = (REPO / "README.md").read_text()
    proto = (REPO / "proto/concerto/v1/service.proto").read_text()
    args = build_parser().parse_args(["serve"])
    described = RequestLimits.describe()
    assert [flag for flag, _, _ in described] == [RequestLimits.flag(f.name) for f in dataclasses.fields(RequestLimits)]
    for (flag, default, _), f in zip(described, dataclasses.fields(RequestLimits), strict=True):
        assert getattr(args, flag[2:].replace("-", "_")) == f.default
        assert f"| `{flag}` | {default} |" in readme, flag
        assert re.search(rf"{flag}\s+{re.escape(default)}\n", proto), flag


def test_serve_flags_set_the_limits() -> None:
    args = build_parser().parse_args(["serve", "--max-horizon", "52", "--max-magnitude", "1e6"])
    assert (args.max_horizon, args.max_magnitude) == (52, 1e6)


def test_limits_must_be_positive_and_the_per_client_streams_within_the_total() -> None:
    with pytest.raises(ValidationError, match="horizon is 0"):
        RequestLimits(horizon=0)
    with pytest.raises(ValidationError, match="watch_streams_per_client"):
        RequestLimits(watch_streams=2, watch_streams_per_client=3)


def test_field_kinds_name_real_fields() -> None:
    """A renamed proto field must not leave a stale entry (it would silently fall back to the
    default kind of its type)."""
    from solver._proto.concerto.v1 import service_pb2 as pb

    names = set()
    for message in list(pb.DESCRIPTOR.message_types_by_name.values()):
        stack = [message]
        while stack:
            m = stack.pop()
            names.update(f.full_name for f in m.fields)
            stack.extend(f.message_type for f in m.fields if f.message_type is not None)
    assert set(FIELD_KINDS) <= names, set(FIELD_KINDS) - names


# -- the check of a raw request --------------------------------------------------------------------


def test_a_generated_network_is_within_the_limits() -> None:
    """The M network (the largest the suite plans) passes untouched."""
    check_request(service_pb2.SolveRequest(network=convert.spec_to_network(generate("M"))), LIMITS)


@pytest.mark.parametrize(
    ("mutate", "entity", "field", "limit"),
    [
        (lambda r: r.network.lanes[3].__setattr__("capacity", 1e300), "lane", "capacity", "--max-magnitude"),
        (lambda r: r.network.__setattr__("horizon", 10**6), "network", "horizon", "--max-horizon"),
        (lambda r: r.network.demands[2].quantity.extend([1.0] * 1000), "demand", "quantity", "--max-horizon"),
        (lambda r: r.network.nodes[0].__setattr__("id", "n" * 300), "node", "id", "--max-id-chars"),
        (lambda r: r.signals.add(id="s", delay_hours=-1e300), "signal", "delay_hours", "--max-hours"),
        (lambda r: r.options.__setattr__("time_limit_seconds", 1e7), "solve options", "time_limit_seconds", "hours"),
    ],
)
def test_a_value_over_its_limit_is_named_with_entity_field_and_flag(
    mutate: object, entity: str, field: str, limit: str
) -> None:
    request = service_pb2.SolveRequest(network=convert.spec_to_network(generate("S")))
    mutate(request)  # type: ignore[operator]
    with pytest.raises(ValidationError) as info:
        check_request(request, LIMITS)
    assert (info.value.entity, info.value.field) == (entity, field)
    assert limit in info.value.message


def test_nan_and_infinity_are_refused_wherever_a_number_is() -> None:
    """demands[1].quantity[4] is NaN: the violation names the demand by its place in the request
    (demands have no id); an infinite unit cost on an offer names the offer by its id."""
    request = service_pb2.SolveRequest(network=convert.spec_to_network(generate("S")))
    request.network.demands[1].quantity[4] = math.nan
    request.network.offers[0].unit_cost = -math.inf
    with pytest.raises(ValidationError) as info:
        check_request(request, LIMITS)
    found = {(v.ident, v.field): v.message for v in info.value.each()}
    assert found[("network.demands[1]", "quantity")] == "is nan; it must be a finite number"
    assert found[(request.network.offers[0].id, "unit_cost")] == "is -inf; it must be a finite number"


def test_signals_count_against_the_request_size() -> None:
    """Ten signals with 200-character ids are about 2,300 bytes: over a 2,000-byte limit although
    the network part is empty."""
    request = service_pb2.ReplanRequest(network_id="net")
    for k in range(10):
        request.signals.add(id=f"{k:0>200}", type=signals_pb2.SIGNAL_TYPE_DEMAND_CHANGE, magnitude=2.0)
    with pytest.raises(ValidationError, match="size is 2,"):
        check_request(request, RequestLimits(request_bytes=2000))


def test_too_many_signals_are_refused_by_count() -> None:
    request = service_pb2.ReplanRequest(network_id="net")
    for k in range(11):
        request.signals.add(id=str(k))
    with pytest.raises(ValidationError, match=r"has 11 entries, over the limit of 10 .*--max-signals"):
        check_request(request, RequestLimits(signals=10))


def test_negative_versions_are_refused_and_any_seed_is_a_seed() -> None:
    with pytest.raises(ValidationError, match="version is -1"):
        check_request(service_pb2.GetPlanRequest(network_id="net", version=-1), LIMITS)
    check_request(service_pb2.SolveRequest(options=service_pb2.SolveOptions(seed=-(2**31))), LIMITS)


def test_each_column_reports_its_first_offender_and_the_walk_stops_at_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every lane has an infinite cost and a NaN capacity, every offer a huge capacity: three
    columns break their limits, each reported once, by its first entity; with the cap at two,
    the walk stops after two."""
    request = service_pb2.SolveRequest(network=convert.spec_to_network(generate("S")))
    for lane in request.network.lanes:
        lane.unit_cost, lane.capacity = math.inf, math.nan
    for offer in request.network.offers:
        offer.capacity = 1e12
    with pytest.raises(ValidationError) as info:
        check_request(request, LIMITS)
    first_lane, first_offer = request.network.lanes[0].id, request.network.offers[0].id
    assert [(v.ident, v.field) for v in info.value.each()] == [
        (first_offer, "capacity"),
        (first_lane, "unit_cost"),
        (first_lane, "capacity"),
    ]
    monkeypatch.setattr(limits_module, "MAX_REPORTED", 2)
    with pytest.raises(ValidationError) as info:
        check_request(request, LIMITS)
    assert len(info.value.each()) == 2


# -- messages that stay small ----------------------------------------------------------------------


def test_an_echoed_id_is_cut_with_its_length() -> None:
    assert echo("lane-1") == "'lane-1'"
    assert echo("x" * 1_000_000) == repr("x" * 80) + "... (1,000,000 characters)"
    err = ValidationError("lane", "y" * 5000, "origin", "names no node")
    assert len(str(err)) < 200


def test_status_messages_are_ascii_and_capped() -> None:
    assert bounded_message("plan for Café") == "plan for Caf\\xe9"
    long = bounded_message("z" * 50_000)
    assert len(long) == MAX_MESSAGE_CHARS and long.endswith("... (50,000 characters)")


# -- the findings, against a real server -----------------------------------------------------------


@pytest.mark.parametrize("delay", [1e300, -1e300])
def test_finding_1_huge_delay_hours_is_invalid_argument_on_every_rpc(service: RunningServer, delay: float) -> None:
    """Once "Python int too large", UNKNOWN on Solve, Replan, ExportModel and ValidateNetwork."""
    network = convert.spec_to_network(outage_network())
    signal = lane_disruption(delay)
    for call, request in [
        ("Solve", service_pb2.SolveRequest(network=network, signals=[signal], options=EXACT)),
        ("Replan", service_pb2.ReplanRequest(network_id="net", signals=[signal], options=EXACT)),
        ("ExportModel", service_pb2.ExportModelRequest(network_id="net", signals=[signal])),
        ("ValidateNetwork", service_pb2.ValidateNetworkRequest(network=network, signals=[signal])),
    ]:
        err = invalid(service, call, request)
        assert "delay_hours" in err.details() and "--max-hours" in err.details()


def test_finding_2_detected_hours_1e308_is_refused_before_validation(service: RunningServer) -> None:
    """Once valid to ValidateNetwork and INTERNAL from the worker on Solve and Replan."""
    network = convert.spec_to_network(outage_network())
    signal = signals_pb2.Signal()
    signal.CopyFrom(OUTAGE)
    signal.detected_hours = 1e308
    for call, request in [
        ("ValidateNetwork", service_pb2.ValidateNetworkRequest(network=network, signals=[signal])),
        ("Solve", service_pb2.SolveRequest(network=network, signals=[signal], options=EXACT)),
        ("Replan", service_pb2.ReplanRequest(network_id="net", signals=[signal], options=EXACT)),
        ("ExportModel", service_pb2.ExportModelRequest(network_id="net", signals=[signal])),
    ]:
        assert "detected_hours" in invalid(service, call, request).details()


@pytest.mark.parametrize("horizon", [10**6, 10**7])
def test_finding_3_a_huge_horizon_is_refused_without_allocating(service: RunningServer, horizon: int) -> None:
    """Once accepted as valid, and 1.7 GiB (10^6) or a 2.8 GiB allocation (10^7) in the server.
    Refused from the raw request: the process grows by far less than one float per period would
    cost over the network's 10 positions (10^7 periods x 8 bytes x 10 = 800 MB)."""
    network = convert.spec_to_network(outage_network())
    network.horizon = horizon
    before = rss_bytes()
    for call, request in [
        ("ValidateNetwork", service_pb2.ValidateNetworkRequest(network=network)),
        ("PutNetwork", service_pb2.PutNetworkRequest(network_id="wide", network=network)),
        ("Solve", service_pb2.SolveRequest(network=network, options=EXACT)),
    ]:
        assert "horizon" in invalid(service, call, request).details()
    assert rss_bytes() - before < 64 * 1024 * 1024


def test_finding_4_a_9_mb_signal_id_stores_nothing(service: RunningServer) -> None:
    """Once a 63 MB plan and 45 MB of decisions committed while the client got RESOURCE_EXHAUSTED."""
    signal = signals_pb2.Signal()
    signal.CopyFrom(OUTAGE)
    signal.id = "s" * (9 * 1024 * 1024)
    err = invalid(service, "Replan", service_pb2.ReplanRequest(network_id="net", signals=[signal], options=EXACT))
    assert "--max-id-chars" in err.details() and "9,437,184 characters" in err.details()


def test_finding_5_unbounded_upstream_hops_is_refused(service: RunningServer) -> None:
    request = service_pb2.ReplanRequest(
        network_id="net", signals=[OUTAGE], options=EXACT, settings=service_pb2.ReplanSettings(upstream_hops=2**31 - 1)
    )
    assert "--max-upstream-hops" in invalid(service, "Replan", request).details()


def test_upstream_hops_stop_growing_the_reach_at_its_fixed_point() -> None:
    """The outage network is a few nodes deep: eight hops reach everything any more could, so a
    billion hops is the same reach (and ends after the first hop that adds nothing)."""
    net = Network.from_spec(outage_network())
    signals = [Signal("o", SignalType.SUPPLIER_OUTAGE, supplier="S1", duration_hours=48)]
    few = signal_reach(net, signals, upstream_hops=8)
    many = signal_reach(net, signals, upstream_hops=10**9)
    for name in ("positions", "demands", "offers", "recipes", "arcs"):
        assert np.array_equal(getattr(few, name), getattr(many, name)), name


def test_finding_6_idle_watch_streams_cannot_take_every_thread(tmp_path: Path) -> None:
    """Once 16 idle WatchPlans took all 16 gRPC threads and health checks timed out. Now the
    streams beyond the limit (3 here) are RESOURCE_EXHAUSTED at once, health answers while they
    are open, and a closed stream frees its slot."""
    limits = RequestLimits(watch_streams=3, watch_streams_per_client=3)
    with running_server(ServerConfig(store=tmp_path / "w.db", workers=1, queue_size=0, limits=limits)) as s:
        put_outage(s, "net")
        streams = [s.stub.WatchPlans(service_pb2.WatchPlansRequest(network_id="net")) for _ in range(3)]

        def opened() -> bool:
            return s.servicer.watch_slots.open() == 3

        assert wait_until(opened, TIMEOUT)
        extra = s.stub.WatchPlans(service_pb2.WatchPlansRequest(network_id="net"), timeout=TIMEOUT)
        err = refused(lambda: next(extra))
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "--max-watch-streams" in err.details()
        health = health_pb2_grpc.HealthStub(s.channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        streams[0].cancel()
        assert wait_until(lambda: s.servicer.watch_slots.open() == 2, TIMEOUT)
        again = s.stub.WatchPlans(service_pb2.WatchPlansRequest(network_id="net"))
        assert wait_until(opened, TIMEOUT)
        for stream in (*streams[1:], again):
            stream.cancel()


def test_watch_streams_are_bounded_per_client(tmp_path: Path) -> None:
    limits = RequestLimits(watch_streams=4, watch_streams_per_client=2)
    with running_server(ServerConfig(store=tmp_path / "w.db", workers=1, queue_size=0, limits=limits)) as s:
        put_outage(s, "net")
        streams = [s.stub.WatchPlans(service_pb2.WatchPlansRequest(network_id="net")) for _ in range(2)]
        assert wait_until(lambda: s.servicer.watch_slots.open() == 2, TIMEOUT)
        err = refused(lambda: next(s.stub.WatchPlans(service_pb2.WatchPlansRequest(network_id="net"), timeout=5)))
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "per client" in err.details()
        for stream in streams:
            stream.cancel()


@pytest.mark.parametrize("call", ["GetPlan", "ListPlans", "GetNetwork"])
def test_finding_7_a_1_mb_network_id_is_a_short_invalid_argument(service: RunningServer, call: str) -> None:
    """Once an 8 KB+ message that turned INVALID_ARGUMENT into RESOURCE_EXHAUSTED."""
    request = getattr(service_pb2, f"{call}Request")(network_id="n" * 1_000_000)
    err = invalid(service, call, request)
    assert "1,000,000 characters long" in err.details()


def test_finding_7_a_long_dangling_id_inside_a_network_gets_a_capped_message(service: RunningServer) -> None:
    """An id within the id limit but dangling on every lane: each violation repeats 80 of its 250
    characters and gives its length, and the whole message stays under the cap."""
    network = convert.spec_to_network(outage_network())
    for lane in network.lanes:
        lane.origin = "d" * 250
    err = invalid(service, "PutNetwork", service_pb2.PutNetworkRequest(network_id="dangling", network=network))
    assert "unknown node" in err.details() and "(250 characters)" in err.details()
    assert "d" * 81 not in err.details()


def test_protocols_over_their_limits_are_refused(service: RunningServer) -> None:
    protocols = convert.protocols_to_proto(short_outage_protocols(limit=50))
    protocols.authority_rules[0].spend_limit = 1e300
    request = service_pb2.PutNetworkRequest(
        network_id="net", network=convert.spec_to_network(outage_network()), protocols=protocols
    )
    assert "spend_limit" in invalid(service, "PutNetwork", request).details()


def test_a_network_whose_model_would_be_too_large_is_refused_by_its_cells() -> None:
    """The M network has 6,182 entities that take a value each period (13 periods, 80,366 cells):
    at 1,000 periods, each within the horizon limit, it would be 6.2 million cells, over the 5
    million limit (a model of about 7 million columns); at its own 13 periods it passes."""
    request = service_pb2.SolveRequest(network=convert.spec_to_network(generate("M")))
    check_request(request, LIMITS)
    request.network.horizon = 1000
    with pytest.raises(ValidationError) as info:
        check_request(request, LIMITS)
    assert info.value.field == "horizon"
    assert "1,000 periods of 6,182 entities, 6,182,000 model cells" in info.value.message
    assert "--max-model-cells" in info.value.message


def test_an_unexpected_error_is_internal_with_a_bounded_message_never_unknown(
    service: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A defect below the servicer (here a use case that raises KeyError with a 5,000-character
    key) reaches the client as INTERNAL naming the error, cut to the cap, not gRPC's UNKNOWN."""

    def broken() -> object:
        raise KeyError("k" * 5000)

    monkeypatch.setattr(service.servicer.service, "list_backends", broken)
    err = refused(lambda: service.stub.ListBackends(service_pb2.ListBackendsRequest(), timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.INTERNAL
    assert err.details().startswith("internal error: KeyError: 'kkk")
    assert len(err.details()) == MAX_MESSAGE_CHARS


def test_large_requests_beyond_their_slots_are_resource_exhausted_and_small_ones_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one slot for requests over 1,000 bytes: while a PutNetwork of the 5,800-byte demo
    network is held inside the server, a second large one is refused at once, a small GetNetwork
    and a health check are answered, and once the first returns the slot is free again."""
    limits = RequestLimits(large_request_bytes=1000, large_requests=1)
    with running_server(ServerConfig(store=tmp_path / "l.db", workers=1, queue_size=0, limits=limits)) as s:
        put_outage(s, "small")
        inside, release = threading.Event(), threading.Event()
        real_put = s.servicer.service.put_network

        def held_put(*args: object, **kwargs: object) -> object:
            inside.set()
            assert release.wait(TIMEOUT)
            return real_put(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(s.servicer.service, "put_network", held_put)
        big = service_pb2.PutNetworkRequest(network_id="big", network=convert.spec_to_network(generate("demo")))
        assert big.ByteSize() > 1000
        first = s.stub.PutNetwork.future(big, timeout=TIMEOUT)
        assert inside.wait(TIMEOUT)
        err = refused(lambda: s.stub.PutNetwork(big, timeout=TIMEOUT))
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "--max-large-requests" in err.details()
        assert s.stub.GetNetwork(service_pb2.GetNetworkRequest(network_id="small"), timeout=TIMEOUT).version == 1
        health = health_pb2_grpc.HealthStub(s.channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        release.set()
        assert first.result().version == 1
        monkeypatch.setattr(s.servicer.service, "put_network", real_put)
        assert s.stub.PutNetwork(big, timeout=TIMEOUT).version == 2


def test_an_answer_over_the_response_limit_is_refused(tmp_path: Path) -> None:
    """A Solve of the short-outage network answers a plan of a few KB; with the response limit at
    500 bytes it is refused, naming the limit, and nothing is stored (a Solve stores nothing)."""
    limits = RequestLimits(response_bytes=500)
    with running_server(ServerConfig(store=tmp_path / "r.db", workers=1, queue_size=0, limits=limits)) as s:
        request = service_pb2.SolveRequest(network=convert.spec_to_network(outage_network()), options=EXACT)
        err = refused(lambda: s.stub.Solve(request, timeout=TIMEOUT))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "over the limit of 500" in err.details() and "--max-response-bytes" in err.details()


def test_a_request_whose_deadline_passed_while_it_was_checked_is_never_queued(
    service: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking an inline network is held here for 1.5 s, past the call's 1 s deadline: the call
    ends DEADLINE_EXCEEDED and the job never reaches the pool (a worker never starts work nobody
    waits for); with time to spare, the same request is queued once and answered."""
    real_job, real_submit = service.servicer.service.solve_job, service.servicer.pool.submit
    checked = threading.Event()
    submitted: list[object] = []

    def slow_job(*args: object) -> object:
        time.sleep(1.5)
        checked.set()
        return real_job(*args)  # type: ignore[arg-type]

    def counted_submit(job: object, **kwargs: object) -> object:
        submitted.append(job)
        return real_submit(job, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service.servicer.service, "solve_job", slow_job)
    monkeypatch.setattr(service.servicer.pool, "submit", counted_submit)
    request = service_pb2.SolveRequest(network=convert.spec_to_network(outage_network()), options=EXACT)
    err = refused(lambda: service.stub.Solve(request, timeout=1.0))
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert checked.wait(TIMEOUT)
    time.sleep(0.2)  # the handler thread goes on after the client gave up: let it reach the pool, or not
    assert submitted == []
    assert service.stub.Solve(request, timeout=TIMEOUT).plan.objective > 0
    assert len(submitted) == 1
