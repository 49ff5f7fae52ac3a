"""Every limit a request to the service is held to, declared once, and the check that holds a raw
protobuf request to them before anything is converted, allocated or built.

Limits are data: `RequestLimits` names each one with its default, `concerto serve --max-NAME`
sets it (the flags are made from the fields), the README's "Request limits" table and the comment
at the top of `proto/concerto/v1/service.proto` list them. `check_request` walks any request
message through its descriptor, so a field added to the proto is held to the limits of its kind
without a line here; `FIELD_KINDS` lists the fields whose kind is not their type's default.

A violation is a `ValidationError` (INVALID_ARGUMENT) that names the entity, the field and the
limit. The walk is linear in the request and column-wise, like the model builder: each field is read
across all the messages of its type at once (all lanes' capacities, then all lanes' lead times) and
checked with C-level `map`, `max` and `all`; where a column fails, a second look finds the first
entity that broke it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from functools import partial
from itertools import accumulate, chain
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from models.errors import ValidationError, ValidationErrors

MiB = 1024 * 1024


def _limit(default: float, help: str) -> Any:
    """A limit's declaration: its default and what it bounds (the flag's help, the README's row)."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True, kw_only=True)
class RequestLimits:
    """The limits of one server. Every field is a `concerto serve --max-NAME` flag; `describe()`
    lists them with their defaults and what each bounds."""

    request_bytes: int = _limit(
        16 * MiB,
        "The serialized request, signals and all (the L network is 1.9 MB; reading every value of the "
        "largest request takes about 50 ms a MiB).",
    )
    response_bytes: int = _limit(
        256 * MiB, "A response (a plan version, an exported model); a larger one is refused before it is stored."
    )
    horizon: int = _limit(1_000, "Planning periods of a network, and any period, lead time, fence or recovery count.")
    model_cells: int = _limit(
        5_000_000,
        "A network's periods times the entities that take a value in each (lanes times their items, "
        "offers, recipes, nodes, items, demands, stocks): the size of its model, about 1.2 columns a "
        "cell (the L network is 0.8 million cells).",
    )
    entities: int = _limit(
        200_000, "Entries of any one repeated field (items, nodes, lanes, demands, roles, rules, ...)."
    )
    signals: int = _limit(10_000, "Signals in one request.")
    id_chars: int = _limit(256, "Characters of any id, name, reference or key.")
    text_chars: int = _limit(4_096, "Characters of free text (a decision's note).")
    magnitude: float = _limit(
        1e9,
        "Absolute value of any quantity, cost, price, rate, capacity or count: above it, products "
        "of two such numbers come near the values the solver reads as infinite.",
    )
    money: float = _limit(
        1e12, "Absolute value of a spending limit or working-capital cap (right-hand sides, not coefficients)."
    )
    hours: float = _limit(
        1e6,
        "Absolute value of any time in hours (detected, start, duration, delay, escalation delay, "
        "the period length) or in seconds (the time limit).",
    )
    upstream_hops: int = _limit(64, "A replan's `settings.upstream_hops`: deeper than any network's tiers.")
    large_request_bytes: int = _limit(
        1 * MiB, "A request over this size is large: only `--max-large-requests` of them are answered at once."
    )
    large_requests: int = _limit(
        2,
        "Calls with a large request answered at once (reading one takes up to about "
        "50 ms a MiB of a server thread); the next is RESOURCE_EXHAUSTED.",
    )
    watch_streams: int = _limit(8, "`WatchPlans` streams open at once on the server (each holds a server thread).")
    watch_streams_per_client: int = _limit(4, "`WatchPlans` streams open at once from one client address.")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and not isinstance(value, bool)) or not value > 0:
                raise ValidationError("server config", "limits", f.name, f"is {value!r}; it must be a number > 0")
        if self.watch_streams_per_client > self.watch_streams:
            raise ValidationError(
                "server config",
                "limits",
                "watch_streams_per_client",
                f"is {self.watch_streams_per_client}, over watch_streams ({self.watch_streams})",
            )

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(flag, default as written in the docs, what it bounds) of every limit, in order."""
        return [(cls.flag(f.name), f"{f.default:,.0f}", f.metadata["help"]) for f in fields(cls)]

    @staticmethod
    def flag(name: str) -> str:
        """The `concerto serve` flag of limit `name`: "--max-request-bytes" for "request_bytes"."""
        return "--max-" + name.replace("_", "-")


class Kind(enum.Enum):
    """What a field holds, and so which limit applies to it."""

    ID = "id_chars"
    TEXT = "text_chars"
    MAGNITUDE = "magnitude"
    MONEY = "money"
    HOURS = "hours"
    PERIODS = "horizon"
    UPSTREAM_HOPS = "upstream_hops"
    VERSION = "version"
    """A version number or index: any int32 >= 0 is a valid question (the ledger answers NOT_FOUND)."""
    FREE = "free"
    """Any value of the type (a random seed)."""


FIELD_KINDS: dict[str, Kind] = {
    "concerto.v1.DecideRequest.note": Kind.TEXT,
    "concerto.v1.Network.horizon": Kind.PERIODS,
    "concerto.v1.Network.period_hours": Kind.HOURS,
    "concerto.v1.Network.working_capital_cap": Kind.MONEY,
    "concerto.v1.InTransit.period": Kind.PERIODS,
    "concerto.v1.Lane.lead_time": Kind.PERIODS,
    "concerto.v1.CalendarException.start_period": Kind.PERIODS,
    "concerto.v1.CalendarException.end_period": Kind.PERIODS,
    "concerto.v1.Recipe.setup_hours": Kind.HOURS,
    "concerto.v1.Signal.detected_hours": Kind.HOURS,
    "concerto.v1.Signal.start_hours": Kind.HOURS,
    "concerto.v1.Signal.duration_hours": Kind.HOURS,
    "concerto.v1.Signal.delay_hours": Kind.HOURS,
    "concerto.v1.Predicate.min_duration_hours": Kind.HOURS,
    "concerto.v1.Predicate.max_duration_hours": Kind.HOURS,
    "concerto.v1.AuthorityRule.escalation_delay_hours": Kind.HOURS,
    "concerto.v1.AuthorityRule.spend_limit": Kind.MONEY,
    "concerto.v1.AuthorityRule.hard_cap": Kind.MONEY,
    "concerto.v1.SolveOptions.time_limit_seconds": Kind.HOURS,
    "concerto.v1.SolveOptions.seed": Kind.FREE,
    "concerto.v1.ReplanSettings.fence_periods": Kind.PERIODS,
    "concerto.v1.ReplanSettings.recovery_periods": Kind.PERIODS,
    "concerto.v1.ReplanSettings.upstream_hops": Kind.UPSTREAM_HOPS,
    "concerto.v1.GetNetworkRequest.version": Kind.VERSION,
    "concerto.v1.PlanRequest.network_version": Kind.VERSION,
    "concerto.v1.ReplanRequest.baseline_version": Kind.VERSION,
    "concerto.v1.GetPlanRequest.version": Kind.VERSION,
    "concerto.v1.DiffPlansRequest.from_version": Kind.VERSION,
    "concerto.v1.DiffPlansRequest.to_version": Kind.VERSION,
    "concerto.v1.WatchPlansRequest.after_version": Kind.VERSION,
    "concerto.v1.ListDecisionsRequest.plan_version": Kind.VERSION,
    "concerto.v1.DecideRequest.plan_version": Kind.VERSION,
    "concerto.v1.DecideRequest.index": Kind.VERSION,
    "concerto.v1.ExportModelRequest.network_version": Kind.VERSION,
    "concerto.v1.SetNetworkSettingsRequest.window_seconds": Kind.HOURS,
    "concerto.v1.AdvancePeriodRequest.periods": Kind.PERIODS,
    "concerto.v1.WatchNetworkRequest.after_seq": Kind.VERSION,
    # A wall-clock time (a published signal's detection): any valid timestamp; protobuf's own
    # conversion refuses one out of its range (years 1 to 9999).
    "google.protobuf.Timestamp.seconds": Kind.FREE,
    "google.protobuf.Timestamp.nanos": Kind.FREE,
}
"""Fields whose kind is not their type's default (a string is an ID, a number a MAGNITUDE)."""

