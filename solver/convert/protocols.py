"""Decision protocols: concerto.v1.ProtocolSet <-> `models.protocols.ProtocolSet`, rule by rule."""

from __future__ import annotations

from typing import TypeVar

from models.errors import ValidationError
from models.protocols import (
    Approver,
    AuthorityRule,
    OnExpiry,
    OnReject,
    Predicate,
    ProtocolSet,
    Role,
    SignalRule,
)
from solver._proto.concerto.v1 import protocols_pb2
from solver.convert._common import (
    _ACTION_CHOICES,
    _ACTION_FROM_PROTO,
    _ACTION_TO_PROTO,
    _FUNCTION_CHOICES,
    _FUNCTION_FROM_PROTO,
    _FUNCTION_TO_PROTO,
    _SIGNAL_TYPE_CHOICES,
    _SIGNAL_TYPE_FROM_PROTO,
    _SIGNAL_TYPE_TO_PROTO,
    UNLIMITED,
    _enum_to_domain,
    _enum_to_proto,
    _floor,
    _limit,
)

E = TypeVar("E", OnReject, OnExpiry)


def protocols_to_domain(msg: protocols_pb2.ProtocolSet) -> ProtocolSet:
    """The protocol set a `ProtocolSet` message describes; raises `ValidationError` for an unset or
    unknown function, action kind or signal type. Whether the rules fit together (roles exist, limits
    below caps, ...) is `validate_protocols`'s to check."""
    return ProtocolSet(
        name=msg.name,
        roles=tuple(_role_to_domain(m) for m in msg.roles),
        authority_rules=tuple(_authority_rule_to_domain(m) for m in msg.authority_rules),
        signal_rules=tuple(_signal_rule_to_domain(m) for m in msg.signal_rules),
    )


def protocols_to_proto(protocols: ProtocolSet) -> protocols_pb2.ProtocolSet:
    """The `ProtocolSet` message of a protocol set; `protocols_to_domain` gives the same set back."""
    return protocols_pb2.ProtocolSet(
        name=protocols.name,
        roles=[_role_to_proto(x) for x in protocols.roles],
        authority_rules=[_authority_rule_to_proto(x) for x in protocols.authority_rules],
        signal_rules=[_signal_rule_to_proto(x) for x in protocols.signal_rules],
    )


def _role_to_domain(msg: protocols_pb2.Role) -> Role:
    return Role(id=msg.id, escalates_to=msg.escalates_to)


def _role_to_proto(role: Role) -> protocols_pb2.Role:
    return protocols_pb2.Role(id=role.id, escalates_to=role.escalates_to)


def _authority_rule_to_domain(msg: protocols_pb2.AuthorityRule) -> AuthorityRule:
    where = {"entity": "authority rule", "ident": msg.id}
    return AuthorityRule(
        id=msg.id,
        function=_enum_to_domain(
            _FUNCTION_FROM_PROTO, msg.function, _FUNCTION_CHOICES, field="function", kind="function", **where
        ),
        action=_enum_to_domain(
            _ACTION_FROM_PROTO, msg.action, _ACTION_CHOICES, field="action", kind="action kind", **where
        ),
        spend_limit=msg.spend_limit,
        hard_cap=msg.hard_cap,
        approver=Approver(
            role=msg.approver.role,
            joint=tuple(
                _enum_to_domain(
                    _FUNCTION_FROM_PROTO, f, _FUNCTION_CHOICES, field=f"approver.joint[{k}]", kind="function", **where
                )
                for k, f in enumerate(msg.approver.joint)
            ),
        ),
        escalation_delay_hours=msg.escalation_delay_hours,
        governance_cost=msg.governance_cost,
        standing=msg.standing,
        resources=tuple(msg.resources),
        items=tuple(msg.items),
        on_reject=_effect(_ON_REJECT_FROM_PROTO, msg.on_reject, OnReject.HOLD_TO_LIMIT, msg.id, "on_reject"),
        on_expiry=_effect(_ON_EXPIRY_FROM_PROTO, msg.on_expiry, OnExpiry.KEEP_WAITING, msg.id, "on_expiry"),
    )


