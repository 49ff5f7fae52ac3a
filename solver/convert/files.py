"""Networks, protocol sets, signals and plans as protobuf JSON text and files (written atomically)."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.message import Message

from models.errors import ValidationError
from models.network import (
    NetworkSpec,
)
from models.plan import Plan
from models.protocols import (
    ProtocolSet,
    validate_protocols,
)
from models.signals import Signal
from solver._proto.concerto.v1 import network_pb2, protocols_pb2, service_pb2, signals_pb2
from solver.convert._common import (
    MessageT,
)
from solver.convert.inbox import published_signal_from_proto
from solver.convert.network import network_to_spec, spec_to_network
from solver.convert.plan import plan_to_proto
from solver.convert.protocols import protocols_to_domain, protocols_to_proto
from solver.convert.signals import signal_to_domain, signal_to_proto
from solver.records import PublishedSignal, SignalChange


def parse_network_json(text: str, *, source: str = "<json>") -> NetworkSpec:
    """The spec of a network written as protobuf JSON (lowerCamelCase or snake_case field names).

    Malformed JSON, an unknown field or a value of the wrong type raises `ValidationError` on
    entity "network", id `source` (a file path or another name for where the text came from),
    field "json", with the parser's message.
    """
    return network_to_spec(_parse_json(text, network_pb2.Network(), entity="network", source=source))


def network_json(spec: NetworkSpec) -> str:
    """A spec as protobuf JSON with snake_case field names, indented; fields at their zero value are left out."""
    return _to_json(spec_to_network(spec))


def parse_protocols_json(text: str, *, source: str = "<json>") -> ProtocolSet:
    """The protocol set written as protobuf JSON (lowerCamelCase or snake_case field names), validated.

    Malformed JSON, an unknown field or a value of the wrong type raises `ValidationError` on entity
    "protocol set", id `source`, field "json"; an unset or unknown enum value, or rules that cannot be
    applied (`validate_protocols`), raise it naming the rule and field.
    """
    protocols = protocols_to_domain(
        _parse_json(text, protocols_pb2.ProtocolSet(), entity="protocol set", source=source)
    )
    validate_protocols(protocols)
    return protocols


def protocols_json(protocols: ProtocolSet) -> str:
    """A protocol set as protobuf JSON with snake_case field names, indented; zero values left out."""
    return _to_json(protocols_to_proto(protocols))


def parse_signals_json(text: str, *, source: str = "<json>") -> list[Signal]:
    """The signals of a `SignalBatch` written as protobuf JSON (lowerCamelCase or snake_case field names).

    Malformed JSON raises `ValidationError` on entity "signal batch", id `source`, field "json"; an
    unset or unknown type names the signal. Checking signals against a network is
    `models.signals.validate_signal`'s job.
    """
    batch = _parse_json(text, signals_pb2.SignalBatch(), entity="signal batch", source=source)
    return [signal_to_domain(m) for m in batch.signals]


def signals_json(signals: Iterable[Signal]) -> str:
    """Signals as the protobuf JSON of a `SignalBatch`, snake_case, indented; zero values left out."""
    return _to_json(signals_pb2.SignalBatch(signals=[signal_to_proto(s) for s in signals]))


def plan_json(plan: Plan) -> str:
    """A plan as the protobuf JSON of its `PlanResult` (snake_case, indented): the format the service
    speaks, with every table as a list of records (an empty table as []), the decisions, authority
    spend, metrics and solve statistics. Values JSON cannot hold (NaN, infinity) are the strings
    protobuf JSON uses ("NaN", "Infinity"), so the text is always valid JSON."""
    return json_format.MessageToJson(
        plan_to_proto(plan),
        preserving_proto_field_name=True,
        indent=2,
        ensure_ascii=False,
        always_print_fields_with_no_presence=True,
    )


def write_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write `plan_json(plan)`; a reader sees the old file or the whole new one."""
    _write_text(path, plan_json(plan) + "\n")


def _parse_json(text: str, msg: MessageT, *, entity: str, source: str) -> MessageT:
    try:
        json_format.Parse(text, msg)
    except json_format.ParseError as exc:
        raise ValidationError(entity, source, "json", str(exc).strip()) from exc
    return msg


def _to_json(msg: Message) -> str:
    return json_format.MessageToJson(msg, preserving_proto_field_name=True, indent=2, ensure_ascii=False)


# -- files -------------------------------------------------------------------------------------