COUNT_LIMITS: dict[str, str] = {
    "concerto.v1.SolveRequest.signals": "signals",
    "concerto.v1.ReplanRequest.signals": "signals",
    "concerto.v1.ValidateNetworkRequest.signals": "signals",
    "concerto.v1.ExportModelRequest.signals": "signals",
    "concerto.v1.PublishSignalsRequest.signals": "signals",
    "concerto.v1.Demand.quantity": "horizon",
    "concerto.v1.PerPeriod.values": "horizon",
}
"""Repeated fields held to a limit other than `entities`: the limit's name."""

MAX_REPORTED = 20
"""Violations reported by one check; the walk stops after them (a request over its limits is
answered at once, whatever its size)."""

_STRING = (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)
_FLOAT = (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)
_INTEGER = (
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
)


def check_request(request: Message, limits: RequestLimits) -> None:
    """Hold a raw request to `limits`; raise `ValidationError` (one) or `ValidationErrors` (up to
    `MAX_REPORTED`) naming each field over its limit.

    Two passes. The first reads the request's shape: its size, the fields outside repeated ones
    (the horizon, the replan settings, ...), the length of every top-level list and the model size,
    so a request that asks for more work than the limits allow is refused in milliseconds whatever
    its size (18 ms at the size limit, `python -m benchmarks limits`). The second reads every
    value, linear in the request."""
    size = request.ByteSize()
    if size > limits.request_bytes:
        raise ValidationError(
            "request",
            request.DESCRIPTOR.name,
            "size",
            _over_text(f"is {size:,} bytes", limits.request_bytes, "request_bytes"),
        )
    shape = _violations(request.DESCRIPTOR, [request], limits, _nowhere, deep=False)
    _raise_first(chain(shape, _sizes(request, limits)))
    _raise_first(_violations(request.DESCRIPTOR, [request], limits, _nowhere, deep=True))


