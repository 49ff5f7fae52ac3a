"""The fuzz engine: valid protobuf requests for every Concerto RPC, mutated through their
descriptors, sent to a real server, and an oracle that judges each answer.

Seeds. `prepare` stores a tiny network (two suppliers, one customer, three periods; a solve takes
milliseconds) with a protocol set whose spend limit escalates the outage's response, plans it
(plan version 1) and replans it twice (versions 2 and 3, each with a pending decision), so that
every stored-state RPC has something real to hit. `seed_requests` then holds one or two valid
requests per RPC, each pinned to those stored versions (a fuzzed `PutNetwork` writes to its own
network id, so a stored mutant never becomes the network the other seeds plan).

Mutations. A `Case` is plain data: the RPC, which seed, and up to `MAX_MUTATIONS` `Mutation`s, each a
field path (names and indices) and an action, applied in order; or a whole body of bytes (random
bytes, a truncated or bit-flipped seed, a seed with trailing garbage). The field walk is generic:
every scalar, enum, string, repeated and message field the descriptors reach in the seed, set or
not, is a site. Numbers go to 0, -1, the int32 extremes, +-1e300, +-1e308, NaN, +-inf and a few
more; strings to "", 1 MiB, unicode, control characters, other entities' ids (dangling) and sibling
ids (duplicates), or invalid UTF-8 patched into the serialized bytes; enums to 0 and unknown values;
optional fields are cleared; messages emptied; repeated fields emptied or grown 10-1000x by
duplication. `case_strategy` draws them with hypothesis, so a failing case shrinks.

Guards for a server without limits (this machine is shared): fields in `RESOURCE_CAPS` (the horizon
allocates arrays of its length; `threads` sizes HiGHS's scheduler) never go above their cap, growth
stops at `GROW_BYTES` more bytes per repeated field, and no double lies in the 1e7-1e299 range where
an hour count could size an allocation that fits in the address space but not in memory.

Oracle (`run_case`): each case is one call with an explicit deadline, then
  1. the status is OK or one of `solver.errors.DOCUMENTED_CODES` (never UNKNOWN or INTERNAL), and
     not a refusal by gRPC's own transport (an answer too large for the metadata or message limit);
  2. the status message has at most `solver.errors.MAX_MESSAGE_CHARS` characters;
  3. Health.Check answers SERVING within `HEALTH_SECONDS`, every `HEALTH_PERIOD_SECONDS` while the
     call runs and once after it;
  4. the ledger's row counts (every table in `sqlite_master`, decisions also by state; read with a
     separate read-only sqlite3 connection) change only when the call returned OK, and never for an
     RPC that only reads;
  5. no hang: DEADLINE_EXCEEDED at the client's deadline is a finding, unless the request asked for a
     time limit of `LONG_SOLVE_SECONDS` or more (every seed asks for `SEED_TIME_LIMIT`, the server's
     default is `SERVER_TIME_LIMIT`, and a seed solve takes milliseconds), or the RPC is WatchPlans,
     which streams until its short deadline by design.
A crash (the server process died) is found by the runner that owns the process (`python -m
benchmarks fuzz`).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from benchmarks.jsonout import write_json
from models.network import Demand, Item, Lane, NetworkSpec, Node, NodeRole, SupplyOffer
from models.protocols import (
    ActionKind,
    Approver,
    AuthorityRule,
    Function,
    Predicate,
    ProtocolSet,
    Role,
    SignalRule,
)
from models.signals import Signal, SignalType
from solver import convert
from solver._proto.concerto.v1 import service_pb2
from solver.errors import DOCUMENTED_CODES, MAX_MESSAGE_CHARS
from solver.options import SolveOptions

SERVICE = service_pb2.DESCRIPTOR.services_by_name["Concerto"]
RPCS: tuple[str, ...] = tuple(m.name for m in SERVICE.methods)
STREAMING = frozenset({"SolveStream", "ReplanStream", "WatchPlans"})
READ_ONLY = frozenset(
    {
        "GetNetwork",
        "ValidateNetwork",
        "ListNetworks",
        "Solve",
        "SolveStream",
        "GetPlan",
        "ListPlans",
        "DiffPlans",
        "WatchPlans",
        "ListDecisions",
        "ExportModel",
        "ListBackends",
        "ListAudit",
    }
)
"""RPCs that store nothing: their row counts never change, whatever they answer."""

DEADLINE_SECONDS = 20.0
"""Client deadline of every call but WatchPlans: an answer that does not come by then is a hang."""
WATCH_DEADLINE_SECONDS = 0.5
"""WatchPlans streams until the client stops it; its deadline is short and its DEADLINE_EXCEEDED normal."""
HEALTH_SECONDS = 2.0
"""Health.Check must answer SERVING within this, after every case and during a long call."""
HEALTH_PERIOD_SECONDS = 0.5
"""How often a case's call is interrupted by a health check while it runs."""
SEED_TIME_LIMIT = 1.0
"""`options.time_limit_seconds` of every seed that solves."""
SERVER_TIME_LIMIT = 2.0
"""The server's default time limit (`ServerConfig.default_time_limit`) for a request that clears it."""
LONG_SOLVE_SECONDS = 10.0
"""A request asking for at least this time limit may legitimately run into the client's deadline."""
MAX_MUTATIONS = 3
GROW_BYTES = 4 * 1024 * 1024
"""A repeated field grows by at most this many serialized bytes."""
MiB = 1024 * 1024
RESOURCE_CAPS: dict[str, int] = {"horizon": 50_000, "threads": 64}
"""Fields whose value sizes an allocation or thread pool in a server without limits: mutations stay
at or below these, so an unguarded server is not taken to gigabytes (50,000 periods of the seed
network: ValidateNetwork and Solve about 15 MiB more in the server, ExportModel 340 MiB and 10 s);
what lies beyond is for the request limits to refuse."""

NETWORK_ID = "fuzz"
PUT_NETWORK_ID = "fuzz-put"
METHOD_PREFIX = f"/{SERVICE.full_name}/"

