"""The `concerto` command line: serve, solve a file locally, plan and replan against a running
server, validate, export a model, and the bundled demo.

Exit status: 0 with a plan; 1 without one (infeasible, nothing found in the time limit, or Ctrl-C
before the first plan); 2 on invalid input (one line naming the entity and field, or the path and
what to fix, checked before anything is solved); 3 on an RPC error (its status code is printed).
A closed pipe (`concerto export FILE | head`) ends quietly with 141 (128 + SIGPIPE), a Ctrl-C
outside a solve with 130.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import grpc
import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.errors import ConcertoError, ValidationError
from models.network import Network
from models.plan import Plan
from models.replanning import ReplanOptions
from models.solution import Solution
from solver.backends.base import BackendFeature, MipProgress, SolverBackend, WrappedBackend
from solver.backends.highs import HIGHS_VERSION
from solver.backends.registry import DEFAULT_BACKEND
from solver.convert import read_network, read_protocols, read_signals, write_plan
from solver.convert.files import read_published_signals
from solver.demo import decision_record_line, run_demo, signal_line, timeline_lines
from solver.errors import SOLVE_STATUS_METADATA
from solver.limits import RequestLimits
from solver.options import AUTO, DEFAULT_MIP_REL_GAP, DEFAULT_TIME_LIMIT, METHODS, SolveOptions
from solver.planner import compile_model, plan_network
from solver.progress import ShowProgress, TerminalProgress, stream_progress
from solver.records import DecisionState, NetworkSettings, SignalChange, StoredPlan

if TYPE_CHECKING:
    from solver.client import ConcertoClient

REPLAN_DEFAULTS = ReplanOptions()
EXIT_PLAN, EXIT_NO_PLAN, EXIT_INVALID, EXIT_RPC = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
EXIT_INTERRUPTED = 128 + signal.SIGINT


def _options(args: argparse.Namespace) -> SolveOptions:
    return SolveOptions(
        time_limit=args.time_limit,
        mip_rel_gap=args.gap,
        threads=args.threads,
        seed=args.seed,
        verbose=args.verbose,
        method=args.method,
    )


class _ShowDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """`--help` shows each option's default, except where there is none (unset paths, flags) or
    where it is a secret (a token from the environment)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.dest == "token":
            return action.help
        return super()._get_help_string(action)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        mine = version("concerto")
    except PackageNotFoundError:  # run from a checkout that was never installed
        mine = "unknown"
    return f"concerto {mine} (HiGHS {HIGHS_VERSION or 'not installed'})"


DEFAULT_SERVER = "127.0.0.1:50051"
SERVER_ENV = "CONCERTO_SERVER"
CLIENT_ENV = {
    "tls_ca": "CONCERTO_TLS_CA",
    "tls_cert": "CONCERTO_TLS_CERT",
    "tls_key": "CONCERTO_TLS_KEY",
    "token": "CONCERTO_TOKEN",
}
"""The environment variable each client setting defaults from (`add_server_flags`)."""


def _env(name: str) -> str | None:
    """An environment variable's value; unset and empty are both None."""
    return os.environ.get(name) or None


def _flag(setting: str) -> str:
    """A client setting's flag: tls_ca -> --tls-ca."""
    return "--" + setting.replace("_", "-")


def add_server_flags(p: argparse.ArgumentParser, *, default_server: str | None) -> None:
    """The flags of every command that talks to a server: where it is (`--server`, from
    $CONCERTO_SERVER when the command has a default server) and how to talk to it (TLS, mutual TLS,
    a bearer token), each defaulting from its environment variable (`CLIENT_ENV`)."""
    group = p.add_argument_group(
        "server", "the server to talk to, and how (a flag naming a $VARIABLE defaults from it)"
    )
    if default_server is None:
        group.add_argument(
            "--server", metavar="ADDR", help="ask a running server (host:port) instead of this installation"
        )
    else:
        group.add_argument(
            "--server",
            metavar="ADDR",
            default=_env(SERVER_ENV) or default_server,
            help=f"host:port of a running server (${SERVER_ENV})",
        )
    group.add_argument(
        "--tls-ca",
        type=Path,
        metavar="PEM",
        default=_env(CLIENT_ENV["tls_ca"]),
        help=f"speak TLS, trusting the server's certificate if this CA signed it (${CLIENT_ENV['tls_ca']})",
    )
    group.add_argument(
        "--tls-cert",
        type=Path,
        metavar="PEM",
        default=_env(CLIENT_ENV["tls_cert"]),
        help=f"this client's certificate, for mutual TLS; TLS with the system's roots without --tls-ca "
        f"(${CLIENT_ENV['tls_cert']})",
    )
    group.add_argument(
        "--tls-key",
        type=Path,
        metavar="PEM",
        default=_env(CLIENT_ENV["tls_key"]),
        help=f"the private key of --tls-cert (${CLIENT_ENV['tls_key']})",
    )
    group.add_argument(
        "--token",
        default=_env(CLIENT_ENV["token"]),
        help=f"bearer token sent on every call (${CLIENT_ENV['token']}; the variable keeps it out of the process list)",
    )
    group.add_argument(
        "--tls-server-name", metavar="NAME", help="the name the server's certificate must carry, if not the host"
    )


