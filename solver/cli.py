"""The `concerto` command line: plan the bundled demo, plan or validate a network file, export a
model as MPS or LP. Errors print one line naming the entity and field, and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from models.errors import ConcertoError
from models.network import Network
from solver.convert import read_network
from solver.options import SolveOptions
from solver.planner import compile_model, plan_network


def demo_network_path() -> Path:
    """The bundled demo network (protobuf JSON)."""
    return Path(str(resources.files("solver") / "data" / "demo_network.json"))


def _options(args: argparse.Namespace) -> SolveOptions:
    return SolveOptions(
        time_limit=args.time_limit, mip_rel_gap=args.gap, threads=args.threads, seed=args.seed, verbose=args.verbose
    )


def _cmd_plan(args: argparse.Namespace) -> int:
    spec = read_network(args.file)
    plan = plan_network(spec, _options(args))
    print(plan.summary())
    if args.json:
        tables = {
            name: getattr(plan, name).rows()
            for name in ("purchases", "activations", "production", "overtime", "shipments", "trucks", "inventory")
        }
        tables |= {name: getattr(plan, name).rows() for name in ("deliveries", "backlog", "lost_sales")}
        Path(args.json).write_text(json.dumps({"status": plan.status.value, "objective": plan.objective, **tables}))
        print(f"plan tables written to {args.json}")
    return 0 if plan.has_solution else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    args.file = demo_network_path()
    print(f"planning the bundled demo network ({args.file.name})")
    return _cmd_plan(args)


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

    p = sub.add_parser("demo", help="plan the bundled demo network and print the plan's summary")
    solve_flags(p)
    p.set_defaults(run=_cmd_demo)
    p = sub.add_parser("plan", help="plan a network file (protobuf JSON) and print the plan's summary")
    p.add_argument("file", type=Path)
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