DOUBLES: tuple[float, ...] = (
    0.0,
    -0.0,
    -1.0,
    1.0,
    1e300,
    -1e300,
    1e308,
    -1e308,
    math.nan,
    math.inf,
    -math.inf,
    5e-324,
    1e-300,
    1e6,
    float(2**53 + 1),
)
INT32S: tuple[int, ...] = (0, -1, 1, 2, 999, 10**6, 2**31 - 1, -(2**31))
STRINGS: tuple[str, ...] = (
    "",
    " ",
    "x" * 256,
    "x" * 10_000,
    "x" * MiB,
    "\u00dcn\u00efc\u00f8d\u00e9 \U0001f69a \u202e\u0301",
    "\x00",
    "../../../etc/passwd",
    "'; DROP TABLE plans; --",
    "%s%n{0}",
)
BAD_UTF8 = b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc"
GROW_FACTORS = (10, 100, 1000)


# ------------------------------------------------------------------------------------------- seeds

DAY = 24.0


def seed_network() -> NetworkSpec:
    """Two tier-1 suppliers of one item and one customer over three days: S1 sells 10 a day at 5,
    the backup S2 10 a day at 6 after an activation of 20; the customer asks for 10 a day."""
    return NetworkSpec(
        name="fuzz-seed",
        horizon=3,
        period_hours=DAY,
        items=(Item("A", unit_value=5.0, holding_cost=0.1),),
        nodes=(
            Node("S1", NodeRole.SUPPLIER, tier=1),
            Node("S2", NodeRole.SUPPLIER, tier=1),
            Node("C", NodeRole.CUSTOMER),
        ),
        offers=(
            SupplyOffer("main", "S1", "A", unit_cost=5, capacity=10),
            SupplyOffer("backup", "S2", "A", unit_cost=6, capacity=10, backup=True, activation_cost=20),
        ),
        lanes=(Lane("L1", "S1", "C", ("A",), unit_cost=0.5), Lane("L2", "S2", "C", ("A",), unit_cost=0.5)),
        demands=(Demand("C", "A", (10, 10, 10), price=40, backlog_penalty=10, lost_sale_penalty=100),),
    )


def seed_protocols() -> ProtocolSet:
    """Procurement may spend 50 on the backup during an outage under 48 h; more escalates to its
    director (and from there to the COO), so the outage's response leaves a pending decision."""
    return ProtocolSet(
        name="fuzz-playbook",
        roles=(Role("procurement director", escalates_to="coo"), Role("coo")),
        authority_rules=(
            AuthorityRule(
                "backup-under-48h",
                Function.PROCUREMENT,
                ActionKind.BACKUP_ACTIVATION,
                spend_limit=50,
                hard_cap=1000,
                approver=Approver(role="procurement director"),
                escalation_delay_hours=48,
                governance_cost=30,
            ),
        ),
        signal_rules=(
            SignalRule(
                "outage-under-48h", SignalType.SUPPLIER_OUTAGE, ("backup-under-48h",), Predicate(max_duration_hours=48)
            ),
        ),
    )


OUTAGE = Signal("S1-down", SignalType.SUPPLIER_OUTAGE, supplier="S1", duration_hours=DAY, magnitude=0.0)
LATER_SIGNALS = (
    Signal("L1-slow", SignalType.LANE_DISRUPTION, lane="L1", start_hours=DAY, duration_hours=DAY, magnitude=0.5),
    Signal("L2-late", SignalType.LEAD_TIME_CHANGE, lane="L2", start_hours=DAY, duration_hours=DAY, delay_hours=DAY),
    Signal(
        "C-surge",
        SignalType.DEMAND_CHANGE,
        customer="C",
        item="A",
        detected_hours=1.0,
        start_hours=2 * DAY,
        duration_hours=DAY,
        magnitude=1.2,
    ),
)
"""Signals of a replan after the outage: a lane at half capacity, a lane a day slower, a demand surge."""


@dataclass(frozen=True)
class Stored:
    """What `prepare` stored: the network (version 1), plan versions 1-3 and a pending decision of
    plan versions 2 and 3."""

    network_id: str
    approve: tuple[int, int]
    """(plan version, index) of a pending decision for the ApproveDecision seed."""
    reject: tuple[int, int]
    """(plan version, index) of a pending decision for the RejectDecision seed."""


def _options() -> service_pb2.SolveOptions:
    return convert.options_to_proto(SolveOptions(time_limit=SEED_TIME_LIMIT, mip_rel_gap=1e-6, threads=1, seed=1))


def _solve_request() -> service_pb2.SolveRequest:
    return service_pb2.SolveRequest(
        network=convert.spec_to_network(seed_network()),
        protocols=convert.protocols_to_proto(seed_protocols()),
        signals=[convert.signal_to_proto(s) for s in (OUTAGE, *LATER_SIGNALS)],
        options=_options(),
    )


def _replan_request(baseline: int, signals: Sequence[Signal]) -> service_pb2.ReplanRequest:
    return service_pb2.ReplanRequest(
        network_id=NETWORK_ID,
        baseline_version=baseline,
        signals=[convert.signal_to_proto(s) for s in signals],
        options=_options(),
        allow_stale_baseline=True,
        settings=service_pb2.ReplanSettings(
            stability_weight=1.0,
            decay=0.7,
            fence_periods=1,
            upstream_hops=2,
            recovery_periods=2,
            fence_penalty=100.0,
            first_answer_gap=0.01,
        ),
    )