def _authority_rule_to_proto(rule: AuthorityRule) -> protocols_pb2.AuthorityRule:
    where = {"entity": "authority rule", "ident": rule.id}
    return protocols_pb2.AuthorityRule(
        id=rule.id,
        function=_enum_to_proto(_FUNCTION_TO_PROTO, rule.function, field="function", kind="Function", **where),
        action=_enum_to_proto(_ACTION_TO_PROTO, rule.action, field="action", kind="ActionKind", **where),
        spend_limit=rule.spend_limit,
        hard_cap=rule.hard_cap,
        approver=protocols_pb2.Approver(
            role=rule.approver.role,
            joint=[
                _enum_to_proto(_FUNCTION_TO_PROTO, f, field=f"approver.joint[{k}]", kind="Function", **where)
                for k, f in enumerate(rule.approver.joint)
            ],
        ),
        escalation_delay_hours=rule.escalation_delay_hours,
        governance_cost=rule.governance_cost,
        standing=rule.standing,
        resources=list(rule.resources),
        items=list(rule.items),
        on_reject=_ON_REJECT_TO_PROTO[rule.on_reject],
        on_expiry=_ON_EXPIRY_TO_PROTO[rule.on_expiry],
    )


def _effect(table: dict[int, E], value: int, default: E, rule: str, field: str) -> E:
    """A rule's rejection or expiry effect: unspecified (0, what files written before these fields
    hold) is the default; a number this release does not know is a `ValidationError`."""
    if value == 0:
        return default
    if value not in table:
        names = ", ".join(e.value for e in table.values())
        raise ValidationError("authority rule", rule, field, f"is {value}, not a known value; use one of {names}")
    return table[value]


_ON_REJECT_TO_PROTO = {
    OnReject.HOLD_TO_LIMIT: protocols_pb2.REJECTION_EFFECT_HOLD_TO_LIMIT,
    OnReject.FORBID: protocols_pb2.REJECTION_EFFECT_FORBID,
}
_ON_REJECT_FROM_PROTO: dict[int, OnReject] = {v: k for k, v in _ON_REJECT_TO_PROTO.items()}
_ON_EXPIRY_TO_PROTO = {
    OnExpiry.KEEP_WAITING: protocols_pb2.EXPIRY_EFFECT_KEEP_WAITING,
    OnExpiry.WITHIN_AUTHORITY: protocols_pb2.EXPIRY_EFFECT_WITHIN_AUTHORITY,
}
_ON_EXPIRY_FROM_PROTO: dict[int, OnExpiry] = {v: k for k, v in _ON_EXPIRY_TO_PROTO.items()}


def _predicate_to_domain(msg: protocols_pb2.Predicate) -> Predicate:
    return Predicate(
        min_duration_hours=msg.min_duration_hours,
        max_duration_hours=msg.max_duration_hours if msg.HasField("max_duration_hours") else UNLIMITED,
        min_magnitude=msg.min_magnitude if msg.HasField("min_magnitude") else -UNLIMITED,
        max_magnitude=msg.max_magnitude if msg.HasField("max_magnitude") else UNLIMITED,
        supplier_tier=int(msg.supplier_tier),
        nodes=tuple(msg.nodes),
        items=tuple(msg.items),
    )


def _predicate_to_proto(predicate: Predicate) -> protocols_pb2.Predicate:
    return protocols_pb2.Predicate(
        min_duration_hours=predicate.min_duration_hours,
        max_duration_hours=_limit(predicate.max_duration_hours),
        min_magnitude=_floor(predicate.min_magnitude),
        max_magnitude=_limit(predicate.max_magnitude),
        supplier_tier=predicate.supplier_tier,
        nodes=list(predicate.nodes),
        items=list(predicate.items),
    )


def _signal_rule_to_domain(msg: protocols_pb2.SignalRule) -> SignalRule:
    return SignalRule(
        id=msg.id,
        signal_type=_enum_to_domain(
            _SIGNAL_TYPE_FROM_PROTO,
            msg.signal_type,
            _SIGNAL_TYPE_CHOICES,
            entity="signal rule",
            ident=msg.id,
            field="signal_type",
            kind="signal type",
        ),
        activates=tuple(msg.activates),
        predicate=_predicate_to_domain(msg.predicate),
    )


def _signal_rule_to_proto(rule: SignalRule) -> protocols_pb2.SignalRule:
    return protocols_pb2.SignalRule(
        id=rule.id,
        signal_type=_enum_to_proto(
            _SIGNAL_TYPE_TO_PROTO,
            rule.signal_type,
            entity="signal rule",
            ident=rule.id,
            field="signal_type",
            kind="SignalType",
        ),
        activates=list(rule.activates),
        predicate=_predicate_to_proto(rule.predicate),
    )
