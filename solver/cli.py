"""The `concerto` command line: serve, solve a file locally, plan and replan against a running
server, validate, export a model, and the bundled demo. Errors print one line naming the entity
and field and exit with status 2; an RPC error prints its status code and exits with status 3.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc

from models.errors import ConcertoError
from models.network import Network
from models.plan import Plan
from models.protocols import Decision
from solver.backends.base import SolverBackend
from solver.backends.highs import HighsBackend
from solver.convert import read_network, read_protocols, read_signals
from solver.demo import run_demo
from solver.options import SolveOptions
from solver.planner import compile_model, plan_network
from solver.progress import ShowProgress, TerminalProgress, stream_progress

TABLES = (
    "purchases",
    "activations",
    "production",
    "overtime",
    "shipments",
    "trucks",
    "inventory",
    "safety_shortfall",
    "deliveries",
    "backlog",
    "lost_sales",
)


def _options(args: argparse.Namespace) -> SolveOptions:
    return SolveOptions(
        time_limit=args.time_limit, mip_rel_gap=args.gap, threads=args.threads, seed=args.seed, verbose=args.verbose
    )


def decision_record(d: Decision) -> dict[str, object]:
    """A decision as plain JSON values."""
    return {
        "function": d.function.value,
        "action": d.action.value,
        "resource": d.resource,
        "item": d.item,
        "period": d.period,
        "quantity": d.quantity,
        "unit": d.unit,
        "cost": d.cost,
        "status": d.status.value,
        "approver": d.approver,
        "effective_hours": d.effective_hours,
        "rule": d.rule,
        "signals": list(d.signals),
    }


def write_plan_json(plan: Plan, path: Path) -> None:
    """Every table, the decisions and the metrics of a plan, as JSON records (easy to plot)."""
    payload: dict[str, object] = {
        "network": plan.network,
        "status": plan.status.value,
        "objective": plan.objective,
        "gap": plan.gap,
        "cost_by_component": plan.cost_by_component,
        "decisions": [decision_record(d) for d in plan.decisions],
    }
    payload |= {name: getattr(plan, name).rows() for name in TABLES}
    if plan.kpis is not None:
        payload["kpis"] = {
            k: v for k, v in vars(plan.kpis).items() if isinstance(v, int | float) and not isinstance(v, bool)
        }
    path.write_text(json.dumps(payload, indent=1))


def _cmd_solve(args: argparse.Namespace) -> int:
    spec = read_network(args.file)
    protocols = read_protocols(args.protocols) if args.protocols else None
    signals = read_signals(args.signals) if args.signals else []
    options = _options(args)
    inner: SolverBackend
    if args.backend == "highs":
        inner = HighsBackend()
    else:
        from solver.backends.registry import backend_by_name, check_options

        inner = backend_by_name(args.backend)
        check_options(inner, options)
    backend = ShowProgress(inner, TerminalProgress())
    plan = plan_network(spec, options, protocols=protocols, signals=signals, backend=backend)
    print(plan.summary())
    if args.json:
        write_plan_json(plan, Path(args.json))
        print(f"plan tables written to {args.json}")
    return 0 if plan.has_solution else 1


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
        Path(args.out).write_text(text)
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
    rows: list[tuple[str, bool, str, list[str], bool]]
    if args.server:
        from solver.client import ConcertoClient

        with ConcertoClient(args.server) as client:
            rows = [(b.name, b.available, b.version, list(b.features), b.is_default) for b in client.list_backends()]
    else:
        from solver.backends.registry import describe_backends

        rows = [
            (b.name, b.available, b.version, [f.value for f in b.features], b.is_default) for b in describe_backends()
        ]
    width = max(len(name) for name, *_ in rows)
    for name, available, version, features, is_default in rows:
        state = f"available {version}".strip() if available else "not installed"
        marker = " (default)" if is_default else ""
        print(f"{name:<{width}}  {state}{marker}\n{'':<{width}}  {', '.join(features)}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from solver.server import ServerConfig, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = ServerConfig(
        store_path=args.store, workers=args.workers, queue_size=args.queue, default_time_limit=args.time_limit
    )
    serve(args.address, config, on_ready=lambda port: print(f"concerto serving on port {port}", flush=True))
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from solver.client import ConcertoClient

    with ConcertoClient(args.server) as client:
        if args.file:
            protocols = read_protocols(args.protocols) if args.protocols else None
            version = client.put_network(args.network_id, read_network(args.file), protocols)
            print(f"network {args.network_id!r} stored as version {version}")
        stored = client.plan(
            args.network_id, options=_options(args), backend=args.backend, idempotency_key=args.idempotency_key
        )
        print(f"plan version {stored.version} of network {args.network_id!r}")
        print(stored.plan.summary())
        if args.json:
            write_plan_json(stored.plan, Path(args.json))
        return 0 if stored.plan.has_solution else 1


def _cmd_replan(args: argparse.Namespace) -> int:
    from solver._proto.concerto.v1 import service_pb2
    from solver.client import ConcertoClient

    settings = service_pb2.ReplanSettings(
        stability_weight=args.stability_weight,
        fence_periods=args.fence_periods,
        skip_first_answer=args.no_first_answer,
        upstream_hops=args.upstream_hops,
        recovery_periods=args.recovery_periods,
    )

    def on_first(plan: Plan) -> None:
        print(f"first coordinated plan (from the signals' reach): objective {plan.objective:,.2f}")

    with ConcertoClient(args.server) as client:
        stored = client.replan_stream(
            args.network_id,
            read_signals(args.signals),
            baseline_version=args.baseline,
            options=_options(args),
            idempotency_key=args.idempotency_key,
            on_progress=stream_progress(),
            on_first=on_first,
            settings=settings,
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
        if args.json:
            write_plan_json(stored.plan, Path(args.json))
        return 0 if stored.plan.has_solution else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concerto", description="Supply-chain orchestration solver")
    sub = parser.add_subparsers(dest="command", required=True)

    def solve_flags(p: argparse.ArgumentParser, json_out: bool = True) -> None:
        p.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
        p.add_argument("--gap", type=float, default=1e-3, help="relative MIP gap (default 1e-3)")
        p.add_argument("--threads", type=int, default=0, help="solver threads (0: the solver's choice)")
        p.add_argument("--seed", type=int, default=0, help="solver random seed")
        p.add_argument("--verbose", action="store_true", help="print the solver log")
        if json_out:
            p.add_argument("--json", metavar="FILE", help="also write the plan's tables and decisions as JSON")

    def backend_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--backend",
            default="highs",
            help="highs (default), ortools-scip, ortools-highs, ortools-cpsat, pyomo-highs or another pyomo-<solver>",
        )

    def inputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("--protocols", type=Path, help="decision protocols (protobuf JSON ProtocolSet)")
        p.add_argument("--signals", type=Path, help="detected disruptions (protobuf JSON SignalBatch)")

    p = sub.add_parser("demo", help="embedded server: plan the demo network, send an outage, show the response")
    solve_flags(p, json_out=False)
    p.add_argument("--workers", type=int, default=1, help="solver worker processes of the embedded server")
    p.set_defaults(run=_cmd_demo)

    p = sub.add_parser("serve", help="run the gRPC service")
    p.add_argument("--address", default="127.0.0.1:50051", help="host:port (port 0 picks a free one)")
    p.add_argument("--store", default="concerto.db", help="SQLite plan ledger file")
    p.add_argument("--workers", type=int, default=2, help="solver worker processes (one solve each)")
    p.add_argument("--queue", type=int, default=4, help="solves that may wait for a worker")
    p.add_argument("--time-limit", type=float, default=60.0, help="default solve time limit, seconds")
    p.set_defaults(run=_cmd_serve)

    p = sub.add_parser("solve", help="plan a network file locally (nothing stored) and print the plan's summary")
    p.add_argument("file", type=Path)
    inputs(p)
    solve_flags(p)
    backend_flag(p)
    p.set_defaults(run=_cmd_solve)

    p = sub.add_parser("plan", help="plan a stored network on a running server (optionally storing FILE first)")
    p.add_argument("network_id")
    p.add_argument("--server", default="127.0.0.1:50051")
    p.add_argument("--file", type=Path, help="store this network (and --protocols) as a new version first")
    p.add_argument("--protocols", type=Path)
    p.add_argument("--idempotency-key", default="")
    solve_flags(p)
    backend_flag(p)
    p.set_defaults(run=_cmd_plan)

    p = sub.add_parser("replan", help="answer signals against the latest plan on a running server")
    p.add_argument("network_id")
    p.add_argument("--signals", type=Path, required=True)
    p.add_argument("--server", default="127.0.0.1:50051")
    p.add_argument("--baseline", type=int, default=0, help="baseline plan version (0: the latest)")
    p.add_argument("--stability-weight", type=float, default=1.0, help="cost per unit changed (0: cold solve)")
    p.add_argument("--fence-periods", type=int, default=0, help="periods whose decisions stay frozen")
    p.add_argument("--no-first-answer", action="store_true", help="skip the first answer from the signals' reach")
    p.add_argument("--upstream-hops", type=int, default=2, help="steps upstream the first answer may re-source")
    p.add_argument(
        "--recovery-periods", type=int, default=2, help="periods after the disruption the first answer may still move"
    )
    p.add_argument("--idempotency-key", default="")
    solve_flags(p)
    backend_flag(p)
    p.set_defaults(run=_cmd_replan)

    p = sub.add_parser("validate", help="check a network file (and protocols, signals); name what is wrong")
    p.add_argument("file", type=Path)
    inputs(p)
    p.set_defaults(run=_cmd_validate)

    p = sub.add_parser("diagnose", help="why a network cannot be planned (or serves short): the least relaxation")
    p.add_argument("file", type=Path)
    inputs(p)
    p.set_defaults(run=_cmd_diagnose)

    p = sub.add_parser("explain", help="why this plan: binding limits, shadow prices, value of authority")
    p.add_argument("file", type=Path)
    inputs(p)
    solve_flags(p, json_out=False)
    p.add_argument("--top", type=int, default=15, help="how many binding limits to list")
    p.set_defaults(run=_cmd_explain)

    p = sub.add_parser("backends", help="the solver backends, whether each can solve here, and what it declares")
    p.add_argument("--server", help="ask a running server (host:port) instead of this installation")
    p.set_defaults(run=_cmd_backends)

    p = sub.add_parser("export", help="write a network's model as MPS or LP")
    p.add_argument("file", type=Path)
    inputs(p)
    p.add_argument("--format", choices=("mps", "lp"), default="mps")
    p.add_argument("--out", type=Path, help="output file (default: standard output)")
    p.set_defaults(run=_cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConcertoError as err:
        print(f"concerto: {err}", file=sys.stderr)
        return 2
    except grpc.RpcError as err:
        print(f"concerto: {err.code().name}: {err.details()}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