def seed_requests(stored: Stored) -> dict[str, tuple[Message, ...]]:
    """One or more valid requests per RPC (every one succeeds on a freshly prepared server, but the
    decision seeds: a decision can be decided once, and only while its version is the latest, so
    `run_case` points them at a pending decision of the latest version first)."""
    nid = stored.network_id
    put = service_pb2.PutNetworkRequest(
        network_id=PUT_NETWORK_ID,
        network=convert.spec_to_network(seed_network()),
        protocols=convert.protocols_to_proto(seed_protocols()),
    )
    validate = service_pb2.ValidateNetworkRequest(
        network=put.network, protocols=put.protocols, signals=_solve_request().signals
    )
    approve_version, approve_index = stored.approve
    reject_version, reject_index = stored.reject
    seeds: dict[str, tuple[Message, ...]] = {
        "PutNetwork": (put,),
        "GetNetwork": (service_pb2.GetNetworkRequest(network_id=nid, version=1),),
        "ValidateNetwork": (validate,),
        "ListNetworks": (service_pb2.ListNetworksRequest(),),
        "Solve": (_solve_request(),),
        "SolveStream": (_solve_request(),),
        "Plan": (service_pb2.PlanRequest(network_id=nid, network_version=1, options=_options()),),
        "Replan": (_replan_request(2, LATER_SIGNALS),),
        "ReplanStream": (_replan_request(2, LATER_SIGNALS),),
        "GetPlan": (service_pb2.GetPlanRequest(network_id=nid, version=2),),
        "ListPlans": (service_pb2.ListPlansRequest(network_id=nid),),
        "DiffPlans": (service_pb2.DiffPlansRequest(network_id=nid, from_version=1, to_version=2),),
        "WatchPlans": (service_pb2.WatchPlansRequest(network_id=nid, after_version=1),),
        "ListDecisions": (
            service_pb2.ListDecisionsRequest(
                network_id=nid, plan_version=2, state=service_pb2.DecisionState.DECISION_STATE_PENDING
            ),
        ),
        "ApproveDecision": (
            service_pb2.DecideRequest(
                network_id=nid, plan_version=approve_version, index=approve_index, decided_by="fuzz", note="ok"
            ),
        ),
        "RejectDecision": (
            service_pb2.DecideRequest(
                network_id=nid, plan_version=reject_version, index=reject_index, decided_by="fuzz", note="no"
            ),
        ),
        "ExportModel": (
            service_pb2.ExportModelRequest(inline=_solve_request(), format=service_pb2.ModelFormat.MODEL_FORMAT_LP),
            service_pb2.ExportModelRequest(
                network_id=nid,
                network_version=1,
                signals=[convert.signal_to_proto(OUTAGE)],
                format=service_pb2.ModelFormat.MODEL_FORMAT_MPS,
            ),
        ),
        "ListBackends": (service_pb2.ListBackendsRequest(),),
        "ListAudit": (service_pb2.ListAuditRequest(network_id=nid),),
    }
    assert set(seeds) == set(RPCS), "a seed for every RPC of the service"
    return seeds


def _call(channel: grpc.Channel, name: str, request: Message, response: type[Message]) -> Any:
    """One unary call of the Concerto service on `channel`, with the fuzz deadline."""
    rpc = channel.unary_unary(
        METHOD_PREFIX + name,
        request_serializer=type(request).SerializeToString,
        response_deserializer=response.FromString,
    )
    return rpc(request, timeout=DEADLINE_SECONDS)


def _pending_indices(channel: grpc.Channel, version: int) -> list[int]:
    """The indices of the pending decisions of plan `version` of the fuzz network."""
    request = service_pb2.ListDecisionsRequest(
        network_id=NETWORK_ID, plan_version=version, state=service_pb2.DecisionState.DECISION_STATE_PENDING
    )
    return [int(d.index) for d in _call(channel, "ListDecisions", request, service_pb2.ListDecisionsResponse).decisions]


def _pending(channel: grpc.Channel, version: int) -> int:
    """The index of the first pending decision of plan `version` of the fuzz network."""
    pending = _pending_indices(channel, version)
    if not pending:
        raise RuntimeError(f"plan version {version} of the fuzz network has no pending decision to fuzz")
    return pending[0]


def prepare(channel: grpc.Channel) -> Stored:
    """Store the fuzz network, plan it (version 1) and replan the outage twice (versions 2 and 3),
    unless the ledger already holds them (a server restarted on the same file)."""

    call = partial(_call, channel)
    try:
        listed = call("ListPlans", service_pb2.ListPlansRequest(network_id=NETWORK_ID), service_pb2.ListPlansResponse)
        plans = len(listed.plans)
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.NOT_FOUND:
            raise
        plans = 0
    if plans < 3:
        put = service_pb2.PutNetworkRequest(
            network_id=NETWORK_ID,
            network=convert.spec_to_network(seed_network()),
            protocols=convert.protocols_to_proto(seed_protocols()),
        )
        call("PutNetwork", put, service_pb2.NetworkVersion)
        plan = service_pb2.PlanRequest(network_id=NETWORK_ID, network_version=1, options=_options())
        assert call("Plan", plan, service_pb2.PlanVersion).version == 1
        for version in (2, 3):
            replan = _replan_request(1, (OUTAGE,))
            replan.idempotency_key = f"fuzz-prepare-{version}"
            assert call("Replan", replan, service_pb2.PlanVersion).version == version
    return Stored(NETWORK_ID, approve=(2, _pending(channel, 2)), reject=(3, _pending(channel, 3)))


# ---------------------------------------------------------------------------------------- mutations

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutation:
    """One change to a request: `path` names a field (field names, and indices into repeated fields);
    `action` is "set" (to `value`), "clear", "empty", "grow" (by `value` times), "bad_utf8"."""

    path: Path_
    action: str
    value: Any = None

    def describe(self) -> str:
        where = ".".join(f"[{p}]" if isinstance(p, int) else p for p in self.path).replace(".[", "[")
        if self.action == "set":
            shown = self.value
            if isinstance(shown, str) and len(shown) > 40:
                shown = f"{shown[:12]!r}... ({len(shown):,} chars)"
            else:
                shown = repr(shown)
            return f"{where} = {shown}"
        if self.action == "grow":
            return f"{where} grown x{self.value}"
        return f"{where} {self.action}"


