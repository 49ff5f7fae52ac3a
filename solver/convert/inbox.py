"""The always-on messages, in pairs: published signals and how the ledger received them, a network's
settings, the response timeline, and the actuals of a period rolled forward."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from models.errors import ValidationError
from solver._proto.concerto.v1 import service_pb2
from solver.convert.service import (
    backend_from_proto,
    options_from_proto,
    options_to_proto,
    replan_options_from_proto,
    replan_options_to_proto,
    timestamp_from_proto,
    timestamp_to_proto,
)
from solver.convert.signals import signal_to_domain, signal_to_proto
from solver.records import NetworkSettings, PublishedSignal, ResponseTimeline, SignalChange, TimelineEntry
from solver.store import InboxRecord

DEFAULT_WINDOW_SECONDS = 1.0
"""How long the orchestrator waits after a signal for others to answer with it, when not set."""

_CHANGE_FROM_PROTO: dict[int, SignalChange] = {
    service_pb2.SIGNAL_CHANGE_UNSPECIFIED: SignalChange.NEW,
    service_pb2.SIGNAL_CHANGE_NEW: SignalChange.NEW,
    service_pb2.SIGNAL_CHANGE_UPDATE: SignalChange.UPDATE,
    service_pb2.SIGNAL_CHANGE_CANCEL: SignalChange.CANCEL,
}
_CHANGE_TO_PROTO: dict[SignalChange, service_pb2.SignalChange] = {
    SignalChange.NEW: service_pb2.SIGNAL_CHANGE_NEW,
    SignalChange.UPDATE: service_pb2.SIGNAL_CHANGE_UPDATE,
    SignalChange.CANCEL: service_pb2.SIGNAL_CHANGE_CANCEL,
}


def published_signal_from_proto(msg: service_pb2.PublishedSignal, where: str = "signals[0]") -> PublishedSignal:
    """A published signal; its source and id must be set, a cancellation carries no signal and the
    others one whose id is empty or "<source>:<source_id>" (it is given that id)."""
    ident = f"{msg.source}:{msg.source_id}"
    for name in ("source", "source_id"):
        if not getattr(msg, name):
            raise ValidationError("published signal", ident, f"{where}.{name}", "is empty; name the source and its id")
    if msg.change not in _CHANGE_FROM_PROTO:
        raise ValidationError("published signal", ident, f"{where}.change", f"is {msg.change}, not a known change")
    change = _CHANGE_FROM_PROTO[msg.change]
    signal = None
    if change == SignalChange.CANCEL:
        if msg.HasField("signal"):
            raise ValidationError(
                "published signal", ident, f"{where}.signal", "is set on a cancellation; send the id only"
            )
    else:
        if not msg.HasField("signal"):
            raise ValidationError("published signal", ident, f"{where}.signal", "is missing; send the disruption")
        if msg.signal.id not in ("", ident):
            raise ValidationError(
                "published signal",
                ident,
                f"{where}.signal.id",
                f"is {msg.signal.id!r}; leave it empty or give {ident!r}, the id plans answer it under",
            )
        body = service_pb2.PublishedSignal()
        body.CopyFrom(msg)
        body.signal.id = ident
        signal = signal_to_domain(body.signal)
    return PublishedSignal(
        source=msg.source,
        source_id=msg.source_id,
        change=change,
        signal=signal,
        detected_at=timestamp_from_proto(msg.detected_at) if msg.HasField("detected_at") else None,
    )


def published_signal_to_proto(published: PublishedSignal) -> service_pb2.PublishedSignal:
    return service_pb2.PublishedSignal(
        source=published.source,
        source_id=published.source_id,
        change=_CHANGE_TO_PROTO[published.change],
        signal=signal_to_proto(published.signal) if published.signal is not None else None,
        detected_at=timestamp_to_proto(published.detected_at) if published.detected_at is not None else None,
    )


def received_signals_to_proto(records: Sequence[InboxRecord]) -> service_pb2.PublishSignalsResponse:
    return service_pb2.PublishSignalsResponse(
        signals=[
            service_pb2.ReceivedSignal(
                source=r.source,
                source_id=r.source_id,
                revision=r.revision,
                duplicate=r.duplicate,
                seq=r.seq,
                received_at=timestamp_to_proto(r.received_at),
            )
            for r in records
        ]
    )


def settings_from_request(msg: service_pb2.SetNetworkSettingsRequest, *, default_time_limit: float) -> NetworkSettings:
    window = msg.window_seconds if msg.HasField("window_seconds") else DEFAULT_WINDOW_SECONDS
    if not math.isfinite(window) or window < 0:
        raise ValidationError("request", msg.network_id, "window_seconds", f"is {window}; give seconds >= 0")
    return NetworkSettings(
        automatic=msg.automatic,
        window_seconds=window,
        replan=replan_options_from_proto(msg.replan),
        options=options_from_proto(msg.options, default_time_limit=default_time_limit),
        backend=backend_from_proto(msg.options),
        first_answer=not msg.replan.skip_first_answer,
    )


def settings_to_request(network_id: str, settings: NetworkSettings) -> service_pb2.SetNetworkSettingsRequest:
    return service_pb2.SetNetworkSettingsRequest(
        network_id=network_id,
        automatic=settings.automatic,
        window_seconds=settings.window_seconds,
        replan=replan_options_to_proto(settings.replan, skip_first_answer=not settings.first_answer),
        options=options_to_proto(settings.options, backend=settings.backend),
    )


def settings_to_proto(
    network_id: str, settings: NetworkSettings, updated_at: datetime | None = None
) -> service_pb2.NetworkSettings:
    msg = service_pb2.NetworkSettings(
        network_id=network_id,
        automatic=settings.automatic,
        window_seconds=settings.window_seconds,
        replan=replan_options_to_proto(settings.replan, skip_first_answer=not settings.first_answer),
        options=options_to_proto(settings.options, backend=settings.backend),
    )
    if updated_at is not None:
        msg.updated_at.CopyFrom(timestamp_to_proto(updated_at))
    return msg


def settings_from_proto(msg: service_pb2.NetworkSettings) -> NetworkSettings:
    return NetworkSettings(
        automatic=msg.automatic,
        window_seconds=msg.window_seconds,
        replan=replan_options_from_proto(msg.replan),
        options=options_from_proto(msg.options, default_time_limit=math.inf),
        backend=backend_from_proto(msg.options),
        first_answer=not msg.replan.skip_first_answer,
    )


def timeline_to_proto(timeline: ResponseTimeline) -> service_pb2.ResponseTimeline:
    def ts(moment: datetime | None) -> Timestamp | None:
        return timestamp_to_proto(moment) if moment is not None else None

    entries = []
    for e in timeline.entries:
        seconds = e.response_seconds
        entries.append(
            service_pb2.TimelineEntry(
                source=e.source,
                source_id=e.source_id,
                revision=e.revision,
                change=_CHANGE_TO_PROTO[e.change],
                detected_at=ts(e.detected_at),
                received_at=ts(e.received_at),
                first_plan_at=ts(e.first_plan_at),
                first_plan_version=e.first_plan_version or 0,
                final_plan_at=ts(e.final_plan_at),
                final_plan_version=e.final_plan_version or 0,
                approvals_at=ts(e.approvals_at),
                executable_at=ts(e.executable_at),
                pending_escalations=e.pending_escalations,
                response_seconds=math.nan if seconds is None else seconds,
            )
        )
    return service_pb2.ResponseTimeline(
        network_id=timeline.network_id,
        entries=entries,
        median_seconds=timeline.median_seconds,
        worst_seconds=timeline.worst_seconds,
        answered=len(timeline.answered),
    )


def timeline_from_proto(msg: service_pb2.ResponseTimeline) -> ResponseTimeline:
    def when(m: service_pb2.TimelineEntry, name: str) -> datetime | None:
        return timestamp_from_proto(getattr(m, name)) if m.HasField(name) else None

    return ResponseTimeline(
        network_id=msg.network_id,
        entries=tuple(
            TimelineEntry(
                source=m.source,
                source_id=m.source_id,
                revision=int(m.revision),
                change=_CHANGE_FROM_PROTO[m.change],
                detected_at=when(m, "detected_at"),
                received_at=timestamp_from_proto(m.received_at),
                first_plan_at=when(m, "first_plan_at"),
                first_plan_version=int(m.first_plan_version) or None,
                final_plan_at=when(m, "final_plan_at"),
                final_plan_version=int(m.final_plan_version) or None,
                approvals_at=when(m, "approvals_at"),
                executable_at=when(m, "executable_at"),
                pending_escalations=int(m.pending_escalations),
            )
            for m in msg.entries
        ),
    )


def stock_counts_from_proto(msg: service_pb2.AdvancePeriodRequest) -> dict[tuple[str, str], float]:
    counted: dict[tuple[str, str], float] = {}
    for k, c in enumerate(msg.counted):
        key = (c.node, c.item)
        if key in counted:
            raise ValidationError(
                "stock count", f"{c.node}/{c.item}", f"counted[{k}]", "repeats a node and item; count each once"
            )
        if not math.isfinite(c.on_hand) or c.on_hand < 0:
            raise ValidationError(
                "stock count", f"{c.node}/{c.item}", f"counted[{k}].on_hand", "must be finite and >= 0"
            )
        counted[key] = c.on_hand
    return counted