def read_network(path: str | os.PathLike[str]) -> NetworkSpec:
    """The spec in a protobuf JSON file; raises `ValidationError` (id = the path) if it cannot be parsed."""
    return parse_network_json(_read_text(path, entity="network"), source=os.fspath(path))


def write_network(spec: NetworkSpec, path: str | os.PathLike[str]) -> None:
    """Write a spec as protobuf JSON; a reader sees the old file or the whole new one, never a part."""
    _write_text(path, network_json(spec) + "\n")


def read_protocols(path: str | os.PathLike[str]) -> ProtocolSet:
    """The protocol set in a protobuf JSON file, validated with `validate_protocols`, so a bad file is
    rejected on reading; raises `ValidationError` (id = the path, or the rule at fault)."""
    return parse_protocols_json(_read_text(path, entity="protocol set"), source=os.fspath(path))


def write_protocols(protocols: ProtocolSet, path: str | os.PathLike[str]) -> None:
    """Write a protocol set as protobuf JSON; a reader sees the old file or the whole new one."""
    _write_text(path, protocols_json(protocols) + "\n")


def read_signals(path: str | os.PathLike[str]) -> list[Signal]:
    """The signals in a protobuf JSON `SignalBatch` file; raises `ValidationError` (id = the path, or the
    signal at fault) if it cannot be parsed."""
    return parse_signals_json(_read_text(path, entity="signal batch"), source=os.fspath(path))


def write_signals(signals: Iterable[Signal], path: str | os.PathLike[str]) -> None:
    """Write signals as a protobuf JSON `SignalBatch`; a reader sees the old file or the whole new one."""
    _write_text(path, signals_json(signals) + "\n")


def _read_text(path: str | os.PathLike[str], *, entity: str) -> str:
    """The text of an input file; a path that is missing, a folder or unreadable raises a
    `ValidationError` naming it and what to give instead."""
    where = os.fspath(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(entity, where, "json", f"is not UTF-8 text: {exc}") from exc
    except FileNotFoundError:
        raise ValidationError(entity, where, "path", f"does not exist; give the path of a {entity} file") from None
    except IsADirectoryError:
        raise ValidationError(entity, where, "path", f"is a folder; give the path of a {entity} file") from None
    except OSError as exc:
        message = f"cannot be read ({exc.strerror}); check the permissions"
        raise ValidationError(entity, where, "path", message) from None


def _write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace the file at once: write a temporary file in the same folder, then rename it over the target."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a network file is ordinary data
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)


def read_published_signals(path: Path, *, source: str | None, change: SignalChange) -> list[PublishedSignal]:
    """The signals of FILE as the inbox takes them. FILE is the protobuf JSON of a
    `PublishSignalsRequest` (its `signals`, each with its source and source id; `source` fills the
    ones without) or of a `SignalBatch`, published under `source` with each signal's id as its
    source id (as `change`). A file that is neither, or a batch without `source`, is a
    `ValidationError` naming the path or the flag."""
    where = os.fspath(path)
    text = _read_text(path, entity="signal file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError("signal file", where, "json", f"is not JSON: {exc}") from None
    entries = doc.get("signals") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValidationError(
            "signal file", where, "signals", "is missing or empty; give a SignalBatch or PublishSignalsRequest"
        )
    if any(isinstance(e, dict) and ({"source", "source_id", "sourceId"} & set(e)) for e in entries):
        request = service_pb2.PublishSignalsRequest()
        try:
            json_format.ParseDict(doc, request)
        except json_format.ParseError as exc:
            raise ValidationError("signal file", where, "json", str(exc).strip()) from exc
        published = []
        for k, msg in enumerate(request.signals):
            if not msg.source and source:
                msg.source = source
            published.append(published_signal_from_proto(msg, f"signals[{k}]"))
        return published
    if not source:
        raise ValidationError(
            "signal file", where, "--source", "is needed for a SignalBatch file: name the system that detected them"
        )
    batch = _parse_json(text, signals_pb2.SignalBatch(), entity="signal file", source=where)
    published = []
    for k, entry in enumerate(batch.signals):
        if not entry.id:
            raise ValidationError("signal file", where, f"signals[{k}].id", "is empty; the id is the source id")
        detected = signal_to_domain(entry)
        published.append(
            PublishedSignal(
                source=source,
                source_id=detected.id,
                change=change,
                signal=dataclasses.replace(detected, id=f"{source}:{detected.id}"),
                detected_at=datetime.now(UTC),
            )
        )
    return published