def _nowhere(k: int) -> str:
    """Where the request itself sits in the request: its errors name it by its type."""
    return ""


def _raise_first(violations: Iterator[ValidationError]) -> None:
    """Raise the first `MAX_REPORTED` violations, if any (the rest are not looked for)."""
    found: list[ValidationError] = []
    for violation in violations:
        found.append(violation)
        if len(found) >= MAX_REPORTED:
            break
    if len(found) == 1:
        raise found[0]
    if found:
        raise ValidationErrors(found)


Where = Callable[[int], str]
"""Where the k-th message of a column sits in the request ("network.lanes[3]"), for errors."""


def _violations(
    descriptor: Any, messages: Sequence[Message], limits: RequestLimits, where: Where, *, deep: bool
) -> Iterator[ValidationError]:
    """Every limit broken by a column of messages of one type (`descriptor`, the protobuf
    Descriptor of its type), field by field: each field's values
    across all of them are checked at once, and the messages inside them as one column too.
    Not `deep`: only the lengths of repeated fields, not what they hold."""
    for field in descriptor.fields:
        name = field.name
        if field.is_repeated:
            lists = [getattr(m, name) for m in messages]
            lengths = list(map(len, lists))
            limit_name = COUNT_LIMITS.get(field.full_name, "entities")
            limit = getattr(limits, limit_name)
            if max(lengths, default=0) > limit:
                k = next(k for k, n in enumerate(lengths) if n > limit)
                yield _over(messages[k], where(k), name, f"has {lengths[k]:,} entries", limit, limit_name)
                continue
            if not deep:
                continue
            flat: list[Any] = list(chain.from_iterable(lists))
            if not flat:
                continue
            owner = _owner(lengths)
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                yield from _violations(field.message_type, flat, limits, partial(_child, where, owner, name), deep=True)
            else:
                bad = _scalar_violation(field, flat, limits)
                if bad is not None:
                    j, text = bad
                    k = owner(j)[0]
                    yield ValidationError(_entity(messages[k]), _ident(messages[k], where(k)), name, text)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            present = [k for k, m in enumerate(messages) if m.HasField(name)]
            if present:
                inner = [getattr(messages[k], name) for k in present]
                yield from _violations(
                    field.message_type, inner, limits, partial(_inner, where, present, name), deep=deep
                )
        else:
            bad = _scalar_violation(field, [getattr(m, name) for m in messages], limits)
            if bad is not None:
                k, text = bad
                yield ValidationError(_entity(messages[k]), _ident(messages[k], where(k)), name, text)


def _sizes(request: Message, limits: RequestLimits) -> Iterator[ValidationError]:
    """The networks in `request` whose model would be over `model_cells`, checked once the
    field limits hold (so the horizon and the counts it multiplies are bounded)."""
    for network in _networks(request):
        horizon = max(network.horizon, 0)
        per_period = (
            sum(max(1, len(lane.items)) for lane in network.lanes)
            + len(network.offers)
            + len(network.recipes)
            + len(network.nodes)
            + len(network.items)
            + len(network.demands)
            + len(network.stocks)
        )
        if horizon * per_period > limits.model_cells:
            yield ValidationError(
                "network",
                network.name or "network",
                "horizon",
                _over_text(
                    f"is {horizon:,} periods of {per_period:,} entities, {horizon * per_period:,} model cells",
                    limits.model_cells,
                    "model_cells",
                ),
            )