def _connect(args: argparse.Namespace) -> ConcertoClient:
    """A client of `args.server` with the flags of `add_server_flags`; a missing or bad file is a
    `ValidationError` naming its flag (exit 2), before anything is sent."""
    from solver.client import ClientCredentials, ConcertoClient

    credentials = ClientCredentials(
        tls_ca=args.tls_ca,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        token=args.token,
        tls_server_name=args.tls_server_name,
    )
    credentials.channel_credentials(args.server, setting=_flag)
    return ConcertoClient.connect(args.server, credentials)


def _check_output(path: Path | None) -> None:
    """Refuse an output path that cannot be written, before anything is solved."""
    if path is None:
        return
    where = os.fspath(path)
    if path.is_dir():
        raise ValidationError("output", where, "path", "is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise ValidationError("output", where, "path", f"is in {os.fspath(folder)!r}, which does not exist; create it")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValidationError("output", where, "path", "cannot be written; check the permissions")


class StopOnCtrlC(WrappedBackend):
    """A backend whose solves stop at the first Ctrl-C with the best plan found so far: while a solve
    runs, SIGINT sets a flag that the backend's interrupt polls (HiGHS then ends with its incumbent)
    instead of raising KeyboardInterrupt inside a solver callback, which would lose it. A backend
    without INTERRUPT keeps Python's default (KeyboardInterrupt)."""

    def __init__(self, inner: SolverBackend) -> None:
        super().__init__(inner)
        self.interrupted = threading.Event()

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
    ) -> Solution:
        def stop() -> bool:
            return self.interrupted.is_set() or (interrupt is not None and interrupt())

        with self._catching_sigint():
            return self._inner.solve(lp, options, progress=progress, interrupt=stop, start=start)

    @contextlib.contextmanager
    def _catching_sigint(self) -> Iterator[None]:
        if BackendFeature.INTERRUPT not in self.features or threading.current_thread() is not threading.main_thread():
            yield  # nothing would poll the flag, or signal handlers are not ours to set (another thread)
            return

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            self.interrupted.set()

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _write_json(plan: Plan, path: Path | None) -> None:
    if path is not None:
        write_plan(plan, path)
        print(f"plan written to {path} (protobuf JSON of concerto.v1.PlanResult)")


def _cmd_solve(args: argparse.Namespace) -> int:
    from solver.backends.registry import backend_by_name, check_options

    spec = read_network(args.file)
    protocols = read_protocols(args.protocols) if args.protocols else None
    signals = read_signals(args.signals) if args.signals else []
    options = _options(args)
    inner = backend_by_name(args.backend)
    check_options(inner, options)
    backend = StopOnCtrlC(ShowProgress(inner, TerminalProgress()))
    plan = plan_network(spec, options, protocols=protocols, signals=signals, backend=backend)
    print(plan.summary())
    if backend.interrupted.is_set():
        what = "the best plan found so far is above" if plan.has_solution else "no plan had been found"
        print(f"status interrupted: Ctrl-C stopped the solve; {what}")
    _write_json(plan, args.json)
    return EXIT_PLAN if plan.has_solution else EXIT_NO_PLAN


def _cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(_options(args), workers=args.workers)