@dataclass(frozen=True)
class Case:
    """One fuzz case: `rpc`, seed number `seed` of it, then `mutations` in order; or, when `body` is
    set, those bytes as the whole request (`label` says what they are)."""

    rpc: str
    seed: int = 0
    mutations: tuple[Mutation, ...] = ()
    body: bytes | None = None
    label: str = ""

    def describe(self) -> str:
        if self.body is not None:
            return f"{self.rpc}: body {self.label} ({len(self.body):,} bytes)"
        changes = "; ".join(m.describe() for m in self.mutations) or "the seed"
        return f"{self.rpc}#{self.seed}: {changes}"


@dataclass(frozen=True)
class Site:
    """A place a mutation can act: a field (`index` None) or an element of a repeated field."""

    path: Path_
    field: Any  # a google.protobuf FieldDescriptor (pure-Python or upb)
    kind: str  # "scalar", "element", "repeated", "message"
    siblings: tuple[str, ...] = ()


def _sites(msg: Message, prefix: Path_ = ()) -> list[Site]:
    """Every site of `msg`: its fields set or not, and, in the set message fields, theirs."""
    found: list[Site] = []
    for f in msg.DESCRIPTOR.fields:
        path = (*prefix, f.name)
        is_message = f.type == descriptor.FieldDescriptor.TYPE_MESSAGE
        if f.is_repeated:
            container = getattr(msg, f.name)
            found.append(Site(path, f, "repeated"))
            for i, element in enumerate(container):
                if is_message:
                    found.append(Site((*path, i), f, "message"))
                    found.extend(_sites(element, (*path, i)))
                else:
                    others = tuple(str(v) for j, v in enumerate(container) if j != i)
                    found.append(Site((*path, i), f, "element", others))
        elif is_message:
            found.append(Site(path, f, "message"))
            if msg.HasField(f.name):
                found.extend(_sites(getattr(msg, f.name), path))
        else:
            found.append(Site(path, f, "scalar"))
    return found


def _with_siblings(root: Message, sites: list[Site]) -> list[Site]:
    """String sites inside an element of a repeated message, with the values the same field holds
    in the other elements."""
    out: list[Site] = []
    for site in sites:
        if (
            site.kind == "scalar"
            and site.field.type == descriptor.FieldDescriptor.TYPE_STRING
            and len(site.path) >= 3
            and isinstance(site.path[-2], int)
        ):
            container = _resolve(root, site.path[:-2])
            values = tuple(getattr(e, site.field.name) for j, e in enumerate(container) if j != site.path[-2])
            site = Site(site.path, site.field, site.kind, tuple(v for v in values if v))
        out.append(site)
    return out


def _resolve(root: Any, path: Path_) -> Any:
    obj = root
    for step in path:
        obj = obj[step] if isinstance(step, int) else getattr(obj, step)
    return obj


def _repeated_bytes(container: Any) -> int:
    total = 0
    for v in container:
        total += v.ByteSize() if isinstance(v, Message) else len(v) if isinstance(v, str | bytes) else 8
    return total