def _networks(request: Message) -> Iterator[Any]:
    """The `Network` messages a request carries (inline or inside an inline solve request)."""
    for field, value in request.ListFields():
        kind = field.message_type.full_name if field.message_type is not None and not field.is_repeated else ""
        if kind == "concerto.v1.Network":
            yield value
        elif kind == "concerto.v1.SolveRequest":
            yield from _networks(value)


def _scalar_violation(field: FieldDescriptor, values: list[Any], limits: RequestLimits) -> tuple[int, str] | None:
    """The first of a column of one field's values that breaks its limit, and what is wrong."""
    kind = FIELD_KINDS.get(field.full_name)
    if field.type in _STRING:
        kind = kind or Kind.ID
        limit = getattr(limits, kind.value)
        lengths = list(map(len, values))
        if max(lengths) <= limit:
            return None
        k = next(k for k, n in enumerate(lengths) if n > limit)
        return k, _over_text(f"is {lengths[k]:,} characters long", limit, kind.value)
    if field.type in _FLOAT:
        if not all(map(math.isfinite, values)):
            k = next(k for k, x in enumerate(values) if not math.isfinite(x))
            return k, f"is {values[k]}; it must be a finite number"
    elif field.type not in _INTEGER:
        return None  # booleans and enums: every value is in range (conversion checks enums)
    kind = kind or Kind.MAGNITUDE
    if kind is Kind.FREE:
        return None
    if kind is Kind.VERSION:
        if min(values) >= 0:
            return None
        k = next(k for k, x in enumerate(values) if x < 0)
        return k, f"is {values[k]}; it must be >= 0"
    limit = getattr(limits, kind.value)
    if max(map(abs, values)) <= limit:
        return None
    k = next(k for k, x in enumerate(values) if abs(x) > limit)
    return k, _over_text(f"is {_number(values[k])} in absolute value", limit, kind.value)


def _owner(lengths: list[int]) -> Callable[[int], tuple[int, int]]:
    """Maps an index into the concatenation of lists of these lengths to (list, index in it)."""
    ends = list(accumulate(lengths))

    def owner(j: int) -> tuple[int, int]:
        k = bisect_right(ends, j)
        return k, j - (ends[k] - lengths[k])

    return owner


def _child(where: Where, owner: Callable[[int], tuple[int, int]], name: str, j: int) -> str:
    """Where the j-th message of a flattened repeated field sits."""
    k, i = owner(j)
    return _join(where(k), f"{name}[{i}]")


def _inner(where: Where, present: list[int], name: str, j: int) -> str:
    """Where the j-th message of a singular message field (set on messages `present`) sits."""
    return _join(where(present[j]), name)


def _join(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent else child


def _over(message: Message, where: str, field: str, what: str, limit: float, limit_name: str) -> ValidationError:
    return ValidationError(_entity(message), _ident(message, where), field, _over_text(what, limit, limit_name))


def _over_text(what: str, limit: float, limit_name: str) -> str:
    return f"{what}, over the limit of {_number(limit)} (`concerto serve {RequestLimits.flag(limit_name)}`)"


def _number(x: float) -> str:
    if isinstance(x, int):
        return f"{x:,}"
    return f"{int(x):,}" if x.is_integer() and abs(x) < 1e15 else f"{x:g}"


def _entity(message: Message) -> str:
    """ "lane" for a concerto.v1.Lane, "replan request" for a concerto.v1.ReplanRequest."""
    return "".join(" " + c.lower() if c.isupper() else c for c in message.DESCRIPTOR.name).strip()


def _ident(message: Message, where: str) -> str:
    """The message's own id when it has one (the error's echo cuts a long one), else where it sits
    in the request ("network.lanes[3]"), else its type's name."""
    fields_by_name = message.DESCRIPTOR.fields_by_name
    field = fields_by_name.get("id") or fields_by_name.get("network_id")
    if field is not None and field.type == FieldDescriptor.TYPE_STRING:
        value = getattr(message, field.name)
        if value:
            return str(value)
    return where or message.DESCRIPTOR.name
