"""The `concerto` command line: plan the bundled demo, plan or validate a network file, export a
model as MPS or LP. Errors print one line naming the entity and field, and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from models.errors import ConcertoError
from models.network import Network
from models.protocols import Decision
from solver.convert import read_network, read_protocols, read_signals
from solver.demo import run_demo
from solver.options import SolveOptions
from solver.planner import compile_model, plan_network


def _options(args: argparse.Namespace) -> SolveOptions:
    return SolveOptions(
        time_limit=args.time_limit, mip_rel_gap=args.gap, threads=args.threads, seed=args.seed, verbose=args.verbose
    )


def _cmd_plan(args: argparse.Namespace) -> int:
    spec = read_network(args.file)
    protocols = read_protocols(args.protocols) if args.protocols else None
    signals = read_signals(args.signals) if args.signals else []
    plan = plan_network(spec, _options(args), protocols=protocols, signals=signals)
    print(plan.summary())
    if args.json:
        tables = {
            name: getattr(plan, name).rows()
            for name in ("purchases", "activations", "production", "overtime", "shipments", "trucks", "inventory")
        }
        tables |= {name: getattr(plan, name).rows() for name in ("deliveries", "backlog", "lost_sales")}
        tables["decisions"] = [decision_record(d) for d in plan.decisions]
        Path(args.json).write_text(json.dumps({"status": plan.status.value, "objective": plan.objective, **tables}))
        print(f"plan tables written to {args.json}")
    return 0 if plan.has_solution else 1


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


def _cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(_options(args))


def _cmd_validate(args: argparse.Namespace) -> int:
    net = Network.from_spec(read_network(args.file))
    print(
        f"network {net.spec.name!r} is valid: {net.n_items} items, {net.n_nodes} nodes, {net.n_offers} offers, "
        f"{net.n_recipes} recipes, {net.n_lanes} lanes, {net.n_demands} demand streams, {net.horizon} periods"
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from solver.export import export_model

    lp = compile_model(read_network(args.file)).lp
    text = export_model(lp, args.format)
    if args.out:
        Path(args.out).write_text(text)
        print(f"{args.format.upper()} model written to {args.out} ({lp.n_cols} columns, {lp.n_rows} rows)")
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concerto", description="Supply-chain orchestration solver")
    sub = parser.add_subparsers(dest="command", required=True)

    def solve_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
        p.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap (default 1e-4)")
        p.add_argument("--threads", type=int, default=0, help="solver threads (0: the solver's choice)")
        p.add_argument("--seed", type=int, default=0, help="solver random seed")
        p.add_argument("--verbose", action="store_true", help="print the solver log")
        p.add_argument("--json", metavar="FILE", help="also write the plan's tables as JSON")

    p = sub.add_parser("demo", help="plan the bundled demo network, then its coordinated response to a disruption")
    solve_flags(p)
    p.set_defaults(run=_cmd_demo)
    p = sub.add_parser("plan", help="plan a network file (protobuf JSON) and print the plan's summary")
    p.add_argument("file", type=Path)
    p.add_argument("--protocols", type=Path, help="decision protocols (protobuf JSON ProtocolSet)")
    p.add_argument("--signals", type=Path, help="detected disruptions (protobuf JSON SignalBatch)")
    solve_flags(p)
    p.set_defaults(run=_cmd_plan)
    p = sub.add_parser("validate", help="check a network file and say what is wrong, by entity and field")
    p.add_argument("file", type=Path)
    p.set_defaults(run=_cmd_validate)
    p = sub.add_parser("export", help="write a network's model as MPS or LP")
    p.add_argument("file", type=Path)
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


if __name__ == "__main__":
    sys.exit(main())