def apply_mutation(msg: Message, m: Mutation) -> bool:
    """Apply `m` to `msg` in place; False when protobuf refuses the value or the path is gone (the
    case goes on without it). "bad_utf8" sets `PLACEHOLDER`, which `request_bytes` turns into
    invalid UTF-8 in the serialized bytes (no message can hold it)."""
    try:
        parent, last = _resolve(msg, m.path[:-1]), m.path[-1]
        if m.action in ("set", "bad_utf8"):
            value = PLACEHOLDER if m.action == "bad_utf8" else m.value
            if isinstance(last, int):
                parent[last] = value
            else:
                setattr(parent, last, value)
        elif m.action == "clear":
            if isinstance(last, int):
                parent[last].Clear()
            else:
                parent.ClearField(last)
        elif m.action == "empty":
            target = _resolve(msg, m.path)
            if isinstance(target, Message):
                target.Clear()
                if not isinstance(last, int):
                    target.SetInParent()
            else:
                del target[:]
        elif m.action == "grow":
            container = _resolve(msg, m.path)
            items = list(container)
            if items:
                size = max(1, _repeated_bytes(container))
                times = max(1, min(int(m.value), 1 + GROW_BYTES // size))
                container.extend(items * (times - 1))
        else:
            raise ValueError(f"unknown mutation action {m.action!r}")
    except (ValueError, TypeError, IndexError, AttributeError):
        return False
    return True


def _id_pool(seeds: dict[str, tuple[Message, ...]]) -> tuple[str, ...]:
    """Every non-empty string of the seeds (ids of nodes, items, lanes, offers, rules, roles,
    signals, networks) and a few that name nothing: values for dangling references."""
    pool: set[str] = {"ghost", NETWORK_ID, PUT_NETWORK_ID, "fuzz-missing"}

    def walk(msg: Message) -> None:
        for f, value in msg.ListFields():
            if f.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
                for v in value if f.is_repeated else [value]:
                    walk(v)
            elif f.type == descriptor.FieldDescriptor.TYPE_STRING:
                for v in value if f.is_repeated else [value]:
                    if v and len(v) < 64:
                        pool.add(v)

    for requests in seeds.values():
        for request in requests:
            walk(request)
    return tuple(sorted(pool))


def _capped(name: str, values: Sequence[int]) -> list[int]:
    cap = RESOURCE_CAPS.get(name)
    return list(values) if cap is None else sorted({min(v, cap) for v in values} | {cap})


def _uniform(choices: Sequence[Any]) -> st.SearchStrategy[Any]:
    """One of `choices`, close to uniformly (hypothesis's own `sampled_from` favours the first few,
    which would leave most fields of a wide request unfuzzed); shrinks toward the first."""
    items = tuple(choices)
    return st.integers(0, 2**16 - 1).map(lambda k: items[k % len(items)])


def _mutation(site: Site, pool: tuple[str, ...]) -> st.SearchStrategy[Mutation]:
    """The mutations a site can take, simplest first (hypothesis shrinks toward the front)."""
    f, path = site.field, site.path
    FD = descriptor.FieldDescriptor
    if site.kind == "repeated":
        return st.one_of(
            st.just(Mutation(path, "empty")),
            _uniform(GROW_FACTORS).map(lambda k: Mutation(path, "grow", k)),
        )
    if site.kind == "message":
        return _uniform([Mutation(path, "empty"), Mutation(path, "clear")])
    setters: list[st.SearchStrategy[Mutation]] = []
    if f.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        setters.append(_uniform(DOUBLES).map(lambda v: Mutation(path, "set", v)))
    elif f.type in (FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32):
        setters.append(_uniform(_capped(f.name, INT32S)).map(lambda v: Mutation(path, "set", v)))
    elif f.type == FD.TYPE_BOOL:
        setters.append(_uniform([True, False]).map(lambda v: Mutation(path, "set", v)))
    elif f.type == FD.TYPE_ENUM:
        values = [0, *(v.number for v in f.enum_type.values if v.number), 99, -1, 2**31 - 1] if f.enum_type else [0, 99]
        setters.append(_uniform(values).map(lambda v: Mutation(path, "set", v)))
    elif f.type == FD.TYPE_STRING:
        choices = list(STRINGS) + list(site.siblings) + list(pool)
        setters.append(_uniform(choices).map(lambda v: Mutation(path, "set", v)))
        setters.append(st.just(Mutation(path, "bad_utf8")))
    else:
        return st.just(Mutation(path, "clear"))
    if site.kind == "scalar" and f.has_presence:
        setters.append(st.just(Mutation(path, "clear")))
    return st.one_of(*setters)


WIDE_RPCS = frozenset(
    {"PutNetwork", "ValidateNetwork", "Solve", "SolveStream", "Replan", "ReplanStream", "ExportModel"}
)
"""RPCs whose requests carry a network or signals: hundreds of fields against a handful."""
WEIGHTED_RPCS: tuple[str, ...] = tuple(r for rpc in RPCS for r in [rpc] * (3 if rpc in WIDE_RPCS else 1))
"""What a case picks its RPC from: the wide ones three times."""

CATEGORIES = ("number", "string", "number", "enum", "number", "shape", "string", "bool")
"""What a mutation picks first (then a site of that category): numbers three times and strings twice
as often as the rest."""


def _category(site: Site) -> str:
    FD = descriptor.FieldDescriptor
    if site.kind in ("repeated", "message"):
        return "shape"
    if site.field.type == FD.TYPE_STRING:
        return "string"
    if site.field.type == FD.TYPE_ENUM:
        return "enum"
    if site.field.type == FD.TYPE_BOOL:
        return "bool"
    return "number"


PLACEHOLDER = "\x01FUZZ-PLACEHOLDER\x01"


def request_bytes(case: Case, seeds: dict[str, tuple[Message, ...]]) -> bytes:
    """The serialized request of `case`: the seed with its mutations applied (invalid UTF-8 patched
    into the bytes where a string should be), or its body."""
    if case.body is not None:
        return case.body
    data = mutated(case, seeds).SerializeToString()
    raw = BAD_UTF8 + b"\x00" * (len(PLACEHOLDER.encode()) - len(BAD_UTF8))
    return data.replace(PLACEHOLDER.encode(), raw)


def mutated(case: Case, seeds: dict[str, tuple[Message, ...]]) -> Message:
    """The seed of `case` with its mutations applied (invalid UTF-8 still as `PLACEHOLDER`)."""
    msg = copy.deepcopy(seeds[case.rpc][case.seed])
    for m in case.mutations:
        apply_mutation(msg, m)
    return msg


def case_strategy(seeds: dict[str, tuple[Message, ...]]) -> st.SearchStrategy[Case]:
    """Cases over every RPC: mostly field mutations of a seed, now and then a whole body of bytes."""
    pool = _id_pool(seeds)

    @st.composite
    def field_case(draw: st.DrawFn, rpc: str) -> Case:
        which = draw(st.integers(0, len(seeds[rpc]) - 1))
        msg = copy.deepcopy(seeds[rpc][which])
        mutations: list[Mutation] = []
        for _ in range(draw(st.integers(1, MAX_MUTATIONS))):
            sites = _with_siblings(msg, _sites(msg))
            if not sites:
                return draw(body_case(rpc))
            by_category: dict[str, list[Site]] = {}
            for x in sites:
                by_category.setdefault(_category(x), []).append(x)
            # A category first (numbers most often), then one of its sites.
            categories = [c for c in CATEGORIES if c in by_category]
            site = draw(_uniform(by_category[draw(_uniform(categories))]))
            m = draw(_mutation(site, pool))
            if apply_mutation(msg, m):
                mutations.append(m)
        return Case(rpc, which, tuple(mutations))

    @st.composite
    def body_case(draw: st.DrawFn, rpc: str) -> Case:
        which = draw(st.integers(0, len(seeds[rpc]) - 1))
        valid = seeds[rpc][which].SerializeToString()
        kind = draw(_uniform(["random", "truncated", "flipped", "garbage"]))
        if kind == "random":
            body = draw(st.binary(min_size=1, max_size=4096))
        elif kind == "truncated" and len(valid) > 1:
            body = valid[: draw(st.integers(1, len(valid) - 1))]
        elif kind == "flipped" and valid:
            at = draw(st.integers(0, len(valid) - 1))
            body = valid[:at] + bytes([valid[at] ^ draw(st.integers(1, 255))]) + valid[at + 1 :]
        else:
            body = valid + draw(st.binary(min_size=1, max_size=64))
        return Case(rpc, which, body=body, label=kind)

    @st.composite
    def any_case(draw: st.DrawFn) -> Case:
        rpc = draw(_uniform(WEIGHTED_RPCS))
        if draw(st.integers(0, 9)) < 8:
            return draw(field_case(rpc))
        return draw(body_case(rpc))

    return any_case()


# ------------------------------------------------------------------------------------------- oracle


class Ledger:
    """Row counts of every table of a server's SQLite ledger (and decisions by state), read through
    a read-only connection of our own."""

    def __init__(self, path: str | Path) -> None:
        self.conn = sqlite3.connect(
            f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=30.0, isolation_level=None
        )

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
        counts = {name: int(self.conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for (name,) in rows}
        if "decisions" in counts:
            for state, n in self.conn.execute("SELECT state, count(*) FROM decisions GROUP BY state"):
                counts[f"decisions[{state}]"] = int(n)
        return counts

    def close(self) -> None:
        self.conn.close()


@dataclass(frozen=True)
class Target:
    """A server to fuzz: its address, its ledger file and the seeds `prepare` made for it."""

    channel: grpc.Channel
    ledger: Ledger
    seeds: dict[str, tuple[Message, ...]]

    @classmethod
    def connect(cls, address: str, ledger_path: str | Path) -> Target:
        channel = grpc.insecure_channel(
            address,
            options=[("grpc.max_receive_message_length", 64 * MiB), ("grpc.max_send_message_length", 64 * MiB)],
        )
        grpc.channel_ready_future(channel).result(timeout=60)
        stored = prepare(channel)
        return cls(channel, Ledger(ledger_path), seed_requests(stored))

    def close(self) -> None:
        self.ledger.close()
        self.channel.close()


FAILURE_KINDS = ("status", "transport", "message", "hang", "unhealthy", "partial_write", "crash")


@dataclass(frozen=True)
class Outcome:
    """What one case got, and what the oracle found wrong with it (`failures`: kind -> detail)."""

    case: Case
    code: str
    message: str
    seconds: float
    responses: int
    changed: dict[str, tuple[int, int]]
    failures: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        text = self.message if len(self.message) <= 160 else self.message[:157] + "..."
        found = "; ".join(f"{k}: {v}" for k, v in self.failures.items())
        return f"{self.case.describe()} -> {self.code} {text!r} ({self.seconds:.2f} s){' -- ' + found if found else ''}"


def asked_long(case: Case, seeds: dict[str, tuple[Message, ...]]) -> bool:
    """Whether the request asks for a solve of `LONG_SOLVE_SECONDS` or more (or without a limit)."""
    if case.body is not None:
        return False
    msg = mutated(case, seeds)
    options = getattr(msg, "options", None)
    if not isinstance(options, service_pb2.SolveOptions) or not options.HasField("time_limit_seconds"):
        return False
    limit = options.time_limit_seconds
    return not math.isnan(limit) and limit >= LONG_SOLVE_SECONDS


def healthy(channel: grpc.Channel) -> str:
    """ "" when Health.Check answers SERVING within `HEALTH_SECONDS`, else what it answered."""
    try:
        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=HEALTH_SECONDS)
    except grpc.RpcError as err:
        return f"Health.Check failed: {err.code().name} {err.details()!r}"
    if status.status != health_pb2.HealthCheckResponse.SERVING:
        return f"Health.Check answered {health_pb2.HealthCheckResponse.ServingStatus.Name(status.status)}"
    return ""


class _HealthWatch:
    """Health.Check every `HEALTH_PERIOD_SECONDS` from a thread of its own while a case's call runs:
    a server whose request work starves the threads that answer health checks is unhealthy even
    if it recovers by the time the call ends. `stop` returns the first failed check ("" if none)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.failure = ""
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="fuzz-health", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(HEALTH_PERIOD_SECONDS):
            started = time.monotonic()
            found = healthy(self.channel)
            if found and not self.done.is_set():
                self.failure = f"during the call, after {time.monotonic() - started:.1f} s: {found}"
                return

    def stop(self) -> str:
        self.done.set()
        self.thread.join()
        return self.failure


_TRANSPORT_REFUSALS = ("metadata", "larger than max", "message larger")


DECISION_RPCS = ("ApproveDecision", "RejectDecision")


def refresh_decision_seeds(target: Target) -> None:
    """Point the decision seeds at a pending decision of the latest plan version: only those can be
    decided (one of a superseded version is FAILED_PRECONDITION), and every Plan or Replan case
    stores a newer version. When the latest version has none pending (a fuzzed PutNetwork may have
    stored the network without its protocols), a plan of the seed network's first version and a
    replan of the outage from it make one (the backup escalates under the seed protocols)."""

    channel = target.channel
    plans = _call(
        channel, "ListPlans", service_pb2.ListPlansRequest(network_id=NETWORK_ID), service_pb2.ListPlansResponse
    )
    latest = max(p.version for p in plans.plans)
    pending = _pending_indices(channel, latest)
    if not pending:
        plan = service_pb2.PlanRequest(network_id=NETWORK_ID, network_version=1, options=_options())
        planned = _call(channel, "Plan", plan, service_pb2.PlanVersion).version
        latest = _call(channel, "Replan", _replan_request(planned, (OUTAGE,)), service_pb2.PlanVersion).version
        pending = _pending_indices(channel, latest)
    if not pending:
        raise RuntimeError(f"the outage's replan (plan version {latest}) left no decision pending to fuzz")
    index = pending[0]
    for rpc in DECISION_RPCS:
        fresh = []
        for seed in target.seeds[rpc]:
            request = service_pb2.DecideRequest.FromString(seed.SerializeToString())
            request.plan_version, request.index = latest, index
            fresh.append(request)
        target.seeds[rpc] = tuple(fresh)


def run_case(target: Target, case: Case) -> Outcome:
    """Send `case` with an explicit deadline, then judge it: status, message, health, ledger, hang.
    A decision case first points its seed at a pending decision of the latest plan version."""
    if case.rpc in DECISION_RPCS:
        refresh_decision_seeds(target)
    body = request_bytes(case, target.seeds)
    before = target.ledger.counts()
    method = METHOD_PREFIX + case.rpc
    deadline = WATCH_DEADLINE_SECONDS if case.rpc == "WatchPlans" else DEADLINE_SECONDS
    code, message, responses = grpc.StatusCode.OK, "", 0
    start = time.monotonic()
    watch = _HealthWatch(target.channel)
    try:
        if case.rpc in STREAMING:
            for _ in target.channel.unary_stream(method, request_serializer=None, response_deserializer=None)(
                body, timeout=deadline
            ):
                responses += 1
        else:
            target.channel.unary_unary(method, request_serializer=None, response_deserializer=None)(
                body, timeout=deadline
            )
            responses = 1
    except grpc.RpcError as err:
        code, message = err.code(), err.details() or ""
    finally:
        during = watch.stop()
    seconds = time.monotonic() - start
    failures: dict[str, str] = {}
    if code != grpc.StatusCode.OK and code not in DOCUMENTED_CODES:
        failures["status"] = f"{code.name} is not a documented status code"
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and any(s in message.lower() for s in _TRANSPORT_REFUSALS):
        failures["transport"] = "gRPC's transport refused the answer (Concerto did not bound it)"
    if len(message) > MAX_MESSAGE_CHARS:
        failures["message"] = f"{len(message):,} characters, over {MAX_MESSAGE_CHARS:,}"
    if (
        code == grpc.StatusCode.DEADLINE_EXCEEDED
        and case.rpc != "WatchPlans"
        and seconds >= 0.9 * deadline
        and not asked_long(case, target.seeds)
    ):
        failures["hang"] = f"no answer within the {deadline:g} s deadline"
    health = during or healthy(target.channel)
    if health:
        failures["unhealthy"] = health
    after = target.ledger.counts()
    changed = {
        k: (before.get(k, 0), after.get(k, 0)) for k in sorted({*before, *after}) if before.get(k) != after.get(k)
    }
    if changed and (code != grpc.StatusCode.OK or case.rpc in READ_ONLY):
        why = "a read-only RPC" if code == grpc.StatusCode.OK else f"the call ended {code.name}"
        shown = ", ".join(f"{k} {a}->{b}" for k, (a, b) in changed.items())
        failures["partial_write"] = f"{why} but the ledger changed: {shown}"
    return Outcome(case, code.name, message, seconds, responses, changed, failures)


class FuzzFailure(AssertionError):
    """A case the oracle rejects; one subclass per kind, so hypothesis reports each kind separately."""


class UndocumentedStatus(FuzzFailure): ...


class TransportRefusal(FuzzFailure): ...


class MessageOverCap(FuzzFailure): ...


class Hang(FuzzFailure): ...


class Unhealthy(FuzzFailure): ...


class PartialWrite(FuzzFailure): ...


class Crash(FuzzFailure): ...


_FAILURE_CLASSES: dict[str, type[FuzzFailure]] = {
    "status": UndocumentedStatus,
    "transport": TransportRefusal,
    "message": MessageOverCap,
    "hang": Hang,
    "unhealthy": Unhealthy,
    "partial_write": PartialWrite,
    "crash": Crash,
}


def check(outcome: Outcome) -> None:
    """Raise the `FuzzFailure` of the outcome's first failure (by `FAILURE_KINDS` order), if any."""
    for kind in FAILURE_KINDS:
        if kind in outcome.failures:
            raise _FAILURE_CLASSES[kind](outcome.describe())


# ------------------------------------------------------------------------------------------ runner

_SERVE = """
import resource, sys
from pathlib import Path
from solver.server import ServerConfig, serve

port_file, store, limit = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
def announce(port: int) -> None:
    partial = port_file.with_suffix(".partial")
    partial.write_text(str(port))
    partial.replace(port_file)
serve("127.0.0.1:0", ServerConfig(store=store, workers=2, queue_size=4, default_time_limit=limit), on_ready=announce)
"""


class FuzzServer:
    """`solver.server.serve` (2 workers) in a child process under an address-space limit, so a
    request that makes it allocate without bound kills only it (a crash, reported) and not the
    machine."""

    def __init__(self, store: Path, workdir: Path, memory_limit_bytes: int) -> None:
        self.store, self.workdir, self.memory_limit_bytes = store, workdir, memory_limit_bytes
        self.port_file = workdir / f"port-{time.monotonic_ns()}"
        limit = memory_limit_bytes

        def limit_memory() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        root = Path(__file__).resolve().parent.parent
        self.log = (workdir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(self.port_file), str(store), str(SERVER_TIME_LIMIT)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            preexec_fn=limit_memory,  # only setrlimit, before exec
            stdout=self.log,
            stderr=self.log,
        )
        stop_at = time.monotonic() + 60
        while not self.port_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"the fuzz server exited with code {self.process.returncode} before serving")
            if time.monotonic() > stop_at:
                self.stop()
                raise TimeoutError("the fuzz server did not serve within 60 s")
            time.sleep(0.05)
        self.address = f"127.0.0.1:{int(self.port_file.read_text())}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.log.close()


def minimize(target: Target, outcome: Outcome) -> Case:
    """The smallest case found that fails the same way: each single mutation of a multi-mutation
    case alone, first that still fails with the same kinds."""
    case = outcome.case
    if len(case.mutations) <= 1:
        return case
    kinds = set(outcome.failures) - {"crash"}
    for m in case.mutations:
        single = Case(case.rpc, case.seed, (m,))
        again = run_case(target, single)
        if kinds and kinds <= set(again.failures):
            return single
    return case


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) > 24:
        return f"<{len(value):,} chars>"
    return repr(value)


