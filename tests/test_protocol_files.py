"""Protocol sets and signals survive protobuf and JSON unchanged, and a bad protocol file is rejected
on reading with an error naming the rule and field to fix."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from google.protobuf import json_format

from models.errors import ValidationError
from models.protocols import (
    OWNER,
    ActionKind,
    Approver,
    AuthorityRule,
    Function,
    Predicate,
    ProtocolSet,
    Role,
    SignalRule,
    validate_protocols,
)
from models.signals import Signal, SignalType
from solver._proto.concerto.v1 import protocols_pb2, signals_pb2
from solver.convert import (
    parse_protocols_json,
    parse_signals_json,
    protocols_json,
    protocols_to_domain,
    protocols_to_proto,
    read_protocols,
    read_signals,
    signal_to_domain,
    signal_to_proto,
    signals_json,
    write_protocols,
    write_signals,
)


def playbook() -> ProtocolSet:
    """The three protocols of the orchestration playbook plus a standing rule, with non-default values
    everywhere: a role chain, joint approvers (one shared by two rules), resource and item scopes,
    and predicates with finite and infinite bounds on each side."""
    return ProtocolSet(
        name="playbook",
        roles=(Role("procurement director", escalates_to="coo"), Role("coo")),
        authority_rules=(
            AuthorityRule(
                "backup-under-48h",
                Function.PROCUREMENT,
                ActionKind.BACKUP_ACTIVATION,
                spend_limit=100.0,
                hard_cap=1000.0,
                approver=Approver(role="procurement director"),
                escalation_delay_hours=48.0,
                governance_cost=30.0,
                resources=("backup",),
                items=("A",),
            ),
            AuthorityRule(
                "overtime-long-outage",
                Function.PRODUCTION,
                ActionKind.OVERTIME,
                spend_limit=200.0,
                hard_cap=2000.0,
                approver=Approver(joint=(Function.PRODUCTION, Function.FINANCE)),
                escalation_delay_hours=24.0,
                governance_cost=50.0,
            ),
            AuthorityRule(
                "capital-long-outage",
                Function.FINANCE,
                ActionKind.WORKING_CAPITAL_RELEASE,
                spend_limit=0.0,
                hard_cap=500.0,
                approver=Approver(joint=(Function.FINANCE, Function.PRODUCTION)),
                escalation_delay_hours=24.0,
            ),
            AuthorityRule(
                "lateral-surge",
                Function.INVENTORY,
                ActionKind.LATERAL_TRANSFER,
                spend_limit=40.0,
                hard_cap=40.0,
                approver=Approver(role="coo"),
            ),
            AuthorityRule(
                "freight-standing",
                Function.LOGISTICS,
                ActionKind.EXPEDITED_FREIGHT,
                spend_limit=10.0,
                hard_cap=60.0,
                approver=Approver(role="coo"),
                standing=True,
                resources=("L1", "L2"),
            ),
        ),
        signal_rules=(
            SignalRule(
                "outage-under-48h",
                SignalType.SUPPLIER_OUTAGE,
                ("backup-under-48h",),
                Predicate(max_duration_hours=48.0, max_magnitude=0.5, supplier_tier=1, nodes=("S1",), items=("A",)),
            ),
            SignalRule(
                "outage-from-48h",
                SignalType.SUPPLIER_OUTAGE,
                ("overtime-long-outage", "capital-long-outage"),
                Predicate(min_duration_hours=48.0),
            ),
            SignalRule("surge", SignalType.DEMAND_CHANGE, ("lateral-surge",), Predicate(min_magnitude=1.2)),
            SignalRule("any-lane", SignalType.LANE_DISRUPTION, ("freight-standing",)),
        ),
    )


def test_example_protocols_are_valid() -> None:
    validate_protocols(playbook())


def test_every_bad_rule_is_reported() -> None:
    """Two broken authority rules (a cap below the limit, an unknown approver role) and a role that
    escalates to a role that does not exist: all three are reported, in the order checked (roles
    first), each with its entity, id and field."""
    from dataclasses import replace

    good = playbook()
    first, second, *rest = good.authority_rules
    bad = replace(
        good,
        roles=(*good.roles, Role("buyer", escalates_to="nobody")),
        authority_rules=(
            replace(first, hard_cap=1.0),
            replace(second, approver=Approver(role="ghost")),
            *rest,
        ),
    )
    with pytest.raises(ValidationError) as err:
        validate_protocols(bad)
    assert [(v.entity, v.ident, v.field) for v in err.value.each()] == [
        ("role", "buyer", "escalates_to"),
        ("authority rule", first.id, "hard_cap"),
        ("authority rule", second.id, "approver.role"),
    ]


def test_protocols_proto_json_round_trip_is_exact() -> None:
    protocols = playbook()
    text = json_format.MessageToJson(protocols_to_proto(protocols))
    back = protocols_to_domain(json_format.Parse(text, protocols_pb2.ProtocolSet()))
    assert back == protocols
    assert parse_protocols_json(protocols_json(protocols)) == protocols


def test_infinite_predicate_bounds_travel_as_absent_optional_fields() -> None:
    msg = protocols_to_proto(playbook())
    under_48h, from_48h, surge, any_lane = (r.predicate for r in msg.signal_rules)
    assert under_48h.max_duration_hours == 48.0 and under_48h.max_magnitude == 0.5
    assert not under_48h.HasField("min_magnitude")
    assert not from_48h.HasField("max_duration_hours") and not from_48h.HasField("max_magnitude")
    assert surge.min_magnitude == 1.2 and not surge.HasField("max_magnitude")
    assert not any(any_lane.HasField(f) for f in ("max_duration_hours", "min_magnitude", "max_magnitude"))
    back = protocols_to_domain(msg).signal_rules
    assert back[1].predicate.max_duration_hours == math.inf
    assert back[2].predicate.max_magnitude == math.inf
    assert back[3].predicate == Predicate()
    assert back[3].predicate.min_magnitude == -math.inf
    # A finite bound of zero is present, not mistaken for "no bound".
    zero = Predicate(max_duration_hours=1.0, min_magnitude=0.0, max_magnitude=0.0)
    rule = SignalRule("zero", SignalType.CAPACITY_LOSS, ("r",), zero)
    assert (
        protocols_to_proto(ProtocolSet("z", signal_rules=(rule,))).signal_rules[0].predicate.HasField("min_magnitude")
    )
    assert protocols_to_domain(protocols_to_proto(ProtocolSet("z", signal_rules=(rule,)))).signal_rules == (rule,)


def test_joint_approvers_keep_their_functions_and_shared_key() -> None:
    rules = protocols_to_domain(protocols_to_proto(playbook())).authority_rules
    overtime, capital = rules[1].approver, rules[2].approver
    assert overtime.joint == (Function.PRODUCTION, Function.FINANCE)
    assert capital.joint == (Function.FINANCE, Function.PRODUCTION)
    assert overtime.key == capital.key  # one escalation covers both rules
    assert rules[0].approver == Approver(role="procurement director")


@pytest.mark.parametrize("action", list(ActionKind))
def test_every_action_kind_and_its_owner_have_a_proto_value(action: ActionKind) -> None:
    rule = AuthorityRule("r", OWNER[action], action, spend_limit=1.0, hard_cap=2.0, approver=Approver(role="boss"))
    protocols = ProtocolSet("one", roles=(Role("boss"),), authority_rules=(rule,))
    msg = protocols_to_proto(protocols)
    assert protocols_pb2.ActionKind.Name(msg.authority_rules[0].action) == f"ACTION_KIND_{action.name}"
    assert protocols_pb2.Function.Name(msg.authority_rules[0].function) == f"FUNCTION_{OWNER[action].name}"
    assert protocols_to_domain(msg) == protocols


def test_json_is_snake_case_with_enum_names() -> None:
    data = json.loads(protocols_json(playbook()))
    assert data["roles"][0] == {"id": "procurement director", "escalates_to": "coo"}
    rule = data["authority_rules"][1]
    assert rule["function"] == "FUNCTION_PRODUCTION" and rule["action"] == "ACTION_KIND_OVERTIME"
    assert rule["approver"] == {"joint": ["FUNCTION_PRODUCTION", "FUNCTION_FINANCE"]}
    assert data["signal_rules"][0]["signal_type"] == "SIGNAL_TYPE_SUPPLIER_OUTAGE"
    assert data["signal_rules"][2]["predicate"] == {"min_magnitude": 1.2}


def test_written_protocol_file_reads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "protocols.json"
    write_protocols(playbook(), path)
    assert read_protocols(path) == playbook()
    assert [p.name for p in tmp_path.iterdir()] == ["protocols.json"]


# -- protocol files as people write them -------------------------------------------------------

ROLES = '[{"id": "procurement director", "escalatesTo": "coo"}, {"id": "coo"}]'
RULE = """{
  "id": "backup",
  "function": "FUNCTION_PROCUREMENT",
  "action": "ACTION_KIND_BACKUP_ACTIVATION",
  "spendLimit": 100,
  "hardCap": 1000,
  "approver": {"role": "procurement director"},
  "escalationDelayHours": 48,
  "governanceCost": 30
}"""
SIGNAL_RULE = """{
  "id": "outage",
  "signalType": "SIGNAL_TYPE_SUPPLIER_OUTAGE",
  "activates": ["backup"],
  "predicate": {"maxDurationHours": 48}
}"""


def protocol_file(*, roles: str = ROLES, rule: str = RULE, signal_rule: str = SIGNAL_RULE) -> str:
    """The JSON text of a one-rule protocol set, camelCase as json_format writes it, with one part swapped."""
    return f"""{{
  "name": "playbook",
  "roles": {roles},
  "authorityRules": [{rule}],
  "signalRules": [{signal_rule}]
}}"""


def test_reads_a_camel_case_protocol_file() -> None:
    assert parse_protocols_json(protocol_file()) == ProtocolSet(
        name="playbook",
        roles=(Role("procurement director", escalates_to="coo"), Role("coo")),
        authority_rules=(
            AuthorityRule(
                "backup",
                Function.PROCUREMENT,
                ActionKind.BACKUP_ACTIVATION,
                spend_limit=100.0,
                hard_cap=1000.0,
                approver=Approver(role="procurement director"),
                escalation_delay_hours=48.0,
                governance_cost=30.0,
            ),
        ),
        signal_rules=(
            SignalRule("outage", SignalType.SUPPLIER_OUTAGE, ("backup",), Predicate(max_duration_hours=48.0)),
        ),
    )


BAD_FILES = [
    pytest.param(
        protocol_file(rule=RULE.replace('"function": "FUNCTION_PROCUREMENT",', "")),
        ("authority rule", "backup", "function"),
        "is unspecified; set one of procurement, production, logistics, inventory, sales, finance",
        id="unspecified-function",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('"FUNCTION_PROCUREMENT"', '"FUNCTION_UNSPECIFIED"')),
        ("authority rule", "backup", "function"),
        "is unspecified",
        id="explicitly-unspecified-function",
    ),
    pytest.param(
        # proto3 enums are open: a newer client may send an action kind this server does not know.
        protocol_file(rule=RULE.replace('"ACTION_KIND_BACKUP_ACTIVATION"', "42")),
        ("authority rule", "backup", "action"),
        "is 42, not a known action kind; set one of backup_activation, expedited_purchase",
        id="unknown-action-kind",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('"action": "ACTION_KIND_BACKUP_ACTIVATION",', "")),
        ("authority rule", "backup", "action"),
        "is unspecified; set one of backup_activation",
        id="unspecified-action-kind",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('"FUNCTION_PROCUREMENT"', '"FUNCTION_LOGISTICS"')),
        ("authority rule", "backup", "function"),
        "is logistics, but backup_activation belongs to procurement",
        id="action-owned-by-another-function",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('"spendLimit": 100', '"spendLimit": -5')),
        ("authority rule", "backup", "spend_limit"),
        "is -5.0; it must be >= 0",
        id="negative-limit",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('"hardCap": 1000', '"hardCap": 50')),
        ("authority rule", "backup", "hard_cap"),
        "is 50.0, below the spend limit 100.0",
        id="cap-below-limit",
    ),
    pytest.param(
        # hard_cap is a plain double: left out, it is 0, below any positive limit.
        protocol_file(rule=RULE.replace('"hardCap": 1000,', "")),
        ("authority rule", "backup", "hard_cap"),
        "is 0.0, below the spend limit 100.0",
        id="missing-cap",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('"hardCap": 1000', '"hardCap": "Infinity"')),
        ("authority rule", "backup", "hard_cap"),
        "must be finite",
        id="infinite-cap",
    ),
    pytest.param(
        protocol_file(signal_rule=SIGNAL_RULE.replace('"signalType": "SIGNAL_TYPE_SUPPLIER_OUTAGE",', "")),
        ("signal rule", "outage", "signal_type"),
        "is unspecified; set one of supplier_outage, demand_change, lane_disruption, capacity_loss, "
        "inventory_adjustment",
        id="unspecified-signal-type",
    ),
    pytest.param(
        protocol_file(signal_rule=SIGNAL_RULE.replace('"SIGNAL_TYPE_SUPPLIER_OUTAGE"', "17")),
        ("signal rule", "outage", "signal_type"),
        "is 17, not a known signal type",
        id="unknown-signal-type",
    ),
    pytest.param(
        protocol_file(signal_rule=SIGNAL_RULE.replace('["backup"]', '["backup", "backup-2"]')),
        ("signal rule", "outage", "activates[1]"),
        "refers to unknown authority rule 'backup-2'",
        id="activates-unknown-rule",
    ),
    pytest.param(
        protocol_file(
            roles='[{"id": "A", "escalatesTo": "B"}, {"id": "B", "escalatesTo": "A"}]',
            rule=RULE.replace('"procurement director"', '"A"'),
        ),
        ("role", "A", "escalates_to"),
        "approvers form a cycle: A -> B -> A",
        id="approver-cycle",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('{"role": "procurement director"}', '{"role": "cfo"}')),
        ("authority rule", "backup", "approver.role"),
        "refers to unknown role 'cfo'",
        id="unknown-approver-role",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('{"role": "procurement director"}', '{"joint": ["FUNCTION_PROCUREMENT"]}')),
        ("authority rule", "backup", "approver.joint"),
        "needs at least two different functions",
        id="joint-of-one-function",
    ),
    pytest.param(
        protocol_file(
            rule=RULE.replace(
                '{"role": "procurement director"}', '{"joint": ["FUNCTION_PROCUREMENT", "FUNCTION_PROCUREMENT"]}'
            )
        ),
        ("authority rule", "backup", "approver.joint"),
        "needs at least two different functions",
        id="joint-of-one-function-twice",
    ),
    pytest.param(
        protocol_file(rule=RULE.replace('{"role": "procurement director"}', '{"joint": ["FUNCTION_PROCUREMENT", 9]}')),
        ("authority rule", "backup", "approver.joint[1]"),
        "is 9, not a known function",
        id="joint-with-unknown-function",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), BAD_FILES)
def test_bad_protocol_file_names_the_rule_and_field(text: str, where: tuple[str, str, str], message: str) -> None:
    json.loads(text)  # each case is well-formed JSON: the error comes from the protocols, not the parser
    with pytest.raises(ValidationError) as err:
        parse_protocols_json(text, source="protocols.json")
    assert (err.value.entity, err.value.ident, err.value.field) == where
    assert message in err.value.message


def test_reading_a_file_validates_it(tmp_path: Path) -> None:
    path = tmp_path / "protocols.json"
    path.write_text(protocol_file(rule=RULE.replace('"hardCap": 1000', '"hardCap": 50')), encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        read_protocols(path)
    assert (err.value.entity, err.value.ident, err.value.field) == ("authority rule", "backup", "hard_cap")


def test_unknown_enum_name_is_a_json_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "protocols.json"
    path.write_text(protocol_file(rule=RULE.replace("ACTION_KIND_BACKUP_ACTIVATION", "ACTION_KIND_TELEPORT")))
    with pytest.raises(ValidationError) as err:
        read_protocols(path)
    assert (err.value.entity, err.value.ident, err.value.field) == ("protocol set", str(path), "json")
    assert "ACTION_KIND_TELEPORT" in err.value.message


def test_malformed_protocol_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "playbook", "roles": [', encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        read_protocols(path)
    assert (err.value.entity, err.value.ident, err.value.field) == ("protocol set", str(path), "json")
    assert "Failed to load JSON" in err.value.message


def test_unknown_field_names_the_source() -> None:
    with pytest.raises(ValidationError) as err:
        parse_protocols_json(protocol_file(rule=RULE.replace('"spendLimit"', '"spendLimt"')), source="request")
    assert (err.value.entity, err.value.ident, err.value.field) == ("protocol set", "request", "json")
    assert "spendLimt" in err.value.message


# -- signals -----------------------------------------------------------------------------------


def disruptions() -> list[Signal]:
    """One signal of each type, non-default values everywhere, two of them open-ended."""
    return [
        Signal(
            "S1-down",
            SignalType.SUPPLIER_OUTAGE,
            detected_hours=2.0,
            start_hours=6.0,
            duration_hours=36.0,
            magnitude=0.0,
            supplier="S1",
            item="A",
        ),
        Signal("surge", SignalType.DEMAND_CHANGE, detected_hours=20.0, start_hours=24.0, magnitude=1.3, customer="C"),
        Signal("strike", SignalType.LANE_DISRUPTION, duration_hours=72.0, magnitude=0.25, lane="L1"),
        Signal("fire", SignalType.CAPACITY_LOSS, start_hours=48.0, magnitude=0.5, node="P"),
        Signal(
            "hold",
            SignalType.INVENTORY_ADJUSTMENT,
            start_hours=12.0,
            duration_hours=1.0,
            magnitude=-40.0,
            node="DC",
            item="A",
        ),
    ]


def test_signals_proto_json_round_trip_is_exact() -> None:
    signals = disruptions()
    batch = signals_pb2.SignalBatch(signals=[signal_to_proto(s) for s in signals])
    back = json_format.Parse(json_format.MessageToJson(batch), signals_pb2.SignalBatch())
    assert [signal_to_domain(m) for m in back.signals] == signals
    assert parse_signals_json(signals_json(signals)) == signals


def test_open_ended_signal_travels_without_a_duration() -> None:
    surge, strike = signal_to_proto(disruptions()[1]), signal_to_proto(disruptions()[2])
    assert not surge.HasField("duration_hours")
    assert strike.duration_hours == 72.0
    assert signal_to_domain(surge).duration_hours == math.inf
    assert "duration_hours" not in json.loads(signals_json(disruptions()[1:2]))["signals"][0]


@pytest.mark.parametrize("kind", list(SignalType))
def test_every_signal_type_has_a_proto_value(kind: SignalType) -> None:
    msg = signal_to_proto(Signal("s", kind))
    assert signals_pb2.SignalType.Name(msg.type) == f"SIGNAL_TYPE_{kind.name}"
    assert signal_to_domain(msg) == Signal("s", kind)


def test_reads_a_camel_case_signals_file() -> None:
    text = """{"signals": [
      {"id": "S1-down", "type": "SIGNAL_TYPE_SUPPLIER_OUTAGE", "detectedHours": 2, "startHours": 6,
       "durationHours": 36, "supplier": "S1", "item": "A"},
      {"id": "surge", "type": "SIGNAL_TYPE_DEMAND_CHANGE", "detectedHours": 20, "startHours": 24,
       "magnitude": 1.3, "customer": "C"}
    ]}"""
    assert parse_signals_json(text) == disruptions()[:2]


def test_written_signals_file_reads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "signals.json"
    write_signals(disruptions(), path)
    assert read_signals(path) == disruptions()
    write_signals([], path)
    assert read_signals(path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["signals.json"]


def test_unspecified_signal_type_names_the_signal() -> None:
    with pytest.raises(ValidationError) as err:
        parse_signals_json('{"signals": [{"id": "S1-down", "supplier": "S1"}]}')
    assert (err.value.entity, err.value.ident, err.value.field) == ("signal", "S1-down", "type")
    assert err.value.message.startswith("is unspecified; set one of supplier_outage")


def test_malformed_signals_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "signals.json"
    path.write_text('{"signals": [{"id": "x", "magnitude": "big"}]}', encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        read_signals(path)
    assert (err.value.entity, err.value.ident, err.value.field) == ("signal batch", str(path), "json")