def _cmd_validate(args: argparse.Namespace) -> int:
    net = Network.from_spec(read_network(args.file))
    if args.protocols:
        from models.protocols import validate_against_network, validate_protocols

        protocols = read_protocols(args.protocols)
        validate_protocols(protocols)
        validate_against_network(protocols, net)
    if args.signals:
        from models.signals import apply_signals

        apply_signals(net, read_signals(args.signals))
    print(
        f"network {net.spec.name!r} is valid: {net.n_items} items, {net.n_nodes} nodes, {net.n_offers} offers, "
        f"{net.n_recipes} recipes, {net.n_lanes} lanes, {net.n_demands} demand streams, {net.horizon} periods"
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from solver.export import export_model

    protocols = read_protocols(args.protocols) if args.protocols else None
    signals = read_signals(args.signals) if args.signals else []
    lp = compile_model(read_network(args.file), protocols, signals).lp
    text = export_model(lp, args.format)
    if args.out:
        args.out.write_text(text)
        print(f"{args.format.upper()} model written to {args.out} ({lp.n_cols} columns, {lp.n_rows} rows)")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from solver.explain import diagnose

    protocols = read_protocols(args.protocols) if args.protocols else None
    signals = read_signals(args.signals) if args.signals else []
    result = diagnose(read_network(args.file), protocols, signals)
    print(f"diagnosis: {result.status.value}" + (f": {result.message}" if result.message else ""))
    for relaxation in result.relaxations:
        print(f"  {relaxation.message}")
    if result.conflict_message:
        print(f"  {result.conflict_message}")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from solver.explain import explain

    protocols = read_protocols(args.protocols) if args.protocols else None
    signals = read_signals(args.signals) if args.signals else []
    result = explain(read_network(args.file), protocols, signals, options=_options(args))
    print(f"plan {result.status.value}, objective {result.objective:,.2f}; binding limits and their shadow prices:")
    for price in sorted(result.binding, key=lambda p: -abs(p.saving_per_unit))[: args.top]:
        period = f" period {price.period}" if price.period >= 0 else ""
        print(
            f"  {price.family} {price.resource}{period}: one more unit saves {price.saving_per_unit:,.4g} "
            f"(valid up to {price.valid_up_to:,.4g})"
        )
    for value in result.authority:
        print(f"  {value.message}")
    return 0


def _cmd_backends(args: argparse.Namespace) -> int:
    """The solver backends of this installation, or of a running server with `--server`."""
    if args.server:
        with _connect(args) as client:
            backends = client.list_backends()
    else:
        from solver.backends.registry import describe_backends

        backends = describe_backends()
    rows = [(b.name, b.available, b.version, [f.value for f in b.features], b.is_default) for b in backends]
    width = max(len(name) for name, *_ in rows)
    for name, available, version, features, is_default in rows:
        state = f"available {version}".strip() if available else "not installed"
        marker = " (default)" if is_default else ""
        print(f"{name:<{width}}  {state}{marker}\n{'':<{width}}  {', '.join(features)}")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    """A new random bearer token, and the entry of a principals file that names it by its hash."""
    import json
    import secrets

    from solver.auth import token_hash

    token = secrets.token_urlsafe(32)
    entry = {"sha256": token_hash(token)} | ({"label": args.label} if args.label else {})
    print(f"token (give it to its holder, store it nowhere else): {token}")
    print(f'principals file entry (under "tokens"): {json.dumps(entry)}')
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from solver.server import ServerConfig, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    limits = RequestLimits(**{f.name: getattr(args, "max_" + f.name) for f in dataclasses.fields(RequestLimits)})
    config = ServerConfig(
        store=args.store,
        workers=args.workers,
        queue_size=args.queue,
        default_time_limit=args.time_limit,
        limits=limits,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        client_ca=args.client_ca,
        principals=args.principals,
        reflection=args.reflection,
        insecure=args.insecure,
        grace_seconds=args.grace,
        replica=args.replica,
        orchestrator=not args.no_orchestrator,
    )
    serve(args.address, config, on_ready=lambda port: print(f"concerto serving on port {port}", flush=True))
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    with _connect(args) as client:
        if args.file:
            protocols = read_protocols(args.protocols) if args.protocols else None
            version = client.put_network(args.network_id, read_network(args.file), protocols)
            print(f"network {args.network_id!r} stored as version {version}")
        stored = client.plan(
            args.network_id, options=_options(args), backend=args.backend, idempotency_key=args.idempotency_key
        )
        print(f"plan version {stored.version} of network {args.network_id!r}")
        print(stored.plan.summary())
        _write_json(stored.plan, args.json)
        return EXIT_PLAN


def _cmd_replan(args: argparse.Namespace) -> int:
    replan_options = ReplanOptions(
        stability_weight=args.stability_weight,
        fence_periods=args.fence_periods,
        fence_penalty=args.fence_penalty,
        upstream_hops=args.upstream_hops,
        recovery_periods=args.recovery_periods,
        first_answer_gap=args.first_answer_gap,
    )

    def on_first(plan: Plan) -> None:
        print(f"first coordinated plan (from the signals' reach): objective {plan.objective:,.2f}")

    with _connect(args) as client:
        stored = client.replan_stream(
            args.network_id,
            read_signals(args.signals),
            baseline_version=args.baseline,
            options=_options(args),
            idempotency_key=args.idempotency_key,
            on_progress=stream_progress(),
            on_first=on_first,
            settings=replan_options,
            first_answer=not args.no_first_answer,
            backend=args.backend,
        )
        print(f"plan version {stored.version} of network {args.network_id!r} (baseline {stored.baseline_version})")
        print(stored.plan.summary())
        if stored.replan is not None:
            info = stored.replan
            print(
                f"  replan: {info.kind}; cost - revenue without stability terms {info.business_objective:,.2f}; "
                f"{info.changed} of {info.total} decisions changed; ready after {info.ready_seconds:.2f} s "
                f"(first plan {info.first_plan_seconds:.2f} s); "
                f"executable {info.execute_after_hours:g} h after detection"
            )
            for cut in info.fence_cuts:
                print(
                    f"  fence cut: {cut.block} {cut.resource} period {cut.period}: "
                    f"{cut.baseline:g} -> {cut.replanned:g} ({cut.reason})"
                )
        _write_json(stored.plan, args.json)
        return EXIT_PLAN


# -- always on: the inbox, decisions, plan versions, settings, rolling forward, the live view ------

DECISION_STATES = tuple(s.value for s in DecisionState)
CHANGES = tuple(c.value for c in SignalChange if c != SignalChange.CANCEL)


def _cmd_signals_publish(args: argparse.Namespace) -> int:
    published = read_published_signals(args.file, source=args.source, change=SignalChange(args.change))
    with _connect(args) as client:
        received = client.publish(args.network_id, published)
    for r in received:
        how = "a resend: already received, nothing stored" if r.duplicate else "stored"
        print(f"signal {r.source}:{r.source_id}: revision {r.revision}, {how} (inbox seq {r.seq})")
    fresh = sum(1 for r in received if not r.duplicate)
    print(f"{fresh} of {len(received)} signals new to network {args.network_id!r}'s inbox")
    return EXIT_PLAN


def _cmd_decisions_list(args: argparse.Namespace) -> int:
    state = DecisionState(args.state) if args.state else None
    with _connect(args) as client:
        records = client.decisions(args.network_id, args.version, state)
    version = records[0].plan_version if records else args.version
    which = f"plan version {version}" if version else "the latest plan version"
    print(f"{len(records)} decisions of {which} of network {args.network_id!r}" + (f" ({args.state})" if state else ""))
    for record in records:
        print(decision_record_line(record))
    return EXIT_PLAN


def _cmd_decide(args: argparse.Namespace) -> int:
    with _connect(args) as client:
        decide = client.approve if args.approve else client.reject
        record = decide(args.network_id, args.version, args.index, by=args.by, note=args.note)
        print(f"decision {record.index} of plan version {record.plan_version}: {record.state.value}")
        print(decision_record_line(record))
        if record.escalation:
            together = [r for r in client.decisions(args.network_id, args.version) if r.escalation == record.escalation]
            states = ", ".join(f"{r.index} {r.state.value}" for r in together)
            print(f"escalation {record.escalation}: {states}")
    return EXIT_PLAN


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "-"


def _cmd_plans_list(args: argparse.Namespace) -> int:
    with _connect(args) as client:
        plans = client.list_plans(args.network_id)
    print(f"{len(plans)} plan versions of network {args.network_id!r}")
    for p in plans:
        signals = ", ".join(p.signals) or "none"
        print(
            f"  v{p.version:<3} {_when(p.created_at)}  network v{p.network_version}, baseline v{p.baseline_version}: "
            f"{p.status.value}, objective {p.objective:,.2f}, {p.decisions} decisions, {p.needs_approval} need "
            f"approval; signals {signals}"
        )
    return EXIT_PLAN


def _plan_heading(stored: StoredPlan) -> str:
    trigger = stored.trigger or ("replan call" if stored.baseline_version else "plan call")
    return (
        f"plan version {stored.version} of network {stored.network_id!r} (network v{stored.network_version}, "
        f"baseline v{stored.baseline_version}, trigger {trigger}, stored {_when(stored.created_at)})"
    )


def _cmd_plans_show(args: argparse.Namespace) -> int:
    with _connect(args) as client:
        stored = client.get_plan(args.network_id, args.version)
    print(_plan_heading(stored))
    print(f"answers {len(stored.signals)} signals" + (":" if stored.signals else ""))
    for s in stored.signals:
        print(f"  {signal_line(s)}")
    print(stored.plan.summary())
    _write_json(stored.plan, args.json)
    return EXIT_PLAN


def _cmd_plans_diff(args: argparse.Namespace) -> int:
    with _connect(args) as client:
        diff = client.diff(args.network_id, args.from_version, args.to_version)
    print(
        f"plan changes v{args.from_version} -> v{args.to_version} of network {args.network_id!r}: {diff.changed} of "
        f"{diff.total} decisions changed (nervousness {diff.nervousness:.1%}); objective "
        f"{diff.objective_before:,.2f} -> {diff.objective_after:,.2f}"
    )
    for component, change in sorted(diff.cost_change_by_component.items()):
        if change:
            print(f"  {component:<12} {change:+,.2f}")
    for c in diff.changes[: args.top]:
        print(f"  {c.function.value:<12} {c.kind:<10} {c.key}: {c.before:,.2f} -> {c.after:,.2f}")
    if len(diff.changes) > args.top:
        print(f"  ... and {len(diff.changes) - args.top} more (--top)")
    return EXIT_PLAN


def _settings_lines(network_id: str, settings: NetworkSettings) -> list[str]:
    mode = "automatic" if settings.automatic else "manual"
    replan = settings.replan
    return [
        f"network {network_id!r}: {mode}, coalescing window {settings.window_seconds:g} s",
        f"  automatic replans: stability weight {replan.stability_weight:g}, first coordinated plan "
        f"{'stored' if settings.first_answer else 'skipped'}, time limit {settings.options.time_limit:g} s, "
        f"gap {settings.options.mip_rel_gap:g}, backend {settings.backend}",
    ]


def _cmd_network_settings(args: argparse.Namespace) -> int:
    changes = {"--window": args.window, "--stability-weight": args.stability_weight, "--time-limit": args.time_limit}
    changes |= {"--gap": args.gap}
    given = [flag for flag, value in changes.items() if value is not None]
    if args.mode is None and given:
        raise ValidationError(
            "settings", args.network_id, given[0], "changes the settings; give --automatic or --manual with it"
        )
    for flag, value in changes.items():
        if value is not None and (not np.isfinite(value) or value < 0):
            raise ValidationError("settings", args.network_id, flag, f"is {value:g}; give a number >= 0")
    with _connect(args) as client:
        current = client.settings(args.network_id)
        if args.mode is None:
            for line in _settings_lines(args.network_id, current):
                print(line)
            return EXIT_PLAN
        options = current.options
        if args.time_limit is not None:
            options = dataclasses.replace(options, time_limit=args.time_limit)
        if not np.isfinite(options.time_limit):
            options = dataclasses.replace(options, time_limit=DEFAULT_TIME_LIMIT)
        if args.gap is not None:
            options = dataclasses.replace(options, mip_rel_gap=args.gap)
        wanted = dataclasses.replace(
            current,
            automatic=args.mode == "automatic",
            window_seconds=current.window_seconds if args.window is None else args.window,
            replan=current.replan
            if args.stability_weight is None
            else dataclasses.replace(current.replan, stability_weight=args.stability_weight),
            options=options,
        )
        stored = client.set_settings(args.network_id, wanted)
    for line in _settings_lines(args.network_id, stored):
        print(line)
    return EXIT_PLAN


def _counts(values: Sequence[str]) -> dict[tuple[str, str], float]:
    """`NODE:ITEM=QTY` stock counts; a malformed one is a `ValidationError` naming --count."""
    counted: dict[tuple[str, str], float] = {}
    for value in values:
        where, _, qty = value.partition("=")
        node, _, item = where.partition(":")
        try:
            amount = float(qty)
        except ValueError:
            amount = float("nan")
        if not node or not item or not np.isfinite(amount) or amount < 0:
            raise ValidationError("stock count", value, "--count", "must be NODE:ITEM=QTY with a quantity >= 0")
        if (node, item) in counted:
            raise ValidationError("stock count", value, "--count", f"counts {node}:{item} twice; count each once")
        counted[(node, item)] = amount
    return counted


def _cmd_advance(args: argparse.Namespace) -> int:
    if args.periods < 1:
        raise ValidationError("advance", args.network_id, "--periods", f"is {args.periods}; give 1 or more")
    counted = _counts(args.count or [])
    with _connect(args) as client:
        version, stored = client.advance(args.network_id, args.periods, counted, options=_options(args))
    print(f"network {args.network_id!r} advanced {args.periods} periods: network version {version}")
    print(_plan_heading(stored))
    print(stored.plan.summary())
    return EXIT_PLAN if stored.plan.has_solution else EXIT_NO_PLAN


def _cmd_timeline(args: argparse.Namespace) -> int:
    with _connect(args) as client:
        timeline = client.timeline(args.network_id)
    print(f"detection to response on network {args.network_id!r} (seconds after detection):")
    for line in timeline_lines(timeline):
        print(line)
    return EXIT_PLAN


PLAN_EVENT = re.compile(r"^plan version (\d+)\b")


def _cmd_watch(args: argparse.Namespace) -> int:
    """Every write to the network as it happens; a new plan version with its trigger, objective and
    pending approvals. Ctrl-C (or --count events) ends it with exit 0.

    Ctrl-C cancels the stream from a signal handler rather than raising KeyboardInterrupt, which can
    land inside gRPC's own calls and leave the channel unable to close."""
    import signal
    import threading

    seen = 0
    interrupted = False
    stream = None

    def on_sigint(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True
        if stream is not None:
            stream.cancel()

    # Only the main thread may set a signal handler (a test may run the command in another).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if main_thread else None
    try:
        with _connect(args) as client:
            print(f"watching network {args.network_id!r} (Ctrl-C to stop)", flush=True)
            stream = client.watch_network(args.network_id, args.after)
            if interrupted:
                stream.cancel()
            for event in stream:
                who = event.principal or "-"
                print(f"{event.seq:>4} {_when(event.at)} {who:<16} {event.action:<12} {event.detail}")
                found = PLAN_EVENT.match(event.detail) if event.action in ("plan", "replan") else None
                if found:
                    for line in _version_lines(client, args.network_id, int(found.group(1))):
                        print(line)
                sys.stdout.flush()
                seen += 1
                if interrupted or (args.count and seen >= args.count):
                    break
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        print(f"stopped after {seen} events")
    return EXIT_PLAN


def _version_lines(client: ConcertoClient, network_id: str, version: int) -> list[str]:
    stored = client.get_plan(network_id, version)
    trigger = stored.trigger or ("replan call" if stored.baseline_version else "plan call")
    lines = [
        f"     plan v{version}: {trigger}, {stored.plan.status.value}, objective {stored.plan.objective:,.2f}; "
        f"answers {', '.join(s.id for s in stored.signals) or 'no signals'}"
    ]
    pending = client.decisions(network_id, version, DecisionState.PENDING)
    lines.append(f"     {len(pending)} decisions pending approval" + (":" if pending else ""))
    lines.extend("   " + decision_record_line(r) for r in pending)
    return lines


def build_parser() -> argparse.ArgumentParser:
    formatter = _ShowDefaults
    parser = argparse.ArgumentParser(
        prog="concerto", description="Supply-chain orchestration solver", formatter_class=formatter
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        """A subcommand whose --help shows every default."""
        return sub.add_parser(name, help=help, formatter_class=formatter)

    def solve_flags(p: argparse.ArgumentParser, json_out: bool = True) -> None:
        p.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, help="seconds")
        p.add_argument("--gap", type=float, default=DEFAULT_MIP_REL_GAP, help="relative MIP gap")
        p.add_argument("--threads", type=int, default=0, help="solver threads (0: the solver's choice)")
        p.add_argument("--seed", type=int, default=0, help="solver random seed")
        p.add_argument("--verbose", action="store_true", help="print the solver log")
        p.add_argument(
            "--method",
            choices=METHODS,
            default=AUTO,
            help="milp: branch and bound on the whole model; lp_first: the LP relaxation with the coupling rows "
            "added where violated, integers repaired, the gap certified by the relaxation's bound; auto: lp_first "
            "from 20,000 free columns at a gap of 0.5%% or more, or from 500,000 at any gap; milp otherwise",
        )
        if json_out:
            p.add_argument(
                "--json",
                metavar="FILE",
                type=Path,
                help="also write the plan as protobuf JSON (concerto.v1.PlanResult: every table, decision, metric)",
            )

    def backend_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--backend",
            default=DEFAULT_BACKEND,
            help="highs, ortools-scip, ortools-highs, ortools-cpsat, pyomo-highs or another pyomo-<solver>",
        )

    def inputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("--protocols", type=Path, help="decision protocols (protobuf JSON ProtocolSet)")
        p.add_argument("--signals", type=Path, help="detected disruptions (protobuf JSON SignalBatch)")

    p = command("demo", help="embedded server: plan the demo network, send an outage, show the response")
    solve_flags(p, json_out=False)
    p.add_argument("--workers", type=int, default=1, help="solver worker processes of the embedded server")
    p.set_defaults(run=_cmd_demo)

    p = command("serve", help="run the gRPC service")
    p.add_argument("--address", default=DEFAULT_SERVER, help="host:port (port 0 picks a free one)")
    p.add_argument(
        "--store",
        default="concerto.db",
        help="plan ledger: a SQLite file path, sqlite://PATH or :memory:, or postgresql://USER@HOST:PORT/DATABASE",
    )
    p.add_argument("--workers", type=int, default=2, help="solver worker processes (one solve each)")
    p.add_argument("--queue", type=int, default=4, help="solves that may wait for a worker")
    p.add_argument(
        "--time-limit",
        type=float,
        default=DEFAULT_TIME_LIMIT,
        help="solve time limit of a request that sets none, seconds",
    )
    security = p.add_argument_group(
        "transport security",
        "an address other than loopback needs --principals and TLS both, or --insecure (solver/server.py)",
    )
    security.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve TLS only, with this certificate chain")
    security.add_argument("--tls-key", type=Path, metavar="PEM", help="the private key of --tls-cert (unencrypted)")
    security.add_argument(
        "--client-ca", type=Path, metavar="PEM", help="mutual TLS: clients must present a certificate this CA signed"
    )
    security.add_argument("--principals", type=Path, metavar="FILE", help="who may call, with which grants")
    security.add_argument(
        "--reflection",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve gRPC reflection (default: only with --principals or on loopback)",
    )
    security.add_argument(
        "--insecure",
        action="store_true",
        help="serve an address other than loopback without TLS or without --principals",
    )
    p.add_argument(
        "--grace",
        type=float,
        default=10.0,
        help="seconds calls under way may finish after SIGTERM (health says NOT_SERVING at once)",
    )
    p.add_argument("--replica", default="", help="this server's name on the orchestrator leases it holds")
    p.add_argument(
        "--no-orchestrator",
        action="store_true",
        help="replan no automatic network here (signals and settings are still stored)",
    )
    limits = p.add_argument_group("request limits", "every request is held to these before any work (solver/limits.py)")
    for limit in dataclasses.fields(RequestLimits):
        limits.add_argument(
            RequestLimits.flag(limit.name),
            type=type(limit.default),
            default=limit.default,
            metavar="N",
            help=limit.metadata["help"],
        )
    p.set_defaults(run=_cmd_serve)

    p = command("solve", help="plan a network file locally (nothing stored) and print the plan's summary")
    p.add_argument("file", type=Path, help="network (protobuf JSON Network)")
    inputs(p)
    solve_flags(p)
    backend_flag(p)
    p.set_defaults(run=_cmd_solve)

    p = command("plan", help="plan a stored network on a running server (optionally storing FILE first)")
    p.add_argument("network_id")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.add_argument("--file", type=Path, help="store this network (and --protocols) as a new version first")
    p.add_argument("--protocols", type=Path, help="decision protocols stored with --file (protobuf JSON ProtocolSet)")
    p.add_argument("--idempotency-key", default="", help="a retry with the same key returns the stored version")
    solve_flags(p)
    backend_flag(p)
    p.set_defaults(run=_cmd_plan)

    p = command("replan", help="answer signals against the latest plan on a running server")
    p.add_argument("network_id")
    p.add_argument("--signals", type=Path, required=True, help="detected disruptions (protobuf JSON SignalBatch)")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.add_argument("--baseline", type=int, default=0, help="baseline plan version (0: the latest)")
    p.add_argument(
        "--stability-weight",
        type=float,
        default=REPLAN_DEFAULTS.stability_weight,
        help="cost per unit changed (0: cold solve)",
    )
    p.add_argument("--fence-periods", type=int, default=0, help="periods whose decisions stay frozen")
    p.add_argument(
        "--fence-penalty", type=float, default=REPLAN_DEFAULTS.fence_penalty, help="cost per unit cut inside the fence"
    )
    p.add_argument(
        "--first-answer-gap",
        type=float,
        default=REPLAN_DEFAULTS.first_answer_gap,
        help="relative MIP gap the first answer stops at (the request's --gap where that is looser)",
    )
    p.add_argument("--no-first-answer", action="store_true", help="skip the first answer from the signals' reach")
    p.add_argument(
        "--upstream-hops",
        type=int,
        default=REPLAN_DEFAULTS.upstream_hops,
        help="steps upstream the first answer may re-source",
    )
    p.add_argument(
        "--recovery-periods",
        type=int,
        default=REPLAN_DEFAULTS.recovery_periods,
        help="periods after the disruption the first answer may still move",
    )
    p.add_argument("--idempotency-key", default="", help="a retry with the same key returns the stored version")
    solve_flags(p)
    backend_flag(p)
    p.set_defaults(run=_cmd_replan)

    p = command("validate", help="check a network file (and protocols, signals); name what is wrong")
    p.add_argument("file", type=Path, help="network (protobuf JSON Network)")
    inputs(p)
    p.set_defaults(run=_cmd_validate)

    p = command("diagnose", help="why a network cannot be planned (or serves short): the least relaxation")
    p.add_argument("file", type=Path, help="network (protobuf JSON Network)")
    inputs(p)
    p.set_defaults(run=_cmd_diagnose)

    p = command("explain", help="why this plan: binding limits, shadow prices, value of authority")
    p.add_argument("file", type=Path, help="network (protobuf JSON Network)")
    inputs(p)
    solve_flags(p, json_out=False)
    p.add_argument("--top", type=int, default=15, help="how many binding limits to list")
    p.set_defaults(run=_cmd_explain)

    p = command("backends", help="the solver backends, whether each can solve here, and what it declares")
    add_server_flags(p, default_server=None)
    p.set_defaults(run=_cmd_backends)

    p = command("token", help="make a bearer token and its entry for a principals file (only its hash)")
    p.add_argument("--label", default="", help="the token's label in the audit trail (e.g. ana-laptop)")
    p.set_defaults(run=_cmd_token)

    p = command("export", help="write a network's model as MPS or LP")
    p.add_argument("file", type=Path, help="network (protobuf JSON Network)")
    inputs(p)
    p.add_argument("--format", choices=("mps", "lp"), default="mps", help="model file format")
    p.add_argument("--out", type=Path, help="output file (default: standard output)")
    p.set_defaults(run=_cmd_export)

    def group(name: str, help: str) -> Callable[[str, str], argparse.ArgumentParser]:
        """A command with subcommands (`concerto decisions list`); returns how to add one."""
        inner = command(name, help).add_subparsers(dest=f"{name}_command", required=True)

        def add(verb: str, verb_help: str) -> argparse.ArgumentParser:
            p = inner.add_parser(verb, help=verb_help, description=verb_help, formatter_class=formatter)
            p.add_argument("network_id", metavar="NETWORK")
            return p

        return add

    signals = group("signals", "the signal inbox of a network on a running server")
    p = signals("publish", "publish signals to a network's inbox (an automatic network replans by itself)")
    p.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="protobuf JSON of a PublishSignalsRequest (its signals) or of a SignalBatch (with --source)",
    )
    p.add_argument("--source", help="the system that detected them (a SignalBatch's signals keep their ids)")
    p.add_argument(
        "--change", choices=CHANGES, default="new", help="what a SignalBatch's signals do to their ids: new or update"
    )
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.set_defaults(run=_cmd_signals_publish)

    decisions = group("decisions", "the decisions of a plan version and their approvals")
    p = decisions("list", "a plan version's decisions with their approval state")
    p.add_argument("--version", type=int, default=0, help="plan version (0: the latest)")
    p.add_argument("--state", choices=DECISION_STATES, help="only the decisions in this state")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.set_defaults(run=_cmd_decisions_list)
    for verb, approve in (("approve", True), ("reject", False)):
        what = "makes it executable" if approve else "replans an automatic network within the rule's authority"
        p = decisions(verb, f"{verb} a pending decision and every decision of its escalation ({what})")
        p.add_argument("version", type=int, metavar="VERSION", help="plan version")
        p.add_argument("index", type=int, metavar="INDEX", help="the decision's index (decisions list)")
        p.add_argument("--by", default="", help="the decider's name on a server without authentication")
        p.add_argument("--note", default="", help="why")
        add_server_flags(p, default_server=DEFAULT_SERVER)
        p.set_defaults(run=_cmd_decide, approve=approve)

    plans = group("plans", "the stored plan versions of a network")
    p = plans("list", "every plan version with its status, objective and signals")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.set_defaults(run=_cmd_plans_list)
    p = plans("show", "a plan version's summary, what made it and the signals it answers")
    p.add_argument("--version", type=int, default=0, help="plan version (0: the latest)")
    p.add_argument("--json", metavar="FILE", type=Path, help="also write the plan as protobuf JSON")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.set_defaults(run=_cmd_plans_show)
    p = plans("diff", "what changed from one plan version to another")
    p.add_argument("from_version", type=int, metavar="FROM")
    p.add_argument("to_version", type=int, metavar="TO")
    p.add_argument("--top", type=int, default=20, help="how many changes to list")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.set_defaults(run=_cmd_plans_diff)

    network = group("network", "a stored network's settings")
    p = network("settings", "show how a network is replanned, or set it automatic or manual")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--automatic", dest="mode", action="store_const", const="automatic", help="replan by itself")
    mode.add_argument("--manual", dest="mode", action="store_const", const="manual", help="replan only when asked")
    p.add_argument("--window", type=float, metavar="SECONDS", help="coalesce signals arriving within this window")
    p.add_argument("--stability-weight", type=float, help="automatic replans' cost per unit changed")
    p.add_argument("--time-limit", type=float, help="automatic replans' time limit, seconds")
    p.add_argument("--gap", type=float, help="automatic replans' relative MIP gap")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.set_defaults(run=_cmd_network_settings)

    p = command("advance", help="roll a network forward with what happened, and plan what is left")
    p.add_argument("network_id", metavar="NETWORK")
    p.add_argument("--periods", type=int, default=1, help="periods executed")
    p.add_argument(
        "--count", action="append", metavar="NODE:ITEM=QTY", help="stock counted at a node (repeat for each)"
    )
    add_server_flags(p, default_server=DEFAULT_SERVER)
    solve_flags(p, json_out=False)
    p.set_defaults(run=_cmd_advance)

    p = command("timeline", help="each published signal from detection to an executable response")
    p.add_argument("network_id", metavar="NETWORK")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.set_defaults(run=_cmd_timeline)

    p = command("watch", help="a live view of a network: plan versions, pending approvals, decisions, signals")
    p.add_argument("network_id", metavar="NETWORK")
    p.add_argument("--after", type=int, default=0, help="replay the events after this audit seq (0: from now on)")
    p.add_argument("--count", type=int, default=0, help="stop after this many events (0: until Ctrl-C)")
    add_server_flags(p, default_server=DEFAULT_SERVER)
    p.set_defaults(run=_cmd_watch)
    return parser


def _no_plan(err: grpc.RpcError) -> str | None:
    """How the solve ended when a Plan or Replan answered without storing a plan, else None."""
    metadata = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    return next((str(value) for key, value in metadata or () if key == SOLVE_STATUS_METADATA), None)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check_output(getattr(args, "json", None))
        _check_output(getattr(args, "out", None))
        code = int(args.run(args))
        sys.stdout.flush()
        return code
    except ConcertoError as err:
        print(f"concerto: {err}", file=sys.stderr)
        return EXIT_INVALID
    except grpc.RpcError as err:
        print(f"concerto: {err.code().name}: {err.details()}", file=sys.stderr)
        return EXIT_NO_PLAN if _no_plan(err) is not None else EXIT_RPC
    except BrokenPipeError:
        # The reader went away (`| head`): send what is still buffered nowhere and end quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("concerto: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