def _signature(outcome: Outcome, case: Case) -> str:
    """What makes two failures the same finding: RPC, failure kinds, status code and the mutated
    field paths of the minimized `case` without their indices (the values are collected)."""
    if case.body is not None:
        where = f"body:{case.label}"
    else:
        where = ",".join(
            sorted({".".join(p for p in m.path if isinstance(p, str)) + f":{m.action}" for m in case.mutations})
        )
    return f"{case.rpc}|{'+'.join(sorted(outcome.failures))}|{outcome.code}|{where}"


@dataclass
class FuzzReport:
    cases: int = 0
    seconds: float = 0.0
    by_rpc: dict[str, Counter[str]] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)
    restarts: int = 0

    def add(self, outcome: Outcome) -> None:
        self.cases += 1
        self.by_rpc.setdefault(outcome.case.rpc, Counter())[outcome.code] += 1
        for kind in outcome.failures:
            self.failures[kind] += 1


def run_fuzz(cases: int, seed: int, out: Path, *, memory_limit_gib: float = 6.0, verbose: bool = False) -> FuzzReport:
    """Fuzz a server in a child process with `cases` hypothesis-drawn cases from `seed`; print the
    counts per RPC and status code, the crashes, hangs and partial writes and each distinct finding
    with a reproducer, and write them as JSON to `out`."""
    report = FuzzReport()
    with tempfile.TemporaryDirectory(prefix="concerto-fuzz-") as tmp:
        workdir = Path(tmp)
        store = workdir / "ledger.db"
        limit = int(memory_limit_gib * 1024**3)
        server = FuzzServer(store, workdir, limit)
        target = Target.connect(server.address, store)
        started = time.monotonic()

        @settings(
            max_examples=cases,
            deadline=None,
            database=None,
            phases=(Phase.generate,),
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis_seed(seed)
        @given(st.data())
        def explore(data: st.DataObject) -> None:
            nonlocal server, target
            case = data.draw(case_strategy(target.seeds))
            outcome = run_case(target, case)
            if not server.alive():
                outcome.failures["crash"] = f"the server process died (exit code {server.process.returncode})"
                report.restarts += 1
                target.close()
                server.stop()
                server = FuzzServer(store, workdir, limit)
                target = Target.connect(server.address, store)
            report.add(outcome)
            if verbose or outcome.failures:
                print(f"[{report.cases}] {outcome.describe()}", flush=True)
            if outcome.failures:
                smallest = minimize(target, outcome) if server.alive() else case
                key = _signature(outcome, smallest)
                finding = report.findings.get(key)
                values = sorted({_shown(m.value) for m in smallest.mutations if m.action == "set"})
                if finding is None:
                    report.findings[key] = {
                        "rpc": case.rpc,
                        "kinds": sorted(outcome.failures),
                        "code": outcome.code,
                        "count": 1,
                        "values": values,
                        "reproducer": smallest.describe(),
                        "case": _case_json(smallest),
                        "detail": outcome.describe(),
                    }
                else:
                    finding["count"] += 1
                    finding["values"] = sorted({*finding["values"], *values})

        try:
            explore()
        finally:
            report.seconds = time.monotonic() - started
            target.close()
            server.stop()
    _print(report)
    write_json(
        out,
        {
            "cases": report.cases,
            "seed": seed,
            "seconds": round(report.seconds, 1),
            "seconds_per_case": round(report.seconds / max(report.cases, 1), 4),
            "memory_limit_gib": memory_limit_gib,
            "by_rpc": {rpc: dict(codes) for rpc, codes in sorted(report.by_rpc.items())},
            "failures": {kind: report.failures.get(kind, 0) for kind in FAILURE_KINDS},
            "server_restarts": report.restarts,
            "findings": list(report.findings.values()),
        },
    )
    print(f"wrote {out}")
    return report


def _case_json(case: Case) -> dict[str, Any]:
    data = asdict(case)
    data["body"] = case.body.hex() if case.body is not None else None
    data["mutations"] = [
        {
            **asdict(m),
            "value": m.value if not isinstance(m.value, str) or len(m.value) <= 64 else f"<{len(m.value)} chars>",
        }
        for m in case.mutations
    ]
    return data


def _print(report: FuzzReport) -> None:
    codes = sorted({c for counts in report.by_rpc.values() for c in counts})
    width = max(len(r) for r in RPCS)
    print(
        f"\n{report.cases} cases in {report.seconds:.1f} s ({report.seconds / max(report.cases, 1) * 1000:.0f} ms each)"
    )
    print(f"{'rpc':<{width}}  " + "  ".join(f"{c:>19}" for c in codes))
    for rpc in RPCS:
        counts = report.by_rpc.get(rpc, Counter())
        print(f"{rpc:<{width}}  " + "  ".join(f"{counts.get(c, 0):>19}" for c in codes))
    print(
        f"crashes {report.failures.get('crash', 0)}, hangs {report.failures.get('hang', 0)}, "
        f"partial writes {report.failures.get('partial_write', 0)}, undocumented codes "
        f"{report.failures.get('status', 0)}, transport refusals {report.failures.get('transport', 0)}, "
        f"messages over the cap {report.failures.get('message', 0)}, unhealthy {report.failures.get('unhealthy', 0)}"
    )
    for n, finding in enumerate(report.findings.values(), 1):
        print(f"finding {n} (x{finding['count']}, {'+'.join(finding['kinds'])}): {finding['reproducer']}")
        if len(finding["values"]) > 1:
            print(f"    values: {', '.join(finding['values'])}")
        print(f"    {finding['detail']}")


@contextlib.contextmanager
def in_process_target(ledger_dir: Path) -> Iterator[Target]:
    """A real in-process server (2 workers, `SERVER_TIME_LIMIT`) on a SQLite ledger in `ledger_dir`,
    prepared for fuzzing."""
    from solver.server import ServerConfig, create_server, shutdown

    store = ledger_dir / "fuzz.db"
    config = ServerConfig(store=store, workers=2, queue_size=4, default_time_limit=SERVER_TIME_LIMIT)
    server, port, servicer = create_server("127.0.0.1:0", config)
    server.start()
    try:
        assert servicer.pool.wait_ready(60), "the solver workers did not start"
        target = Target.connect(f"127.0.0.1:{port}", store)
        try:
            yield target
        finally:
            target.close()
    finally:
        shutdown(server, servicer, grace=0)


__all__ = [
    "DEADLINE_SECONDS",
    "RPCS",
    "Case",
    "FuzzFailure",
    "Mutation",
    "Outcome",
    "Target",
    "case_strategy",
    "check",
    "in_process_target",
    "prepare",
    "run_case",
    "run_fuzz",
    "seed_requests",
]
